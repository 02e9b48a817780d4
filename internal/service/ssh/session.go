package ssh

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"strconv"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"

	"decnet/internal/event"
	"decnet/internal/shell"
)

// Bounds on what a client may send in channel requests.
const (
	maxEnvVars = 64
	maxExecLen = 64 << 10
)

// acceptEnv is sshd's AcceptEnv LANG LC_* from Debian's sshd_config.
func acceptEnv(name string) bool { return name == "LANG" || strings.HasPrefix(name, "LC_") }

// sessionRequest is what a session asked for before it started.
type sessionRequest struct {
	env   map[string]string
	pty   *ptyRequest
	x11   *x11Request
	agent bool
}

// x11Request is RFC 4254 6.3.1's x11-req.
type x11Request struct {
	Single bool
	Proto  string
	Cookie string
	Screen uint32
}

// validXauth is sshd's xauth_valid_string: what it passes to xauth.
func validXauth(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".:/-_", r)) {
			return false
		}
	}
	return s != ""
}

// session serves one session channel like sshd: pty-req, env, x11-req and
// auth-agent-req@openssh.com while it is "larval", then a shell, an exec
// or the sftp subsystem, then exit-status.
func (s *Server) session(ctx context.Context, ch gossh.Channel, reqs <-chan *gossh.Request, st *connState) {
	defer ch.Close()
	user, fields := st.user, st.fields
	sr := sessionRequest{env: map[string]string{}}
	sizes := make(chan shell.WindowSize, 8)
	started := false
	var display int
	defer func() {
		if sr.x11 != nil {
			s.releaseDisplay(display)
		}
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(run func(*shell.Session) int) {
		started = true
		tty := ""
		if sr.pty != nil {
			tty = "pts/" + strconv.Itoa(s.ptyNumber())
			sr.env["TERM"] = sr.pty.Term
		}
		sess := s.fs.NewSession(shell.Options{User: user, RemoteIP: fields[event.FieldSrcIP], TTY: tty, Env: sr.env,
			Hooks: s.shellHooks(user, fields)})
		if sr.agent {
			sess.SetEnv("SSH_AUTH_SOCK", "/tmp/ssh-"+randomName(10)+"/agent."+strconv.Itoa(sess.PID()-1))
		}
		if sr.x11 != nil {
			display = s.takeDisplay()
			sess.SetEnv("DISPLAY", "localhost:"+strconv.Itoa(display)+"."+strconv.FormatUint(uint64(sr.x11.Screen), 10))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := run(sess)
			sess.Close()
			ch.CloseWrite()
			ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{uint32(status)}))
			ch.Close()
		}()
	}
	for req := range reqs {
		ok := false
		var run func(*shell.Session) int
		larval := !started
		switch req.Type {
		case "pty-req":
			if p, err := parsePty(req.Payload); err == nil && larval && sr.pty == nil {
				sr.pty, ok = p, true
			}
		case "env":
			var kv struct{ Name, Value string }
			if gossh.Unmarshal(req.Payload, &kv) == nil && larval && acceptEnv(kv.Name) && len(sr.env) < maxEnvVars && len(kv.Value) < 4096 {
				sr.env[kv.Name], ok = kv.Value, true
			}
		case "window-change":
			ok = true
			if len(req.Payload) >= 8 {
				select {
				case sizes <- shell.WindowSize{Width: int(binary.BigEndian.Uint32(req.Payload)), Height: int(binary.BigEndian.Uint32(req.Payload[4:]))}:
				default:
				}
			}
		case "x11-req":
			var x x11Request
			if gossh.Unmarshal(req.Payload, &x) == nil {
				ok = larval && sr.x11 == nil && validXauth(x.Proto) && validXauth(x.Cookie)
				if ok {
					sr.x11 = &x
				}
				s.emit("x11_forward", event.Warning, fields, map[string]string{event.FieldUsername: user,
					"auth_proto": event.Clip(x.Proto, 64), "screen": strconv.FormatUint(uint64(x.Screen), 10),
					"single_connection": strconv.FormatBool(x.Single), "accepted": strconv.FormatBool(ok)})
			}
		case "auth-agent-req@openssh.com":
			ok = larval && st.grantAgent()
			sr.agent = sr.agent || ok
			s.emit("agent_forward", event.Warning, fields, map[string]string{event.FieldUsername: user, "accepted": strconv.FormatBool(ok)})
		case "shell":
			if larval {
				ok = true
				p := sr.pty
				run = func(sess *shell.Session) int {
					if p != nil {
						return sess.Interact(ctx, ch, shell.WindowSize{Width: p.Width, Height: p.Height}, sizes)
					}
					return sess.RunLines(ctx, ch, ch, ch.Stderr())
				}
			}
		case "exec":
			var cmd struct{ Command string }
			if gossh.Unmarshal(req.Payload, &cmd) == nil && larval && len(cmd.Command) <= maxExecLen {
				ok = true
				run = func(sess *shell.Session) int {
					if serve := s.fileServer(ctx, sess, cmd.Command, ch, ch.Stderr(), fields); serve != nil {
						s.shellHooks(user, fields).Command(cmd.Command)
						return serve()
					}
					return sess.Exec(ctx, cmd.Command, ch, ch.Stderr())
				}
			}
		case "subsystem":
			var sub struct{ Name string }
			if gossh.Unmarshal(req.Payload, &sub) == nil && larval {
				ok = sub.Name == "sftp"
				if ok {
					run = func(sess *shell.Session) int { return s.sftp(sess, ch, user, fields) }
				} else {
					s.emit("subsystem", event.Notice, fields, map[string]string{event.FieldUsername: user, "name": event.Clip(sub.Name, 256)})
				}
			}
		}
		if req.WantReply {
			req.Reply(ok, nil)
		}
		// Only after the reply, like sshd: a quick command would otherwise
		// send exit-status and close the channel before the client has its
		// answer, and the client reports EOF.
		if run != nil {
			start(run)
		}
	}
}

// ptyRequest is RFC 4254 6.2's pty-req.
type ptyRequest struct {
	Term          string
	Width, Height int
}

func parsePty(b []byte) (*ptyRequest, error) {
	var p struct {
		Term               string
		Cols, Rows, PW, PH uint32
		Modes              string
	}
	if err := gossh.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if len(p.Term) > 64 {
		p.Term = p.Term[:64]
	}
	return &ptyRequest{Term: p.Term, Width: int(min(p.Cols, 1000)), Height: int(min(p.Rows, 1000))}, nil
}

// ptyNumber hands out pts numbers like a quiet server: low and reused.
func (s *Server) ptyNumber() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pts = (s.pts + 1) % 4
	return s.pts
}

// x11DisplayOffset is sshd's X11DisplayOffset: the first display number.
const x11DisplayOffset = 10

// takeDisplay picks the lowest free X11 display number, as sshd does when
// it binds 6000+n.
func (s *Server) takeDisplay() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := x11DisplayOffset
	for s.displays[n] {
		n++
	}
	if s.displays == nil {
		s.displays = map[int]bool{}
	}
	s.displays[n] = true
	return n
}

func (s *Server) releaseDisplay(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.displays, n)
}

// randomName is mkdtemp's XXXXXXXXXX: letters and digits.
func randomName(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// shellHooks report the shell activity of a session as its events.
func (s *Server) shellHooks(user string, fields map[string]string) shell.Hooks {
	return shell.EventHooks(user, func(typ string, sev event.Severity, extra map[string]string) { s.emit(typ, sev, fields, extra) })
}
