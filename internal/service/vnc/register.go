// Package vnc is the VNC (RFB) honeypot: it speaks the handshake of
// TigerVNC, RealVNC 4, TightVNC 2 or LibVNCServer byte for byte (protocol
// 3.3, 3.7 and 3.8, security types, failure texts, delays and per-address
// blacklists) and records each VNC authentication's challenge and response
// in John the Ripper's format, so that the password can be cracked offline.
// A persona may accept one weak password and then serve a blank desktop.
package vnc

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "vnc"

// Port is the VNC port of display :0.
const Port = 5900

// Service is the vnc honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares port 5900 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "VNC server (TigerVNC, RealVNC, TightVNC or LibVNCServer persona) capturing crackable VNC authentication",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's VNC server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p), nil
}

var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
