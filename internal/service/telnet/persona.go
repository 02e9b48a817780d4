package telnet

import (
	"fmt"

	"decnet/internal/archetype"
	"decnet/internal/service/accounts"
)

// The products a persona can imitate.
const (
	// Inetutils is GNU inetutils telnetd 2:2.4-2+deb12u3 from inetd with
	// shadow's login(1) and Debian's PAM stack.
	Inetutils = "inetutils"
	// Busybox is busybox 1.36.1 "telnetd -l /bin/login" with busybox's
	// login, as embedded devices and Alpine's busybox-extras run it.
	Busybox = "busybox"
)

// Persona holds the telnet service's INI keys. Password, Users and Hostname
// mean what they mean for ssh, so one decky can run both with one set.
type Persona struct {
	// Product is inetutils or busybox. Empty means busybox on a decky whose
	// OS family is embedded and inetutils on any other.
	Product string `ini:"product"`
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
	// before the first prompt, as telnetd -h does. inetutils only.
	NoHostinfo bool `ini:"no_hostinfo"`
	// Retries is how many failed logins end the connection: login.defs'
	// LOGIN_RETRIES (Debian: 5), or busybox login's fixed 3.
	Retries int `ini:"retries"`
	// EnvUserBypass makes the decky vulnerable to CVE-2026-24061, as
	// inetutils telnetd was before 2:2.4-2+deb12u2: a NEW-ENVIRON USER of
	// "-f root" logs in as root without a password, any other USER skips
	// the login prompt. Off: USER is ignored, as in deb12u3. inetutils
	// only: busybox telnetd never asks for the environment.
	EnvUserBypass bool `ini:"env_user_bypass"`
}

// Validate checks the persona's values.
func (p *Persona) Validate() error {
	switch p.Product {
	case "", Inetutils, Busybox:
	default:
		return fmt.Errorf("product %q: want %s or %s", p.Product, Inetutils, Busybox)
	}
	if p.Product == Busybox && (p.NoHostinfo || p.EnvUserBypass) {
		return fmt.Errorf("no_hostinfo and env_user_bypass describe inetutils telnetd, not %s", Busybox)
	}
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

// product resolves the persona's product for a decky of OS family os.
func (p *Persona) product(os string) string {
	switch {
	case p.Product != "":
		return p.Product
	case os == archetype.OSEmbedded:
		return Busybox
	}
	return Inetutils
}

// retries is how many failed logins login allows for product.
func (p *Persona) retries(product string) int {
	switch {
	case p.Retries != 0:
		return p.Retries
	case product == Busybox:
		return 3
	}
	return 5
}
