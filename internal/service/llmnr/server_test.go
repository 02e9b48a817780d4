package llmnr

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

func dnsQuery(t *testing.T, id uint16, name string, qtype uint16) []byte {
	t.Helper()
	b, err := (&dns.Msg{MsgHdr: dns.MsgHdr{Id: id}, Question: []dns.Question{{Name: dns.Fqdn(name), Qtype: qtype, Qclass: dns.ClassINET}}}).Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOtherNamesUnanswered: a query for another name gets no answer (a
// honeypot must not poison the LAN); the decky's own name, asked next
// from the same socket, is the first reply to arrive.
func TestOtherNamesUnanswered(t *testing.T) {
	ip := "127.0.118.30"
	_, ev := start(t, linuxHost(ip), nil)
	tests := []struct {
		proto       string
		port        int
		other, mine []byte
	}{
		{protoLLMNR, PortLLMNR, dnsQuery(t, 1, "fileserver", dns.TypeA), dnsQuery(t, 2, "fileserv01", dns.TypeA)},
		{protoMDNS, PortMDNS, dnsQuery(t, 1, "printer.local", dns.TypeA), dnsQuery(t, 2, "fileserv01.local", dns.TypeA)},
		{protoNBNS, PortNBNS, nbQuery(1, newNBName("FILESERVER", 0x20), false), nbQuery(2, newNBName("FILESERV01", 0x20), false)},
	}
	for _, tc := range tests {
		reply := exchange(t, net.JoinHostPort(ip, strconv.Itoa(tc.port)), tc.other, tc.mine)
		if id := binary.BigEndian.Uint16(reply); id != 2 {
			t.Errorf("%s: first reply is to query %d: %x", tc.proto, id, reply)
		}
	}
	for _, name := range []string{"fileserver", "printer.local", "FILESERVER"} {
		testutil.Eventually(t, "query event for "+name, func() bool { return len(ev.With(typeQuery, fieldName, name)) == 1 })
		if e := ev.With(typeQuery, fieldName, name)[0]; e.Fields[fieldAnswered] != "false" || e.Severity != event.Info {
			t.Errorf("%s: %v", name, e.Fields)
		}
	}
}

// TestMalformed: what does not parse is an error event holding its
// first bytes in hex, and gets no answer.
func TestMalformed(t *testing.T) {
	ip := "127.0.118.31"
	_, ev := start(t, winHost(ip), nil)
	junk := []byte("\x13\x37GET / HTTP/1.0\r\n\r\n")
	for _, port := range []int{PortLLMNR, PortMDNS, PortNBNS} {
		c, err := net.Dial("udp4", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		c.Write(junk)
		c.Close()
	}
	testutil.Eventually(t, "three error events", func() bool { return len(ev.OfType(typeError)) == 3 })
	for _, e := range ev.OfType(typeError) {
		if e.Fields[fieldData] != "1337474554202f20485454502f312e300d0a0d0a" || e.Severity != event.Warning || e.Fields[fieldError] == "" || e.Fields[event.FieldSrcIP] != "127.0.0.1" {
			t.Errorf("error event %v", e.Fields)
		}
	}
}

// TestCoalesce: a query repeated within a minute is one event, then one
// summary with the count of the repeats.
func TestCoalesce(t *testing.T) {
	ip := "127.0.118.32"
	srv, ev := start(t, winHost(ip), nil)
	addr := net.JoinHostPort(ip, strconv.Itoa(PortLLMNR))
	pkts := [][]byte{}
	for range 5 {
		pkts = append(pkts, dnsQuery(t, 1, "wpad", dns.TypeA))
	}
	exchange(t, addr, append(pkts, dnsQuery(t, 2, "ws-acct-07", dns.TypeA))...)
	queryEvent(t, ev, protoLLMNR, "ws-acct-07")
	if got := ev.With(typeQuery, fieldName, "wpad"); len(got) != 1 || got[0].Fields[fieldCount] != "" {
		t.Fatalf("wpad events %v", got)
	}
	sums := srv.co.flush(time.Now().Add(coalesceWindow), false)
	if len(sums) != 1 || sums[0][fieldCount] != "4" || sums[0][fieldName] != "wpad" || sums[0][fieldRepeated] != "true" {
		t.Errorf("summaries %v", sums)
	}
}

// TestRateLimit: a flood from one source is cut at the per-source rate,
// and reported once.
func TestRateLimit(t *testing.T) {
	ip := "127.0.118.33"
	_, ev := start(t, winHost(ip), nil)
	c, err := net.Dial("udp4", net.JoinHostPort(ip, strconv.Itoa(PortLLMNR)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 300 {
		c.Write(dnsQuery(t, uint16(i), "host"+strconv.Itoa(i), dns.TypeA))
	}
	testutil.Eventually(t, "the rate limit's error event", func() bool { return len(ev.With(typeError, fieldDropped, "rate limit")) > 0 })
	if n := len(ev.OfType(typeQuery)); n >= 300 || n < srcBurst {
		t.Errorf("%d query events for 300 datagrams", n)
	}
	if n := len(ev.With(typeError, fieldDropped, "rate limit")); n != 1 {
		t.Errorf("%d rate limit events", n)
	}
}

// TestLoopbackDecky: a decky whose address cannot reach a LAN (the local
// runtime's loopback) logs once that the detector is off, and serves.
func TestLoopbackDecky(t *testing.T) {
	ip := "127.0.118.34"
	var logs testutil.Logs
	p, err := service.NewPersona(Service{}.Info(), map[string]string{"detect_interval": "1s"})
	if err != nil {
		t.Fatal(err)
	}
	ev := &testutil.Events{}
	srv, err := Service{}.New(service.Config{Host: winHost(ip), Persona: p, Emit: ev, Log: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(PortLLMNR)))
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Serve(t, srv, service.Listeners{UDP: map[int]net.PacketConn{PortLLMNR: pc}})
	exchange(t, pc.LocalAddr().String(), dnsQuery(t, 7, "ws-acct-07", dns.TypeA))
	testutil.Eventually(t, "the detector's log line", func() bool {
		return len(logs.Records(t, "llmnr: poisoning detector off: it needs the LAN's multicast and broadcast")) == 1
	})
	if len(ev.OfType(typePoisoner)) != 0 || len(ev.OfType(typeError)) != 0 {
		t.Errorf("events %v", ev.All())
	}
}

func TestPersonaValidate(t *testing.T) {
	tests := []struct {
		keys map[string]string
		ok   bool
	}{
		{nil, true},
		{map[string]string{"detect": "false", "detect_interval": "30s", "detect_names": "FILSRV02, PRNT-SRV", "workgroup": "CORP", "mac": "00:50:56:aa:bb:cc", "netbios": "samba", "mdns": "none"}, true},
		{map[string]string{"detect_interval": "10ms"}, false},
		{map[string]string{"detect_interval": "soon"}, false},
		{map[string]string{"detect_names": "NOT A NAME"}, false},
		{map[string]string{"workgroup": "A-WORKGROUP-TOO-LONG"}, false},
		{map[string]string{"mac": "00:50:56"}, false},
		{map[string]string{"netbios": "os2"}, false},
		{map[string]string{"mdns": "bonjour"}, false},
	}
	for _, tc := range tests {
		if _, err := service.NewPersona(Service{}.Info(), tc.keys); (err == nil) != tc.ok {
			t.Errorf("%v: err %v", tc.keys, err)
		}
	}
}

// TestBaitNames: made-up names are valid NetBIOS and DNS names, and vary.
func TestBaitNames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 1000 {
		n := baitName(rng)
		if err := checkNetBIOSName(n); err != nil || strings.HasPrefix(n, "-") {
			t.Fatalf("bait name %q: %v", n, err)
		}
		seen[n] = true
	}
	if len(seen) < 500 {
		t.Errorf("only %d different names in 1000", len(seen))
	}
}
