package imap

import (
	"fmt"
	"strconv"
	"strings"

	"decnet/internal/event"
	"decnet/internal/mailbox"
)

// maxMessages bounds a mailbox a session copies or appends into.
const maxMessages = 200

// store answers STORE and UID STORE.
func (ss *session) store(tag string, args []arg, uid bool) {
	if len(args) < 2 || args[1].kind != atom {
		ss.invalid(tag, "STORE")
		return
	}
	msgs, seqs, err := ss.pick(args[0], uid)
	if err != nil {
		ss.bad2(tag, "Error in IMAP command STORE: "+err.Error())
		return
	}
	op := strings.ToUpper(args[1].s)
	silent := strings.HasSuffix(op, ".SILENT")
	op = strings.TrimSuffix(op, ".SILENT")
	if op != "FLAGS" && op != "+FLAGS" && op != "-FLAGS" {
		ss.bad2(tag, "Error in IMAP command STORE: Invalid arguments")
		return
	}
	var names []string
	for _, a := range args[2:] {
		switch a.kind {
		case list:
			for _, x := range a.list {
				names = append(names, x.s)
			}
		default:
			names = append(names, a.s)
		}
	}
	if ss.readOnly {
		ss.ok(tag, "Store ignored with read-only mailbox")
		return
	}
	if added := ss.sel.addKeywords(names); op != "-FLAGS" && added {
		fl := ss.sel.flagList()
		ss.write("* FLAGS (" + fl + ")\r\n* OK [PERMANENTFLAGS (" + fl + ` \*)] Flags permitted.` + "\r\n")
	}
	var b strings.Builder
	for i, m := range msgs {
		switch op {
		case "FLAGS":
			m.flags = newFlags(names)
		case "+FLAGS":
			m.flags.add(names)
		case "-FLAGS":
			m.flags.remove(names)
		}
		ss.sel.touch(m)
		var items []string
		if uid {
			items = append(items, "UID "+strconv.FormatUint(uint64(m.UID), 10))
		}
		if ss.condstore() {
			items = append(items, fmt.Sprintf("MODSEQ (%d)", m.modseq))
		}
		if !silent {
			items = append(items, "FLAGS "+m.flags.String())
		}
		if len(items) > 0 && (!silent || ss.condstore()) {
			fmt.Fprintf(&b, "* %d FETCH (%s)\r\n", seqs[i], strings.Join(items, " "))
		}
	}
	ss.write(b.String())
	ss.ok(tag, "Store completed")
}

// addKeywords adds the keywords among names to the folder's, reporting
// whether there was a new one.
func (f *folder) addKeywords(names []string) bool {
	added := false
	for _, n := range names {
		if sysIndex(n) >= 0 || strings.HasPrefix(n, `\`) || len(f.keywords) >= maxKeywords || len(n) > maxKeywordLen {
			continue
		}
		known := false
		for _, k := range f.keywords {
			known = known || strings.EqualFold(k, n)
		}
		if !known {
			f.keywords = append(f.keywords, n)
			added = true
		}
	}
	return added
}

// flagList is the folder's FLAGS: the system flags and its keywords.
func (f *folder) flagList() string {
	return strings.Join(append(append([]string(nil), systemFlags...), f.keywords...), " ")
}

// copyMove answers COPY and MOVE (and their UID forms).
func (ss *session) copyMove(tag, name string, args []arg, uid bool) {
	if len(args) != 2 || args[1].kind == list {
		ss.invalid(tag, name)
		return
	}
	msgs, seqs, err := ss.pick(args[0], uid)
	if err != nil {
		ss.bad2(tag, "Error in IMAP command "+name+": "+err.Error())
		return
	}
	dst := ss.findFolder(args[1].s)
	if dst == nil {
		ss.no(tag, "[TRYCREATE] Mailbox doesn't exist: "+event.Clip(args[1].s, 200))
		return
	}
	var from, to []uint32
	for _, m := range msgs {
		if len(dst.msgs) >= maxMessages {
			break
		}
		c := &message{Message: m.Message, flags: m.flags}
		c.flags.keywords = append([]string(nil), m.flags.keywords...)
		c.UID = dst.uidNext
		dst.uidNext++
		dst.msgs = append(dst.msgs, c)
		from, to = append(from, m.UID), append(to, c.UID)
	}
	copyUID := ""
	if len(from) > 0 {
		copyUID = fmt.Sprintf("[COPYUID %d %s %s] ", dst.uidValidity, compress(from), compress(to))
	}
	if !strings.HasSuffix(name, "MOVE") {
		ss.ok(tag, copyUID+"Copy completed")
		return
	}
	if dst == ss.sel || ss.readOnly {
		ss.ok(tag, copyUID+"Move completed")
		return
	}
	ss.write("* OK " + copyUID + "Moved UIDs.\r\n")
	for i := len(msgs) - 1; i >= 0; i-- {
		ss.sel.msgs = append(ss.sel.msgs[:seqs[i]-1], ss.sel.msgs[seqs[i]:]...)
		ss.sel.modseq++
		ss.write("* " + strconv.Itoa(seqs[i]) + " EXPUNGE\r\n")
	}
	ss.ok(tag, "Move completed")
}

// expunge answers EXPUNGE and UID EXPUNGE.
func (ss *session) expunge(tag string, args []arg, uid bool) {
	var only []*message
	if uid {
		if len(args) != 1 {
			ss.invalid(tag, "UID EXPUNGE")
			return
		}
		msgs, _, err := ss.pick(args[0], true)
		if err != nil {
			ss.bad2(tag, "Error in IMAP command UID EXPUNGE: "+err.Error())
			return
		}
		only = msgs
		if only == nil {
			only = []*message{}
		}
	}
	if !ss.readOnly {
		ss.removeDeleted(only, true)
	}
	ss.ok(tag, "Expunge completed")
}

// removeDeleted drops the \Deleted messages (of only, when not nil),
// announcing each when tell is set.
func (ss *session) removeDeleted(only []*message, tell bool) {
	in := func(m *message) bool {
		if only == nil {
			return true
		}
		for _, o := range only {
			if o == m {
				return true
			}
		}
		return false
	}
	var kept []*message
	var b strings.Builder
	for _, m := range ss.sel.msgs {
		if m.flags.has(`\Deleted`) && in(m) {
			// Each expunge renumbers those after it.
			fmt.Fprintf(&b, "* %d EXPUNGE\r\n", len(kept)+1)
			ss.sel.modseq++
			continue
		}
		kept = append(kept, m)
	}
	ss.sel.msgs = kept
	if tell {
		ss.write(b.String())
	}
}

// appendMessage answers APPEND: the message joins the session's view of
// the mailbox.
func (ss *session) appendMessage(tag string, args []arg) {
	if len(args) < 2 || args[0].kind == list || args[len(args)-1].kind != str {
		ss.invalid(tag, "APPEND")
		return
	}
	dst := ss.findFolder(args[0].s)
	if dst == nil {
		ss.no(tag, "[TRYCREATE] Mailbox doesn't exist: "+event.Clip(args[0].s, 200))
		return
	}
	raw := []byte(args[len(args)-1].s)
	var names []string
	if len(args) > 2 && args[1].kind == list {
		for _, x := range args[1].list {
			names = append(names, x.s)
		}
	}
	m := &message{Message: mailbox.Message{UID: dst.uidNext, Date: ss.srv.now(), Raw: raw}, flags: newFlags(names)}
	ss.emit("append", event.Warning, "mailbox", event.Clip(dst.name, 200), "size", strconv.Itoa(len(raw)),
		"subject", event.Clip(field(headerFields(m.Header()), "Subject"), clipValue))
	if len(dst.msgs) < maxMessages {
		dst.uidNext++
		dst.msgs = append(dst.msgs, m)
		if dst == ss.sel {
			ss.write("* " + strconv.Itoa(len(dst.msgs)) + " EXISTS\r\n")
		}
	}
	ss.ok(tag, fmt.Sprintf("[APPENDUID %d %d] Append completed", dst.uidValidity, m.UID))
}
