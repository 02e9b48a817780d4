package conpot

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// The requests of nmap's s7-info (plcscan's), and a snap7-style password
// and read.
var (
	s7ConnectRequest = testutil.Hex("0300001611e00000001400c1020100c2020102c0010a")
	s7SetupRequest   = testutil.Hex("0300001902f08032010000000000080000f0000001000101e0")
	s7SZL0011        = testutil.Hex("0300002102f080320700000000000800080001120411440100ff09000400110001")
	s7SZL001C        = testutil.Hex("0300002102f080320700000000000800080001120411440100ff090004001c0001")
	s7ReadVar        = testutil.Hex("0300001f02f080320100000100000e00000401120a10020001000184000000")
)

// s7Password is the Userdata password request carrying pw encoded.
func s7Password(pw string) []byte {
	p := []byte(pw + "        ")[:8]
	enc := make([]byte, 8)
	for i := range p {
		enc[i] = p[i] ^ 0x55
		if i >= 2 {
			enc[i] ^= enc[i-2]
		}
	}
	s7 := append(testutil.Hex("32070000000100080000 0001120411450100 ff090008"), enc...)
	binary.BigEndian.PutUint16(s7[8:], 12)
	return cotpData(s7)
}

// readTPKT reads one TPKT frame.
func readTPKT(t *testing.T, c net.Conn) []byte {
	t.Helper()
	head := make([]byte, 4)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(binary.BigEndian.Uint16(head[2:]))-4)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return append(head, body...)
}

// TestS7Session runs s7-info's exchange and checks each answer at the
// offsets the script (and plcscan) read, then a refused read, a
// password and a refused connection.
func TestS7Session(t *testing.T) {
	s, ev := newTestServer(t, "plc-s7-unit", addrUnit, &Persona{Device: DeviceS71200, Site: SiteWater})
	a, _ := serve(t, s, addrUnit)
	c := testutil.Dial(t, a[PortS7], 5*time.Second)
	send := func(b []byte) []byte { c.Write(b); return readTPKT(t, c) }
	if got := send(s7ConnectRequest); !bytes.Equal(got, testutil.Hex("0300001611d00014000100c0010ac1020100c2020102")) {
		t.Errorf("connect confirm %x", got)
	}
	if got := send(s7SetupRequest); !bytes.Equal(got, testutil.Hex("0300001b02f080320300000000000800000000f0000003000300f0")) {
		t.Errorf("setup %x", got)
	}
	z := func(b []byte, off int) string { // s7-info's 1-based "z" unpack
		end := bytes.IndexByte(b[off-1:], 0)
		return string(b[off-1 : off-1+end])
	}
	got := send(s7SZL0011)
	if got[7] != 0x32 || len(got) < 125 || z(got, 44) != s.id.product+" " || z(got, 72) != s.id.product+" " {
		t.Errorf("SZL 0x0011 %x", got)
	}
	if v := got[122:125]; int(v[0]) != s.id.fwMajor || int(v[1]) != s.id.fwMinor || int(v[2]) != s.id.fwPatch {
		t.Errorf("version bytes %v for %s", v, s.id.firmware)
	}
	got = send(s7SZL001C)
	for off, want := range map[int]string{44: s.id.station, 78: s.id.moduleName, 112: s.id.plant, 146: "Original Siemens Equipment", 180: s.id.serial} {
		if len(got) < off+32 || z(got, off) != want {
			t.Errorf("SZL 0x001C at %d: want %q in %x", off, want, got)
		}
	}
	if len(got)-7 > s7PDUSize {
		t.Errorf("SZL answer of %d bytes over the PDU size", len(got)-7)
	}
	if got = send(s7ReadVar); !bytes.Equal(got[17:21], []byte{0x81, 0x04, 0x04, 0x00}) {
		t.Errorf("read var %x", got)
	}
	if got = send(s7Password("Secr3t!")); !bytes.Equal(got[27:29], []byte{0xd6, 0x02}) {
		t.Errorf("password answer %x", got)
	}
	testutil.Eventually(t, "password event", func() bool { return len(ev.OfType(event.TypeAuth)) == 1 })
	if f := ev.OfType(event.TypeAuth)[0].Fields; f[event.FieldPassword] != "Secr3t!" || f[event.FieldSrcIP] == "" {
		t.Errorf("auth %v", f)
	}
	testutil.Eventually(t, "read var event", func() bool { return len(ev.With(typeS7, "function_name", "read_var")) == 1 })

	c2 := testutil.Dial(t, a[PortS7], 5*time.Second)
	c2.Write(testutil.Hex("0300000b06e00000000000")) // nmap's TerminalServer probe
	if n, err := c2.Read(make([]byte, 16)); err != io.EOF {
		t.Errorf("CR without TSAPs: read %d, %v; want the connection closed", n, err)
	}
}

// TestM340NoS7 checks that the M340 refuses connections on 102.
func TestM340NoS7(t *testing.T) {
	s, _ := newTestServer(t, "plc-m340-unit", addrUnit, &Persona{Device: DeviceM340, Site: SiteWater})
	a, _ := serve(t, s, addrUnit)
	testutil.Closed(t, a[PortS7])
}
