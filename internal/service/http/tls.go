package http

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"strconv"
	"strings"
	"time"

	"decnet/internal/tlsstack"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/tlscert"
)

// HTTPSPort is the port served over TLS; every other port is plain HTTP.
const HTTPSPort = 443

// handshakeTimeout bounds a TLS handshake: Apache leaves it to its 20 s
// header timeout, nginx to its 60 s client_header_timeout; one bound for
// all, as no client needs more.
const handshakeTimeout = 20 * time.Second

// Lifetimes of certificates a company's CA issues and of IIS's
// self-signed ones, and how far back the first is dated.
const (
	issuedLifetime = 397 * 24 * time.Hour // the CA/Browser Forum's ceiling, which internal CAs copy
	issuedBackdate = 300 * 24 * time.Hour
	iisLifetime    = 365 * 24 * time.Hour // IIS Manager's "Create Self-Signed Certificate"
	iisBackdate    = 330 * 24 * time.Hour
)

// newTLS makes the TLS side of the server: the persona's certificate files,
// or the certificate the product's install makes for the decky, kept in
// its data directory.
func newTLS(cfg service.Config, p *Persona, prod product) (*tls.Config, error) {
	c := tlsConfig(prod)
	if p.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(p.TLSCert, p.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("http tls_cert: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
		return c, nil
	}
	if prod != iis && p.TLSIssuer == "" && p.TLSCN == "" {
		// Debian's default-ssl site serves ssl-cert's snakeoil, the
		// host's one, which its other services present too.
		cert, err := tlscert.HostSnakeoil(cfg.Host.Shared(), cfg.Host.Hostname)
		if err != nil {
			return nil, fmt.Errorf("https certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
		return c, nil
	}
	cn := p.TLSCN
	if cn == "" {
		cn = cfg.Host.Hostname
	}
	if cn == "" {
		cn = "localhost" // what ssl-cert names a host it cannot name
	}
	certs, err := tlscert.Open(cfg.Host.DataDir, "https-cert", certProfile(prod, cn, p.TLSIssuer), time.Now)
	if err != nil {
		return nil, fmt.Errorf("https certificate: %w", err)
	}
	c.GetCertificate = certs.GetCertificate
	return c, nil
}

// certProfile is the certificate the product's install makes for cn, or
// one a company's CA named issuer gave it.
func certProfile(prod product, cn, issuer string) tlscert.Profile {
	switch {
	case issuer != "":
		return tlscert.Profile{Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
			Issuer: &pkix.Name{CommonName: issuer}, Lifetime: issuedLifetime, Backdate: issuedBackdate, ServerAuth: true}
	case prod == iis:
		return tlscert.Profile{Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
			Lifetime: iisLifetime, Backdate: iisBackdate, ServerAuth: true}
	default:
		return tlscert.Snakeoil(cn)
	}
}

// tlsConfig is what the product's TLS stack allows: Debian 12's OpenSSL 3
// for Apache (session tickets off, SSLSessionTickets off) and nginx, and
// Windows Server 2019's schannel for IIS. ALPN offers only http/1.1: Apache
// and nginx pick it by default, and IIS's h2 is not served (see the
// README).
func tlsConfig(prod product) *tls.Config {
	c := tlsstack.OpenSSL3()
	switch prod {
	case apache:
		c.SessionTicketsDisabled = true
	case iis:
		c = tlsstack.Schannel2019()
	}
	c.NextProtos = []string{"http/1.1"}
	return c
}

// serveTLS completes the TLS handshake, records it, then serves HTTP
// inside it.
func (s *Server) serveTLS(ctx context.Context, c *service.Conn, port int) {
	var hello *tls.ClientHelloInfo
	cfg := s.tls.Clone()
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		hello = h
		return nil, nil
	}
	tc := tls.Server(c, cfg)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	s.emitTLS(c, hello, tc.ConnectionState(), err)
	if err != nil {
		return
	}
	s.ServeConn(ctx, tc, port)
	tc.Close()
}

// emitTLS records a handshake: what the client offered and what was
// agreed, or why it failed.
func (s *Server) emitTLS(c *service.Conn, h *tls.ClientHelloInfo, st tls.ConnectionState, err error) {
	f := c.Fields()
	sev := event.Info
	if h != nil {
		f["sni"] = event.Clip(h.ServerName, 255)
		f["alpn_offered"] = strings.Join(h.SupportedProtos, ",")
		f["client_versions"] = hexList(h.SupportedVersions)
		f["client_ciphers"] = hexList(h.CipherSuites)
	}
	if err != nil {
		f["error"] = event.Clip(err.Error(), 256)
		sev = event.Notice
	} else {
		f["version"] = tls.VersionName(st.Version)
		f["cipher_suite"] = tls.CipherSuiteName(st.CipherSuite)
		f["alpn"] = st.NegotiatedProtocol
	}
	s.emit.Emit(event.Event{Type: typeTLS, Severity: sev, Fields: f})
}

// typeTLS is the event of a TLS handshake.
const typeTLS = "tls"

// hexList writes TLS code points as a comma list of hex numbers.
func hexList(ids []uint16) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "0x" + strconv.FormatUint(uint64(id), 16)
	}
	return strings.Join(parts, ",")
}
