package telnet

import (
	"fmt"
	"strings"
)

// Persona holds the telnet service's INI keys. Password, Users and Hostname
// mean what they mean for ssh, so one decky can run both with one set.
type Persona struct {
	// Password, when set, is root's password: the accepted logins become
	// root:<Password> plus Users.
	Password string `ini:"password"`
	// Users are further accepted logins, "user:pass" each. When neither
	// Password nor Users is set, a short list of weak pairs is accepted.
	Users []string `ini:"users"`
	// Hostname overrides the decky's hostname in the banner, the login
	// prompt and the shell.
	Hostname string `ini:"hostname"`
	// NoHostinfo drops telnetd's "Linux <release> (<host>) (pts/N)" line
	// before the first prompt, as telnetd -h does.
	NoHostinfo bool `ini:"no_hostinfo"`
	// Retries is login.defs' LOGIN_RETRIES: failed logins before login
	// gives up and the connection closes. Debian: 5.
	Retries int `ini:"retries"`
	// EnvUserBypass makes the decky vulnerable to CVE-2026-24061, as
	// inetutils telnetd was before 2:2.4-2+deb12u2: a NEW-ENVIRON USER of
	// "-f root" logs in as root without a password, any other USER skips
	// the login prompt. Off: USER is ignored, as in deb12u3.
	EnvUserBypass bool `ini:"env_user_bypass"`
}

// defaultLogins are accepted when the persona names none: the pairs that
// brute-force lists try first, the same as ssh's, as one machine has one
// password file.
var defaultLogins = []string{"root:root", "root:admin", "root:123456", "root:password", "admin:admin",
	"ubuntu:ubuntu", "pi:raspberry", "user:user"}

// Validate checks the persona's values.
func (p *Persona) Validate() error {
	for _, u := range p.Users {
		name, _, ok := strings.Cut(u, ":")
		if !ok || name == "" {
			return fmt.Errorf("users: %q is not user:pass", u)
		}
	}
	if p.Retries < 0 || p.Retries > 100 {
		return fmt.Errorf("retries: %d is not between 0 and 100", p.Retries)
	}
	for _, r := range p.Hostname {
		if r <= ' ' || r > '~' {
			return fmt.Errorf("hostname: %q must be printable ASCII without spaces", p.Hostname)
		}
	}
	if len(p.Hostname) > 64 {
		return fmt.Errorf("hostname: longer than 64 characters")
	}
	return nil
}

// retries is login's LOGIN_RETRIES.
func (p *Persona) retries() int {
	if p.Retries == 0 {
		return 5
	}
	return p.Retries
}

// logins returns the accepted user:password pairs.
func (p *Persona) logins() map[string][]string {
	pairs := p.Users
	if p.Password != "" {
		pairs = append([]string{"root:" + p.Password}, pairs...)
	}
	if len(pairs) == 0 {
		pairs = defaultLogins
	}
	out := map[string][]string{}
	for _, pair := range pairs {
		u, pw, _ := strings.Cut(pair, ":")
		out[u] = append(out[u], pw)
	}
	return out
}
