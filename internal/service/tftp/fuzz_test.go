package tftp

import (
	"bytes"
	"testing"
)

// FuzzRequest feeds datagrams to the request parser and planner (the
// name walk, the mode, the option negotiation) and checks that nothing
// panics and that what they accept is within bounds. The seeds in
// testdata/fuzz/FuzzRequest are the tftp-hpa client's and curl's requests.
func FuzzRequest(f *testing.F) {
	for _, s := range [][]byte{
		rrq("running-config", "octet"), wrq("up.txt", "octet"), rrq("ascii.txt", "netascii"),
		rrq("startup-config", "octet", "tsize", "0", "blksize", "512", "timeout", "6"),
		wrq("up2.txt", "octet", "tsize", "6", "blksize", "512", "timeout", "6"),
		[]byte("\x00\x01hello.txt"), []byte("\x00\x03\x00\x01abc"),
	} {
		f.Add(s)
	}
	s, _ := newTestServer(f, testHost(f), nil)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) < 2 || pkt[1] != opRRQ && pkt[1] != opWRQ || pkt[0] != 0 {
			return
		}
		r := parseRequest(uint16(pkt[1]), pkt[2:])
		if len(r.options) > len(pkt)/4 {
			t.Fatalf("%d options from %d bytes", len(r.options), len(pkt))
		}
		x, e, ignored := s.plan(r)
		switch {
		case ignored:
			if x != nil || e != nil {
				t.Fatal("ignored with an answer")
			}
		case e != nil:
			if x != nil || e.msg == "" {
				t.Fatalf("error %+v with a transfer", e)
			}
			if len(errorPacket(*e)) > 64 {
				t.Fatal("long error")
			}
		default:
			if x.write {
				s.files.unlock(x.path)
			}
			if x.params.blksize < 8 || x.params.blksize > maxBlksize || x.params.rexmt <= 0 {
				t.Fatalf("params %+v", x.params)
			}
			if x.oack != nil && (len(x.oack) >= maxPacket || !bytes.HasPrefix(x.oack, []byte{0, opOACK})) {
				t.Fatalf("OACK of %d bytes", len(x.oack))
			}
		}
	})
}

// FuzzNetascii checks that decoding undoes encoding whatever the block
// boundaries, and never makes more bytes than it was given.
func FuzzNetascii(f *testing.F) {
	f.Add([]byte("a\nb\rc\r\nd"), 3)
	f.Add([]byte("\r\r\x00\n\r"), 1)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		wire := toNetascii(data)
		if split < 0 || split > len(wire) {
			split = len(wire) / 2
		}
		var w netasciiWriter
		if got := w.decode(w.decode(nil, wire[:split]), wire[split:]); !bytes.Equal(got, data) {
			t.Fatalf("round trip %q -> %q", data, got)
		}
		var raw netasciiWriter
		if got := raw.decode(nil, data); len(got) > len(data) {
			t.Fatal("decoding grew")
		}
	})
}
