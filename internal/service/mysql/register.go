// Package mysql is the MySQL-protocol honeypot: by default Debian 12's
// MariaDB 10.11, byte for byte as measured (greeting, capability flags,
// error packets), or MySQL 8.0. It records every login's user name,
// database, client attributes and the mysql_native_password scramble as a
// hashcat 11200 line (MySQL 8's caching_sha2_password logins yield the
// clear password), and may let weak credentials in to a small bait schema
// where every query is recorded.
package mysql

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "mysql"

// Port is the MySQL port.
const Port = 3306

// Service is the mysql honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares port 3306 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "MariaDB 10.11 or MySQL 8.0 server capturing crackable logins and queries",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's database server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
