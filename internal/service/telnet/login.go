package telnet

import (
	"strconv"
	"strings"
	"time"

	"decnet/internal/pause"

	"decnet/internal/event"
)

// maxCred bounds a username or password in events.
const maxCred = 256

// login is shadow's login(1) with Debian's PAM stack: "<host> login: ",
// "Password: " without echo, pam_faildelay's pause and "Login incorrect"
// after a failure, LOGIN_RETRIES tries and LOGIN_TIMEOUT in all. Each
// prompt discards what was typed ahead, as PAM's conversation does with
// TCSAFLUSH. It returns the account logged in to.
func (x *conn) login() (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	deadline := time.Now().Add(x.srv.LoginTimeout)
	user, err := x.loginLocked(deadline)
	if err == errTimeout {
		x.printLocked("\nLogin timed out after " + strconv.Itoa(int(x.srv.LoginTimeout/time.Second)) + " seconds.\n")
	}
	return user, err
}

func (x *conn) loginLocked(deadline time.Time) (string, error) {
	if err := x.sleepLocked(x.srv.StartDelay, deadline); err != nil {
		return "", err
	}
	host, _, _ := strings.Cut(x.srv.hostname, ".")
	given, bypass := x.envLogin()
	if bypass {
		x.authEvent(given, "", true, "env_user_bypass")
		return given, nil
	}
	for tries := 1; ; tries++ {
		user, ok := given, given != ""
		given = ""
		if !ok {
			x.tty.flushInput()
			x.printLocked(host + " login: ")
			l, err := x.readLineLocked(deadline)
			if err != nil {
				return "", err
			}
			if len(l.b) > 0 || !l.eof {
				user, ok = cString(l), true
			}
			if l.eof {
				// PAM's conversation ends a line that had no newline.
				x.printLocked("\n")
			}
		}
		if ok {
			x.tty.flushInput()
			x.tty.noecho = true
			x.printLocked("Password: ")
			l, err := x.readLineLocked(deadline)
			x.tty.noecho = false
			if err != nil {
				return "", err
			}
			x.printLocked("\n")
			if len(l.b) > 0 || !l.eof {
				pw := cString(l)
				good := x.srv.accounts.Accept(user, pw)
				x.authEvent(user, pw, good, "password")
				if good {
					return user, nil
				}
			}
		}
		if err := x.sleepLocked(pause.PAMFailure(x.srv.FailDelay), deadline); err != nil {
			return "", err
		}
		x.printLocked("\nLogin incorrect\n")
		if tries >= x.srv.persona.retries(Inetutils) {
			x.printLocked("Maximum number of tries exceeded (" + strconv.Itoa(tries) + ")\n")
			return "", errClosed
		}
	}
}

// envLogin is what an unpatched telnetd would put on login's command
// line from the client's USER variable (CVE-2026-24061): "-f user" logs
// in without a password, anything else is taken as the login name. Only
// when the persona asks for it; Debian's fixed telnetd ignores USER.
func (x *conn) envLogin() (user string, bypass bool) {
	if !x.srv.persona.EnvUserBypass {
		return "", false
	}
	u, ok := x.e.envUser()
	if !ok {
		return "", false
	}
	args := strings.Fields(u)
	if len(args) == 0 {
		return "", false
	}
	if args[0] == "-f" && len(args) > 1 {
		return args[1], true
	}
	if rest, ok := strings.CutPrefix(args[0], "-f"); ok && rest != "" {
		return rest, true
	}
	if strings.HasPrefix(args[0], "-") {
		return "", false
	}
	return args[0], false
}

func (x *conn) readLineLocked(deadline time.Time) (canonLine, error) {
	var l canonLine
	err := x.waitLocked(deadline, func() bool {
		var ok bool
		l, ok = x.tty.readLine()
		return ok
	})
	return l, err
}

// cString is a line as login gets it from PAM: without its terminator,
// and cut at a NUL like any C string.
func cString(l canonLine) string {
	b := l.b
	if !l.eof && len(b) > 0 {
		b = b[:len(b)-1]
	}
	s, _, _ := strings.Cut(string(b), "\x00")
	return s
}

func (x *conn) authEvent(user, pw string, ok bool, method string) {
	f := map[string]string{event.FieldUsername: event.Clip(user, maxCred), event.FieldPassword: event.Clip(pw, maxCred),
		event.FieldSuccess: strconv.FormatBool(ok), event.FieldMethod: method}
	if x.e.ttypeSeen {
		f["ttype"] = x.e.ttype
	}
	sev := event.Notice
	if ok {
		sev = event.Warning
	}
	x.srv.emit(event.TypeAuth, sev, x.fields, f)
}
