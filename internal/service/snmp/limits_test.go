package snmp

import (
	"net"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// TestReplyBounds checks the amplification bounds: a GETBULK asking for
// 10000 repetitions gets at most maxBulkResponses bindings, a v3 reply
// stays within the request's msgMaxSize (truncated for GETBULK, tooBig
// otherwise), and a flood from one source is cut by the rate.
func TestReplyBounds(t *testing.T) {
	h := testHost()
	p := defaultPersona().(*Persona)
	a, err := NewAgent(service.Config{Host: h, Emit: &testutil.Events{}}, p, profileDevice(p, h, timeNowForFuzz()))
	if err != nil {
		t.Fatal(err)
	}
	req := pdu{typ: pduGetBulk, reqID: 7, errStat: 0, errIdx: 10000, vbs: []varbind{{oid: oid{1, 3}}}}
	r := a.process(req, false, accessRead, a.now())
	if len(r.vbs) != maxBulkResponses {
		t.Fatalf("%d bindings for 10000 repetitions", len(r.vbs))
	}
	wrap := func(b []byte) []byte { return communityMessage(version2c, []byte("public"), b) }
	out := fit(req, r, false, 484, wrap)
	if len(out) > 484 || len(out) < 300 {
		t.Fatalf("truncated bulk reply of %d bytes", len(out))
	}
	get := pdu{typ: pduGet, reqID: 8, vbs: []varbind{{oid: oid{1, 3, 6, 1, 2, 1, 1, 1, 0}}, {oid: oid{1, 3, 6, 1, 2, 1, 1, 9, 1, 3, 3}}}}
	out = fit(get, a.process(get, false, accessRead, a.now()), false, 100, wrap)
	m, err := parseMessage(out)
	if err != nil || m.pdu.errStat != errTooBig || len(m.pdu.vbs) != 0 {
		t.Fatalf("tooBig reply %x: %v %+v", out, err, m)
	}
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 116, 9), Port: 5000}
	pkt := communityMessage(version2c, []byte("public"), appendPDU(nil, pduGet, 1, 0, 0, appendVarbind(nil, oid{1, 3, 6, 1, 2, 1, 1, 5, 0}, tagNull, nil)))
	frozen := a.now()
	a.now = func() time.Time { return frozen }
	answered := 0
	for range defaultLimits().Burst + 100 {
		if a.datagram(src, pkt) != nil {
			answered++
		}
	}
	if answered != defaultLimits().Burst {
		t.Fatalf("%d of a flood answered", answered)
	}
}
