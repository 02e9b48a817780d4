// Package dockerapi is the docker_api honeypot: the Docker Engine API of a
// daemon exposed on tcp://0.0.0.0:2375 (and 2376 with TLS), answering as
// Docker CE does, with a few running bait containers, and recording every
// request: the images pulled, the containers created (image, command,
// binds, privileges) and every command executed in them.
package dockerapi

import "decnet/internal/service"

// Slug is the service's registry name.
const Slug = "docker_api"

// The Engine API's ports: 2375 is the daemon's plain HTTP, 2376 its TLS.
const (
	PlainPort = 2375
	TLSPort   = 2376
)

// Service is the docker_api honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares the two ports and the persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "Docker Engine API (exposed daemon) recording pulls, container creation and exec",
		Ports: []service.Port{
			{Number: PlainPort, Proto: service.TCP},
			{Number: TLSPort, Proto: service.TCP, TLS: true},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's Docker daemon.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return NewServer(cfg, p)
}

// Fragment implements service.Composer: the daemon keeps its TLS
// certificate and its identity in its data directory.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.DataFragment(Slug, h, keys)
}

// Interface guards.
var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
