package ssh

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"decnet/internal/shell"
)

// FuzzReadIdent feeds arbitrary first bytes from a client to the
// identification reader: it must not panic, must stop at the first LF,
// and must accept only lines sshd accepts.
func FuzzReadIdent(f *testing.F) {
	for _, s := range []string{"SSH-2.0-OpenSSH_9.2p1\r\n", "SSH-1111-x\r\n", "SSH-1.99-x\n", "GET / HTTP/1.0\r\n", "SSH-2.0-\r\n", "SSH- +2.-0-x\n", "\x00\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		line, raw, err := readIdent(bytes.NewReader(b))
		if len(raw) > len(b) || !bytes.Equal(raw, b[:len(raw)]) {
			t.Fatalf("raw %q is not a prefix of the input", raw)
		}
		if i := bytes.IndexByte(raw, '\n'); i >= 0 && i != len(raw)-1 {
			t.Fatalf("read past the end of the line: %q", raw)
		}
		var ie *identError
		switch {
		case err == nil:
			if len(line) <= 4 || line[:4] != "SSH-" {
				t.Fatalf("accepted %q", line)
			}
		case errors.As(err, &ie):
			if ie.reply != msgInvalidIdent && ie.reply != msgMajorMismatch {
				t.Fatalf("reply %q", ie.reply)
			}
		case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
			t.Fatalf("error %v", err)
		}
	})
}

// FuzzParseKexinit parses arbitrary plaintext packets as a client KEXINIT.
func FuzzParseKexinit(f *testing.F) {
	f.Add(sampleKexinit())
	f.Add([]byte{0, 0, 0, 5, 4, 20, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ck, err := parseKexinit(b)
		if err == nil && len(ck.HASSH) != 32 {
			t.Fatalf("hassh %q", ck.HASSH)
		}
		s := &kexSniffer{report: func(clientKex) {}}
		for len(b) > 0 {
			n := min(len(b), 7)
			s.feed(b[:n])
			b = b[n:]
		}
		if len(s.buf) > maxKexinit+64 {
			t.Fatalf("sniffer holds %d bytes", len(s.buf))
		}
	})
}

// FuzzSCPControl parses arbitrary control lines: scp's answers only, and
// names that cannot leave the target directory.
func FuzzSCPControl(f *testing.F) {
	for _, s := range []string{"C0644 12 a.txt", "D0755 0 sub", "T1764132319 0 1764132319 0", "C0644 5 ../x", "C0x44 1 a", "T1 -0 2 +0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseSCPControl(line)
		var pe scpProtocolError
		switch {
		case err == nil:
			if c.kind == 'T' {
				return
			}
			if c.kind != 'C' && c.kind != 'D' || c.name == "" || c.name == "." || c.name == ".." || strings.ContainsAny(c.name, "/\x00") || c.size < 0 || c.mode > 0o7777 {
				t.Fatalf("accepted %q as %+v", line, c)
			}
		case errors.Is(err, errSCPName), errors.As(err, &pe):
		default:
			t.Fatalf("error %v", err)
		}
	})
}

// FuzzSCPSink feeds arbitrary client streams to "scp -r -t /tmp": it must
// end, answer only with acknowledgements and scp error lines, and keep
// what it writes inside /tmp.
func FuzzSCPSink(f *testing.F) {
	f.Add([]byte("C0644 12 a.txt\nhello world\n\x00"))
	f.Add([]byte("D0755 0 d\nC0644 1 x\nx\x00E\nE\n"))
	fsys, err := shell.Open(f.TempDir(), shell.System{Hostname: "fuzz", Distro: "debian"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Not closed: Close saves the filesystem, which would be most of
		// the work. What an input wrote goes, so inputs stay independent.
		sess := fsys.NewSession(shell.Options{User: "root"})
		defer sess.Exec(context.Background(), "rm -rf /tmp; mkdir /tmp", io.Discard, io.Discard)
		var out bytes.Buffer
		o := scpOptions{to: true, recursive: true, preserve: true, args: []string{"/tmp"}}
		var events []map[string]string
		code := serveSCP(sess, o, pipeRW{bytes.NewReader(in), &out}, &budget{max: 1 << 20}, func(_ string, f map[string]string) { events = append(events, f) })
		if code != 0 && code != 1 {
			t.Fatalf("exit %d", code)
		}
		for rest := out.Bytes(); len(rest) > 0; {
			switch rest[0] {
			case 0:
				rest = rest[1:]
			case 1:
				i := bytes.IndexByte(rest, '\n')
				if i < 0 || !bytes.HasPrefix(rest[1:], []byte("scp: ")) {
					t.Fatalf("answer %q", out.Bytes())
				}
				rest = rest[i+1:]
			default:
				t.Fatalf("answer %q", out.Bytes())
			}
		}
		for _, e := range events {
			if p := e["path"]; !strings.HasPrefix(p, "/tmp/") {
				t.Fatalf("wrote %q", p)
			}
		}
	})
}

// FuzzSFTP feeds arbitrary request streams to the SFTP server: it must
// end with one of sftp-server's statuses and frame every answer.
func FuzzSFTP(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x05\x01\x00\x00\x00\x03"))
	fsys, err := shell.Open(f.TempDir(), shell.System{Hostname: "fuzz", Distro: "debian"})
	if err != nil {
		f.Fatal(err)
	}
	clean := fsys.NewSession(shell.Options{User: "root"})
	f.Fuzz(func(t *testing.T, in []byte) {
		sess := fsys.NewSession(shell.Options{User: "admin"})
		defer clean.Exec(context.Background(), "rm -rf /tmp /home/admin/*; mkdir /tmp; chmod 1777 /tmp", io.Discard, io.Discard)
		var out bytes.Buffer
		code := serveSFTP(sess, pipeRW{bytes.NewReader(in), &out}, &budget{max: 1 << 20}, len(sftpExtensions), func(string, bool, map[string]string) {})
		if code != sftpExitOK && code != sftpExitTooLong && code != sftpExitProtocol {
			t.Fatalf("exit %d", code)
		}
		for rest := out.Bytes(); len(rest) > 0; {
			if len(rest) < 5 {
				t.Fatalf("short answer % x", rest)
			}
			n := int(binary.BigEndian.Uint32(rest))
			if n > len(rest)-4 || n > sftpMaxMsg {
				t.Fatalf("answer of %d bytes in % x", n, rest)
			}
			rest = rest[4+n:]
		}
	})
}

// FuzzSCPArgs parses arbitrary scp command lines: an exec request's words.
func FuzzSCPArgs(f *testing.F) {
	for _, s := range []string{"-t /tmp/", "-r -p -d -t -- /opt", "-prf a b", "-l 10 -o x -f y", "-Z", "-t -P"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		o, bad, ok := parseSCPArgs(strings.Fields(line))
		if ok == (bad != "") || !ok && !strings.HasPrefix(bad, "scp: ") {
			t.Fatalf("%q: %+v %q %v", line, o, bad, ok)
		}
	})
}
