package imap

import (
	"fmt"
	"strings"

	"decnet/internal/mailbox"
)

// Persona is what a decky's Dovecot is configured with.
type Persona struct {
	// Users are the accounts that log in, "user:password,..." (the same
	// key, and the same default, as pop3's: a decky's IMAP and POP3 take
	// the same logins). Empty means mailbox.DefaultUsers().
	Users string `ini:"users"`
	// DisablePlaintextAuth is Dovecot's disable_plaintext_auth. Debian's
	// stock value is yes (no login before STARTTLS from a remote
	// address), but the default here is no: credential stuffers mostly
	// speak plain IMAP, and every password they send is the bounty. Set,
	// port 143 advertises LOGINDISABLED and refuses LOGIN and
	// AUTHENTICATE with Dovecot's texts until STARTTLS (the passwords a
	// client sends anyway are still recorded).
	DisablePlaintextAuth bool `ini:"disable_plaintext_auth"`
	// AuthMechanisms is Dovecot's auth_mechanisms: plain and/or login.
	// Debian's stock value is plain; login is added by default because
	// Outlook-era clients and many brute forcers use it.
	AuthMechanisms []string `ini:"auth_mechanisms"`
	// Folders are the mailboxes beside INBOX, each shown with its
	// special-use flag when it has one of Debian's 15-mailboxes.conf
	// names (Drafts, Junk, Trash, Sent, "Sent Messages"). The default is
	// the four a mail client creates on first use.
	Folders []string `ini:"folders"`
	// Greeting is Dovecot's login_greeting.
	Greeting string `ini:"login_greeting"`
}

func defaultPersona() any {
	return &Persona{
		AuthMechanisms: []string{"plain", "login"},
		Folders:        []string{"Drafts", "Sent", "Trash", "Junk"},
		Greeting:       "Dovecot (Debian) ready.",
	}
}

// Validate checks the user list, the mechanisms and the folder names.
func (p *Persona) Validate() error {
	if p.Users != "" {
		if _, err := mailbox.ParseUsers(p.Users); err != nil {
			return err
		}
	}
	for _, m := range p.AuthMechanisms {
		if m := strings.ToLower(m); m != "plain" && m != "login" {
			return fmt.Errorf("auth_mechanisms: %q: want plain or login", m)
		}
	}
	seen := map[string]bool{"INBOX": true}
	for _, f := range p.Folders {
		switch {
		case f == "" || len(f) > 64 || strings.ContainsAny(f, "\"\\%*\r\n\x00."):
			return fmt.Errorf("folders: %q: want a plain name of at most 64 bytes", f)
		case seen[strings.ToUpper(f)]:
			return fmt.Errorf("folders: %q is listed twice (or is INBOX)", f)
		}
		seen[strings.ToUpper(f)] = true
	}
	if strings.ContainsAny(p.Greeting, "\r\n") || len(p.Greeting) > 200 {
		return fmt.Errorf("login_greeting: one line of at most 200 bytes")
	}
	return nil
}

// users are the accounts the persona lets in.
func (p *Persona) users() mailbox.Users {
	if p.Users == "" {
		return mailbox.DefaultUsers()
	}
	u, _ := mailbox.ParseUsers(p.Users) // checked by Validate
	return u
}

// mechanisms are the SASL mechanisms offered, upper case, in order.
func (p *Persona) mechanisms() []string {
	var out []string
	for _, m := range p.AuthMechanisms {
		out = append(out, strings.ToUpper(m))
	}
	return out
}
