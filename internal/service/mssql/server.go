package mssql

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"decnet/internal/ntlmssp"
	"decnet/internal/service"
)

// limits bound SQL Server connections: no session outlives its login
// here, and a client has SQL Server's login timeout to get there.
var limits = service.Limits{MaxConns: 256, MaxPerSource: 32, Idle: time.Minute, Lifetime: 10 * time.Minute}

// Server is one decky's SQL Server.
type Server struct {
	cfg      service.Config
	version  Version
	force    bool
	instance string
	// serverName is @@SERVERNAME, which error messages carry: the
	// NetBIOS computer name, with the instance when it is a named one.
	serverName string
	ntlm       ntlmssp.Persona
	tls        *tls.Config
	now        func() time.Time
	// random supplies the NTLM server challenges; tests make it
	// predictable.
	random io.Reader
	// spid numbers sessions as SQL Server does, user sessions from 51 up.
	spid atomic.Uint32
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	v, win, err := p.build()
	if err != nil {
		return nil, fmt.Errorf("mssql persona: %w", err)
	}
	hostname := cfg.Host.Hostname
	if hostname == "" {
		hostname = cfg.Host.Name
	}
	s := &Server{cfg: cfg, version: v, force: p.ForceEncryption, instance: p.instance(),
		ntlm: ntlmssp.NewPersona(hostname, p.Domain, win), now: time.Now, random: rand.Reader}
	if err := s.ntlm.Validate(); err != nil {
		return nil, fmt.Errorf("mssql persona: %w", err)
	}
	s.serverName = s.ntlm.NetBIOSComputer
	if p.Instance != "" {
		s.serverName += `\` + p.Instance
	}
	cert, err := loadCert(cfg.Host.DataDir)
	if err != nil {
		return nil, fmt.Errorf("mssql certificate: %w", err)
	}
	s.tls = tlsConfig(cert)
	s.spid.Store(firstSPID - 1)
	return s, nil
}

// firstSPID is the first user session ID; lower ones are the engine's own.
const firstSPID = 51

// nextSPID is the session ID of a new connection.
func (s *Server) nextSPID() uint16 {
	for {
		n := s.spid.Add(1)
		if n <= 32767 {
			return uint16(n)
		}
		s.spid.CompareAndSwap(n, firstSPID-1)
	}
}

// Serve answers the SQL Server port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("mssql: no listener for port %d", Port)
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, limits, s.handle)
	return nil
}

func (s *Server) handle(ctx context.Context, c *service.Conn) {
	ss := &session{srv: s, conn: c, rw: c, fields: c.Fields()}
	ss.run(ctx)
}
