package smb

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// frameChecker fails the fuzz run when the server writes anything but
// whole NBSS packets whose length field tells their size.
type frameChecker struct{ t *testing.T }

func (w frameChecker) Write(b []byte) (int, error) {
	if len(b) < 4 || int(b[1])<<16|int(b[2])<<8|int(b[3]) != len(b)-4 {
		w.t.Fatalf("server wrote a bad frame: %x", b[:min(len(b), 16)])
	}
	return len(b), nil
}

// fuzzPersonas are the personas of the end-to-end tests whose captures
// seed the corpora, so that a seed replays deep into its session.
var fuzzPersonas = []struct {
	os string
	p  func() *Persona
}{
	{"windows", func() *Persona { return &Persona{Anonymous: yes} }},
	{"windows", func() *Persona { return &Persona{Guest: yes} }},
	{"linux", func() *Persona { return &Persona{} }},
}

// FuzzSMB2 feeds a client's byte stream (NBSS frames of SMB1 and SMB2,
// maybe compound) to a connection of each persona on each port: the
// NetBIOS packets are not taken alike on 139 and 445.
func FuzzSMB2(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fp := range fuzzPersonas {
			for _, port := range []int{PortNetBIOS, PortDirect} {
				s, _ := testServer(t, fp.os, fp.p())
				s.now = func() time.Time { return fixedTime }
				s.serveConn(struct {
					io.Reader
					io.Writer
				}{bytes.NewReader(data), frameChecker{t}}, port, map[string]string{})
			}
		}
	})
}

// FuzzSMB1 feeds one SMB message, mostly SMB1 negotiates, to a fresh
// connection of each product.
func FuzzSMB1(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if req, err := parseSMB1(data); err == nil && len(req.dialects) > maxSMB1Dialects {
			t.Fatalf("%d dialects", len(req.dialects))
		}
		for _, os := range []string{"windows", "linux"} {
			s, _ := testServer(t, os, nil)
			out, _ := s.newConn(PortDirect, map[string]string{}).message(data)
			if len(out) > 0 {
				frameChecker{t}.Write(out)
			}
		}
	})
}

// FuzzDCERPC writes bytes to a srvsvc pipe and reads every answer: each
// must be a whole PDU whose header tells its length.
func FuzzDCERPC(f *testing.F) {
	s, _ := testServer(f, "linux", &Persona{Shares: map[string]string{"a": "b", "c": ""}})
	shares := srvsvc{shares: s.pr.shares}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Written whole and in two pieces, the bytes must be answered alike.
		var answers [2][]byte
		for i, chunks := range [][][]byte{{data}, {data[:len(data)/2], data[len(data)/2:]}} {
			p := newPipe("srvsvc")
			for _, c := range chunks {
				if _, err := p.write(c, shares, func() uint32 { return 7 }); err != nil {
					break
				}
			}
			for {
				m, more := p.read(1 << 20)
				if m == nil {
					break
				}
				if h, err := parseRPCHeader(m); more || err != nil || h.fragLen != len(m) {
					t.Fatalf("answer %x: %v", m, err)
				}
				answers[i] = append(answers[i], m...)
			}
		}
		if !bytes.Equal(answers[0], answers[1]) && len(data) < maxRPCStub {
			t.Fatalf("answers differ when written in two pieces:\n%x\n%x", answers[0], answers[1])
		}
	})
}

// TestCapturesReplay: the captured client streams, replayed against a
// fresh server of their persona, go all the way to the share listing, so
// the FuzzSMB2 seeds lead the fuzzer deep into sessions.
func TestCapturesReplay(t *testing.T) {
	for _, tc := range []struct {
		capture, os string
		p           *Persona
	}{
		{"smbclient-list-samba-default", "linux", nil},
		{"smbclient-list-windows-anonymous", "windows", &Persona{Anonymous: yes}},
		{"impacket-samba-guest-shares", "linux", nil},
	} {
		var stream []byte
		for _, f := range clientFrames(t, tc.capture) {
			stream = append(stream, f...)
		}
		s, ev := testServer(t, tc.os, tc.p)
		s.serveConn(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(stream), frameChecker{t}}, PortDirect, map[string]string{})
		if rpc := fieldsOf(ev, "rpc"); len(rpc) != 1 || rpc[0]["result"] != "WERR_OK" {
			t.Errorf("%s: rpc events %v", tc.capture, rpc)
		}
	}
}
