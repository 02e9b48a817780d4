package smb

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"time"

	"decnet/internal/service"
)

// Server is one decky's SMB server.
type Server struct {
	cfg service.Config
	pr  profile
	// now and random are the clock and the randomness (challenges, salts,
	// ids); tests fix them.
	now    func() time.Time
	random io.Reader
	lim    service.Limits
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	pr, err := resolve(p, cfg.Host)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, pr: pr, now: time.Now, random: rand.Reader, lim: service.DefaultLimits}, nil
}

// Serve answers ports 445 and 139 until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if len(ls.TCP) == 0 {
		return errors.New("smb: no TCP listener")
	}
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, s.lim, func(ctx context.Context, port int, c *service.Conn) {
		s.serveConn(c, port, c.Fields())
	})
	return nil
}
