package dockerapi

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// limits bound connections as dockerd's clients use them: long-lived
// streams (attach, logs, exec) but nothing that lives for ever.
var limits = service.Limits{MaxConns: 256, MaxPerSource: 32, Idle: 10 * time.Minute, Lifetime: 2 * time.Hour}

// maxBody is how much of a request body is read and kept; a container
// create or exec request is a few KiB.
const maxBody = 1 << 20

// Server is one decky's Docker daemon: its containers, images and execs
// are shared by all its connections, as a real daemon's are.
type Server struct {
	cfg    service.Config
	p      *Persona
	host   hostOS
	daemon string // the daemon ID /info shows
	booted time.Time
	now    func() time.Time
	eng    *engine
	tls    *tls.Config // 2376's, with the decky's certificate
}

// NewServer builds a decky's daemon with its bait containers.
func NewServer(cfg service.Config, p *Persona) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Emit == nil {
		cfg.Emit = event.EmitterFunc(func(event.Event) {})
	}
	s := &Server{cfg: cfg, p: p, host: p.resolveOS(cfg.Host.Distro), now: time.Now, eng: newEngine()}
	seed := cfg.Host.Name + "\x00" + cfg.Host.Hostname
	s.daemon = daemonID(seed)
	// The daemon came up with the host some days ago; the bait has run
	// since, as containers with a restart policy do.
	s.booted = s.now().Add(-time.Duration(3+int(s.daemon[0])%20) * 24 * time.Hour).Truncate(time.Second)
	s.seedBait(seed)
	conf, err := s.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("docker_api tls: %w", err)
	}
	s.tls = conf
	return s, nil
}

// daemonID is the engine's ID: twelve base32 groups of four, stable per decky.
func daemonID(seed string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	sum := stableID(seed, "daemon")
	groups := make([]string, 12)
	for i := range groups {
		var g [4]byte
		for j := range g {
			g[j] = alphabet[int(sum[(i*4+j)%len(sum)])*7%32]
		}
		groups[i] = string(g[:])
	}
	return strings.Join(groups, ":")
}

type connKey struct{}

// Serve answers the Engine API on every listener until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	var wg sync.WaitGroup
	var hijacked sync.WaitGroup
	for port, ln := range ls.TCP {
		l := net.Listener(abortListener{service.Listen(ln, s.cfg.Emit, limits)})
		if port == TLSPort {
			l = tls.NewListener(l, s.tls)
		}
		srv := &http.Server{
			Handler: &handler{s: s, ctx: ctx, streams: &hijacked},
			// dockerd's own settings: headers within 5 minutes, Go's 1 MB
			// header limit, no HTTP/2.
			ReadHeaderTimeout: 5 * time.Minute,
			TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
			ErrorLog:          log.New(io.Discard, "", 0),
			ConnContext: func(ctx context.Context, c net.Conn) context.Context {
				return context.WithValue(ctx, connKey{}, c)
			},
		}
		stop := context.AfterFunc(ctx, func() { srv.Close() })
		wg.Go(func() {
			defer stop()
			if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
				s.cfg.Log.Warn("docker_api serve", "port", port, "err", err)
			}
		})
	}
	wg.Wait()
	hijacked.Wait()
	return nil
}

// connFields are the event fields of the connection a request came on.
func connFields(r *http.Request) map[string]string {
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		return service.ConnFields(c)
	}
	return map[string]string{}
}

// emit sends one event of the request's connection.
func (s *Server) emit(r *http.Request, typ string, sev event.Severity, fields map[string]string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: event.With(connFields(r), fields)})
}

// abortListener wraps each connection in an abortConn.
type abortListener struct{ net.Listener }

func (l abortListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &abortConn{Conn: c}, nil
}

// abortConn lets net/http interrupt its background read before a hijack
// (attach, exec start). It does so with a read deadline in the past, but
// service.Conn sets its idle deadline as each Read begins, which can
// land after the interruption and leave the hijack waiting for the idle
// timeout; so a past deadline is set again until the read has returned.
type abortConn struct {
	net.Conn
	mu      sync.Mutex
	aborted bool
	reading bool
}

// errAborted is the read error of an interrupted background read.
var errAborted = &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}

func (c *abortConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		return 0, errAborted
	}
	c.reading = true
	c.mu.Unlock()
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.reading = false
	c.mu.Unlock()
	return n, err
}

func (c *abortConn) SetReadDeadline(t time.Time) error {
	past := !t.IsZero() && t.Before(time.Now())
	c.mu.Lock()
	c.aborted = past
	c.mu.Unlock()
	err := c.Conn.SetReadDeadline(t)
	if past {
		go func() {
			for range 1000 {
				time.Sleep(time.Millisecond)
				c.mu.Lock()
				again := c.aborted && c.reading
				c.mu.Unlock()
				if !again {
					return
				}
				c.Conn.SetReadDeadline(t)
			}
		}()
	}
	return err
}

// NetConn is the wrapped connection, for service.ConnFields.
func (c *abortConn) NetConn() net.Conn { return c.Conn }
