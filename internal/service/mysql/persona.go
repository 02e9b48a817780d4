package mysql

import (
	"fmt"
	"slices"
	"strings"
)

// Persona is what a decky's database server claims to be.
type Persona struct {
	// Product is the server imitated: mariadb (the default) or mysql
	// (MySQL 8.0, whose default plugin is caching_sha2_password).
	Product string `ini:"product"`
	// Version is the server version as SELECT VERSION() shows it, e.g.
	// "10.11.19-MariaDB-0+deb12u1" (the greeting adds MariaDB's "5.5.5-"
	// prefix). Empty means the version the decky's distro ships.
	Version string `ini:"version"`
	// VersionComment is @@version_comment ("Debian 12"). Empty means the
	// distro's.
	VersionComment string `ini:"version_comment"`
	// SSL offers TLS (the SSL capability) with a certificate of the
	// decky's own. Stock Debian MariaDB has no certificate and offers no
	// TLS, so the default is off for mariadb; MySQL 8 makes its own
	// certificate at first start, so the mysql default is on.
	SSL string `ini:"ssl"`
	// Users are "user:pass" accounts that log in (from any host) and may
	// then run a few recon queries over the bait schema. Empty, the
	// default, refuses every login.
	Users []string `ini:"users"`
	// RemoteUsers are the names of further accounts that exist for any
	// host ('name'@'%'), so that a wrong password gets error 1045; any
	// other name gets MariaDB's 1698, as on a real server.
	RemoteUsers []string `ini:"remote_users"`
	// Databases are the bait databases SHOW DATABASES lists beside the
	// system ones.
	Databases []string `ini:"databases"`
}

// The products a persona can imitate.
const (
	MariaDB = "mariadb"
	MySQL   = "mysql"
)

func defaultPersona() any {
	return &Persona{Product: MariaDB, RemoteUsers: []string{"root"}, Databases: []string{"production", "wordpress"}}
}

// Validate checks the product, the accounts and the names.
func (p *Persona) Validate() error {
	if p.Product != MariaDB && p.Product != MySQL {
		return fmt.Errorf("product %q: want %s or %s", p.Product, MariaDB, MySQL)
	}
	switch strings.ToLower(p.SSL) {
	case "", "true", "false", "yes", "no", "on", "off":
	default:
		return fmt.Errorf("ssl %q: want true or false", p.SSL)
	}
	for _, u := range p.Users {
		name, _, ok := strings.Cut(u, ":")
		if !ok || name == "" {
			return fmt.Errorf("users: %q is not user:pass", u)
		}
	}
	for _, n := range append(slices.Clone(p.RemoteUsers), p.Databases...) {
		if n == "" || len(n) > 64 || strings.ContainsAny(n, "'`\x00") {
			return fmt.Errorf("name %q is empty, too long or holds a quote", n)
		}
	}
	return nil
}

// sslOn says whether TLS is offered.
func (p *Persona) sslOn() bool {
	switch strings.ToLower(p.SSL) {
	case "true", "yes", "on":
		return true
	case "":
		return p.Product == MySQL
	}
	return false
}

// release is what a distro's package says of itself.
type release struct{ version, comment string }

// mariadbReleases are the MariaDB packages of each distro.
var mariadbReleases = map[string]release{
	"debian":   {"10.11.19-MariaDB-0+deb12u1", "Debian 12"},
	"ubuntu22": {"10.6.22-MariaDB-0ubuntu0.22.04.1", "Ubuntu 22.04"},
	"ubuntu20": {"10.3.39-MariaDB-0ubuntu0.20.04.2", "Ubuntu 20.04"},
	"rocky9":   {"10.5.27-MariaDB", "MariaDB Server"},
}

// mysqlReleases are the MySQL 8.0 packages of each distro; Oracle's own
// build for the others.
var mysqlReleases = map[string]release{
	"ubuntu22": {"8.0.44-0ubuntu0.22.04.1", "(Ubuntu)"},
	"ubuntu20": {"8.0.42-0ubuntu0.20.04.1", "(Ubuntu)"},
}

// releaseFor fills the version and comment the persona leaves empty.
func (p *Persona) releaseFor(distro string) release {
	var r release
	var ok bool
	if p.Product == MySQL {
		if r, ok = mysqlReleases[distro]; !ok {
			r = release{"8.0.44", "MySQL Community Server - GPL"}
		}
	} else if r, ok = mariadbReleases[distro]; !ok {
		r = mariadbReleases["debian"]
	}
	if p.Version != "" {
		r.version = p.Version
	}
	if p.VersionComment != "" {
		r.comment = p.VersionComment
	}
	return r
}
