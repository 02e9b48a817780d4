package postgres

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "postgres"

// Port is PostgreSQL's port.
const Port = 5432

// The authentication methods a persona's pg_hba.conf line may name.
const (
	AuthSCRAM    = "scram-sha-256"
	AuthMD5      = "md5"
	AuthPassword = "password"
	// AuthReject is a server whose pg_hba.conf has no line for the
	// attacker's address, as a stock Debian install seen from outside.
	AuthReject = "reject"
)

// Persona is what a decky's PostgreSQL claims to be.
type Persona struct {
	// Version is the PostgreSQL 15 release, e.g. "15.20". It sets
	// server_version, version() and the source line numbers the errors
	// carry, which scanners read as a version.
	Version string `ini:"version"`
	// Build is the packager's suffix inside server_version's parentheses,
	// e.g. "Debian 15.20-0+deb12u1". Empty picks the decky distro's
	// package; "-" means none (a source build).
	Build string `ini:"build"`
	// Compiler is the "compiled by" part of version(). Empty picks the
	// decky distro's compiler.
	Compiler string `ini:"compiler"`
	// Auth is the pg_hba.conf method for the attacker: scram-sha-256 (as
	// PostgreSQL 15 ships), md5, password (cleartext, which reveals the
	// password) or reject (no pg_hba.conf entry).
	Auth string `ini:"auth"`
	// Logins are user:password pairs that log in (weak credentials); the
	// session then answers a few recon queries. Empty, as on a stock
	// server, lets nobody in.
	Logins []string `ini:"logins"`
	// Databases are the databases that exist besides postgres, template0
	// and template1; a login to another gets "does not exist".
	Databases []string `ini:"databases"`
	// Superusers are the logins whose sessions say is_superuser=on.
	Superusers []string `ini:"superusers"`
	// SSL is postgresql.conf's ssl: on, SSLRequest gets 'S' and TLS with
	// the decky's snakeoil certificate, and SCRAM-SHA-256-PLUS is offered
	// over it, as on a stock Debian install; off (the default), 'N'.
	SSL bool `ini:"ssl"`
	// TimeZone is the TimeZone parameter, initdb's copy of the host's.
	TimeZone string `ini:"timezone"`
}

var versionRE = regexp.MustCompile(`^15\.([0-9]|[1-9][0-9])$`)

// Validate checks the persona's values.
func (p *Persona) Validate() error {
	if !versionRE.MatchString(p.Version) {
		return fmt.Errorf("version %q: want a PostgreSQL 15 release such as 15.20", p.Version)
	}
	switch p.Auth {
	case AuthSCRAM, AuthMD5, AuthPassword, AuthReject:
	default:
		return fmt.Errorf("auth %q: want scram-sha-256, md5, password or reject", p.Auth)
	}
	for _, l := range p.Logins {
		if u, _, ok := strings.Cut(l, ":"); !ok || u == "" {
			return fmt.Errorf("logins: %q is not user:password", l)
		}
	}
	for _, d := range p.Databases {
		if d == "" || len(d) > maxName {
			return fmt.Errorf("databases: %q is not a database name", d)
		}
	}
	if p.TimeZone == "" {
		return errors.New("timezone is empty")
	}
	return nil
}

func defaultPersona() any {
	return &Persona{Version: "15.20", Auth: AuthSCRAM, TimeZone: "Etc/UTC"}
}

// minor is the release's minor number (Validate checked the form).
func (p *Persona) minor() int {
	n, _ := strconv.Atoi(strings.TrimPrefix(p.Version, "15."))
	return n
}

// distroBuild is how each distro's PostgreSQL 15 package names itself:
// the server_version suffix and version()'s compiler. Debian 12 ships 15;
// the Ubuntu and RHEL-like personas run the PGDG packages, as most
// PostgreSQL 15 installs there do.
func distroBuild(distro, version string) (build, compiler string) {
	switch distro {
	case "ubuntu22":
		return "Ubuntu " + version + "-1.pgdg22.04+1", "gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0"
	case "ubuntu20":
		return "Ubuntu " + version + "-1.pgdg20.04+1", "gcc (Ubuntu 9.4.0-1ubuntu1~20.04.2) 9.4.0"
	case "rocky9", "centos7", "fedora":
		return "-", "gcc (GCC) 11.4.1 20231218 (Red Hat 11.4.1-3)"
	}
	return "Debian " + version + "-0+deb12u1", "gcc (Debian 12.2.0-14+deb12u1) 12.2.0"
}

// resolve fills what the persona leaves to the decky's distro.
func (p *Persona) resolve(h service.Host) *Persona {
	q := *p
	build, compiler := distroBuild(h.Distro, p.Version)
	if q.Build == "" {
		q.Build = build
	}
	if q.Compiler == "" {
		q.Compiler = compiler
	}
	return &q
}

// serverVersion is the server_version parameter.
func (p *Persona) serverVersion() string {
	if p.Build == "-" {
		return p.Version
	}
	return p.Version + " (" + p.Build + ")"
}

// versionString is what version() returns.
func (p *Persona) versionString() string {
	return "PostgreSQL " + p.serverVersion() + " on x86_64-pc-linux-gnu, compiled by " + p.Compiler + ", 64-bit"
}

// Service is the postgres honeypot kind.
type Service struct{}

// Info declares the slug, port and persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "PostgreSQL 15 database server",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's PostgreSQL.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p.resolve(cfg.Host))
}
