package sip

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// fuzzServers are both products, with an account, emitting nowhere.
func fuzzServers(t testing.TB) []*Server {
	var out []*Server
	for _, product := range []string{productAsterisk, productKamailio} {
		p := defaultPersona().(*Persona)
		p.Product, p.Users = product, "100:secret"
		s, err := newServer(service.Config{Host: testHost("127.0.114.90"), Persona: p,
			Emit: event.EmitterFunc(func(event.Event) {})}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// checkReply fails on a reply that is not one well-formed SIP response:
// a status line, CRLF-ended header lines without stray CR, LF or NUL,
// the blank line, and nothing after it.
func checkReply(t *testing.T, b []byte) {
	t.Helper()
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if !bytes.HasPrefix(b, []byte("SIP/2.0 ")) || end < 0 || end+4 != len(b) {
		t.Fatalf("malformed reply %q", b)
	}
	for _, l := range strings.Split(string(b[:end]), "\r\n") {
		if strings.ContainsAny(l, "\r\n\x00") {
			t.Fatalf("reply header line %q", l)
		}
	}
}

// FuzzMessage parses hostile datagrams and TCP streams, and answers what
// parses with both products: no panic, and every reply well-formed.
func FuzzMessage(f *testing.F) {
	f.Add([]byte(sipRequest("OPTIONS", "sip:100@127.0.114.90", "")))
	servers := fuzzServers(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := parseDatagram(data); err == nil {
			for _, s := range servers {
				r := &request{msg: m, transport: "UDP", srcIP: "127.0.114.1", srcPort: 5070,
					localIP: "127.0.114.90", now: time.Unix(1795686000, 0), fields: map[string]string{}}
				for _, rep := range s.answer(r) {
					checkReply(t, rep.data)
				}
			}
		}
		br := bufio.NewReader(bytes.NewReader(data))
		for i := 0; i < 8; i++ {
			if _, _, err := readTCPMessage(br); err != nil {
				break
			}
		}
	})
}

// FuzzCredentials parses hostile Authorization values; a credential made
// right for a password must give a hashcat line that cracks with it.
func FuzzCredentials(f *testing.F) {
	f.Add(`Digest username="100", realm="asterisk", nonce="1795686468/49e7", uri="sip:127.0.114.10", response="92b741ee5e2fca418d63be961da90496", algorithm=MD5, cnonce="6cc69c00", nc=00000001, qop=auth`)
	f.Fuzz(func(t *testing.T, v string) {
		c, _ := parseCredentials(v)
		c.response = c.expected("REGISTER", "pw")
		line, ok := c.hashcat("127.0.114.90", "127.0.114.1", "REGISTER")
		if !ok {
			return
		}
		if !crack(t, line, "pw") {
			t.Fatalf("%q does not crack with its password (from %q)", line, v)
		}
	})
}
