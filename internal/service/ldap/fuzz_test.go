package ldap

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// FuzzMessage feeds arbitrary bytes to the LDAPMessage decoder and every
// operation decoder behind it (bind, search and its filter, extended and
// password modify, the updates), and checks that a decoded filter's
// string form is stable. Seeds: the messages of ldap-utils, ldap3 and
// nmap (testdata, made by TestCaptureSeeds, and the probes below).
func FuzzMessage(f *testing.F) {
	f.Add(nmapSearchProbe)
	f.Add(nmapBindProbe)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMessage(data)
		if err != nil {
			return
		}
		switch m.op.id {
		case opBindRequest:
			parseBind(m.op)
		case opSearchRequest:
			if r, err := parseSearch(m.op); err == nil {
				s := r.filter.String()
				if r.filter.String() != s {
					t.Fatal("filter string unstable")
				}
				r.filter.matches(&entry{attrs: []attr{a("objectClass", "top"), a("cn", "x")}})
			}
		case opExtendedRequest:
			if r, err := parseExtended(m.op); err == nil {
				parsePasswdModify(r.value)
			}
		default:
			parseWrite(m.op)
		}
	})
}

// The probes of nmap's LDAP service detection (nmap-service-probes).
var (
	nmapSearchProbe = testutil.Hex("30 84 00 00 00 2d 02 01 07 63 84 00 00 00 24 04 00 0a 01 00 0a 01 00 02 01 00 02 01 64 01 01 00 87 0b 6f 62 6a 65 63 74 43 6c 61 73 73 30 84 00 00 00 00")
	nmapBindProbe   = testutil.Hex("30 0c 02 01 01 60 07 02 01 02 04 00 80 00")
)

// FuzzSession runs whole client streams through a session of each
// persona: framing, dispatch, binds of every kind (NTLM through
// ntlmssp), searches of the seeded trees and StartTLS, which must never
// panic or hang. Seeds: whole connections of the real clients.
func FuzzSession(f *testing.F) {
	f.Add(append(append([]byte{}, nmapBindProbe...), nmapSearchProbe...))
	var servers []*Server
	for _, hp := range []struct {
		h service.Host
		p *Persona
	}{
		{hostLinux, &Persona{StartTLS: true, Users: []string{"lwhitfield:pw"}}},
		{hostWindows, &Persona{StartTLS: true, Users: []string{"lwhitfield:pw"}}},
	} {
		s, _ := newTestServer(f, hp.h, hp.p)
		s.cfg.Emit = event.EmitterFunc(func(event.Event) {})
		servers = append(servers, s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range servers {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c := &streamConn{r: bytes.NewReader(data)}
			newSession(s, c, map[string]string{}).run(ctx)
			cancel()
		}
	})
}

// streamConn is a connection whose client sends r and ignores answers.
type streamConn struct {
	r io.Reader
}

func (c *streamConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *streamConn) Write(b []byte) (int, error) { return len(b), nil }
func (c *streamConn) Close() error                { return nil }
func (c *streamConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 108, 1), Port: PortLDAP}
}
func (c *streamConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 108, 2), Port: 40000}
}
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }
