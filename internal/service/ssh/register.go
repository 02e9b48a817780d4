// Package ssh is the SSH honeypot: an OpenSSH look-alike that records every
// login attempt and, after a login with one of the persona's credentials,
// gives the attacker a fake shell (package shell) on a persistent fake
// filesystem.
package ssh

import (
	"fmt"

	"decnet/internal/service"
	"decnet/internal/service/accounts"
	"decnet/internal/shell"
)

// Persona holds the ssh service's INI keys.
type Persona struct {
	// Password, when set, is root's password: the accepted logins become
	// root:<Password> plus Users.
	Password string `ini:"password"`
	// Users are further accepted logins, "user:pass" each. When neither
	// Password nor Users is set, a short list of weak pairs is accepted.
	Users []string `ini:"users"`
	// Hostname overrides the decky's hostname inside the shell.
	Hostname string `ini:"hostname"`
	// Version overrides the software version in the identification string,
	// e.g. "OpenSSH_8.9p1 Ubuntu-3ubuntu0.13". Default: the OpenSSH the
	// decky's distro ships.
	Version string `ini:"version"`
	// KeyboardInteractive also offers keyboard-interactive authentication
	// (off in Debian's and Ubuntu's sshd_config, so off by default).
	KeyboardInteractive bool `ini:"keyboard_interactive"`
}

// Validate checks the persona's values.
func (p *Persona) Validate() error {
	if err := accounts.ValidateUsers(p.Users); err != nil {
		return err
	}
	if len(p.Version) > 200 {
		return fmt.Errorf("version: longer than 200 characters")
	}
	for _, r := range p.Version {
		if r < 32 || r > 126 {
			return fmt.Errorf("version: %q must be printable ASCII", p.Version)
		}
	}
	return nil
}

// Service is the ssh honeypot kind.
type Service struct{}

// Info declares the service.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        "ssh",
		Description: "OpenSSH look-alike: captures passwords and keys, then serves a fake shell on a persistent filesystem",
		Ports:       []service.Port{{Number: 22, Proto: service.TCP}},
		Persona:     func() any { return &Persona{} },
	}
}

// Fragment implements service.Composer: host keys live in the data
// directory (a host key that changed on every restart would be a tell),
// the fake filesystem, captured files and bound logins in the decky's
// shared directory, and the shell's sessions need more room than the
// default.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	f := service.SharedFragment("ssh", h, keys)
	f.MemoryMB, f.Pids = 256, 256
	return f
}

// LegacyShared implements service.Legacy: the fake filesystem and the
// bound logins were kept in the data directory.
func (Service) LegacyShared() map[string]string {
	return map[string]string{shell.DirName: "shell", accounts.FileName: "ssh_logins.json"}
}

func init() { service.Register(Service{}) }

var (
	_ service.Service  = Service{}
	_ service.Composer = Service{}
	_ service.Legacy   = Service{}
)
