// Package telnet is the telnet honeypot: GNU inetutils telnetd as Debian 12
// runs it from inetd, with shadow's login(1) behind it, or busybox telnetd
// and login as embedded devices run them. Option negotiation,
// the line discipline of the pseudo-terminal, login's prompts, texts, delays
// and limits are those of the real programs; every login attempt is
// recorded, and a login the persona accepts gets the same fake shell as ssh
// (package shell).
package telnet

import (
	"decnet/internal/service"
	"decnet/internal/service/accounts"
	"decnet/internal/shell"
)

// Service is the telnet honeypot kind.
type Service struct{}

// Info declares the service.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        "telnet",
		Description: "inetutils or busybox telnetd and login(1) look-alike: captures passwords, then serves a fake shell on a persistent filesystem",
		Ports:       []service.Port{{Number: 23, Proto: service.TCP}},
		Persona:     func() any { return &Persona{} },
	}
}

// Fragment implements service.Composer: the fake filesystem, captured files
// and the accepted logins live in the decky's shared directory, with ssh,
// and shell sessions need more room than the default.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	f := service.SharedFragment("telnet", h, keys)
	f.MemoryMB, f.Pids = 256, 256
	return f
}

// LegacyShared implements service.Legacy: the fake filesystem and the
// accepted logins were kept in the data directory.
func (Service) LegacyShared() map[string]string {
	return map[string]string{shell.DirName: "shell", accounts.FileName: "telnet_logins.json"}
}

func init() { service.Register(Service{}) }

// Interface guards.
var (
	_ service.Service  = Service{}
	_ service.Composer = Service{}
	_ service.Legacy   = Service{}
	_ service.Server   = (*Server)(nil)
)
