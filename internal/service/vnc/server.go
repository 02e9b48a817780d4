package vnc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// Server is one decky's VNC server. Its blacklist is shared by all its
// connections, as a real server's is.
type Server struct {
	cfg  service.Config
	prod product
	// primary and ext are the security types offered to RFB 3.7+ clients
	// and inside VeNCrypt (RFB4 family).
	primary []uint8
	ext     []uint32
	// password is the accepted password, cut to VNC's 8 bytes; empty
	// accepts none.
	password      string
	width, height int
	desktopName   string
	blacklist     *blacklist // RFB4 family
	bans          *banList   // TightVNC
	// random supplies the challenges; tests make it predictable.
	random io.Reader
}

func newServer(cfg service.Config, p *Persona) *Server {
	prod := products[p.Product]
	s := &Server{cfg: cfg, prod: prod, width: prod.width, height: prod.height,
		desktopName: p.DesktopName, random: rand.Reader}
	s.password = p.Password[:min(len(p.Password), 8)]
	if s.desktopName == "" {
		s.desktopName = prod.desktopName(cfg.Host.Hostname)
	}
	if p.Geometry != "" {
		s.width, s.height, _ = parseGeometry(p.Geometry) // checked by Validate
	}
	types := p.SecurityTypes
	if len(types) == 0 {
		types = prod.defaultTypes
	}
	s.primary, s.ext = securityTypes(types)
	switch prod.family {
	case familyRFB4:
		s.blacklist = newBlacklist(time.Now)
	case familyTight:
		s.bans = newBanList(time.Now)
	}
	return s
}

// Serve answers the VNC port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("vnc: no listener for port %d", Port)
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, service.DefaultLimits, s.handle)
	return nil
}

func (s *Server) handle(ctx context.Context, c *service.Conn) {
	s.serveConn(ctx, c, c.Fields())
}

// serveConn runs one client's session on rw, whose peer's event fields are
// fields, until either side ends it.
func (s *Server) serveConn(ctx context.Context, rw io.ReadWriter, fields map[string]string) {
	ss := &session{srv: s, rw: rw, conn: rw, fields: fields, addr: fields[event.FieldSrcIP]}
	var ok bool
	var err error
	switch s.prod.family {
	case familyRFB4:
		ok, err = ss.rfb4(ctx)
	case familyTight:
		ok, err = ss.tightVNC()
	case familyLibVNC:
		ok, err = ss.libVNC()
	}
	if ok && err == nil {
		ss.runDesktop()
	}
	if ss.tls != nil {
		// gnutls_bye, before the server closes the socket.
		ss.tls.Close()
	}
}

// checkPassword reports whether response answers challenge for the
// persona's password.
func (s *Server) checkPassword(challenge, response []byte) bool {
	return s.password != "" && subtle.ConstantTimeCompare(vncResponse(s.password, challenge), response) == 1
}
