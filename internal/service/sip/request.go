package sip

import (
	"strconv"
	"strings"
	"time"
)

// request is one received request and where it came from.
type request struct {
	msg       *message
	transport string // "UDP" or "TCP", as in Via
	srcIP     string
	srcPort   int
	localIP   string
	now       time.Time
	// fields are the request's event fields; handlers add what they
	// learnt (the reply's status, the dialled number).
	fields map[string]string
	// cred are the request's digest credentials, nil without any; auth
	// is then their event.
	cred *credentials
	auth map[string]string
	// call, when an authenticated caller dialled a number, is its event.
	call map[string]string
}

// reply is one response to send. Over UDP, an INVITE's final reply sent
// by a transaction is repeated at the gaps in retransmit until the ACK.
type reply struct {
	data       []byte
	retransmit []time.Duration
}

// handler is a product's way of answering requests.
type handler interface {
	// handle answers a request: nil when the product sends nothing.
	handle(r *request) []reply
}

// responseWriter builds one response, header by header.
type responseWriter struct {
	b strings.Builder
}

func newResponse(code int, text string) *responseWriter {
	w := &responseWriter{}
	w.b.WriteString("SIP/2.0 ")
	w.b.WriteString(strconv.Itoa(code))
	w.b.WriteByte(' ')
	w.b.WriteString(text)
	w.b.WriteString("\r\n")
	return w
}

func (w *responseWriter) header(name, value string) {
	w.b.WriteString(name)
	w.b.WriteString(": ")
	w.b.WriteString(value)
	w.b.WriteString("\r\n")
}

// end closes the header section after lengthLine (the product's own
// Content-Length line) and returns the message.
func (w *responseWriter) end(lengthLine string) []byte {
	w.b.WriteString(lengthLine)
	w.b.WriteString("\r\n\r\n")
	return []byte(w.b.String())
}

// withTag adds ;tag=tag to a To value that has none.
func withTag(to, tag string) string {
	if tagOf(to) != "" {
		return to
	}
	return to + ";tag=" + tag
}

// status records the status line of the first final reply, or of the
// last reply, in the request's fields.
func (r *request) status(code int, text string) {
	if _, done := r.fields[fieldStatus]; done && code < 200 {
		return
	}
	r.fields[fieldStatus] = strconv.Itoa(code) + " " + text
}
