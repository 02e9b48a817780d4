package ssh

import (
	"context"
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

// session serves one session channel: pty-req, env and window-change
// requests, then a shell or an exec, then exit-status like sshd.
func (s *Server) session(ctx context.Context, ch gossh.Channel, reqs <-chan *gossh.Request, user string, fields map[string]string) {
	defer ch.Close()
	env := map[string]string{}
	var pty *ptyRequest
	sizes := make(chan shell.WindowSize, 8)
	var once sync.Once
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(run func(*shell.Session) int) {
		once.Do(func() {
			tty := ""
			if pty != nil {
				tty = "pts/" + strconv.Itoa(s.ptyNumber())
				env["TERM"] = pty.Term
			}
			sess := s.fs.NewSession(shell.Options{User: user, RemoteIP: fields[event.FieldSrcIP], TTY: tty, Env: env,
				Hooks: s.hooks(user, fields)})
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := run(sess)
				sess.Close()
				ch.CloseWrite()
				ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{uint32(status)}))
				ch.Close()
			}()
		})
	}
	for req := range reqs {
		ok := false
		var run func(*shell.Session) int
		switch req.Type {
		case "pty-req":
			if p, err := parsePty(req.Payload); err == nil && pty == nil {
				pty, ok = p, true
			}
		case "env":
			var kv struct{ Name, Value string }
			if gossh.Unmarshal(req.Payload, &kv) == nil && acceptEnv(kv.Name) && len(env) < maxEnvVars && len(kv.Value) < 4096 {
				env[kv.Name], ok = kv.Value, true
			}
		case "window-change":
			if len(req.Payload) >= 8 {
				select {
				case sizes <- shell.WindowSize{Width: int(binary.BigEndian.Uint32(req.Payload)), Height: int(binary.BigEndian.Uint32(req.Payload[4:]))}:
				default:
				}
			}
		case "shell":
			ok = true
			p := pty
			run = func(sess *shell.Session) int {
				if p != nil {
					return sess.Interact(ctx, ch, shell.WindowSize{Width: p.Width, Height: p.Height}, sizes)
				}
				return sess.RunLines(ctx, ch, ch, ch.Stderr())
			}
		case "exec":
			var cmd struct{ Command string }
			if gossh.Unmarshal(req.Payload, &cmd) == nil && len(cmd.Command) <= maxExecLen {
				ok = true
				run = func(sess *shell.Session) int {
					return sess.Exec(ctx, cmd.Command, ch, ch.Stderr())
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

// hooks turn shell activity into events.
func (s *Server) hooks(user string, fields map[string]string) shell.Hooks {
	return shell.Hooks{
		Command: func(line string) {
			s.emit(event.TypeCommand, event.Notice, fields, map[string]string{event.FieldCommand: truncate(line, 4096), event.FieldUsername: user})
		},
		File: func(f shell.FileWrite) {
			extra := f.Fields(f.Path)
			extra[event.FieldUsername] = user
			s.emit(event.TypeFileCaptured, event.Warning, fields, extra)
		},
		Download: func(d shell.Download) {
			s.emit("download", event.Warning, fields, map[string]string{"url": truncate(d.URL, 2048), "tool": d.Tool, event.FieldUsername: user})
		},
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
