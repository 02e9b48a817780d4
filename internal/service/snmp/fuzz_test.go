package snmp

import (
	"flag"
	"fmt"
	"net"
	"sync"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
	"decnet/internal/udplimit"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz from the real clients' datagrams")

// recorder keeps the datagrams an agent reads.
type recorder struct {
	net.PacketConn
	mu  sync.Mutex
	got [][]byte
}

func (r *recorder) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := r.PacketConn.ReadFrom(b)
	if err == nil {
		r.mu.Lock()
		r.got = append(r.got, append([]byte(nil), b[:n]...))
		r.mu.Unlock()
	}
	return n, a, err
}

// TestCaptureSeeds runs the real clients against the agent and, with
// -update-seeds, writes what they sent as the fuzz targets' seeds.
func TestCaptureSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the seed corpora")
	}
	srv, _ := servicetest.New(t, Service{}, testHost(), map[string]string{"v3_users": "alice:SHA:authpass123:AES:privpass123"})
	pc, err := net.ListenPacket("udp", net.JoinHostPort(testIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{PacketConn: pc}
	servicetest.Serve(t, srv, service.Listeners{UDP: map[int]net.PacketConn{Port: rec}})
	tg := target(pc.LocalAddr().(*net.UDPAddr))
	for _, args := range [][]string{
		{"snmpget", "-v1", "-c", "public", tg, "1.3.6.1.2.1.1.1.0"},
		{"snmpget", "-v2c", "-c", "public", tg, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.3.0"},
		{"snmpgetnext", "-v2c", "-c", "public", tg, "1.3.6.1.2.1.2.2.1.2"},
		{"snmpbulkget", "-v2c", "-c", "public", "-Cn1", "-Cr5", tg, "1.3.6.1.2.1.1.3", "1.3.6.1.2.1.2.2.1.2"},
		{"snmpset", "-v2c", "-c", "private", tg, "1.3.6.1.2.1.1.6.0", "s", "x", "1.3.6.1.2.1.1.7.0", "i", "1"},
		{"snmpget", "-v3", "-l", "authPriv", "-u", "alice", "-a", "SHA", "-A", "authpass123", "-x", "AES", "-X", "privpass123", tg, "1.3.6.1.2.1.1.5.0"},
		{"snmpget", "-v3", "-l", "authNoPriv", "-u", "bob", "-a", "MD5", "-A", "bobpass123", tg, "1.3.6.1.2.1.1.5.0"},
	} {
		run(t, args[0], append([]string{"-On", "-m", "", "-r", "0", "-t", "1"}, args[1:]...)...)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, d := range rec.got {
		testutil.WriteSeed(t, "FuzzDatagram", fmt.Sprintf("client-%02d", i), d)
		if m, err := parseMessage(d); err == nil && len(m.pdu.vbs) > 0 {
			testutil.WriteSeed(t, "FuzzVarbinds", fmt.Sprintf("client-%02d", i), m.pdu.vbs[0].raw)
		}
	}
}

// FuzzDatagram feeds datagrams to the whole agent: decoding, the v3
// checks, the PDU processing and the reply. Nothing may panic, and no
// reply may exceed the UDP limit.
func FuzzDatagram(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	h := testHost()
	p := defaultPersona().(*Persona)
	p.V3Users = []string{"alice:SHA:authpass123:AES:privpass123"}
	ev := &testutil.Events{}
	a, err := NewAgent(service.Config{Host: h, Emit: ev}, p, profileDevice(p, h, timeNowForFuzz()))
	if err != nil {
		f.Fatal(err)
	}
	lim := defaultLimits()
	lim.Rate, lim.GlobalRate = 1e12, 1e12
	a.lim = udplimit.New(lim)
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 116, 9), Port: 5000}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if reply := a.datagram(src, pkt); len(reply) > maxUDPReply {
			t.Fatalf("reply of %d bytes", len(reply))
		}
	})
}

// FuzzVarbinds decodes a varbind element and checks that the OID, the
// MIB lookups and the event rendering hold.
func FuzzVarbinds(f *testing.F) {
	f.Add([]byte{0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00})
	h := testHost()
	dev := profileDevice(defaultPersona().(*Persona), h, timeNowForFuzz())
	m, err := buildMIB(dev, timeNowForFuzz)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg := appendTLV(nil, pduGet, appendInt(nil, 1), appendInt(nil, 0), appendInt(nil, 0), appendTLV(nil, tagSequence, b))
		p, err := parsePDU(newReader(msg))
		if err != nil {
			return
		}
		for _, vb := range p.vbs {
			back, err := decodeOID(oidBytes(vb.oid))
			if err != nil || back.compare(vb.oid) != 0 && len(vb.oid) >= 2 {
				t.Fatalf("OID %v does not round-trip: %v %v", vb.oid, back, err)
			}
			if o := m.next(vb.oid, false); o != nil && o.oid.compare(vb.oid) <= 0 {
				t.Fatalf("next of %v is %v", vb.oid, o.oid)
			}
			m.get(vb.oid, true)
		}
		varbindsJSON(p.vbs)
	})
}
