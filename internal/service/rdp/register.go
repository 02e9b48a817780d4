// Package rdp is the RDP honeypot. As Windows Server 2019 (the default on
// Windows deckies) it reads the X.224 Connection Request (the mstshash
// cookie names the user before any login), answers the negotiation as
// Windows does, requires Network Level Authentication, and over TLS with a
// Windows-style self-signed certificate runs CredSSP far enough to capture
// the client's NTLMv2 response in hashcat's format; then it refuses the
// logon with STATUS_LOGON_FAILURE, as Windows does for a wrong password.
// As xrdp (the default elsewhere) it answers as Debian's xrdp and records
// what the client tells about itself. Clients without NLA are taken
// through the MCS connection sequence to the Client Info PDU, whose
// password is recorded in clear.
package rdp

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "rdp"

// Port is RDP's TCP port.
const Port = 3389

// Service is the rdp honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares port 3389 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "Windows Remote Desktop (or xrdp) capturing the mstshash user, NetNTLMv2 hashes over CredSSP and Client Info passwords",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's RDP server; its TLS certificate is made now, or
// read from the data directory where an earlier run kept it.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

// Fragment implements service.Composer: Windows' certificate lives in the
// data directory and xrdp's, the host's snakeoil, in the decky's shared
// one, since one that changed at every restart would be a tell.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.SharedFragment(Slug, h, keys)
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
