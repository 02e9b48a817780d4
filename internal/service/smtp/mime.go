package smtp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// Bounds of the MIME walk: how deep multiparts nest and how many parts
// one message may have before the rest is ignored.
const (
	maxDepth = 5
	maxParts = 64
)

// parsed is what a message reveals.
type parsed struct {
	header             []byte // the header section, with its blank line
	body               []byte // what follows it
	subject, messageID string
	mailer             string // X-Mailer or User-Agent: the sending tool
	attachments        []attachment
}

// attachment is one file a message carries, decoded.
type attachment struct {
	filename, contentType string
	data                  []byte
	// truncated: the part ended before its boundary (the message was cut
	// at max_keep) or did not decode to the end.
	truncated bool
}

// extract splits raw into header and body and finds its attachments.
// Whatever raw holds, it returns what it could read.
func extract(raw []byte) parsed {
	var p parsed
	end := headerEnd(raw)
	p.header, p.body = raw[:end], raw[end:]
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(p.header))).ReadMIMEHeader()
	p.subject = decodeWords(h.Get("Subject"))
	p.messageID = strings.TrimSpace(h.Get("Message-Id"))
	p.mailer = strings.TrimSpace(h.Get("X-Mailer"))
	if p.mailer == "" {
		p.mailer = strings.TrimSpace(h.Get("User-Agent"))
	}
	parts := maxParts
	walk(h, p.body, 0, &parts, &p.attachments)
	return p
}

// headerEnd is the length of the header section, blank line included
// (CRLF or bare LF), or len(raw) when there is no body.
func headerEnd(raw []byte) int {
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return 2
	}
	if bytes.HasPrefix(raw, []byte("\n")) {
		return 1
	}
	i, j := bytes.Index(raw, []byte("\r\n\r\n")), bytes.Index(raw, []byte("\n\n"))
	switch {
	case i >= 0 && (j < 0 || i < j):
		return i + 4
	case j >= 0:
		return j + 2
	}
	return len(raw)
}

// walk looks for attachments in an entity with header h and body body.
func walk(h textproto.MIMEHeader, body []byte, depth int, parts *int, out *[]attachment) {
	if *parts <= 0 {
		return
	}
	*parts--
	ctype, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ctype = "text/plain"
	}
	if name := filename(h, params); name != "" || isAttachment(h) {
		data, complete := decodeBody(h.Get("Content-Transfer-Encoding"), body)
		if name == "" {
			name = "attachment"
		}
		*out = append(*out, attachment{filename: name, contentType: ctype, data: data, truncated: !complete})
		return
	}
	if !strings.HasPrefix(ctype, "multipart/") || params["boundary"] == "" || depth >= maxDepth {
		return
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for *parts > 0 {
		part, err := mr.NextRawPart()
		if err != nil {
			return
		}
		b, err := io.ReadAll(part)
		if err != nil && len(b) == 0 {
			return
		}
		walk(part.Header, b, depth+1, parts, out)
	}
}

// filename is the part's file name, from Content-Disposition or else
// Content-Type's name, RFC 2047 words decoded.
func filename(h textproto.MIMEHeader, ctParams map[string]string) string {
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
		return decodeWords(dp["filename"])
	}
	return decodeWords(ctParams["name"])
}

func isAttachment(h textproto.MIMEHeader) bool {
	d, _, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	return d == "attachment"
}

// decodeBody undoes a transfer encoding; complete is false when the
// encoded text was cut or broken.
func decodeBody(cte string, body []byte) (data []byte, complete bool) {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, bytes.NewReader(body))
	case "quoted-printable":
		r = quotedprintable.NewReader(bytes.NewReader(body))
	default:
		return body, true
	}
	data, err := io.ReadAll(r)
	return data, err == nil
}

// decodeWords decodes RFC 2047 encoded words, leaving text it cannot
// decode as it came.
func decodeWords(s string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}
