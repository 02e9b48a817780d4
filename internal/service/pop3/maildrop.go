package pop3

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"

	"decnet/internal/event"
	"decnet/internal/mailbox"
)

// maildrop is a logged-in session's view of the INBOX: the messages at
// login and the ones marked for deletion. Nothing outlives the session:
// QUIT reports the deletions done, and the next login finds them all.
type maildrop struct {
	box     *mailbox.Box
	sizes   []int
	deleted []bool
	// marked is Dovecot's client->deleted: set by DELE, cleared by RSET.
	marked bool
}

func newMaildrop(box *mailbox.Box) *maildrop {
	d := &maildrop{box: box, sizes: make([]int, len(box.Messages)), deleted: make([]bool, len(box.Messages))}
	for i, m := range box.Messages {
		d.sizes[i] = virtualSize(m.Raw)
	}
	return d
}

func (d *maildrop) count() int           { return len(d.box.Messages) }
func (d *maildrop) isDeleted(i int) bool { return d.deleted[i] }
func (d *maildrop) message(i int) []byte { return d.box.Messages[i].Raw }
func (d *maildrop) uidl(i int) string {
	return fmt.Sprintf("%08x%08x", d.box.Messages[i].UID, d.box.UIDValidity)
}
func (d *maildrop) uid(i int) uint32     { return d.box.Messages[i].UID }
func (d *maildrop) subject(i int) string { return subjectOf(d.box.Messages[i].Raw) }
func (d *maildrop) dele(i int)           { d.deleted[i], d.marked = true, true }
func (d *maildrop) rset()                { clear(d.deleted); d.marked = false }
func (d *maildrop) size(i int) int       { return d.sizes[i] }
func (d *maildrop) live() (n, octets int) {
	for i := range d.deleted {
		if !d.deleted[i] {
			n++
			octets += d.sizes[i]
		}
	}
	return n, octets
}

// virtualSize is a message's size with CRLF line ends, as POP3 counts it.
func virtualSize(raw []byte) int {
	n := len(raw)
	for i, c := range raw {
		if c == '\n' && (i == 0 || raw[i-1] != '\r') {
			n++
		}
	}
	return n
}

// subjectOf is a message's decoded Subject, clipped for an event.
func subjectOf(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	s := m.Header.Get("Subject")
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		s = d
	}
	return event.Clip(s, 256)
}

// fetch writes a message as pop3's fetch_callback sends it: LFs get their
// CR, a dot that starts a line is doubled, and after the header section
// only lines body lines go out (allLines for RETR); the reply ends with a
// line end if the message did not, and the terminating dot line.
func fetch(raw []byte, lines uint64) []byte {
	out := make([]byte, 0, len(raw)+len(raw)/32+8)
	var prev byte
	inBody := false
	left := lines
	if left != allLines {
		left++ // the empty line that ends the header section counts
	}
	for _, c := range raw {
		if !inBody && (c == '\r' || c == '\n') && (prev == 0 || prev == '\n') {
			inBody = true
		}
		switch {
		case c == '\n' && prev != '\r':
			out = append(out, '\r')
		case c == '.' && prev == '\n':
			out = append(out, '.')
		}
		out = append(out, c)
		prev = c
		if c == '\n' && inBody && left != allLines {
			if left--; left == 0 {
				break
			}
		}
	}
	if len(out) == 0 || out[len(out)-1] != '\n' {
		out = append(out, '\r', '\n')
	}
	return append(out, ".\r\n"...)
}
