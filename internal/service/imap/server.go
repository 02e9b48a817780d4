package imap

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"decnet/internal/mailbox"
	"decnet/internal/service"
	"decnet/internal/tlscert"
	"decnet/internal/tlsstack"
)

// Server is one decky's IMAP server.
type Server struct {
	cfg     service.Config
	p       *Persona
	users   mailbox.Users
	tls     *tls.Config
	penalty *penalties
	// now is the clock; failDelay the wait before a failed login's answer
	// and penaltyDelay the one before any login's (see penalty.go).
	// Tests pin them.
	now          func() time.Time
	failDelay    func() time.Duration
	penaltyDelay func(failures int) time.Duration
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	// Debian's dovecot.pem is a link to ssl-cert's snakeoil, made for the
	// host name at install time.
	cert, err := tlscert.HostSnakeoil(cfg.Host.Shared(), cfg.Host.Hostname)
	if err != nil {
		return nil, fmt.Errorf("imap: certificate: %w", err)
	}
	tc := tlsstack.OpenSSL3()
	tc.Certificates = []tls.Certificate{cert}
	return &Server{
		cfg: cfg, p: p, users: p.users(), tls: tc, penalty: newPenalties(),
		now: time.Now, failDelay: failureDelay, penaltyDelay: penaltyDelay,
	}, nil
}

// dirOrder sorts folders as this decky's filesystem lists their
// directories: by a hash of the name seeded with the decky's name.
func (s *Server) dirOrder(folders []*folder) {
	key := func(f *folder) uint64 {
		h := fnv.New64a()
		h.Write([]byte(s.cfg.Host.Name + "\x00" + f.name))
		return h.Sum64()
	}
	slices.SortStableFunc(folders, func(a, b *folder) int { return cmp.Compare(key(a), key(b)) })
}

// connLimits: Dovecot logs a client out after 30 minutes of silence
// (imap's autologout); a login process waits 3 minutes (see session).
var connLimits = func() service.Limits {
	l := service.DefaultLimits
	l.Idle = 30 * time.Minute
	return l
}()

// Serve answers 143 and 993 until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if len(ls.TCP) == 0 {
		return fmt.Errorf("imap: no TCP listener")
	}
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, connLimits, s.handle)
	return nil
}

func (s *Server) handle(ctx context.Context, port int, c *service.Conn) {
	ss := newSession(s, c, c.Fields())
	defer ss.stop()
	if port == PortIMAPS && !ss.startTLS(ctx) {
		return
	}
	ss.run(ctx)
}
