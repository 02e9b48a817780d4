// Package smtp is the mail honeypot: Postfix 3.7 on Debian 12 on 25
// (SMTP with STARTTLS), 587 (submission) and 465 (smtps). It registers two
// services built on one server: smtp, which takes mail only for the
// decky's own domains and refuses to relay as a stock Postfix does, and
// smtp_relay, an open relay that takes any recipient and any login. Both
// record every command, capture AUTH PLAIN and LOGIN passwords and the
// crackable CRAM-MD5 exchange, and keep every message (headers, body and
// attachments) as events and artifacts. Nothing is ever delivered: no code
// path opens a connection.
package smtp

import (
	"decnet/internal/service"
)

// The services' registry names.
const (
	Slug      = "smtp"
	SlugRelay = "smtp_relay"
)

// The ports: SMTP with STARTTLS, submission with STARTTLS, and smtps
// (implicit TLS, RFC 8314).
const (
	PortSMTP       = 25
	PortSubmission = 587
	PortSMTPS      = 465
)

// Service is the smtp honeypot kind: it refuses to relay.
type Service struct{}

// RelayService is the smtp_relay honeypot kind: an open relay.
type RelayService struct{}

func init() {
	service.Register(Service{})
	service.Register(RelayService{})
}

// info declares the ports and persona keys shared by both kinds.
func info(slug, desc string) service.Info {
	return service.Info{
		Slug:        slug,
		Description: desc,
		Ports: []service.Port{
			{Number: PortSMTP, Proto: service.TCP},
			{Number: PortSubmission, Proto: service.TCP},
			{Number: PortSMTPS, Proto: service.TCP, TLS: true},
		},
		Persona: defaultPersona,
	}
}

// Info declares ports 25, 587 and 465 and the persona keys.
func (Service) Info() service.Info {
	return info(Slug, "Postfix mail server that refuses to relay, capturing AUTH credentials and the mail sent to its domain")
}

// Info declares ports 25, 587 and 465 and the persona keys.
func (RelayService) Info() service.Info {
	return info(SlugRelay, "Postfix open relay capturing AUTH credentials and every message spammers send through it")
}

// New builds one decky's mail server.
func (s Service) New(cfg service.Config) (service.Server, error) { return build(cfg, s.Info(), false) }

// New builds one decky's open relay.
func (s RelayService) New(cfg service.Config) (service.Server, error) {
	return build(cfg, s.Info(), true)
}

func build(cfg service.Config, info service.Info, relay bool) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, info)
	if err != nil {
		return nil, err
	}
	return newServer(cfg, info.Slug, p, relay)
}

// Fragment asks for a data directory, where the captured messages'
// artifacts live, and the decky's shared one, where its snakeoil does.
func (s Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.SharedFragment(Slug, h, keys)
}

// Fragment asks for a data directory, as the smtp service does.
func (s RelayService) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.SharedFragment(SlugRelay, h, keys)
}

var (
	_ service.Service   = Service{}
	_ service.Service   = RelayService{}
	_ service.Composer  = Service{}
	_ service.Composer  = RelayService{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
