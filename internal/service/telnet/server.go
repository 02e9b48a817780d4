package telnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/accounts"
	"decnet/internal/shell"
)

// Server is one decky's telnet honeypot.
type Server struct {
	cfg      service.Config
	persona  *Persona
	fs       *shell.FS
	hostname string // as the shell and hostinfo show it
	release  string // uname -r
	product  string // Inetutils or Busybox

	// FailDelay is the delay after a failed login: pam_faildelay's
	// (Debian's /etc/pam.d/login: 3 s), randomised by PAM to between half
	// and one and a half times it, or busybox login's fixed 3 s.
	FailDelay time.Duration
	// LoginTimeout is login.defs' LOGIN_TIMEOUT (busybox login: its
	// LOGIN_TIMEOUT variable): login gives up this long after it started.
	LoginTimeout time.Duration
	// StartDelay is how long login takes to start and print its prompt
	// after telnetd's banner (inetutils) or its opening (busybox).
	StartDelay time.Duration
	// Limits bound connections.
	Limits service.Limits

	mu sync.Mutex
	// accounts are the persona's logins, each bound to the first of its
	// passwords an attacker uses.
	accounts *accounts.Accounts
	ptys     []bool // pseudo-terminals in use
}

// New builds the server for one decky: the fake filesystem and the
// accepted logins are loaded from (or created in) the decky's shared
// directory, where ssh finds them too.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	if cfg.Host.DataDir == "" {
		return nil, errors.New("telnet: no data directory")
	}
	if err := os.MkdirAll(cfg.Host.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("telnet: %w", err)
	}
	hostname := p.Hostname
	if hostname == "" {
		hostname = cfg.Host.Hostname
	}
	if hostname == "" {
		hostname = "localhost"
	}
	fsys, err := shell.Open(filepath.Join(cfg.Host.Shared(), shell.DirName), shell.System{Hostname: hostname, Distro: cfg.Host.Distro,
		IP: cfg.Host.IP, Boot: archetype.Boot(cfg.Host.Name, time.Now())})
	if err != nil {
		return nil, fmt.Errorf("telnet: %w", err)
	}
	s := &Server{cfg: cfg, persona: p, fs: fsys, hostname: hostname, release: archetype.KernelOf(cfg.Host.Distro).Release,
		product: p.product(cfg.Host.OS), FailDelay: 3 * time.Second, LoginTimeout: 60 * time.Second,
		StartDelay: 40 * time.Millisecond, Limits: service.DefaultLimits}
	if s.product == Busybox {
		s.StartDelay = busyboxStartDelay
	}
	s.accounts = accounts.Open(p.Password, p.Users, filepath.Join(cfg.Host.Shared(), accounts.FileName), cfg.Log)
	return s, nil
}

// Serve accepts telnet connections on every TCP listener until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, s.Limits, func(ctx context.Context, _ int, c *service.Conn) {
		newConn(s, c).run(ctx)
	})
	return s.fs.Flush()
}

func (s *Server) emit(typ string, sev event.Severity, fields map[string]string, extra map[string]string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: event.With(fields, extra)})
}

// openPTY hands out the lowest free pseudo-terminal number, as the kernel does.
func (s *Server) openPTY() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, used := range s.ptys {
		if !used {
			s.ptys[i] = true
			return i
		}
	}
	s.ptys = append(s.ptys, true)
	return len(s.ptys) - 1
}

func (s *Server) closePTY(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ptys[n] = false
}
