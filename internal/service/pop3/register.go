// Package pop3 is the POP3 honeypot: Dovecot 2.3.19's pop3-login and pop3
// as Debian 12 ships them, on 110 (with STLS) and 995 (implicit TLS). It
// records every command, captures the credentials of USER/PASS, AUTH PLAIN
// and LOGIN, and APOP's digest in a crackable form, delays failures as
// Dovecot's auth process and anvil penalty do, and after a login serves the
// decky's bait maildrop (package mailbox), recording which messages the
// attacker reads.
package pop3

import "decnet/internal/service"

// Slug is the service's registry name.
const Slug = "pop3"

// The ports: POP3 (with STLS) and POP3 over TLS.
const (
	PortPOP3  = 110
	PortPOP3S = 995
)

// Service is the pop3 honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares ports 110 and 995 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "POP3 mail server (Dovecot 2.3 persona) capturing logins and the bait mail attackers read",
		Ports: []service.Port{
			{Number: PortPOP3, Proto: service.TCP},
			{Number: PortPOP3S, Proto: service.TCP, TLS: true},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's POP3 server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

// Fragment implements service.Composer: the host's snakeoil, which the
// decky's other services present too, is kept in its shared directory.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.SharedFragment(Slug, h, keys)
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
