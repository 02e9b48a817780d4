package imap

import (
	"strings"

	"decnet/internal/mailbox"
)

// systemFlags in the order Dovecot lists them.
var systemFlags = []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}

// Bounds of the keywords a session may set on a message.
const (
	maxKeywords   = 32
	maxKeywordLen = 64
)

// flags are a message's flags in this session.
type flags struct {
	sys      uint8    // bit i is systemFlags[i]
	keywords []string // in the order set
}

func sysIndex(f string) int {
	for i, s := range systemFlags {
		if strings.EqualFold(s, f) {
			return i
		}
	}
	return -1
}

func newFlags(list []string) flags {
	var f flags
	f.add(list)
	return f
}

func (f *flags) has(name string) bool {
	if i := sysIndex(name); i >= 0 {
		return f.sys&(1<<i) != 0
	}
	for _, k := range f.keywords {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func (f *flags) add(list []string) {
	for _, name := range list {
		if i := sysIndex(name); i >= 0 {
			f.sys |= 1 << i
		} else if !f.has(name) && len(f.keywords) < maxKeywords && len(name) <= maxKeywordLen {
			f.keywords = append(f.keywords, name)
		}
	}
}

func (f *flags) remove(list []string) {
	for _, name := range list {
		if i := sysIndex(name); i >= 0 {
			f.sys &^= 1 << i
			continue
		}
		for j, k := range f.keywords {
			if strings.EqualFold(k, name) {
				f.keywords = append(f.keywords[:j], f.keywords[j+1:]...)
				break
			}
		}
	}
}

// String is the flag list as FETCH FLAGS shows it, with its parentheses.
func (f flags) String() string {
	var parts []string
	for i, s := range systemFlags {
		if f.sys&(1<<i) != 0 {
			parts = append(parts, s)
		}
	}
	parts = append(parts, f.keywords...)
	return "(" + strings.Join(parts, " ") + ")"
}

// message is a stored message as one session sees it.
type message struct {
	mailbox.Message
	flags  flags
	modseq uint64 // CONDSTORE's modification sequence
}

// folder is a mailbox of the logged-in user.
type folder struct {
	name        string
	special     string // special-use flag, e.g. \Sent
	uidValidity uint32
	uidNext     uint32
	msgs        []*message
	keywords    []string // the keywords set on its messages, in order
	modseq      uint64   // the highest modification sequence
}

// touch gives m the folder's next modification sequence: its flags
// changed.
func (f *folder) touch(m *message) {
	f.modseq++
	m.modseq = f.modseq
}

// specialUse is Debian's 15-mailboxes.conf.
var specialUse = map[string]string{
	"Drafts": `\Drafts`, "Junk": `\Junk`, "Trash": `\Trash`, "Sent": `\Sent`, "Sent Messages": `\Sent`,
}

// folders are the user's mailboxes: INBOX with the bait, then the
// persona's empty ones.
func folders(box *mailbox.Box, names []string) []*folder {
	// Dovecot's first sync of a delivered maildir leaves it at 2.
	inbox := &folder{name: "INBOX", uidValidity: box.UIDValidity, uidNext: box.UIDNext, modseq: 2}
	for _, m := range box.Messages {
		inbox.msgs = append(inbox.msgs, &message{Message: m, flags: newFlags(m.Flags), modseq: 2})
	}
	out := []*folder{inbox}
	for i, n := range names {
		out = append(out, &folder{name: n, special: specialUse[n], uidValidity: box.UIDValidity + uint32(i) + 1, uidNext: 1, modseq: 1})
	}
	return out
}

// unseen counts the messages without \Seen; first is the sequence
// number of the first (0 when none).
func (f *folder) unseen() (count, first int) {
	for i, m := range f.msgs {
		if !m.flags.has(`\Seen`) {
			if count == 0 {
				first = i + 1
			}
			count++
		}
	}
	return count, first
}

// size is the mailbox's size in octets (STATUS SIZE).
func (f *folder) size() int {
	n := 0
	for _, m := range f.msgs {
		n += m.Size()
	}
	return n
}
