package ftp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"decnet/internal/pause"

	"decnet/internal/archetype"
	"decnet/internal/artifact"
	"decnet/internal/event"
	"decnet/internal/service"
)

// Upload bounds: one file keeps at most maxUpload bytes, and the uploads
// of all sessions together hold at most uploadMemory in memory, so a
// flood of parallel uploads cannot take the container's memory.
const (
	maxUpload    = 16 << 20
	uploadMemory = 32 << 20
	ioChunk      = 64 << 10
)

// timeouts bound data connections: vsftpd's accept_timeout,
// connect_timeout and data_connection_timeout.
type timeouts struct {
	accept, connect, data time.Duration
}

// Server is one decky's FTP server: its tree and artifact store are
// shared by all its sessions.
type Server struct {
	cfg      service.Config
	p        *Persona
	version  string
	legacy   bool // vsftpd before 3.0.3
	layout   layout
	accounts map[string]account
	tree     *tree
	art      *artifact.Store
	artDir   string
	now      func() time.Time
	// failDelay is how long a failed login waits before its 530: PAM's
	// delay (about 2 s, randomised by a quarter) plus vsftpd's
	// delay_failed_login (1 s); a user name vsftpd refuses before PAM
	// gets the 1 s only.
	failDelay func(pam bool) time.Duration
	timeouts  timeouts
	mem       memBudget
	clients   atomic.Int64
}

// newServer builds the server for persona p, with now as its clock.
func newServer(cfg service.Config, p *Persona, now func() time.Time) (*Server, error) {
	if cfg.Host.DataDir == "" {
		return nil, errors.New("ftp: no data directory")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	artDir := filepath.Join(cfg.Host.DataDir, "artifacts")
	art, err := artifact.Open(artDir)
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	version := p.Version
	if version == "" {
		version = distroVersion(cfg.Host.Distro)
	}
	s := &Server{cfg: cfg, p: p, version: version, legacy: versionBefore(version, "3.0.3"), layout: layoutOf(cfg.Host.Distro),
		accounts: map[string]account{}, art: art, artDir: artDir, now: now,
		timeouts: timeouts{accept: 60 * time.Second, connect: 60 * time.Second, data: 300 * time.Second},
		mem:      memBudget{max: uploadMemory}}
	s.failDelay = func(pam bool) time.Duration {
		if !pam {
			return time.Second
		}
		return time.Second + pause.PAMFailure(2*time.Second)
	}
	accts := p.accounts()
	for _, a := range accts {
		s.accounts[a.name] = a
	}
	name := cfg.Host.Name
	if name == "" {
		name = cfg.Host.Hostname
	}
	s.tree = seedTree(p, cfg.Host.Distro, accts, newBaitFacts(name, cfg.Host.Hostname, archetype.Boot(name, s.now())))
	return s, nil
}

// versionBefore compares dotted versions numerically.
func versionBefore(v, than string) bool {
	a, b := strings.Split(v, "."), strings.Split(than, ".")
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x = atoi(a[i])
		}
		if i < len(b) {
			y = atoi(b[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// Serve answers the FTP port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("ftp: no listener for port %d", Port)
	}
	lim := service.DefaultLimits
	lim.Idle = time.Duration(s.p.IdleSessionTimeout) * time.Second
	service.ServeTCP(ctx, ln, s.cfg.Emit, lim, s.handle)
	return nil
}

func (s *Server) handle(ctx context.Context, c *service.Conn) {
	tuneControl(c.Conn)
	local, peer := addrIP(c.LocalAddr()), addrIP(c.RemoteAddr())
	sess := s.newSession(c, service.ConnFields(c), local, peer)
	sess.run(ctx)
}

// tuneControl sets what vsftpd's vsf_cmdio_sock_setup sets: urgent data
// inline, so the DM byte of an ABOR sent as urgent data stays in the
// line, and keepalive with the kernel's timing (2 h) rather than Go's
// 15 s, which would show in a capture.
func tuneControl(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 2 * time.Hour, Interval: 75 * time.Second, Count: 9})
	if rc, err := tc.SyscallConn(); err == nil {
		setSockopt(rc, syscall.SO_OOBINLINE)
	}
}

// setSockopt turns a boolean SOL_SOCKET option on.
func setSockopt(rc syscall.RawConn, opt int) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 1)
	}); err != nil {
		return err
	}
	return serr
}

func addrIP(a net.Addr) net.IP {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP
	}
	return nil
}

// emit sends an event with the session's peer fields plus extra.
func (s *Server) emit(typ string, sev event.Severity, fields, extra map[string]string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: event.With(fields, extra)})
}

// listenPasv opens a passive data listener on ip at a random port in the
// persona's range, as vsftpd's vsf_privop_pasv_listen picks it, trying
// nine times.
func (s *Server) listenPasv(ip net.IP) (*net.TCPListener, error) {
	lo, hi := s.p.PasvMinPort, s.p.PasvMaxPort
	var err error
	for range 9 {
		port := lo + int(float64(rand.IntN(65536))/65536*float64(hi-lo+1))
		var ln *net.TCPListener
		if ln, err = net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port}); err == nil {
			return ln, nil
		}
	}
	return nil, err
}

// artifactFile opens a kept upload for reading.
func (s *Server) artifactFile(stored string) (*os.File, error) {
	if stored == "" || strings.ContainsAny(stored, "/\\") {
		return nil, os.ErrNotExist
	}
	return os.Open(filepath.Join(s.artDir, stored))
}

// memBudget is the memory uploads may hold at once.
type memBudget struct {
	mu        sync.Mutex
	used, max int64
}

func (m *memBudget) acquire(n int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used+n > m.max {
		return false
	}
	m.used += n
	return true
}

func (m *memBudget) release(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.used -= n
}
