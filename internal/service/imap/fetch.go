package imap

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// fetchKind is what a FETCH item returns.
type fetchKind uint8

// The FETCH items.
const (
	fFlags fetchKind = iota
	fUID
	fInternalDate
	fSize
	fEnvelope
	fBodyStructure
	fBody
	fModseq
	fRFC822
	fRFC822Header
	fRFC822Text
	fSection
)

var simpleItems = map[string]fetchKind{
	"FLAGS": fFlags, "UID": fUID, "INTERNALDATE": fInternalDate, "RFC822.SIZE": fSize, "ENVELOPE": fEnvelope,
	"BODYSTRUCTURE": fBodyStructure, "BODY": fBody, "MODSEQ": fModseq, "RFC822": fRFC822, "RFC822.HEADER": fRFC822Header, "RFC822.TEXT": fRFC822Text,
}

// macros are FETCH's shorthands.
var macros = map[string][]string{
	"ALL":  {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"},
	"FAST": {"FLAGS", "INTERNALDATE", "RFC822.SIZE"},
	"FULL": {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"},
}

// fetchItem is one parsed FETCH item.
type fetchItem struct {
	kind fetchKind
	peek bool
	// A body section: part numbers, then "", HEADER, TEXT, MIME,
	// HEADER.FIELDS or HEADER.FIELDS.NOT with its field names.
	nums    []int
	spec    string
	fields  []string
	partial bool
	off     int
	count   int // -1: to the end
	label   string
}

// buffered reports whether Dovecot writes the item from its index,
// before the items that write literals (bodies).
func (it fetchItem) buffered() bool { return it.kind < fRFC822 }

// bufferedFirst orders items as Dovecot answers them: the buffered ones,
// then the others, each in the order asked.
func bufferedFirst(items []fetchItem) []fetchItem {
	out := make([]fetchItem, 0, len(items))
	for _, it := range items {
		if it.buffered() {
			out = append(out, it)
		}
	}
	for _, it := range items {
		if !it.buffered() {
			out = append(out, it)
		}
	}
	return out
}

// seen reports whether fetching the item sets \Seen.
func (it fetchItem) seen() bool {
	return it.kind == fRFC822 || it.kind == fRFC822Text || it.kind == fSection && !it.peek
}

// content reports whether the item returns message text.
func (it fetchItem) content() bool {
	return it.kind == fRFC822 || it.kind == fRFC822Text || it.kind == fSection && (it.spec == "" || it.spec == "TEXT")
}

// parseFetchItems reads FETCH's attribute argument.
func parseFetchItems(a arg) ([]fetchItem, error) {
	var names []string
	switch a.kind {
	case list:
		if len(a.list) == 0 {
			return nil, wireError("Invalid arguments")
		}
		for _, x := range a.list {
			if x.kind != atom {
				return nil, wireError("Invalid arguments")
			}
			names = append(names, x.s)
		}
	case atom:
		if m, ok := macros[strings.ToUpper(a.s)]; ok {
			names = m
		} else {
			names = []string{a.s}
		}
	default:
		return nil, wireError("Invalid arguments")
	}
	var out []fetchItem
	for _, n := range names {
		it, err := parseFetchItem(n)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func parseFetchItem(s string) (fetchItem, error) {
	up := strings.ToUpper(s)
	if k, ok := simpleItems[up]; ok {
		return fetchItem{kind: k, label: up}, nil
	}
	unknown := wireError("Unknown parameter: " + event.Clip(s, 64))
	it := fetchItem{kind: fSection, count: -1}
	rest, ok := strings.CutPrefix(up, "BODY[")
	if !ok {
		if rest, ok = strings.CutPrefix(up, "BODY.PEEK["); !ok {
			return it, unknown
		}
		it.peek = true
	}
	section, tail, ok := strings.Cut(rest, "]")
	if !ok {
		return it, unknown
	}
	if err := it.parseSection(section); err != nil {
		return it, err
	}
	if tail != "" {
		if !strings.HasPrefix(tail, "<") || !strings.HasSuffix(tail, ">") {
			return it, unknown
		}
		offs, cnt, hasCount := strings.Cut(tail[1:len(tail)-1], ".")
		off, err := strconv.ParseUint(offs, 10, 31)
		if err != nil {
			return it, wireError("Invalid partial")
		}
		it.partial, it.off = true, int(off)
		if hasCount {
			c, err := strconv.ParseUint(cnt, 10, 31)
			if err != nil {
				return it, wireError("Invalid partial")
			}
			it.count = int(c)
		}
	}
	it.label = "BODY[" + it.sectionText() + "]"
	if it.partial {
		it.label += "<" + strconv.Itoa(it.off) + ">"
	}
	return it, nil
}

// parseSection reads what is between the brackets, upper case.
func (it *fetchItem) parseSection(s string) error {
	bad := wireError("Invalid BODY[..] parameter: " + event.Clip(s, 64))
	for s != "" && s[0] >= '0' && s[0] <= '9' {
		numText, rest, _ := strings.Cut(s, ".")
		n, err := strconv.Atoi(numText)
		if err != nil || n == 0 || len(it.nums) >= maxNesting {
			return bad
		}
		it.nums, s = append(it.nums, n), rest
	}
	spec, fields, hasFields := strings.Cut(s, " ")
	switch spec {
	case "", "HEADER", "TEXT":
	case "MIME":
		if len(it.nums) == 0 {
			return bad
		}
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		if !hasFields || !strings.HasPrefix(fields, "(") || !strings.HasSuffix(fields, ")") {
			return bad
		}
		for _, f := range strings.Fields(fields[1 : len(fields)-1]) {
			if f = strings.Trim(f, `"`); f != "" && len(it.fields) < 64 {
				it.fields = append(it.fields, f)
			}
		}
		if len(it.fields) == 0 {
			return bad
		}
	default:
		return bad
	}
	if hasFields && !strings.HasPrefix(spec, "HEADER.FIELDS") {
		return bad
	}
	it.spec = spec
	return nil
}

func (it fetchItem) sectionText() string {
	var parts []string
	for _, n := range it.nums {
		parts = append(parts, strconv.Itoa(n))
	}
	if it.spec != "" {
		parts = append(parts, it.spec)
	}
	s := strings.Join(parts, ".")
	if len(it.fields) > 0 {
		s += " (" + strings.Join(it.fields, " ") + ")"
	}
	return s
}

// fetch answers FETCH and UID FETCH, and records what was read.
func (ss *session) fetch(tag string, args []arg, uid bool) {
	name := "FETCH"
	if len(args) < 2 {
		ss.invalid(tag, name)
		return
	}
	msgs, seqs, err := ss.pick(args[0], uid)
	if err != nil {
		ss.bad2(tag, "Error in IMAP command "+name+": "+err.Error())
		return
	}
	items, err := parseFetchItems(args[1])
	if err != nil {
		ss.bad2(tag, "Error in IMAP command "+name+": "+err.Error())
		return
	}
	if uid {
		// UID FETCH answers with the UID first, whether asked or not.
		kept := []fetchItem{{kind: fUID, label: "UID"}}
		for _, it := range items {
			if it.kind != fUID {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	items = bufferedFirst(items)
	var read, uids []string
	var subjects []string
	for i, m := range msgs {
		ss.write(ss.fetchOne(m, seqs[i], items))
		uids = append(uids, strconv.FormatUint(uint64(m.UID), 10))
		for _, it := range items {
			if it.content() {
				read = append(read, strconv.FormatUint(uint64(m.UID), 10))
				subjects = append(subjects, field(headerFields(m.Header()), "Subject"))
				break
			}
		}
	}
	if len(msgs) > 0 {
		kv := []string{"mailbox", ss.sel.name, "uids", event.Clip(strings.Join(uids, ","), clipValue),
			"items", event.Clip(render(args[1:2]), clipValue), "read", strconv.FormatBool(len(read) > 0)}
		sev := event.Info
		if len(read) > 0 {
			sev = event.Warning
			kv = append(kv, "read_uids", event.Clip(strings.Join(read, ","), clipValue),
				"subjects", event.Clip(strings.Join(subjects, " | "), 1024))
		}
		ss.emit("fetch", sev, kv...)
	}
	ss.ok(tag, "Fetch completed")
}

// fetchOne writes one message's FETCH response, setting \Seen when a
// body is read without PEEK in a read-write mailbox.
func (ss *session) fetchOne(m *message, seq int, items []fetchItem) string {
	var parts []string
	flagsAsked := false
	setSeen := false
	for _, it := range items {
		flagsAsked = flagsAsked || it.kind == fFlags
		setSeen = setSeen || it.seen()
	}
	modseqLine := ""
	if setSeen && !ss.readOnly && !m.flags.has(`\Seen`) {
		m.flags.add([]string{`\Seen`})
		ss.sel.touch(m)
		if ss.condstore() {
			// Dovecot tells the new modification sequence apart.
			uidItem := ""
			if len(items) > 0 && items[0].kind == fUID {
				uidItem = "UID " + strconv.FormatUint(uint64(m.UID), 10) + " "
			}
			modseqLine = fmt.Sprintf("* %d FETCH (%sMODSEQ (%d))\r\n", seq, uidItem, m.modseq)
		}
		if !flagsAsked {
			// The changed flags end the buffered items.
			at := 0
			for at < len(items) && items[at].buffered() {
				at++
			}
			items = append(items[:at:at], append([]fetchItem{{kind: fFlags, label: "FLAGS"}}, items[at:]...)...)
		}
	}
	var root *part
	structure := func() *part {
		if root == nil {
			n := 0
			root = parseEntity(m.Raw, 0, &n)
		}
		return root
	}
	for _, it := range items {
		var v string
		switch it.kind {
		case fFlags:
			v = m.flags.String()
		case fUID:
			v = strconv.FormatUint(uint64(m.UID), 10)
		case fInternalDate:
			v = `"` + m.Date.Format("02-Jan-2006 15:04:05 -0700") + `"`
		case fSize:
			v = strconv.Itoa(m.Size())
		case fEnvelope:
			v = envelope(m.Header())
		case fBodyStructure:
			v = structure().bodyStructure(true)
		case fBody:
			v = structure().bodyStructure(false)
		case fModseq:
			v = "(" + strconv.FormatUint(m.modseq, 10) + ")"
		case fRFC822:
			v = literal(m.Raw)
		case fRFC822Header:
			v = literal(m.Header())
		case fRFC822Text:
			v = literal(m.Body())
		case fSection:
			v = literal(it.slice(sectionBytes(m, it, structure)))
		}
		parts = append(parts, it.label+" "+v)
	}
	return fmt.Sprintf("* %d FETCH (%s)\r\n", seq, strings.Join(parts, " ")) + modseqLine
}

// slice applies the item's <offset.count>.
func (it fetchItem) slice(b []byte) []byte {
	if !it.partial {
		return b
	}
	if it.off >= len(b) {
		return nil
	}
	b = b[it.off:]
	if it.count >= 0 && it.count < len(b) {
		b = b[:it.count]
	}
	return b
}

// sectionBytes is what a BODY[section] names; a part that does not
// exist is empty, as Dovecot sends it.
func sectionBytes(m *message, it fetchItem, structure func() *part) []byte {
	header, body := m.Header(), m.Body()
	if len(it.nums) > 0 {
		p := structure().section(it.nums)
		if p == nil {
			return nil
		}
		switch it.spec {
		case "":
			return p.body
		case "MIME":
			return p.header
		}
		// HEADER and TEXT of a part are those of an attached message.
		if !strings.EqualFold(p.typ, "message") {
			return nil
		}
		header, body = splitHeader(p.body)
	}
	switch it.spec {
	case "":
		return m.Raw
	case "HEADER":
		return header
	case "TEXT":
		return body
	}
	return filterHeader(header, it.fields, it.spec == "HEADER.FIELDS.NOT")
}

// filterHeader keeps (or, with not, drops) the named fields of a header
// section, continuation lines included, and ends it with an empty line.
func filterHeader(header []byte, names []string, not bool) []byte {
	var out []byte
	keep := false
	for _, line := range bytes.SplitAfter(header, []byte("\r\n")) {
		if len(line) == 0 || string(line) == "\r\n" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			name, _, _ := bytes.Cut(line, []byte(":"))
			keep = not
			for _, n := range names {
				if strings.EqualFold(string(bytes.TrimSpace(name)), n) {
					keep = !not
					break
				}
			}
		}
		if keep {
			out = append(out, line...)
		}
	}
	return append(out, "\r\n"...)
}
