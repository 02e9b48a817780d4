package telnet

import (
	"strconv"
	"strings"
	"time"
)

// busyboxStartDelay is how long busybox telnetd's child takes to print its
// newline and exec login, and login to print its prompt (measured 1–8 ms
// on loopback).
const busyboxStartDelay = 5 * time.Millisecond

// busyboxOpening is what busybox telnetd sends on connect, and all it
// ever asks: DO ECHO, DO NAWS, WILL ECHO, WILL SGA. It never answers the
// client's options and never waits for them.
var busyboxOpening = []byte{cmdIAC, cmdDO, optEcho, cmdIAC, cmdDO, optNAWS, cmdIAC, cmdWILL, optEcho, cmdIAC, cmdWILL, optSGA}

// The receive states of busybox telnetd's IAC decoder.
const (
	bbData  = iota
	bbCR    // after a CR: a LF or NUL is dropped
	bbIAC   // after IAC
	bbThird // the third byte of a command, which is skipped
	bbNAWS  // the four bytes of IAC SB NAWS
)

// feedBusybox is busybox telnetd's safe_write_to_pty_decode_iac over a
// stream: CR LF and CR NUL become CR, IAC IAC is 0xff, IAC AYT is answered
// with IAC NOP (IAC doubled on the way out, as busybox does), the other
// two-byte commands are ignored, IAC SB NAWS takes the next four bytes as
// the window, and anything else after IAC is taken as a three-byte
// command and skipped, so the body of any other sub-option reaches the
// terminal. Options the client names are only noted for the negotiation
// event.
func (e *engine) feedBusybox(b []byte) int {
	e.bbStart = len(e.out)
	for i, c := range b {
		if e.tty.full() {
			return i
		}
		switch e.bbState {
		case bbCR:
			e.bbState = bbData
			if c == '\n' || c == 0 {
				continue
			}
			e.bbData(c)
		case bbData:
			e.bbData(c)
		case bbIAC:
			e.bbState = bbData
			switch {
			case c == cmdIAC:
				e.tty.input(c)
			case c == cmdAYT:
				// The answer goes out before the echo of what came
				// with it: busybox writes it before it reads the pty.
				e.out = append(e.out[:e.bbStart], append([]byte{cmdIAC, cmdIAC, 241}, e.out[e.bbStart:]...)...)
				e.bbStart += 3
			case c >= cmdSE && c <= 249:
			default:
				e.bbCmd, e.bbState = c, bbThird
			}
		case bbThird:
			e.bbState = bbData
			e.bbNote(e.bbCmd, c)
			if e.bbCmd == cmdSB && c == optNAWS {
				e.sb, e.bbState = e.sb[:0], bbNAWS
			}
		case bbNAWS:
			e.sb = append(e.sb, c)
			if len(e.sb) == 4 {
				e.bbState = bbData
				e.width, e.height = int(e.sb[0])<<8|int(e.sb[1]), int(e.sb[2])<<8|int(e.sb[3])
				if e.onWindow != nil {
					e.onWindow(e.width, e.height)
				}
			}
		}
	}
	return len(b)
}

// bbFlush is a signal character flushing the terminal's output: busybox
// telnetd has not read the echo of what came with it yet, and sends no
// data mark.
func (e *engine) bbFlush() { e.out = e.out[:e.bbStart] }

func (e *engine) bbData(c byte) {
	switch c {
	case cmdIAC:
		e.bbState = bbIAC
		return
	case '\r':
		e.bbState = bbCR
	}
	e.tty.input(c)
}

// bbNote records what a client's WILL, WONT, DO or DONT says, which busybox
// ignores but the negotiation event reports.
func (e *engine) bbNote(cmd, o byte) {
	switch cmd {
	case cmdWILL, cmdWONT:
		e.set(o, hisWill, cmd == cmdWILL)
	case cmdDO, cmdDONT:
		e.set(o, myWill, cmd == cmdDO)
	}
}

// The limits of busybox login's name prompt: blank lines before it gives
// up, and the bytes fgets takes after the first character.
const (
	bbBlankLines = 10
	bbNameMax    = 61
)

// loginBusybox is busybox login without PAM: "<host> login: " (blank
// lines ask again, ten of them end login; leading blanks are skipped and
// the name ends at the first blank or control character; a name that
// does not end in a newline within 62 bytes ends login), "Password: "
// without echo, read up to the newline, where ^C counts as a wrong
// password; after a failure 3 s and "Login incorrect"; three failures end
// login, and so does LOGIN_TIMEOUT.
func (x *conn) loginBusybox() (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	deadline := time.Now().Add(x.srv.LoginTimeout)
	user, err := x.loginBusyboxLocked(deadline)
	if err == errTimeout {
		x.printLocked("\r\nLogin timed out after " + strconv.Itoa(int(x.srv.LoginTimeout/time.Second)) + " seconds\r\n")
	}
	return user, err
}

func (x *conn) loginBusyboxLocked(deadline time.Time) (string, error) {
	if err := x.sleepLocked(x.srv.StartDelay, deadline); err != nil {
		return "", err
	}
	host := x.srv.hostname
	for tries := 1; ; tries++ {
		x.tty.flushInput()
		user, err := x.bbName(host, deadline)
		if err != nil {
			return "", err
		}
		x.tty.flushInput()
		x.tty.noecho, x.pwRead = true, true
		x.printLocked("Password: ")
		var l canonLine
		err = x.waitLocked(deadline, func() bool {
			var ok bool
			l, ok = x.tty.readLine()
			return ok || x.interrupted
		})
		x.tty.noecho, x.pwRead = false, false
		if err != nil {
			return "", err
		}
		x.printLocked("\n")
		if !x.interrupted && (len(l.b) > 0 || !l.eof) {
			pw := cString(l)
			good := x.srv.accounts.Accept(user, pw)
			x.authEvent(user, pw, good, "password")
			if good {
				return user, nil
			}
		}
		x.interrupted = false
		if err := x.sleepLocked(x.srv.FailDelay, deadline); err != nil {
			return "", err
		}
		x.printLocked("Login incorrect\n")
		if tries >= x.srv.persona.retries(Busybox) {
			return "", errClosed
		}
	}
}

// bbName is busybox login's get_username_or_die, reading the terminal
// through stdio: a line that ended with ^D and held bytes is continued by
// the next one.
func (x *conn) bbName(host string, deadline time.Time) (string, error) {
	var buf []byte // what stdio read and the name did not take yet
	getc := func() (byte, bool, error) {
		for len(buf) == 0 {
			l, err := x.readLineLocked(deadline)
			if err != nil {
				return 0, false, err
			}
			x.reportNegotiationOnce()
			if l.eof && len(l.b) == 0 {
				return 0, false, nil
			}
			buf = l.b
		}
		c := buf[0]
		buf = buf[1:]
		return c, true, nil
	}
	var first byte
	for blank, got := 0, false; !got; {
		x.printLocked(host + " login: ")
		for {
			c, ok, err := getc()
			if err != nil {
				return "", err
			}
			if !ok {
				return "", errClosed
			}
			if c == '\n' {
				if blank++; blank == bbBlankLines {
					return "", errClosed
				}
				break
			}
			if !isSpace(c) {
				first, got = c, true
				break
			}
		}
	}
	var rest []byte
	for len(rest) < bbNameMax {
		c, ok, err := getc()
		if err != nil {
			return "", err
		}
		if !ok {
			break
		}
		rest = append(rest, c)
		if c == '\n' {
			break
		}
	}
	// strchr(buf, '\n') stops at a NUL: no newline before it ends login.
	if s, _, _ := strings.Cut(string(rest), "\x00"); !strings.Contains(s, "\n") {
		return "", errClosed
	}
	end := 0
	for end < len(rest) && rest[end] > ' ' {
		end++
	}
	return string(first) + string(rest[:end]), nil
}

// isSpace is C's isspace.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }
