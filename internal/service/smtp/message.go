package smtp

import (
	"strconv"

	"decnet/internal/event"
)

// store records an accepted message: a message event with the envelope,
// headers and body (up to max_body), then a file_captured event for each
// attachment and, when the message is over max_body, for the message as
// a whole, each kept in the artifact store.
func (ss *session) store(tx *transaction, m message, id string) {
	p := extract(m.raw)
	body := p.body
	truncated := m.truncated() || len(body) > ss.site.maxBody
	body = body[:min(len(body), ss.site.maxBody)]
	kv := []string{
		"queue_id", id,
		"mail_from", event.Clip(printable([]byte(tx.from)), clipAddr),
		"rcpt_to", rcptJSON(tx.rcpts),
		"rcpt_count", strconv.Itoa(len(tx.rcpts)),
		"helo", event.Clip(printable([]byte(ss.helo)), clipAddr),
		"size", strconv.FormatInt(m.size, 10),
		"subject", event.Clip(p.subject, clipLine),
		"message_id", event.Clip(p.messageID, clipAddr),
		"mailer", event.Clip(printable([]byte(p.mailer)), clipAddr),
		event.FieldHeaders, event.Clip(string(p.header), ss.site.maxBody),
		"body", string(body),
		"truncated", boolText(truncated),
		"attachments", strconv.Itoa(len(p.attachments)),
	}
	if ss.authUser != "" {
		kv = append(kv, "auth_user", event.Clip(printable([]byte(ss.authUser)), clipAddr))
	}
	ss.emit("message", event.Warning, kv...)
	for _, a := range p.attachments {
		ss.capture(id, a.filename, a.contentType, a.data, a.truncated || m.truncated())
	}
	if m.size > int64(ss.site.maxBody) {
		ss.capture(id, id+".eml", "message/rfc822", m.raw, m.truncated())
	}
}

// capture keeps one file of a message and records it.
func (ss *session) capture(id, name, ctype string, data []byte, truncated bool) {
	kept := ss.srv.art.Keep(name, data, ss.srv.now())
	kv := []string{"queue_id", id, "filename", event.Clip(printable([]byte(name)), clipAddr),
		"content_type", event.Clip(printable([]byte(ctype)), clipAddr), "truncated", boolText(truncated)}
	for k, v := range kept.Fields(event.Clip(printable([]byte(name)), clipAddr)) {
		kv = append(kv, k, v)
	}
	ss.emit(event.TypeFileCaptured, event.Warning, kv...)
}

func boolText(b bool) string { return strconv.FormatBool(b) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
