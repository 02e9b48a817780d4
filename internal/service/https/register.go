// Package https is the web honeypot on port 443: the http honeypot's
// server (Apache, nginx or IIS persona, the same keys), whose 443 listener
// speaks TLS with a certificate the decky made for itself the way that
// product's install makes one (see internal/service/http/tls.go).
package https

import (
	"decnet/internal/service"
	"decnet/internal/service/http"
)

// Slug is the service's registry name.
const Slug = "https"

// Service is the https honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares port 443 and the http persona's keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "web server over TLS (Apache, nginx or IIS persona) with a per-decky certificate, capturing requests and logins",
		Ports:       []service.Port{{Number: http.HTTPSPort, Proto: service.TCP, TLS: true}},
		Persona:     func() any { return &http.Persona{} },
	}
}

// New builds one decky's HTTPS server.
func (Service) New(cfg service.Config) (service.Server, error) {
	return http.NewServer(cfg)
}

// Fragment implements service.Composer: the site's install date is kept
// in the data directory, the host's snakeoil in the decky's shared one.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.SharedFragment(Slug, h, keys)
}

var (
	_ service.Service  = Service{}
	_ service.Composer = Service{}
)
