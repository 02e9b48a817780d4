package postgres

import (
	"bytes"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestNegotiation covers the request codes: what the client reads and what
// is recorded.
func TestNegotiation(t *testing.T) {
	addr, ev := startServer(t, 70, nil)
	ssl, gss := testutil.Hex("0000000804d2162f"), testutil.Hex("0000000804d21630")
	login := startupMsg(protoV3, "user", "u")
	for _, tc := range []struct {
		name     string
		steps    [][]byte
		wantPart string
		requests []string
	}{
		{"cancel", [][]byte{testutil.Hex("0000001004d2162e 000004d2 00000007")}, "<EOF>", []string{"cancel"}},
		{"gssenc then ssl then startup", [][]byte{gss, ssl, login}, "NNR\x00\x00\x00\x17\x00\x00\x00\nSCRAM-SHA-256\x00\x00", []string{"gssenc", "ssl"}},
		{"ssl twice", [][]byte{ssl, ssl}, "NE\x00\x00\x00\x89SFATAL\x00VFATAL\x00C0A000\x00Munsupported frontend protocol 1234.5679: server supports 3.0 to 3.0\x00", []string{"ssl"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ev.OfType(event.TypeRequest))
			var steps []func([]byte) []byte
			for _, s := range tc.steps {
				steps = append(steps, fixed(s))
			}
			got := bytes.Join(converse(t, addr, false, steps), nil)
			if !bytes.Contains(got, []byte(tc.wantPart)) {
				t.Errorf("got %q, want it to hold %q", got, tc.wantPart)
			}
			testutil.Eventually(t, "request events", func() bool { return len(ev.OfType(event.TypeRequest)) == before+len(tc.requests) })
			for i, r := range ev.OfType(event.TypeRequest)[before:] {
				if r.Fields["request"] != tc.requests[i] {
					t.Errorf("request %d = %v", i, r.Fields)
				}
			}
		})
	}
	if c := ev.OfType(event.TypeRequest)[0].Fields; c["pid"] != "1234" {
		t.Errorf("cancel fields %v", c)
	}
}
