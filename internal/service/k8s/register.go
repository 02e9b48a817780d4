// Package k8s is the Kubernetes API server honeypot: a kubeadm cluster's
// kube-apiserver on 6443 (TLS, with kubeadm's certificate shape) and an
// exposed plain-HTTP API on 8080. It answers discovery, health and version
// probes as the claimed release does, refuses anonymous users in the
// apiserver's own words, captures every bearer token, basic credential and
// client certificate, lists bait objects to the credentials it accepts,
// and records pod and workload creations and exec requests in full.
package k8s

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "k8s"

// The declared ports: the secure port kubeadm configures, and the plain
// port of an old insecure port or an exposed `kubectl proxy`.
const (
	SecurePort   = 6443
	InsecurePort = 8080
)

// Service is the k8s honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares the two ports and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "Kubernetes API server (kubeadm kube-apiserver persona) capturing tokens, client certificates and workload creations",
		Ports: []service.Port{
			{Number: SecurePort, Proto: service.TCP, TLS: true},
			{Number: InsecurePort, Proto: service.TCP},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's API server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return NewServer(cfg, p)
}

// Fragment implements service.Composer: the certificates (and the cluster
// CA they hang from) are kept in the data directory.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.DataFragment(Slug, h, keys)
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
