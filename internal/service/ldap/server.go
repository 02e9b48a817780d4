package ldap

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"strings"
	"time"

	"decnet/internal/tlsstack"

	"decnet/internal/ntlmssp"
	"decnet/internal/service"
	"decnet/internal/tlscert"
)

// Server is one decky's directory server.
type Server struct {
	cfg  service.Config
	site site
	dir  *directory
	// highestUSN is the last USN the seeded AD tree used, which the root
	// DSE's highestCommittedUSN must not be below.
	highestUSN int
	ntlm       ntlmssp.Persona
	tls        *tls.Config // nil when the persona has no TLS
	// random supplies challenges and nonces; now the clock. Tests pin both.
	random io.Reader
	now    func() time.Time
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	st := resolve(p, cfg.Host)
	s := &Server{cfg: cfg, site: st, dir: st.seed(), random: rand.Reader, now: time.Now}
	s.highestUSN = 4100 + 37*len(s.dir.entries) + 412
	if st.ad {
		s.ntlm = ntlmssp.NewPersona(st.host, st.domain, ntlmssp.NewVersion(10, 0, 17763))
		s.ntlm.NetBIOSDomain = st.netbios
	} else {
		// Cyrus SASL's NTLM plugin answers for a standalone host.
		s.ntlm = ntlmssp.NewPersona(st.host, "", ntlmssp.NewVersion(6, 1, 0))
	}
	if err := s.ntlm.Validate(); err != nil {
		return nil, fmt.Errorf("ldap: ntlm persona: %w", err)
	}
	if st.startTLS {
		cert, err := tlscert.Load(cfg.Host.DataDir, Slug, st.certProfile())
		if err != nil {
			return nil, fmt.Errorf("ldap: certificate: %w", err)
		}
		s.tls = st.tlsConfig()
		s.tls.Certificates = []tls.Certificate{cert}
	}
	return s, nil
}

// certProfile is how the product's certificate is made: a DC's comes
// from the domain's enterprise CA (AD CS names it <domain>-<DC>-CA) for a
// year and is renewed by autoenrollment; a Debian slapd admin points
// olcTLSCertificateFile at ssl-cert's self-signed snakeoil.
func (s site) certProfile() tlscert.Profile {
	if s.ad {
		return tlscert.Profile{
			Subject:    pkix.Name{CommonName: s.dnsHost()},
			DNSNames:   []string{s.dnsHost(), s.domain, s.netbios},
			Issuer:     &pkix.Name{CommonName: strings.ToLower(s.netbios) + "-" + s.host + "-CA"},
			Months:     12,
			Backdate:   180 * 24 * time.Hour,
			ServerAuth: true, ClientAuth: true,
			Renew: true,
		}
	}
	return tlscert.Profile{
		Subject:     pkix.Name{CommonName: s.host},
		DNSNames:    []string{s.host},
		Lifetime:    10 * 365 * 24 * time.Hour,
		Backdate:    400 * 24 * time.Hour,
		SerialBytes: 20,
	}
}

// tlsConfig comes as close to the product's TLS as crypto/tls allows:
// schannel on Server 2019 (TLS 1.0 to 1.2, its suite order and curves),
// or Debian slapd's GnuTLS 3.7 (TLS 1.2 and 1.3, AES-GCM first).
func (s site) tlsConfig() *tls.Config {
	if s.ad {
		return tlsstack.Schannel2019()
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		MaxVersion: tls.VersionTLS13,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		},
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
	}
}

// Serve answers 389 and 636 until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if _, ok := ls.TCP[PortLDAP]; !ok {
		return fmt.Errorf("ldap: no listener for port %d", PortLDAP)
	}
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, service.DefaultLimits, s.handle)
	return nil
}

// handshakeTimeout bounds a TLS handshake, shorter than the idle limit.
const handshakeTimeout = 30 * time.Second

func (s *Server) handle(ctx context.Context, port int, c *service.Conn) {
	ss := newSession(s, c, c.Fields())
	if port == PortLDAPS {
		if s.tls == nil || !ss.startTLS(ctx) {
			return
		}
	}
	ss.run(ctx)
}
