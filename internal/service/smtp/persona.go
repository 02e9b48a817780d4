package smtp

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"decnet/internal/mailbox"
	"decnet/internal/service"
)

// Persona is what a decky's Postfix claims and allows.
type Persona struct {
	// Banner is the greeting after "220 " (Postfix's smtpd_banner).
	// Empty means "<mta> ESMTP Postfix (Debian/GNU)", Debian's default.
	// A leading "220 " is accepted, as the original's SMTP_BANNER had it.
	Banner string `ini:"banner"`
	// MTA is the server's name (Postfix's myhostname): the greeting's and
	// EHLO's first word. Empty means the decky's hostname.
	MTA string `ini:"mta"`
	// Domains are the mail domains the smtp service takes mail for,
	// besides the decky's own (mailbox.Domain) and its MTA name.
	Domains []string `ini:"domains"`
	// AuthMechanisms are the SASL mechanisms offered, in EHLO order, from
	// PLAIN, LOGIN and CRAM-MD5. Default "PLAIN LOGIN" (Dovecot SASL with
	// auth_mechanisms = plain login); empty turns AUTH off.
	AuthMechanisms []string `ini:"auth_mechanisms"`
	// SMTPS serves port 465 (implicit TLS, master.cf's smtps block). Off
	// closes the port. Default on.
	SMTPS bool `ini:"smtps"`
	// RelayRestriction is how the smtp service refuses other domains:
	// "defer" (Debian's stock defer_unauth_destination: 454 4.7.1) or
	// "reject" (reject_unauth_destination: 554 5.7.1). Default defer.
	RelayRestriction string `ini:"relay_restriction"`
	// MessageSizeLimit is Postfix's message_size_limit, announced in
	// EHLO's SIZE and enforced. Default 10240000.
	MessageSizeLimit int `ini:"message_size_limit"`
	// MaxBody bounds the body text a message event carries. Default
	// 65536.
	MaxBody int `ini:"max_body"`
	// MaxKeep bounds the bytes of one message held and kept (attachments
	// are read from them; a message over MaxBody is kept whole as an
	// artifact up to this). Default 2 MiB.
	MaxKeep int `ini:"max_keep"`
	// MaxMessages bounds the messages of one session. Default 100.
	MaxMessages int `ini:"max_messages"`
	// MaxRecipients bounds the recipients of one message (Postfix's
	// smtpd_recipient_limit). Default 1000.
	MaxRecipients int `ini:"max_recipients"`
}

// The relay restrictions.
const (
	relayDefer  = "defer"
	relayReject = "reject"
)

// The SASL mechanisms the server can capture.
var knownMechs = []string{"PLAIN", "LOGIN", "CRAM-MD5"}

func defaultPersona() any {
	return &Persona{
		AuthMechanisms:   []string{"PLAIN", "LOGIN"},
		SMTPS:            true,
		RelayRestriction: relayDefer,
		MessageSizeLimit: 10240000,
		MaxBody:          64 << 10,
		MaxKeep:          2 << 20,
		MaxMessages:      100,
		MaxRecipients:    1000,
	}
}

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

// Validate checks names, mechanisms and limits.
func (p *Persona) Validate() error {
	if strings.ContainsAny(p.Banner, "\r\n") || len(p.Banner) > 512 {
		return errors.New("banner: want one line of at most 512 bytes")
	}
	if p.MTA != "" && !hostName.MatchString(p.MTA) {
		return fmt.Errorf("mta %q is not a host name", p.MTA)
	}
	for _, d := range p.Domains {
		if !hostName.MatchString(d) {
			return fmt.Errorf("domains: %q is not a domain name", d)
		}
	}
	// The INI list is comma-separated, but Postfix writes mechanisms with
	// spaces: accept both.
	p.AuthMechanisms = strings.Fields(strings.ToUpper(strings.Join(p.AuthMechanisms, " ")))
	for _, m := range p.AuthMechanisms {
		if !contains(knownMechs, m) {
			return fmt.Errorf("auth_mechanisms: %q is not one of %s", m, strings.Join(knownMechs, ", "))
		}
	}
	if p.RelayRestriction != relayDefer && p.RelayRestriction != relayReject {
		return fmt.Errorf("relay_restriction %q: want %s or %s", p.RelayRestriction, relayDefer, relayReject)
	}
	for _, l := range []struct {
		name string
		v    int
	}{{"message_size_limit", p.MessageSizeLimit}, {"max_body", p.MaxBody}, {"max_keep", p.MaxKeep},
		{"max_messages", p.MaxMessages}, {"max_recipients", p.MaxRecipients}} {
		if l.v < 1 {
			return fmt.Errorf("%s: must be at least 1", l.name)
		}
	}
	return nil
}

// site is a persona resolved for one decky.
type site struct {
	mta      string
	banner   string
	domains  []string // lower case: the decky's domain, its MTA name, then the persona's
	mechs    []string
	smtps    bool
	reject   bool // relay_restriction = reject
	sizeMax  int64
	maxBody  int
	maxKeep  int
	maxMsgs  int
	maxRcpts int
}

func resolve(p *Persona, h service.Host) site {
	s := site{mta: p.MTA, mechs: p.AuthMechanisms, smtps: p.SMTPS, reject: p.RelayRestriction == relayReject,
		sizeMax: int64(p.MessageSizeLimit), maxBody: p.MaxBody, maxKeep: p.MaxKeep, maxMsgs: p.MaxMessages,
		maxRcpts: p.MaxRecipients}
	if s.mta == "" {
		s.mta = h.Hostname
	}
	if s.mta == "" {
		s.mta = h.Name
	}
	s.banner = strings.TrimPrefix(p.Banner, "220 ")
	if s.banner == "" {
		s.banner = s.mta + " ESMTP Postfix (Debian/GNU)"
	}
	for _, d := range append([]string{mailbox.Domain(h), s.mta, "localhost"}, p.Domains...) {
		if d = strings.ToLower(d); d != "" && !contains(s.domains, d) {
			s.domains = append(s.domains, d)
		}
	}
	return s
}

// local reports whether domain is one the server takes mail for.
func (s site) local(domain string) bool { return contains(s.domains, strings.ToLower(domain)) }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
