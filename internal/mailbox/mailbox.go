// Package mailbox holds the bait mail that a decky's IMAP and POP3
// honeypots serve after a login: the ten messages an administrator of the
// decky's organisation would have kept (key rotations, password changes,
// access tokens, a VPN profile), each decky with secrets of its own, and
// the accounts that log in. Both services read it, so a decky's IMAP and
// POP3 agree on who may log in and on what the mailbox holds.
package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"time"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// Message is one stored mail.
type Message struct {
	UID   uint32
	Flags []string  // IMAP system flags, e.g. `\Seen`
	Date  time.Time // internal (delivery) date
	Raw   []byte    // the whole RFC 5322 message, CRLF line endings
}

// headerEnd is where the header section ends: after the empty line that
// ends it, or the whole message when it has no body.
func (m Message) headerEnd() int {
	if i := bytes.Index(m.Raw, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return len(m.Raw)
}

// Header is the header section, including the empty line that ends it.
func (m Message) Header() []byte { return m.Raw[:m.headerEnd()] }

// Body is what follows the header section.
func (m Message) Body() []byte { return m.Raw[m.headerEnd():] }

// Size is the message's size in octets, as IMAP's RFC822.SIZE and POP3's
// LIST count it (CRLF line endings).
func (m Message) Size() int { return len(m.Raw) }

// Box is one user's INBOX.
type Box struct {
	UIDValidity uint32
	UIDNext     uint32
	Messages    []Message // in UID order
}

// Domain is the decky's mail domain, the one its bait addresses use.
func Domain(h service.Host) string { return archetype.MailDomain(h.Hostname) }

// Users are the accounts that log in: user name to password.
type Users map[string]string

// defaultUsers are the original's IMAP_USERS.
const defaultUsers = "admin:admin123,root:toor,mail:mail,user:user"

// DefaultUsers are the accounts a decky has when its persona names none:
// the weak ones credential stuffers try first.
func DefaultUsers() Users {
	u, err := ParseUsers(defaultUsers)
	if err != nil {
		panic(err) // the constant above is well formed
	}
	return u
}

// Bounds of a users list, which comes from the fleet's configuration.
const (
	maxUsers     = 256
	maxUserBytes = 128
)

// ParseUsers reads "user:password,user2:password2". A password may hold
// colons (the first one ends the name); names are unique and non-empty.
func ParseUsers(s string) (Users, error) {
	u := Users{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, pass, ok := strings.Cut(pair, ":")
		switch {
		case !ok || name == "":
			return nil, fmt.Errorf("users: %q: want user:password", pair)
		case len(name) > maxUserBytes || len(pass) > maxUserBytes:
			return nil, fmt.Errorf("users: %q: over %d bytes", pair, maxUserBytes)
		case strings.ContainsAny(name, " \t\r\n\"\\@"):
			return nil, fmt.Errorf("users: %q: a user name may not hold spaces, quotes, backslashes or @", name)
		case strings.ContainsAny(pass, "\r\n"):
			return nil, fmt.Errorf("users: %q: a password may not hold a line break", name)
		}
		if _, dup := u[name]; dup {
			return nil, fmt.Errorf("users: %q is listed twice", name)
		}
		u[name] = pass
	}
	if len(u) == 0 {
		return nil, errors.New("users: none listed")
	}
	if len(u) > maxUsers {
		return nil, fmt.Errorf("users: over %d accounts", maxUsers)
	}
	return u, nil
}

// Check reports whether user logs in with pass.
func (u Users) Check(user, pass string) bool {
	want, ok := u[user]
	return ok && want == pass
}

// Names are the account names, sorted.
func (u Users) Names() []string {
	out := make([]string, 0, len(u))
	for n := range u {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Inbox is user's bait INBOX on the decky, as it stands at now: the ten
// messages, addressed to user at the decky's domain. The secrets in them
// are drawn from the decky's name (every decky has its own, and keeps them
// across restarts); the dates are fixed to the decky's last boot, so they
// do not move between sessions. Each call returns a fresh copy: a session
// may change flags or delete without touching any other.
func Inbox(h service.Host, user string, now time.Time) *Box {
	return build(h, user, now)
}
