package elasticsearch

import (
	"bufio"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"time"

	"decnet/internal/tlscert"
)

// handshakeTimeout bounds a TLS handshake.
const handshakeTimeout = 30 * time.Second

// certProfile is the HTTP certificate 8.x's security auto-configuration
// makes on first start: CN the node's host name, SANs for the host name,
// localhost and the node's addresses, valid two years, signed by a CA made
// beside it.
func (s *Server) certProfile() tlscert.Profile {
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if ip := net.ParseIP(s.cfg.Host.IP); ip != nil {
		ips = append([]net.IP{ip}, ips...)
	}
	return tlscert.Profile{
		Subject:    pkix.Name{CommonName: s.node},
		DNSNames:   []string{s.node, "localhost"},
		IPs:        ips,
		Issuer:     &pkix.Name{CommonName: "Elasticsearch security auto-configuration HTTP CA"},
		Lifetime:   2 * 365 * 24 * time.Hour,
		Backdate:   300 * 24 * time.Hour,
		ServerAuth: true,
	}
}

// loadTLS loads or makes the decky's HTTP certificate. The JVM's TLS
// stack offers TLS 1.2 and 1.3 and no ALPN.
func (s *Server) loadTLS() error {
	st, err := tlscert.Open(s.cfg.Host.DataDir, "http", s.certProfile(), nil)
	if err != nil {
		return fmt.Errorf("elasticsearch certificate: %w", err)
	}
	s.tls = &tls.Config{GetCertificate: st.GetCertificate, MinVersion: tls.VersionTLS12}
	return nil
}

// startTLS turns c into a TLS connection. A client that speaks plain
// HTTP (its first byte is not a handshake record) is dropped with no
// answer, as the node does ("received plaintext http traffic on an https
// channel, closing connection"); ok is false then.
func (s *Server) startTLS(c net.Conn, br *bufio.Reader) (net.Conn, bool) {
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	first, err := br.Peek(1)
	if err != nil || first[0] != 0x16 {
		return nil, false
	}
	tc := tls.Server(&peeked{Conn: c, r: br}, s.tls)
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		return nil, false
	}
	c.SetDeadline(time.Time{})
	return tc, true
}

// peeked is a connection whose first bytes were read into r.
type peeked struct {
	net.Conn
	r *bufio.Reader
}

func (p *peeked) Read(b []byte) (int, error) { return p.r.Read(b) }

// NetConn is the connection underneath, for service.ConnFields.
func (p *peeked) NetConn() net.Conn { return p.Conn }
