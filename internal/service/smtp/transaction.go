package smtp

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"decnet/internal/event"
)

func (ss *session) mail(ctx context.Context, arg string) {
	switch {
	case ss.needTLS():
		ss.fail(ctx, "530 5.7.0 Must issue a STARTTLS command first")
		return
	case ss.tx != nil:
		ss.fail(ctx, "503 5.5.1 Error: nested MAIL command")
		return
	}
	p, err := parsePath(arg, "FROM:")
	if errors.Is(err, errPathSyntax) {
		ss.fail(ctx, "501 5.5.4 Syntax: MAIL FROM:<address>")
		return
	}
	if err != nil {
		ss.fail(ctx, "501 5.1.7 Bad sender address syntax")
		return
	}
	for _, prm := range p.params {
		if msg := ss.mailParam(prm); msg != "" {
			ss.fail(ctx, msg)
			return
		}
	}
	if ss.msgs >= ss.site.maxMsgs {
		ss.fail(ctx, "450 4.7.1 Error: too much mail from "+ss.fields[event.FieldSrcIP])
		return
	}
	ss.tx = &transaction{from: p.addr}
	ss.emit("mail_from", event.Info, "mail_from", event.Clip(printable([]byte(p.addr)), clipAddr),
		"params", event.Clip(printable([]byte(strings.Join(p.params, " "))), clipAddr))
	ss.reply("250 2.1.0 Ok")
}

// mailParam checks one MAIL FROM parameter as Postfix does, returning
// its error reply or "".
func (ss *session) mailParam(p string) string {
	key, val := param(p)
	switch key {
	case "SIZE":
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 {
			return "501 5.5.4 Bad message size syntax"
		}
		if n > ss.site.sizeMax {
			return "552 5.3.4 Message size exceeds fixed limit"
		}
	case "BODY":
		if !strings.EqualFold(val, "7BIT") && !strings.EqualFold(val, "8BITMIME") {
			return "555 5.5.4 Unsupported option: " + p
		}
	case "RET":
		if !strings.EqualFold(val, "FULL") && !strings.EqualFold(val, "HDRS") {
			return "501 5.5.4 Bad RET parameter syntax"
		}
	case "SMTPUTF8", "AUTH", "ENVID":
	default:
		return "555 5.5.4 Unsupported option: " + p
	}
	return ""
}

func (ss *session) rcpt(ctx context.Context, arg string) {
	if ss.tx == nil {
		ss.fail(ctx, "503 5.5.1 Error: need MAIL command")
		return
	}
	p, err := parsePath(arg, "TO:")
	if errors.Is(err, errPathSyntax) {
		ss.fail(ctx, "501 5.5.4 Syntax: RCPT TO:<address>")
		return
	}
	if err != nil || p.addr == "" {
		ss.fail(ctx, "501 5.1.3 Bad recipient address syntax")
		return
	}
	for _, prm := range p.params {
		switch key, val := param(prm); key {
		case "NOTIFY":
			if !notifyOK(val) {
				ss.fail(ctx, "501 5.5.4 Error: Bad NOTIFY parameter syntax")
				return
			}
		case "ORCPT":
		default:
			ss.fail(ctx, "555 5.5.4 Unsupported option: "+prm)
			return
		}
	}
	if len(ss.tx.rcpts) >= ss.site.maxRcpts {
		ss.fail(ctx, "452 4.5.3 Error: too many recipients")
		return
	}
	addr := event.Clip(printable([]byte(p.addr)), clipAddr)
	if reason := ss.refuse(p.addr); reason != "" {
		ss.tx.denied++
		ss.emit("rcpt_denied", event.Warning, "rcpt_to", addr, "mail_from", event.Clip(ss.tx.from, clipAddr))
		ss.fail(ctx, reason)
		return
	}
	ss.tx.rcpts = append(ss.tx.rcpts, addr)
	ss.emit("rcpt_to", event.Info, "rcpt_to", addr, "mail_from", event.Clip(ss.tx.from, clipAddr))
	ss.reply("250 2.1.5 Ok")
}

// refuse is the reply refusing a recipient, or "" to take it: the relay
// takes any, a submission port only after a login, port 25 only the
// decky's own domains (or a bare user name, which is local).
func (ss *session) refuse(addr string) string {
	switch {
	case ss.submission() && ss.authUser == "":
		return "554 5.7.1 <" + addr + ">: Recipient address rejected: Access denied"
	case ss.srv.relay || ss.authUser != "":
		return ""
	}
	if d := domainOf(addr); d == "" || ss.site.local(d) {
		return ""
	}
	if ss.site.reject {
		return "554 5.7.1 <" + addr + ">: Relay access denied"
	}
	return "454 4.7.1 <" + addr + ">: Relay access denied"
}

// notifyOK checks a DSN NOTIFY value: NEVER, or a list of SUCCESS,
// FAILURE and DELAY.
func notifyOK(v string) bool {
	if strings.EqualFold(v, "NEVER") {
		return true
	}
	for _, w := range strings.Split(v, ",") {
		if w = strings.ToUpper(w); w != "SUCCESS" && w != "FAILURE" && w != "DELAY" {
			return false
		}
	}
	return true
}

// noRecipients is the reply to DATA or BDAT without a taken recipient,
// or "".
func (ss *session) noRecipients() string {
	switch {
	case ss.tx == nil || len(ss.tx.rcpts) == 0 && ss.tx.denied == 0:
		return "503 5.5.1 Error: need RCPT command"
	case len(ss.tx.rcpts) == 0:
		return "554 5.5.1 Error: no valid recipients"
	}
	return ""
}

func (ss *session) data(ctx context.Context, arg string) bool {
	if arg != "" {
		ss.fail(ctx, "501 5.5.4 Syntax: DATA")
		return true
	}
	if msg := ss.noRecipients(); msg != "" {
		ss.fail(ctx, msg)
		return true
	}
	ss.reply("354 End data with <CR><LF>.<CR><LF>")
	ss.w.Flush()
	m, err := readData(ss.r, ss.site.maxKeep)
	if err != nil {
		ss.ended(err)
		return false
	}
	ss.finish(ctx, m, "250 2.0.0 Ok: queued as ")
	return true
}

func (ss *session) bdat(ctx context.Context, arg string) bool {
	n, last, ok := parseBDAT(arg)
	if !ok {
		ss.reply("521 5.5.4 Syntax: BDAT count [LAST]")
		return false
	}
	if msg := ss.noRecipients(); msg != "" {
		var discard message
		if err := readChunk(ss.r, n, &discard, 0); err != nil {
			ss.ended(err)
			return false
		}
		ss.fail(ctx, msg)
		return true
	}
	if ss.tx.bdat == nil {
		ss.tx.bdat = &message{}
	}
	if err := readChunk(ss.r, n, ss.tx.bdat, ss.site.maxKeep); err != nil {
		ss.ended(err)
		return false
	}
	if !last {
		if ss.tx.bdat.size > ss.site.sizeMax {
			ss.tx = nil
			ss.fail(ctx, "552 5.3.4 Message size exceeds fixed limit")
			return true
		}
		ss.reply("250 2.0.0 Ok: " + strconv.FormatInt(n, 10) + " bytes")
		return true
	}
	m := *ss.tx.bdat
	ss.finish(ctx, m, "250 2.0.0 Ok: "+strconv.FormatInt(m.size, 10)+" bytes queued as ")
	return true
}

// finish ends a transaction whose message m arrived: over the size limit
// it is refused, else stored and reported queued with ok and its id.
func (ss *session) finish(ctx context.Context, m message, ok string) {
	tx := ss.tx
	ss.tx = nil
	if m.size > ss.site.sizeMax {
		ss.fail(ctx, "552 5.3.4 Message size exceeds fixed limit")
		return
	}
	ss.msgs++
	id := ss.srv.ids.next(ss.srv.now())
	ss.reply(ok + id)
	ss.w.Flush()
	ss.store(tx, m, id)
}

// rcptJSON is the recipients as a JSON list.
func rcptJSON(rcpts []string) string {
	b, _ := json.Marshal(rcpts)
	return string(b)
}
