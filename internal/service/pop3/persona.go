package pop3

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"decnet/internal/mailbox"
)

// Persona holds the pop3 persona keys (`[decky.pop3]`).
type Persona struct {
	// Users are the accounts whose logins succeed, "user:password" pairs
	// separated by commas (imap takes the same key). Empty means the
	// default accounts, mailbox.DefaultUsers.
	Users string `ini:"users"`
	// Greeting is Dovecot's login_greeting, after "+OK " (and before
	// APOP's timestamp).
	Greeting string `ini:"login_greeting"`
	// DisablePlaintextAuth is Dovecot's disable_plaintext_auth. Debian's
	// default is yes (USER/PASS and AUTH PLAIN on 110 only after STLS);
	// the persona defaults to no, a common admin change, so that the
	// credential stuffing attackers send in clear text reaches a login.
	// Either way the credentials sent are captured.
	DisablePlaintextAuth bool `ini:"disable_plaintext_auth"`
	// Mechanisms is Dovecot's auth_mechanisms, in its order (commas or
	// spaces between them): plain, login, apop. apop puts a timestamp in the greeting, which only a
	// server with plaintext password storage can offer.
	Mechanisms []string `ini:"auth_mechanisms"`

	users mailbox.Users
}

// The mechanisms a persona may list.
const (
	mechPlain = "PLAIN"
	mechLogin = "LOGIN"
	mechAPOP  = "APOP"
)

// DefaultGreeting is Debian's login_greeting.
const DefaultGreeting = "Dovecot (Debian) ready."

func defaultPersona() any {
	return &Persona{Greeting: DefaultGreeting, Mechanisms: []string{"plain", "login"}}
}

// Validate parses the accounts and checks the greeting and mechanisms.
func (p *Persona) Validate() error {
	if p.Users == "" {
		p.users = mailbox.DefaultUsers()
	} else {
		u, err := mailbox.ParseUsers(p.Users)
		if err != nil {
			return fmt.Errorf("users: %w", err)
		}
		p.users = u
	}
	if p.Greeting == "" || strings.ContainsAny(p.Greeting, "\r\n\x00") {
		return errors.New("greeting must be one non-empty line")
	}
	// Dovecot's own syntax separates them with spaces.
	var mechs []string
	for _, m := range p.Mechanisms {
		mechs = append(mechs, strings.Fields(m)...)
	}
	p.Mechanisms = mechs
	if len(p.Mechanisms) == 0 {
		return errors.New("auth_mechanisms is empty")
	}
	for _, m := range p.Mechanisms {
		if !slices.Contains([]string{mechPlain, mechLogin, mechAPOP}, strings.ToUpper(m)) {
			return fmt.Errorf("auth_mechanisms: %q is not plain, login or apop", m)
		}
	}
	return nil
}

// has says whether the persona lists mechanism mech (upper case).
func (p *Persona) has(mech string) bool {
	return slices.ContainsFunc(p.Mechanisms, func(m string) bool { return strings.EqualFold(m, mech) })
}

// sasl lists the mechanisms CAPA and AUTH advertise, upper case, in the
// configured order: APOP is a command of its own, and the plaintext ones
// are hidden on a clear connection when plaintext logins are disabled.
func (p *Persona) sasl(secured bool) []string {
	var out []string
	for _, m := range p.Mechanisms {
		m = strings.ToUpper(m)
		if m == mechAPOP || (!secured && p.DisablePlaintextAuth) || slices.Contains(out, m) {
			continue
		}
		out = append(out, m)
	}
	return out
}
