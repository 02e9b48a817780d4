package ssh

import (
	"context"
	"io"
	"strings"
	"sync"

	"decnet/internal/event"
	"decnet/internal/shell"
)

// maxUpload caps one file an attacker sends over scp or sftp. Its bytes
// are kept as an artifact up to this size even when the fake filesystem
// (shell.MaxFileSize) refuses the file, which the attacker sees as a full
// disk.
const maxUpload = 16 << 20

// transferBudget bounds the bytes all scp and sftp transfers of a decky
// hold in memory at once; past it, writes fail as on a full disk.
const transferBudget = 64 << 20

// budget is a byte allowance shared by concurrent transfers.
type budget struct {
	mu        sync.Mutex
	used, max int64
}

// take reserves n bytes, false when that would pass the limit.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n < 0 || b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

// give returns n reserved bytes.
func (b *budget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used = max(0, b.used-n)
}

// sftpServerPaths are where distros install sftp-server; "ssh -s" and old
// clients exec it by path instead of asking for the subsystem.
var sftpServerPaths = map[string]bool{"/usr/lib/openssh/sftp-server": true, "/usr/libexec/openssh/sftp-server": true,
	"/usr/lib/ssh/sftp-server": true, "/usr/libexec/sftp-server": true}

// fileServer recognises an exec'd command that is a file-transfer
// server (scp -t, scp -f, sftp-server) and returns a runner for it; nil
// when the command is for the shell. Only the first word is looked at
// before expanding the line, so a shell command's substitutions do not
// run twice.
func (s *Server) fileServer(ctx context.Context, sess *shell.Session, line string, rw io.ReadWriter, stderr io.Writer, fields map[string]string) func() int {
	first, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	if first != "scp" && !sftpServerPaths[first] {
		return nil
	}
	words, ok := sess.Words(ctx, line)
	if !ok {
		return nil
	}
	user := sess.User()
	if sftpServerPaths[words[0]] {
		return func() int { return s.sftp(sess, rw, user, fields) }
	}
	if words[0] != "scp" {
		return nil
	}
	o, bad, ok := parseSCPArgs(words[1:])
	if !ok {
		return func() int {
			io.WriteString(stderr, bad+scpUsage)
			return 1
		}
	}
	if !o.to && !o.from {
		return nil
	}
	return func() int {
		return serveSCP(sess, o, rw, s.transfers, func(op string, f map[string]string) {
			s.transferEvent("scp", op, user, op != "download", fields, f)
		})
	}
}

// sftp runs the sftp-server of the persona's OpenSSH release for user,
// recording its requests as sftp events.
func (s *Server) sftp(sess *shell.Session, rw io.ReadWriter, user string, fields map[string]string) int {
	return serveSFTP(sess, rw, s.transfers, sftpExtensionsOf(s.prof.version), func(op string, change bool, f map[string]string) {
		s.transferEvent("sftp", op, user, change, fields, f)
	})
}

// transferEvent emits an scp or sftp event; those that change the
// filesystem are notices.
func (s *Server) transferEvent(typ, op, user string, change bool, fields, f map[string]string) {
	f["op"] = op
	f[event.FieldUsername] = user
	for _, k := range []string{"path", "target", "result", "error"} {
		if v, ok := f[k]; ok {
			f[k] = event.Clip(v, 1024)
		}
	}
	sev := event.Info
	if change {
		sev = event.Notice
	}
	s.emit(typ, sev, fields, f)
}
