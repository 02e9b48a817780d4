package ssh

import (
	"bytes"
	"errors"
	"io"
	"testing"
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
