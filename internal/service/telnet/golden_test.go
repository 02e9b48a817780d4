package telnet

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// The real server the transcripts in testdata/golden were recorded from:
// Debian 12's inetutils-telnetd 2:2.4-2+deb12u3 from inetd, with login
// from shadow and Debian's PAM stack, host "vm", kernel 6.18.44-fc-v669.
// telnetd printed "(localhost)" in its banner because of that host's
// /etc/hosts; a decky shows its own name.
const (
	goldenHost    = "vm"
	goldenRelease = "6.18.44-fc-v669"
)

// newTestServer is a server for a throwaway Debian decky with short delays.
func newTestServer(t testing.TB, p *Persona) (*Server, *testutil.Events) {
	t.Helper()
	return newTestServerOn(t, p, "debian", "linux")
}

// newTestServerOn is a server for a throwaway decky of the given distro
// and OS family with short delays.
func newTestServerOn(t testing.TB, p *Persona, distro, os string) (*Server, *testutil.Events) {
	t.Helper()
	ev := &testutil.Events{}
	if p == nil {
		p = &Persona{}
	}
	srv, err := Service{}.New(service.Config{Host: service.Host{Name: "decky-t", Hostname: goldenHost, Distro: distro,
		OS: os, IP: "10.0.0.9", DataDir: t.TempDir()}, Persona: p, Emit: ev})
	if err != nil {
		t.Fatal(err)
	}
	s := srv.(*Server)
	s.release = goldenRelease
	// At least 300 ms even as PAM randomises it, so that replay's 100 ms
	// look for more output after a transcript that ends before a failure's
	// "Login incorrect" does not catch it on a loaded machine.
	s.FailDelay = 600 * time.Millisecond
	return s, ev
}

type step struct {
	dir  byte // 'S' server sends, 'C' client sends, 'E' server closes
	data []byte
}

func loadTranscript(t *testing.T, name string) []step {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []step
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		dir, h, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(h)
		if err != nil || (dir != "S" && dir != "C" && dir != "E") {
			t.Fatalf("%s: bad line %q", name, line)
		}
		if dir == "S" {
			b = bytes.ReplaceAll(b, []byte("(localhost)"), []byte("("+goldenHost+")"))
			b = bytes.ReplaceAll(b, []byte("(pts/1)"), []byte("(pts/0)"))
			// real-products.md was captured while the host ran v657.
			b = bytes.ReplaceAll(b, []byte("6.18.44-fc-v657"), []byte(goldenRelease))
		}
		steps = append(steps, step{dir[0], b})
	}
	return steps
}

// replay plays a transcript against the server at addr: client bytes are
// sent as recorded, server bytes must arrive as recorded (however the
// server splits them), and after the end nothing more may come.
func replay(t *testing.T, addr string, steps []step, fix func([]byte) []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []byte
	for i, s := range steps {
		switch s.dir {
		case 'C':
			if _, err := c.Write(s.data); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		case 'S':
			want := s.data
			if fix != nil {
				want = fix(want)
			}
			b := make([]byte, len(want))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := io.ReadFull(c, b)
			got = append(got, b[:n]...)
			if err != nil || !bytes.Equal(b, want) {
				t.Fatalf("step %d: got %q (%v), want %q\nall so far: %q", i, b[:n], err, want, got)
			}
		case 'E':
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, 64)
			// A closed server resets the connection instead of ending it
			// when the client's last bytes reach it after the close (the
			// recorded client of "logout" sends DO LOGOUT twice): the
			// kernel's choice, for the real telnetd as for us.
			if n, err := c.Read(b); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("step %d: want the server to close, got %d bytes %q, %v", i, n, b[:n], err)
			}
			return
		}
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.Read(make([]byte, 256)); n > 0 || errors.Is(err, io.EOF) {
		t.Fatalf("after the transcript: %d more bytes, %v", n, err)
	}
}

// TestGolden replays every recorded transcript of the real servers
// against the honeypot: option negotiation for each kind of client,
// banner, prompts, echo and line editing, login failures and limits, for
// inetutils telnetd on Debian (testdata/golden) and busybox telnetd on an
// embedded Alpine decky, its default there (testdata/busybox, recorded by
// testdata/run_busybox.sh).
func TestGolden(t *testing.T) {
	for _, kind := range []struct {
		dir, distro, os string
		timeouts        []string // transcripts that end in login's timeout
	}{
		{"golden", "debian", "linux", []string{"timeout"}},
		{"busybox", "alpine", "embedded", []string{"timeout", "empty"}},
	} {
		files, err := filepath.Glob("testdata/" + kind.dir + "/*.txt")
		if err != nil || len(files) == 0 {
			t.Fatalf("no transcripts: %v", err)
		}
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".txt")
			t.Run(kind.dir+"/"+name, func(t *testing.T) {
				t.Parallel()
				// Only busybox's "success", "shelleof" and "inetutils" log in.
				srv, _ := newTestServerOn(t, &Persona{Users: []string{"rptest:Secret123"}}, kind.distro, kind.os)
				var fix func([]byte) []byte
				if slices.Contains(kind.timeouts, name) {
					srv.LoginTimeout = 2 * time.Second
					fix = func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("60 seconds"), []byte("2 seconds")) }
				}
				replay(t, servicetest.ServeTCP(t, srv, "127.0.0.1", 23), loadTranscript(t, f), fix)
			})
		}
	}
}
