// Package mssql is the Microsoft SQL Server honeypot. It answers TDS
// PRELOGIN with the persona's build (SQL Server 2019 by default), carries
// the TLS handshake inside PRELOGIN packets as SQL Server does, with a
// per-decky self-signed certificate like SQL Server's own fallback, so
// that the LOGIN7 packet arrives encrypted as real clients send it, and
// records the login: user name and de-obfuscated password, the client's
// host, application, library and database, or, for Windows
// authentication, the NTLMv2 response in hashcat's format. Every login
// fails as SQL Server's does (error 18456).
package mssql

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "mssql"

// Port is SQL Server's TCP port.
const Port = 1433

// Service is the mssql honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares port 1433 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "Microsoft SQL Server (TDS) capturing SQL logins' clear passwords and Windows logins' NetNTLMv2 hashes",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's SQL Server; its TLS certificate is made now, or
// read from the data directory where an earlier run kept it.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

// Fragment implements service.Composer: the certificate lives in the data
// directory, since one that changed at every restart of the container
// would be a tell.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.DataFragment(Slug, h, keys)
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
