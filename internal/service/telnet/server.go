package telnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/shell"
)

// Server is one decky's telnet honeypot.
type Server struct {
	cfg      service.Config
	persona  *Persona
	fs       *shell.FS
	hostname string // as the shell and hostinfo show it
	release  string // uname -r

	// FailDelay is pam_faildelay's delay after a failed login (Debian's
	// /etc/pam.d/login: 3 s), randomised by PAM to between half and one
	// and a half times it.
	FailDelay time.Duration
	// LoginTimeout is login.defs' LOGIN_TIMEOUT: login gives up this long
	// after it started.
	LoginTimeout time.Duration
	// StartDelay is how long login takes to start and print its prompt
	// after telnetd's banner.
	StartDelay time.Duration
	// Limits bound connections.
	Limits service.Limits

	mu     sync.Mutex
	logins map[string][]string // accepted passwords per user
	bound  map[string]string   // the password each account was first entered with
	ptys   []bool              // pseudo-terminals in use
}

// New builds the server for one decky: the fake filesystem and the
// accepted logins are loaded from (or created in) cfg.Host.DataDir.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, _ := cfg.Persona.(*Persona)
	if p == nil {
		p = &Persona{}
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
	fsys, err := shell.Open(filepath.Join(cfg.Host.DataDir, "shell"), shell.System{Hostname: hostname, Distro: cfg.Host.Distro,
		IP: cfg.Host.IP, Boot: archetype.Boot(cfg.Host.Name, time.Now())})
	if err != nil {
		return nil, fmt.Errorf("telnet: %w", err)
	}
	s := &Server{cfg: cfg, persona: p, fs: fsys, hostname: hostname, release: archetype.KernelOf(cfg.Host.Distro).Release,
		FailDelay: 3 * time.Second, LoginTimeout: 60 * time.Second, StartDelay: 40 * time.Millisecond,
		Limits: service.DefaultLimits, logins: p.logins(), bound: map[string]string{}}
	s.loadBound()
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
	f := make(map[string]string, len(fields)+len(extra))
	for k, v := range fields {
		f[k] = v
	}
	for k, v := range extra {
		f[k] = v
	}
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: f})
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

// accept checks a login. An account accepts the first of its passwords an
// attacker uses and only that one afterwards, so the decky never looks
// like it takes any password (and the binding survives restarts).
func (s *Server) accept(user, pw string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bound[user]; ok {
		return b == pw
	}
	for _, p := range s.logins[user] {
		if p == pw {
			s.bound[user] = pw
			s.saveBound()
			return true
		}
	}
	return false
}

const boundFile = "telnet_logins.json"

func (s *Server) loadBound() {
	b, err := os.ReadFile(filepath.Join(s.cfg.Host.DataDir, boundFile))
	if err != nil {
		return
	}
	var m map[string]string
	if json.Unmarshal(b, &m) != nil {
		return
	}
	for u, pw := range m {
		// A persona change that drops an account or password wins.
		for _, p := range s.logins[u] {
			if p == pw {
				s.bound[u] = pw
			}
		}
	}
}

func (s *Server) saveBound() {
	b, err := json.Marshal(s.bound)
	if err == nil {
		name := filepath.Join(s.cfg.Host.DataDir, boundFile)
		tmp := name + ".tmp"
		if err = os.WriteFile(tmp, b, 0o600); err == nil {
			err = os.Rename(tmp, name)
		}
	}
	if err != nil && s.cfg.Log != nil {
		s.cfg.Log.Warn("telnet: save logins", "err", err)
	}
}
