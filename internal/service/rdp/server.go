package rdp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"time"

	"decnet/internal/tlscert"

	"decnet/internal/ntlmssp"
	"decnet/internal/service"
)

// limits bound RDP connections: no session outlives its authentication
// here, so an idle minute or ten minutes in all is plenty.
var limits = service.Limits{MaxConns: 256, MaxPerSource: 32, Idle: time.Minute, Lifetime: 10 * time.Minute}

// Server is one decky's RDP server.
type Server struct {
	cfg  service.Config
	prod product
	// ntlm is the Windows machine the NTLM challenge describes.
	ntlm ntlmssp.Persona
	tls  *tls.Config
	now  func() time.Time
	// random supplies the NTLM server challenges; tests make it
	// predictable.
	random io.Reader
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("rdp persona: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	hostname := cfg.Host.Hostname
	if hostname == "" {
		hostname = cfg.Host.Name
	}
	name := p.product(cfg.Host.OS)
	s := &Server{cfg: cfg, now: time.Now, random: rand.Reader}
	cn := hostname
	switch name {
	case Windows:
		v, _ := parseWindowsVersion(p.Version) // checked by Validate
		s.ntlm = ntlmssp.NewPersona(hostname, p.Domain, v)
		if err := s.ntlm.Validate(); err != nil {
			return nil, fmt.Errorf("rdp persona: %w", err)
		}
		s.prod = windowsProduct(p.NLA)
		cn = s.ntlm.DNSComputer
	default:
		s.prod = xrdpProduct()
	}
	s.tls = s.prod.tls()
	if s.prod.cert == certSnakeoil {
		// Debian's xrdp links its cert.pem to ssl-cert's snakeoil, the
		// host's one.
		cert, err := tlscert.HostSnakeoil(cfg.Host.Shared(), cfg.Host.Hostname)
		if err != nil {
			return nil, fmt.Errorf("rdp certificate: %w", err)
		}
		s.tls.Certificates = []tls.Certificate{cert}
		return s, nil
	}
	// Kept in the data directory as <product>-cert.pem (in memory when
	// there is none).
	certs, err := tlscert.Open(cfg.Host.DataDir, name+"-cert", tlscert.WindowsSelfSigned(cn), time.Now)
	if err != nil {
		return nil, fmt.Errorf("rdp certificate: %w", err)
	}
	s.tls.GetCertificate = certs.GetCertificate
	return s, nil
}

// Serve answers the RDP port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("rdp: no listener for port %d", Port)
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, limits, s.handle)
	return nil
}

func (s *Server) handle(ctx context.Context, c *service.Conn) {
	ss := &session{srv: s, conn: c, fields: c.Fields()}
	ss.run(ctx)
}
