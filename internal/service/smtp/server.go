package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"path/filepath"
	"sync/atomic"
	"time"

	"decnet/internal/artifact"
	"decnet/internal/pause"
	"decnet/internal/service"
	"decnet/internal/tlscert"
	"decnet/internal/tlsstack"
)

// smtpdTimeout is Postfix's smtpd_timeout: a client silent that long is
// told so and dropped.
const smtpdTimeout = 300 * time.Second

// handshakeTimeout bounds a TLS handshake.
const handshakeTimeout = 30 * time.Second

// Server is one decky's Postfix.
type Server struct {
	cfg   service.Config
	slug  string
	site  site
	relay bool // smtp_relay: any recipient, any login
	tls   *tls.Config
	art   *artifact.Store
	ids   *queueIDs
	// limits bound each connection; Idle is smtpd_timeout.
	limits service.Limits
	// authDelay is the wait before the n-th (from 1) failed AUTH's reply;
	// random supplies challenges; now is the clock. Tests pin them.
	authDelay func(n int) time.Duration
	errSleep  time.Duration
	random    io.Reader
	now       func() time.Time
}

func newServer(cfg service.Config, slug string, p *Persona, relay bool) (*Server, error) {
	st := resolve(p, cfg.Host)
	// Debian's main.cf points smtpd_tls_cert_file at ssl-cert's snakeoil,
	// the host's one, made for its name at install time.
	cert, err := tlscert.HostSnakeoil(cfg.Host.Shared(), cfg.Host.Hostname)
	if err != nil {
		return nil, fmt.Errorf("%s: certificate: %w", slug, err)
	}
	tc := tlsstack.OpenSSL3()
	tc.Certificates = []tls.Certificate{cert}
	dir := ""
	if cfg.Host.DataDir != "" {
		dir = filepath.Join(cfg.Host.DataDir, "artifacts")
	}
	art, err := artifact.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", slug, err)
	}
	lim := service.DefaultLimits
	lim.Idle = smtpdTimeout
	return &Server{cfg: cfg, slug: slug, site: st, relay: relay, tls: tc, art: art, ids: newQueueIDs(cfg.Host.Name),
		limits: lim, authDelay: dovecotPenalty, errSleep: errorSleep, random: rand.Reader, now: time.Now}, nil
}

// dovecotPenalty is how long Dovecot's auth penalty holds the n-th
// failure's answer (measured: 4.2 s, then 7.9 s; from the third on,
// Postfix gives up at 10 s).
func dovecotPenalty(n int) time.Duration {
	switch n {
	case 1:
		return pause.Between(4000*time.Millisecond, 4400*time.Millisecond)
	case 2:
		return pause.Between(7700*time.Millisecond, 8100*time.Millisecond)
	}
	return 10 * time.Second
}

// Serve answers 25, 587 and, when the persona has smtps, 465, until ctx
// is done. Without smtps the 465 listener is closed, so the port is.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if _, ok := ls.TCP[PortSMTP]; !ok {
		return fmt.Errorf("%s: no listener for port %d", s.slug, PortSMTP)
	}
	if ln, ok := ls.TCP[PortSMTPS]; ok && !s.site.smtps {
		ln.Close()
		tcp := map[int]net.Listener{}
		for p, l := range ls.TCP {
			if p != PortSMTPS {
				tcp[p] = l
			}
		}
		ls = service.Listeners{TCP: tcp, UDP: ls.UDP}
	}
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, s.limits, s.handle)
	return nil
}

func (s *Server) handle(ctx context.Context, port int, c *service.Conn) {
	ss := newSession(s, c, c.Fields(), port)
	if port == PortSMTPS && !ss.startTLS(ctx) {
		return
	}
	ss.run(ctx)
}

// queueIDs makes Postfix's short queue ids: five hex digits of the
// microsecond, then the hex inode number of the queue file, which a
// decky's queue directory reuses and grows slowly from its own start.
type queueIDs struct{ inode atomic.Uint64 }

func newQueueIDs(decky string) *queueIDs {
	h := fnv.New32a()
	h.Write([]byte(decky))
	q := &queueIDs{}
	q.inode.Store(0x20000 + uint64(h.Sum32()%0x9e0000))
	return q
}

func (q *queueIDs) next(now time.Time) string {
	ino := q.inode.Add(1 + uint64(now.UnixNano()%7))
	return fmt.Sprintf("%05X%X", now.Nanosecond()/1000, ino)
}
