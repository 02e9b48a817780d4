package snmp

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// TestAgentAPI uses the agent as conpot does: its own Device, with
// vendor objects (one of them dynamic), served on a socket it opened.
func TestAgentAPI(t *testing.T) {
	ev := &testutil.Events{}
	dev := Device{
		Descr: "Siemens, SIMATIC S7, CPU-1500", ObjectID: "1.3.6.1.4.1.4196.1.1.5.2.22",
		Contact: "plant-ops", Name: "plc-7", Location: "Hall 2", Services: 78,
		Interfaces: []Interface{{Descr: "PN-IO", Type: 6, MTU: 1500, Speed: 100000000,
			MAC: net.HardwareAddr{0x00, 0x1b, 0x1b, 1, 2, 3}, Addr: netip.MustParsePrefix("10.1.2.3/24")}},
		Extra: []Var{
			{"1.3.6.1.4.1.4196.1.1.5.2.100.1.0", gosnmp.OctetString, "6ES7 515-2AM01-0AB0"},
			{"1.3.6.1.4.1.4196.1.1.5.2.100.2.0", gosnmp.Gauge32, Dynamic(func(now time.Time) any { return uint32(now.Second()) })},
		},
	}
	a, err := NewAgent(service.Config{Host: testHost(), Emit: ev}, nil, dev)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", net.JoinHostPort(testIP, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.ServePacket(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		pc.Close()
	})
	tg := target(pc.LocalAddr().(*net.UDPAddr))
	run(t, "snmpget", "-v2c", "-c", "guess", "-On", "-m", "", "-r", "0", "-t", "1", tg, "1.3.6.1.2.1.1.1.0")
	out, err := run(t, "snmpget", "-v2c", "-c", "public", "-On", "-m", "", tg,
		"1.3.6.1.2.1.1.1.0", "1.3.6.1.4.1.4196.1.1.5.2.100.1.0", "1.3.6.1.2.1.4.20.1.1.10.1.2.3", "1.3.6.1.2.1.11.4.0")
	if err != nil {
		t.Fatalf("snmpget: %v\n%s", err, out)
	}
	for _, want := range []string{`STRING: "Siemens, SIMATIC S7, CPU-1500"`, `STRING: "6ES7 515-2AM01-0AB0"`, "IpAddress: 10.1.2.3", ".1.3.6.1.2.1.11.4.0 = Counter32: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("snmpget lacks %q:\n%s", want, out)
		}
	}
	// The engine ID is in the vendor's (Siemens, 4196) MAC format.
	if got := a.eng.id; len(got) != 11 || got[3] != 0x64 || got[4] != 3 {
		t.Errorf("engine ID %x", got)
	}
	testutil.Eventually(t, "request events", func() bool {
		return len(ev.With(event.TypeRequest, fieldCommunity, "public")) == 1 && len(ev.With(event.TypeRequest, fieldCommunity, "guess")) == 1
	})
}
