// Package imap is the IMAP honeypot: IMAP4rev1 on 143 (with STARTTLS) and
// IMAP over TLS on 993, answering as Dovecot 2.3.19 on Debian 12. It
// records every command, captures the passwords of LOGIN and of SASL
// PLAIN and LOGIN, lets the accounts of package mailbox in, and serves
// them the decky's bait INBOX, recording which messages were searched
// and read.
package imap

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "imap"

// The ports: IMAP (with STARTTLS) and IMAP over TLS.
const (
	PortIMAP  = 143
	PortIMAPS = 993
)

// Service is the imap honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares ports 143 and 993 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "IMAP mail server (Dovecot on Debian) capturing logins and the bait mail attackers read",
		Ports: []service.Port{
			{Number: PortIMAP, Proto: service.TCP},
			{Number: PortIMAPS, Proto: service.TCP, TLS: true},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's IMAP server.
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
