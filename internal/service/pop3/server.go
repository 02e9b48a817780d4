package pop3

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"decnet/internal/mailbox"
	"decnet/internal/pause"
	"decnet/internal/service"
	"decnet/internal/tlscert"
	"decnet/internal/tlsstack"
)

// Dovecot's timeouts: pop3-login drops a client that has not logged in
// within 3 minutes of connecting (CLIENT_LOGIN_TIMEOUT_MSECS), pop3 one
// idle for 10 minutes (CLIENT_IDLE_TIMEOUT_MSECS).
const (
	loginTimeout = 3 * time.Minute
	idleTimeout  = 10 * time.Minute
)

// handshakeTimeout bounds a TLS handshake, shorter than the idle limit.
const handshakeTimeout = 30 * time.Second

// Server is one decky's POP3 server.
type Server struct {
	cfg     service.Config
	p       *Persona
	users   mailbox.Users
	host    string // the host name in APOP timestamps
	tls     *tls.Config
	limits  service.Limits
	penalty *penalties
	auth    *authProcess

	// The clock, the waits and the login timeout; tests shorten them.
	now          func() time.Time
	wait         func(ctx context.Context, d time.Duration) bool
	failureDelay func(now time.Time) time.Duration
	loginTimeout time.Duration
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	// Debian's dovecot.pem is a link to ssl-cert's snakeoil, the host's
	// one.
	cert, err := tlscert.HostSnakeoil(cfg.Host.Shared(), cfg.Host.Hostname)
	if err != nil {
		return nil, fmt.Errorf("pop3: certificate: %w", err)
	}
	tc := tlsstack.OpenSSL3()
	tc.Certificates = []tls.Certificate{cert}
	lim := service.DefaultLimits
	lim.Idle = idleTimeout
	return &Server{
		cfg: cfg, p: p, users: p.users, host: shortName(tlscert.SnakeoilCN(cfg.Host.Hostname)), tls: tc, limits: lim,
		penalty: newPenalties(), auth: newAuthProcess(cfg.Host.Name),
		now: time.Now, wait: pause.For, failureDelay: failureDelay, loginTimeout: loginTimeout,
	}, nil
}

// shortName is gethostname's answer on Debian: the first label.
func shortName(host string) string {
	for i := 0; i < len(host); i++ {
		if host[i] == '.' {
			return host[:i]
		}
	}
	return host
}

// Serve answers 110 and 995 until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if _, ok := ls.TCP[PortPOP3]; !ok {
		return fmt.Errorf("pop3: no listener for port %d", PortPOP3)
	}
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, s.limits, s.handle)
	return nil
}

func (s *Server) handle(ctx context.Context, port int, c *service.Conn) {
	ss := newSession(s, c)
	defer ss.stop()
	if port == PortPOP3S && !ss.startTLS(ctx) {
		return
	}
	ss.run(ctx)
}
