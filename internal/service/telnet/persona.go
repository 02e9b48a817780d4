package telnet

import (
	"fmt"

	"decnet/internal/service/accounts"
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

// Validate checks the persona's values.
func (p *Persona) Validate() error {
	if err := accounts.ValidateUsers(p.Users); err != nil {
		return err
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
