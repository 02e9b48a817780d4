package pop3

import (
	"context"
	"fmt"
	"strconv"

	"decnet/internal/event"
)

// transaction serves pop3's commands on the maildrop until the client
// quits or is dropped.
func (ss *session) transaction(ctx context.Context) {
	for ctx.Err() == nil {
		line, err := ss.readLine(maxLine)
		if err == errTooLong {
			ss.command(event.Clip(string(line), 64) + "…")
			ss.end("input line too long", "-ERR Input line too long.")
			return
		}
		if err != nil {
			ss.readFailed(err, "-ERR Disconnected for inactivity.")
			return
		}
		line = trimEOL(line)
		ss.command(string(line))
		name, args := splitCommand(line)
		ok, quit := true, false
		if name == "" {
			ss.reply("-ERR Unknown command.")
			ok = false
		} else {
			ok, quit = ss.mailCommand(name, args)
		}
		if quit {
			return
		}
		if ok {
			ss.bad = 0
		} else if ss.bad++; ss.bad > maxBad {
			ss.end("too many bad commands", "-ERR Too many bad commands.")
			return
		}
	}
}

// mailCommand runs one pop3 command. ok is false for a failed one (they
// count towards the bad-command limit); quit ends the session.
func (ss *session) mailCommand(name, args string) (ok, quit bool) {
	d := ss.drop
	switch name {
	case "CAPA":
		ss.reply(append(append([]string{"+OK"}, capabilities...), ".")...)
	case "NOOP":
		ss.reply("+OK")
	case "STAT":
		n, octets := d.live()
		ss.reply(fmt.Sprintf("+OK %d %d", n, octets))
	case "LIST":
		return ss.list(args), false
	case "UIDL":
		return ss.uidlCmd(args), false
	case "RETR":
		i, _, errReply := msgArg(args, d.count(), d.isDeleted, false)
		if errReply != "" {
			ss.reply(errReply)
			return false, false
		}
		ss.reply(fmt.Sprintf("+OK %d octets", d.size(i)))
		ss.raw(fetch(d.message(i), allLines))
		ss.read(i, "RETR", allLines)
	case "TOP":
		i, rest, errReply := msgArg(args, d.count(), d.isDeleted, true)
		if errReply == "" {
			var lines uint64
			if lines, errReply = sizeArg(rest); errReply == "" {
				ss.reply("+OK")
				ss.raw(fetch(d.message(i), lines))
				ss.read(i, "TOP", lines)
				return true, false
			}
		}
		ss.reply(errReply)
		return false, false
	case "DELE":
		i, _, errReply := msgArg(args, d.count(), d.isDeleted, false)
		if errReply != "" {
			ss.reply(errReply)
			return false, false
		}
		d.dele(i)
		ss.reply("+OK Marked to be deleted.")
	case "RSET":
		d.rset()
		ss.reply("+OK")
	case "QUIT":
		// The UPDATE state: Dovecot would expunge now; the bait stays
		// for the next session.
		msg := "+OK Logging out."
		if d.marked {
			msg = "+OK Logging out, messages deleted."
		}
		ss.end("quit", msg)
		return true, true
	default:
		ss.reply("-ERR Unknown command: " + name)
		return false, false
	}
	return true, false
}

func (ss *session) list(args string) bool {
	d := ss.drop
	if args == "" {
		n, _ := d.live()
		lines := []string{fmt.Sprintf("+OK %d messages:", n)}
		for i := range d.count() {
			if !d.isDeleted(i) {
				lines = append(lines, fmt.Sprintf("%d %d", i+1, d.size(i)))
			}
		}
		ss.reply(append(lines, ".")...)
		return true
	}
	i, _, errReply := msgArg(args, d.count(), d.isDeleted, false)
	if errReply != "" {
		ss.reply(errReply)
		return false
	}
	ss.reply(fmt.Sprintf("+OK %d %d", i+1, d.size(i)))
	return true
}

func (ss *session) uidlCmd(args string) bool {
	d := ss.drop
	if args == "" {
		lines := []string{"+OK"}
		for i := range d.count() {
			if !d.isDeleted(i) {
				lines = append(lines, fmt.Sprintf("%d %s", i+1, d.uidl(i)))
			}
		}
		ss.reply(append(lines, ".")...)
		return true
	}
	i, _, errReply := msgArg(args, d.count(), d.isDeleted, false)
	if errReply != "" {
		ss.reply(errReply)
		return false
	}
	ss.reply(fmt.Sprintf("+OK %d %s", i+1, d.uidl(i)))
	return true
}

// read records that the attacker read message i (RETR, or TOP's header
// and lines of its body).
func (ss *session) read(i int, cmd string, lines uint64) {
	d := ss.drop
	f := map[string]string{
		"message": strconv.Itoa(i + 1), "uid": strconv.FormatUint(uint64(d.uid(i)), 10),
		"subject": d.subject(i), "size": strconv.Itoa(d.size(i)), event.FieldCommand: cmd,
	}
	if lines != allLines {
		f["lines"] = strconv.FormatUint(lines, 10)
	}
	ss.emit(typeRetr, event.Warning, f)
}
