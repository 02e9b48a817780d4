// Package ftp is the FTP honeypot: a vsftpd look-alike (banner, FEAT,
// error texts and codes, login delays and limits of the distro's vsftpd)
// that records every login and command, serves bait files from a small
// per-decky tree over passive and active data connections, and keeps
// every uploaded file as an artifact. Active mode connects back only to
// the control connection's peer, so the decky is never a bounce relay.
package ftp

import (
	"time"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "ftp"

// Port is the FTP control port.
const Port = 21

// Service is the ftp honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares port 21 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "vsftpd look-alike capturing logins, commands and uploaded files",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     func() any { return defaultPersona() },
	}
}

// New builds one decky's FTP server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p, time.Now)
}

// Fragment implements service.Composer: uploads are kept in the data
// directory, and they are buffered in memory (up to uploadMemory) while
// they arrive, hence more memory than the default.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	f := service.DataFragment(Slug, h, keys)
	f.MemoryMB = 128
	return f
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
