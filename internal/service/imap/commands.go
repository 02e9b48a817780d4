package imap

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"decnet/internal/event"
)

// maxFolders bounds the mailboxes a session may create.
const maxFolders = 32

// postLogin answers a command after login, as Dovecot's imap process
// does.
func (ss *session) postLogin(ctx context.Context, cmd *command) {
	tag, name, args := cmd.tag, cmd.name, cmd.args
	switch cmd.err {
	case nil:
	case errInvalidTag:
		ss.bad2("*", "Error in IMAP tag: Invalid tag")
		return
	case errNoName:
		ss.bad2(tag, "Error in IMAP command: Invalid command name")
		return
	default:
		ss.bad2(tag, "Error in IMAP command "+name+": "+cmd.err.Error())
		return
	}
	uid := false
	if name == "UID" {
		if len(args) == 0 || args[0].kind != atom {
			ss.bad2(tag, "Error in IMAP command UID: Invalid arguments")
			return
		}
		name, args, uid = "UID "+strings.ToUpper(args[0].s), args[1:], true
	}
	switch name {
	case "CAPABILITY":
		ss.write("* CAPABILITY " + postLoginCapabilities + "\r\n")
		ss.ok(tag, "Capability completed")
	case "NOOP":
		ss.ok(tag, "NOOP completed")
	case "LOGOUT":
		ss.logout(tag)
	case "ID":
		ss.id(cmd)
		ss.write("* ID (\"name\" \"Dovecot\")\r\n")
		ss.ok(tag, "ID completed")
	case "ENABLE":
		ss.enable(tag, args)
	case "IDLE":
		ss.idle(ctx, tag)
	case "NAMESPACE":
		ss.write("* NAMESPACE ((\"\" \".\")) NIL NIL\r\n")
		ss.ok(tag, "Namespace completed")
	case "LIST", "XLIST", "LSUB":
		ss.list(tag, name, args)
	case "STATUS":
		ss.status(tag, args)
	case "SELECT", "EXAMINE":
		ss.selectBox(tag, name, args)
	case "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE":
		ss.manage(tag, name, args)
	case "APPEND":
		ss.appendMessage(tag, args)
	case "LOGIN", "AUTHENTICATE", "STARTTLS":
		ss.bad2(tag, "Error in IMAP command "+name+": Unknown command")
	default:
		ss.selected(ctx, tag, name, args, uid)
	}
}

// selected answers the commands of the selected state.
func (ss *session) selected(ctx context.Context, tag, name string, args []arg, uid bool) {
	switch name {
	case "FETCH", "UID FETCH", "STORE", "UID STORE", "SEARCH", "UID SEARCH", "COPY", "UID COPY", "MOVE", "UID MOVE",
		"EXPUNGE", "UID EXPUNGE", "CLOSE", "UNSELECT", "CHECK":
	default:
		ss.bad2(tag, "Error in IMAP command "+name+": Unknown command")
		return
	}
	if ss.sel == nil {
		ss.bad2(tag, "No mailbox selected")
		return
	}
	switch name {
	case "FETCH", "UID FETCH":
		ss.fetch(tag, args, uid)
	case "STORE", "UID STORE":
		ss.store(tag, args, uid)
	case "SEARCH", "UID SEARCH":
		ss.search(tag, args, uid)
	case "COPY", "UID COPY", "MOVE", "UID MOVE":
		ss.copyMove(tag, name, args, uid)
	case "EXPUNGE", "UID EXPUNGE":
		ss.expunge(tag, args, uid)
	case "CLOSE":
		if !ss.readOnly {
			ss.removeDeleted(nil, false)
		}
		ss.sel = nil
		ss.ok(tag, "Close completed")
	case "UNSELECT":
		ss.sel = nil
		ss.ok(tag, "Unselect completed")
	case "CHECK":
		ss.ok(tag, "Check completed")
	}
}

// ok sends a tagged OK with Dovecot's timings.
func (ss *session) ok(tag, text string) { ss.write(tag + " OK " + text + ss.timing() + ".\r\n") }

// no sends a tagged NO with Dovecot's timings.
func (ss *session) no(tag, text string) { ss.write(tag + " NO " + text + ss.timing() + ".\r\n") }

// bad2 answers a bad command after login; the twentieth ends the
// connection.
func (ss *session) bad2(tag, text string) {
	ss.write(tag + " BAD " + text + ss.timing() + ".\r\n")
	if ss.bad++; ss.bad >= maxBadPostLogin {
		ss.write("* BYE Too many invalid IMAP commands.\r\n")
		ss.closed.Store(true)
	}
}

// invalid is the BAD of a command with wrong arguments.
func (ss *session) invalid(tag, name string) {
	ss.bad2(tag, "Error in IMAP command "+name+": Invalid arguments")
}

// enable turns on the extensions Dovecot knows (CONDSTORE, QRESYNC) and
// ignores the rest.
func (ss *session) enable(tag string, args []arg) {
	if len(args) == 0 {
		ss.invalid(tag, "ENABLE")
		return
	}
	var on []string
	for _, a := range args {
		ext := strings.ToUpper(a.s)
		if (ext == "CONDSTORE" || ext == "QRESYNC") && !ss.enabled[ext] {
			ss.enabled[ext] = true
			on = append(on, ext)
		}
	}
	if len(on) > 0 {
		ss.write("* ENABLED " + strings.Join(on, " ") + "\r\n")
	}
	ss.ok(tag, "Enabled")
}

// condstore reports whether the client enabled CONDSTORE (or QRESYNC,
// which implies it).
func (ss *session) condstore() bool { return ss.enabled["CONDSTORE"] || ss.enabled["QRESYNC"] }

// idleNotify is how often Dovecot tells an idling client it is still
// there (imap_idle_notify_interval).
const idleNotify = 2 * time.Minute

// idle waits for DONE, saying "Still here" now and then.
func (ss *session) idle(ctx context.Context, tag string) {
	ss.write("+ idling\r\n")
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(idleNotify)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				ss.write("* OK Still here\r\n")
			case <-done:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	line, err := ss.rd.readLine(ss.rd.lim.line)
	close(done)
	<-stopped
	if err != nil {
		ss.readFailed(err)
		ss.closed.Store(true)
		return
	}
	if !strings.EqualFold(string(line), "DONE") {
		ss.bad2(tag, "Expected DONE")
		return
	}
	ss.ok(tag, "Idle completed")
}

// findFolder is the mailbox called name (INBOX in any case).
func (ss *session) findFolder(name string) *folder {
	for _, f := range ss.folders {
		if f.name == name || strings.EqualFold(name, "INBOX") && f.name == "INBOX" {
			return f
		}
	}
	return nil
}

// mailboxName is a mailbox name as Dovecot writes it: an atom when it
// can be, else quoted.
func mailboxName(n string) string {
	for i := 0; i < len(n); i++ {
		if !atomChar(n[i]) || n[i] == '%' || n[i] == '*' {
			return quote(n)
		}
	}
	if n == "" {
		return `""`
	}
	return n
}

// list answers LIST, XLIST and LSUB.
func (ss *session) list(tag, name string, args []arg) {
	// LIST-EXTENDED: selection options before, RETURN options after.
	if len(args) > 0 && args[0].kind == list && name != "LSUB" {
		args = args[1:]
	}
	if len(args) < 2 || args[0].kind == list {
		ss.invalid(tag, name)
		return
	}
	ref := args[0].s
	var patterns []string
	if args[1].kind == list {
		for _, p := range args[1].list {
			patterns = append(patterns, p.s)
		}
	} else {
		patterns = []string{args[1].s}
	}
	reply := "List completed"
	if name == "LSUB" {
		reply = "Lsub completed"
	}
	if name != "LSUB" && len(patterns) == 1 && patterns[0] == "" {
		ss.write(`* LIST (\Noselect) "." ""` + "\r\n")
		ss.ok(tag, reply)
		return
	}
	var b strings.Builder
	// Dovecot lists a maildir's folders in directory order (ext4's hash
	// order, which each filesystem seeds its own way), INBOX last, and
	// the subscribed ones in the order of its subscriptions file.
	order := append(append([]*folder(nil), ss.folders[1:]...), ss.folders[0])
	if name != "LSUB" {
		ss.srv.dirOrder(order[:len(order)-1])
	}
	for _, f := range order {
		if !matchAny(patterns, ref, f.name) {
			continue
		}
		if name == "LSUB" {
			if f.name == "INBOX" {
				continue
			}
			fmt.Fprintf(&b, "* LSUB (%s) \".\" %s\r\n", f.special, mailboxName(f.name))
			continue
		}
		attrs := `\HasNoChildren`
		if f.special != "" {
			attrs += " " + f.special
		}
		word := "LIST"
		if name == "XLIST" {
			word = "XLIST"
		}
		fmt.Fprintf(&b, "* %s (%s) \".\" %s\r\n", word, attrs, mailboxName(f.name))
	}
	ss.write(b.String())
	ss.ok(tag, reply)
}

func matchAny(patterns []string, ref, name string) bool {
	for _, p := range patterns {
		if listMatch(ref+p, name) {
			return true
		}
	}
	return false
}

// listMatch matches a LIST pattern: * anything, % anything but the
// hierarchy separator; INBOX in any case.
func listMatch(pattern, name string) bool {
	if strings.EqualFold(name, "INBOX") && strings.EqualFold(pattern, "INBOX") {
		return true
	}
	return wildcard(pattern, name, 0)
}

func wildcard(p, s string, depth int) bool {
	if depth > 8 {
		return false
	}
	for len(p) > 0 {
		switch p[0] {
		case '*', '%':
			for i := 0; i <= len(s); i++ {
				if p[0] == '%' && i > 0 && s[i-1] == '.' {
					break
				}
				if wildcard(p[1:], s[i:], depth+1) {
					return true
				}
			}
			return false
		default:
			if len(s) == 0 || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return len(s) == 0
}

// status answers STATUS.
func (ss *session) status(tag string, args []arg) {
	if len(args) != 2 || args[0].kind == list || args[1].kind != list || len(args[1].list) == 0 {
		ss.invalid(tag, "STATUS")
		return
	}
	f := ss.findFolder(args[0].s)
	if f == nil {
		ss.no(tag, "Mailbox doesn't exist: "+event.Clip(args[0].s, 200))
		return
	}
	// Dovecot answers in its own order, whatever the client's.
	vals := make([]string, len(statusItems))
	for _, it := range args[1].list {
		var v int
		name := strings.ToUpper(it.s)
		switch name {
		case "MESSAGES":
			v = len(f.msgs)
		case "RECENT":
		case "UIDNEXT":
			v = int(f.uidNext)
		case "UIDVALIDITY":
			v = int(f.uidValidity)
		case "UNSEEN":
			v, _ = f.unseen()
		case "SIZE":
			v = f.size()
		default:
			ss.bad2(tag, "Error in IMAP command STATUS: Invalid status item "+event.Clip(it.s, 64))
			return
		}
		vals[slices.Index(statusItems, name)] = name + " " + strconv.Itoa(v)
	}
	var items []string
	for _, v := range vals {
		if v != "" {
			items = append(items, v)
		}
	}
	ss.write("* STATUS " + mailboxName(f.name) + " (" + strings.Join(items, " ") + ")\r\n")
	if f == ss.sel {
		ss.ok(tag, "[CLIENTBUG] Status on selected mailbox completed")
		return
	}
	ss.ok(tag, "Status completed")
}

// statusItems are the STATUS items in the order Dovecot writes them.
var statusItems = []string{"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "SIZE"}

// selectBox answers SELECT and EXAMINE.
func (ss *session) selectBox(tag, name string, args []arg) {
	if len(args) < 1 || args[0].kind == list {
		ss.invalid(tag, name)
		return
	}
	f := ss.findFolder(args[0].s)
	if f == nil {
		ss.no(tag, "Mailbox doesn't exist: "+event.Clip(args[0].s, 200))
		return
	}
	var b strings.Builder
	if ss.sel != nil {
		b.WriteString("* OK [CLOSED] Previous mailbox closed.\r\n")
	}
	ss.sel, ss.readOnly = f, name == "EXAMINE"
	fl := f.flagList()
	b.WriteString("* FLAGS (" + fl + ")\r\n")
	if ss.readOnly {
		b.WriteString("* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n")
	} else {
		b.WriteString("* OK [PERMANENTFLAGS (" + fl + ` \*)] Flags permitted.` + "\r\n")
	}
	fmt.Fprintf(&b, "* %d EXISTS\r\n* 0 RECENT\r\n", len(f.msgs))
	if _, first := f.unseen(); first > 0 {
		fmt.Fprintf(&b, "* OK [UNSEEN %d] First unseen.\r\n", first)
	}
	fmt.Fprintf(&b, "* OK [UIDVALIDITY %d] UIDs valid\r\n* OK [UIDNEXT %d] Predicted next UID\r\n", f.uidValidity, f.uidNext)
	if ss.condstore() {
		fmt.Fprintf(&b, "* OK [HIGHESTMODSEQ %d] Highest\r\n", f.modseq)
	}
	ss.write(b.String())
	ss.emit("select", event.Info, "mailbox", event.Clip(f.name, 200), "messages", strconv.Itoa(len(f.msgs)))
	if ss.readOnly {
		ss.ok(tag, "[READ-ONLY] Examine completed")
	} else {
		ss.ok(tag, "[READ-WRITE] Select completed")
	}
}

// manage answers CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE on
// the session's own view of the mailboxes.
func (ss *session) manage(tag, name string, args []arg) {
	want := 1
	if name == "RENAME" {
		want = 2
	}
	if len(args) != want || args[0].kind == list || args[want-1].kind == list {
		ss.invalid(tag, name)
		return
	}
	mbox := args[0].s
	f := ss.findFolder(mbox)
	switch name {
	case "CREATE":
		if f != nil {
			ss.no(tag, "[ALREADYEXISTS] Mailbox already exists")
			return
		}
		if len(ss.folders) < maxFolders && mbox != "" && len(mbox) <= 200 {
			last := ss.folders[len(ss.folders)-1]
			ss.folders = append(ss.folders, &folder{name: mbox, uidValidity: last.uidValidity + 1, uidNext: 1})
		}
		ss.ok(tag, "Create completed")
	case "DELETE", "RENAME":
		switch {
		case f == nil:
			ss.no(tag, "Mailbox doesn't exist: "+event.Clip(mbox, 200))
		case f.name == "INBOX" && name == "DELETE":
			ss.no(tag, "INBOX can't be deleted")
		case name == "DELETE":
			for i, g := range ss.folders {
				if g == f {
					ss.folders = append(ss.folders[:i], ss.folders[i+1:]...)
				}
			}
			if ss.sel == f {
				ss.sel = nil
			}
			ss.ok(tag, "Delete completed")
		default:
			if to := args[1].s; to != "" && len(to) <= 200 && ss.findFolder(to) == nil && f.name != "INBOX" {
				f.name = to
			}
			ss.ok(tag, "Rename completed")
		}
	case "SUBSCRIBE":
		ss.ok(tag, "Subscribe completed")
	case "UNSUBSCRIBE":
		ss.ok(tag, "Unsubscribe completed")
	}
}
