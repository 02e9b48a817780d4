// Package sip is the SIP honeypot: a FreePBX/Asterisk PBX with chan_pjsip
// (the default) or Debian's kamailio 5.6.3 with its stock configuration,
// on UDP and TCP 5060. The SIP parser is hand-written and bounded, so the
// replies carry exactly the product's status texts, header order, tags,
// digest challenges and retransmission timing, and nothing of a library.
// Every request is recorded; digest responses become crackable hashes
// (hashcat 11400), scanners' User-Agents a fingerprint, and the numbers a
// toll-fraud bot dials after it guessed a weak extension's password, intent.
package sip

import (
	"fmt"
	"strings"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "sip"

// Port is the SIP port, on UDP and TCP.
const Port = 5060

// The products a decky's SIP server can be.
const (
	productAsterisk = "asterisk"
	productKamailio = "kamailio"
)

// Bounds of the persona's account list.
const (
	maxUsers     = 256
	maxUserField = 64
)

// Persona is what a decky's SIP server claims to be and whom it lets in.
type Persona struct {
	// Product is "asterisk" (FreePBX 16 with chan_pjsip, every request
	// challenged) or "kamailio" (Debian's kamailio 5.6.3 with the stock
	// kamailio.cfg: no authentication, scanners' User-Agents dropped).
	Product string `ini:"product"`
	// Server is the Server header. Empty: the product's own, for asterisk
	// a FreePBX/Asterisk version pair picked by the decky's name.
	Server string `ini:"server"`
	// Realm is the asterisk digest realm (pjsip's default "asterisk").
	Realm string `ini:"realm"`
	// Users are asterisk extensions that accept their password, as
	// "ext:password,ext2:password2": weak accounts a toll-fraud bot can
	// guess. Empty (the default): every digest response fails, as for a
	// wrong password. kamailio's stock configuration asks for no password,
	// so it ignores them.
	Users string `ini:"users"`
}

func defaultPersona() any {
	return &Persona{Product: productAsterisk, Realm: "asterisk"}
}

// Validate checks the product, the realm and the account list.
func (p *Persona) Validate() error {
	switch p.Product {
	case productAsterisk, productKamailio:
	default:
		return fmt.Errorf("product %q: want asterisk or kamailio", p.Product)
	}
	if p.Realm == "" || strings.ContainsAny(p.Realm, "\"\\\r\n") || len(p.Realm) > maxUserField {
		return fmt.Errorf("realm %q: want 1 to %d characters without quotes or line breaks", p.Realm, maxUserField)
	}
	if strings.ContainsAny(p.Server, "\r\n") {
		return fmt.Errorf("server %q: no line breaks", p.Server)
	}
	if _, err := parseUsers(p.Users); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	return nil
}

// parseUsers reads "ext:password,ext2:password2".
func parseUsers(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		user, pass, ok := strings.Cut(pair, ":")
		if !ok || user == "" || len(user) > maxUserField || len(pass) > maxUserField {
			return nil, fmt.Errorf("%q: want ext:password", pair)
		}
		out[user] = pass
	}
	if len(out) > maxUsers {
		return nil, fmt.Errorf("over %d accounts", maxUsers)
	}
	return out, nil
}

// Service is the sip honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares UDP and TCP 5060 and the persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "FreePBX/Asterisk (chan_pjsip) or kamailio SIP server capturing digests, scanners and toll-fraud calls",
		Ports:       []service.Port{{Number: Port, Proto: service.UDP}, {Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's SIP server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
