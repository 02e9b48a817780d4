package imap

import (
	"bytes"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"decnet/internal/event"
)

// matcher tests one message (with its sequence number).
type matcher func(m *message, seq int) bool

// searchParser reads search keys.
type searchParser struct {
	ss      *session
	args    []arg
	i       int
	last    uint32 // the highest sequence number
	lastUID uint32
}

var flagKeys = map[string]struct {
	flag string
	want bool
}{
	"ANSWERED": {`\Answered`, true}, "DELETED": {`\Deleted`, true}, "DRAFT": {`\Draft`, true},
	"FLAGGED": {`\Flagged`, true}, "SEEN": {`\Seen`, true},
	"UNANSWERED": {`\Answered`, false}, "UNDELETED": {`\Deleted`, false}, "UNDRAFT": {`\Draft`, false},
	"UNFLAGGED": {`\Flagged`, false}, "UNSEEN": {`\Seen`, false},
}

var headerKeys = map[string]string{"FROM": "From", "TO": "To", "CC": "Cc", "BCC": "Bcc", "SUBJECT": "Subject"}

func (p *searchParser) next(key string) (string, error) {
	if p.i >= len(p.args) || p.args[p.i].kind == list {
		return "", wireError("Missing parameter for search key (for search key: " + event.Clip(key, 64) + ")")
	}
	p.i++
	return p.args[p.i-1].s, nil
}

// keys reads keys to the end of args, all of which must match.
func (p *searchParser) keys(depth int) (matcher, error) {
	var all []matcher
	for p.i < len(p.args) {
		m, err := p.key(depth)
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	return and(all), nil
}

func and(all []matcher) matcher {
	return func(m *message, seq int) bool {
		for _, f := range all {
			if !f(m, seq) {
				return false
			}
		}
		return true
	}
}

// key reads one search key.
func (p *searchParser) key(depth int) (matcher, error) {
	if depth > 16 {
		return nil, wireError("Too deep nesting")
	}
	a := p.args[p.i]
	p.i++
	if a.kind == list {
		sub := &searchParser{ss: p.ss, args: a.list, last: p.last, lastUID: p.lastUID}
		return sub.keys(depth + 1)
	}
	k := strings.ToUpper(a.s)
	if f, ok := flagKeys[k]; ok {
		return func(m *message, _ int) bool { return m.flags.has(f.flag) == f.want }, nil
	}
	if h, ok := headerKeys[k]; ok {
		s, err := p.next(k)
		if err != nil {
			return nil, err
		}
		return func(m *message, _ int) bool { return containsFold(headerValues(m.Header(), h), s) }, nil
	}
	switch k {
	case "ALL", "OLD":
		return func(*message, int) bool { return true }, nil
	case "NEW", "RECENT":
		return func(*message, int) bool { return false }, nil
	case "BODY", "TEXT":
		s, err := p.next(k)
		if err != nil {
			return nil, err
		}
		return func(m *message, _ int) bool {
			if k == "TEXT" {
				return containsFold(string(m.Raw), s)
			}
			return containsFold(string(m.Body()), s)
		}, nil
	case "HEADER":
		h, err := p.next(k)
		if err != nil {
			return nil, err
		}
		s, err := p.next(k)
		if err != nil {
			return nil, err
		}
		return func(m *message, _ int) bool {
			v := headerValues(m.Header(), h)
			return v != "" && containsFold(v, s) || s == "" && bytes.Contains(bytes.ToLower(m.Header()), []byte(strings.ToLower(h)+":"))
		}, nil
	case "KEYWORD", "UNKEYWORD":
		s, err := p.next(k)
		if err != nil {
			return nil, err
		}
		return func(m *message, _ int) bool { return m.flags.has(s) == (k == "KEYWORD") }, nil
	case "LARGER", "SMALLER":
		s, err := p.next(k)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, wireError("Invalid size for search key " + k)
		}
		return func(m *message, _ int) bool {
			if k == "LARGER" {
				return uint64(m.Size()) > n
			}
			return uint64(m.Size()) < n
		}, nil
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE":
		s, err := p.next(k)
		if err != nil {
			return nil, err
		}
		day, err := time.Parse("2-Jan-2006", s)
		if err != nil {
			return nil, wireError("Invalid search date parameter: " + event.Clip(s, 64))
		}
		return dateKey(k, day), nil
	case "UID":
		s, err := p.next(k)
		if err != nil {
			return nil, err
		}
		set, err := parseSeqSet(s)
		if err != nil {
			return nil, err
		}
		return func(m *message, _ int) bool { return set.contains(m.UID, p.lastUID) }, nil
	case "NOT":
		if p.i >= len(p.args) {
			return nil, wireError("Missing parameter for search key (for search key: NOT)")
		}
		sub, err := p.key(depth + 1)
		if err != nil {
			return nil, err
		}
		return func(m *message, seq int) bool { return !sub(m, seq) }, nil
	case "OR":
		var two [2]matcher
		for j := range two {
			if p.i >= len(p.args) {
				return nil, wireError("Missing parameter for search key (for search key: OR)")
			}
			sub, err := p.key(depth + 1)
			if err != nil {
				return nil, err
			}
			two[j] = sub
		}
		return func(m *message, seq int) bool { return two[0](m, seq) || two[1](m, seq) }, nil
	}
	if set, err := parseSeqSet(a.s); err == nil {
		return func(_ *message, seq int) bool { return set.contains(uint32(seq), p.last) }, nil
	}
	return nil, wireError("Unknown argument " + event.Clip(a.s, 64))
}

// dateKey compares the internal date (or the Date: header, for SENT*)
// by day.
func dateKey(k string, day time.Time) matcher {
	return func(m *message, _ int) bool {
		t := m.Date
		if strings.HasPrefix(k, "SENT") {
			d, err := mail.ParseDate(headerValues(m.Header(), "Date"))
			if err != nil {
				return false
			}
			t = d
		}
		y, mo, d := t.Date()
		date := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		switch strings.TrimPrefix(k, "SENT") {
		case "BEFORE":
			return date.Before(day)
		case "ON":
			return date.Equal(day)
		default:
			return !date.Before(day)
		}
	}
}

// headerValues is every value of the named field, joined.
func headerValues(header []byte, name string) string {
	var vals []string
	for _, f := range headerFields(header) {
		if strings.EqualFold(f[0], name) {
			vals = append(vals, f[1])
		}
	}
	return strings.Join(vals, " ")
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// search answers SEARCH and UID SEARCH, and records what was looked for.
func (ss *session) search(tag string, args []arg, uid bool) {
	if len(args) >= 2 && args[0].kind == atom && strings.EqualFold(args[0].s, "CHARSET") {
		if cs := strings.ToUpper(args[1].s); cs != "UTF-8" && cs != "US-ASCII" {
			ss.no(tag, "[BADCHARSET (UTF-8)] Unsupported charset")
			return
		}
		args = args[2:]
	}
	if len(args) == 0 {
		ss.bad2(tag, "Error in IMAP command SEARCH: Missing SEARCH arguments")
		return
	}
	msgs := ss.sel.msgs
	p := &searchParser{ss: ss, args: args, last: uint32(len(msgs))}
	if len(msgs) > 0 {
		p.lastUID = msgs[len(msgs)-1].UID
	}
	match, err := p.keys(0)
	if err != nil {
		ss.bad2(tag, "Error in IMAP command SEARCH: "+err.Error())
		return
	}
	var hits, uids []string
	for i, m := range msgs {
		if match(m, i+1) {
			n := uint64(i + 1)
			if uid {
				n = uint64(m.UID)
			}
			hits = append(hits, strconv.FormatUint(n, 10))
			uids = append(uids, strconv.FormatUint(uint64(m.UID), 10))
		}
	}
	line := "* SEARCH"
	if len(hits) > 0 {
		line += " " + strings.Join(hits, " ")
	}
	ss.write(line + "\r\n")
	ss.emit("search", event.Info, "mailbox", ss.sel.name, "criteria", event.Clip(render(args), clipValue),
		"matches", strconv.Itoa(len(hits)), "uids", event.Clip(strings.Join(uids, ","), clipValue))
	ss.ok(tag, "Search completed")
}
