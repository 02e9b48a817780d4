// Package http is the web honeypot: a small HTTP/1.1 server that copies
// the wire behaviour of Apache, nginx or IIS (header order and case, error
// pages, keep-alive rules) and records every request and every credential
// sent to it.
package http

import "decnet/internal/service"

// Service is the http honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares port 80 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        "http",
		Description: "web server (Apache, nginx or IIS persona) capturing requests and logins",
		Ports:       []service.Port{{Number: 80, Proto: service.TCP}},
		Persona:     func() any { return &Persona{} },
	}
}

// New builds one decky's web server.
func (Service) New(cfg service.Config) (service.Server, error) {
	return NewServer(cfg)
}

// Fragment implements service.Composer: the site keeps its install date in
// its data directory, so the pages an attacker saw stay the same across
// container restarts.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.DataFragment("http", h, keys)
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
