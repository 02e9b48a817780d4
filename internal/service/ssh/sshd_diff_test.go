package ssh

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// kexFields names the ten name-lists of a KEXINIT, in wire order.
var kexFields = [10]string{"kex", "host_key", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c",
	"compression_c2s", "compression_s2c", "lang_c2s", "lang_s2c"}

// debianDelta mirrors the debian row of the README's "missing vs real sshd"
// column and its packet facts: the test derives the expected lists from
// sshd's and this table, so a change in sshd, in our server or in the
// README's claims without the other fails.
var debianDelta = struct {
	missing                 map[string][]string // per KEXINIT field, names sshd advertises and we do not
	sshdKexinit, ourKexinit int                 // whole packet, bytes
	sshdBlock, ourBlock     int                 // plaintext padding multiple
}{
	missing: map[string][]string{
		"kex": {"sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "diffie-hellman-group18-sha512"},
		"mac_c2s": {"umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha1-etm@openssh.com",
			"umac-64@openssh.com", "umac-128@openssh.com"},
		"compression_c2s": {"zlib@openssh.com"},
	},
	sshdKexinit: 1136, ourKexinit: 784,
	sshdBlock: 8, ourBlock: 16,
}

// missingFor returns the documented missing names of a field; the
// server-to-client lists lack what the client-to-server ones do.
func missingFor(field string) []string {
	return debianDelta.missing[strings.Replace(field, "_s2c", "_c2s", 1)]
}

// kexinitPacket is a server's first binary packet, split up.
type kexinitPacket struct {
	raw     []byte // length field included
	padding []byte
	lists   [10][]string
	follows byte
}

// readKexinit reads one plaintext packet and parses it as KEXINIT.
func readKexinit(r io.Reader) (kexinitPacket, error) {
	var p kexinitPacket
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return p, fmt.Errorf("packet length: %w", err)
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size < 5 || size > maxKexinit {
		return p, fmt.Errorf("packet length %d", size)
	}
	p.raw = make([]byte, 4+size)
	copy(p.raw, hdr[:])
	if _, err := io.ReadFull(r, p.raw[4:]); err != nil {
		return p, fmt.Errorf("packet body: %w", err)
	}
	pad := int(p.raw[4])
	if pad+1 > int(size) {
		return p, fmt.Errorf("padding %d of %d", pad, size)
	}
	p.padding = p.raw[len(p.raw)-pad:]
	payload := p.raw[5 : len(p.raw)-pad]
	if len(payload) < 17 || payload[0] != 20 {
		return p, errNotKexinit
	}
	rest := payload[17:]
	for i := range p.lists {
		if len(rest) < 4 || uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4) {
			return p, errNotKexinit
		}
		n := binary.BigEndian.Uint32(rest)
		if n > 0 {
			p.lists[i] = strings.Split(string(rest[4:4+n]), ",")
		}
		rest = rest[4+n:]
	}
	if len(rest) != 5 {
		return p, fmt.Errorf("%d bytes after the name-lists: %w", len(rest), errNotKexinit)
	}
	p.follows = rest[0]
	return p, nil
}

// sshdReady is a real sshd serving on a loopback address.
type sshdReady struct {
	addr string
	log  *syncBuffer
}

// syncBuffer collects sshd's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSSHD runs Debian's sshd in the foreground on ip with fresh host keys
// and the stock algorithm defaults, until the test ends.
func startSSHD(t *testing.T, ip string) sshdReady {
	t.Helper()
	testutil.RequireRoot(t, "to run sshd")
	if !strings.Contains(os.Getenv("PATH"), "/usr/sbin") {
		t.Setenv("PATH", os.Getenv("PATH")+":/usr/sbin")
	}
	sshd := testutil.RequireTool(t, "sshd")
	keygen := testutil.RequireTool(t, "ssh-keygen")
	// sshd refuses to start without its privilege separation directory,
	// which the package's init script creates at boot.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conf := []string{}
	// Debian's default HostKey order: rsa, ecdsa, ed25519.
	for _, typ := range []string{"rsa", "ecdsa", "ed25519"} {
		key := filepath.Join(dir, "ssh_host_"+typ+"_key")
		if out, err := exec.CommandContext(ctx, keygen, "-q", "-t", typ, "-N", "", "-f", key).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen %s: %v\n%s", typ, err, out)
		}
		conf = append(conf, "HostKey "+key)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf = append(conf, "ListenAddress "+addr, "PidFile none", "UsePAM no", "KbdInteractiveAuthentication no")
	cfg := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(log.String(), "Server listening on") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not start:\n%s", log.String())
		}
	}
	return sshdReady{addr: addr, log: log}
}

// handshake connects to addr, reads the identification line, sends an
// OpenSSH 9.2 client's and returns the server's line and first packet.
func handshake(t *testing.T, addr string) (string, kexinitPacket) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("%s: identification: %v", addr, err)
	}
	if _, err := io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"); err != nil {
		t.Fatal(err)
	}
	p, err := readKexinit(br)
	if err != nil {
		t.Fatalf("%s: KEXINIT: %v", addr, err)
	}
	return line, p
}

// TestDifferentialSSHD compares the debian persona's identification,
// KEXINIT and answers to bad identification lines with Debian's real sshd
// on loopback, and checks that they differ exactly as the README says.
func TestDifferentialSSHD(t *testing.T) {
	theirs := startSSHD(t, "127.77.3.2")
	ours := start(t, "127.77.3.1", "debian", &Persona{Password: "pw"}, "")

	realLine, realKex := handshake(t, theirs.addr)
	ourLine, ourKex := handshake(t, ours.addr)
	if realLine != ourLine {
		t.Errorf("identification: sshd %q, ours %q", realLine, ourLine)
	}
	for i, field := range kexFields {
		missing := missingFor(field)
		for _, name := range missing {
			if !slices.Contains(realKex.lists[i], name) {
				t.Errorf("%s: the README says we lack %s, but sshd does not advertise it either", field, name)
			}
		}
		want := slices.DeleteFunc(slices.Clone(realKex.lists[i]), func(n string) bool { return slices.Contains(missing, n) })
		if !slices.Equal(ourKex.lists[i], want) {
			t.Errorf("%s:\n sshd %v\n ours %v\n want %v", field, realKex.lists[i], ourKex.lists[i], want)
		}
	}
	if realKex.follows != 0 || ourKex.follows != 0 {
		t.Errorf("first_kex_packet_follows: sshd %d, ours %d", realKex.follows, ourKex.follows)
	}

	packets := []struct {
		who     string
		p       kexinitPacket
		size    int
		block   int
		zeroPad bool
	}{
		{"sshd", realKex, debianDelta.sshdKexinit, debianDelta.sshdBlock, true},
		{"ours", ourKex, debianDelta.ourKexinit, debianDelta.ourBlock, false},
	}
	for _, pk := range packets {
		t.Logf("%s: KEXINIT %d bytes, padding %x", pk.who, len(pk.p.raw), pk.p.padding)
		if len(pk.p.raw) != pk.size {
			t.Errorf("%s: KEXINIT is %d bytes, README says %d", pk.who, len(pk.p.raw), pk.size)
		}
		// The smallest padding (4..block+3) that fills a block: a larger
		// multiple would also divide but is not what the README claims.
		if len(pk.p.raw)%pk.block != 0 || len(pk.p.padding) < 4 || len(pk.p.padding) >= pk.block+4 {
			t.Errorf("%s: %d bytes with %d padding, not padded to %d", pk.who, len(pk.p.raw), len(pk.p.padding), pk.block)
		}
		if allZero := !slices.ContainsFunc(pk.p.padding, func(b byte) bool { return b != 0 }); allZero != pk.zeroPad {
			t.Errorf("%s: padding %x, zero padding documented: %v", pk.who, pk.p.padding, pk.zeroPad)
		}
	}

	// The README's "Behaviour matched" claims for bad identification lines:
	// the same reply and the same end (FIN, or RST when input stays unread).
	probes := []struct{ name, send string }{
		{"non-SSH line", "GET / HTTP/1.0\r\n\r\n"},
		{"ssh1", "SSH-1.5-x\r\n"},
		{"bare CR", "SSH-2.0-a\rb\r\n"},
		{"CR first", "\rSSH-2.0-x\r\n"},
		{"honeydet", "SSH-1111-x\r\n"},
		{"NUL", "SSH-2.0-a\x00b\r\n"},
		{"no software version", "SSH-2.0-\r\n"},
	}
	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) {
			realOut, realEnd := probe(t, theirs.addr, pr.send)
			ourOut, ourEnd := probe(t, ours.addr, pr.send)
			t.Logf("sshd %q then %s", realOut, realEnd)
			if realOut != ourOut || realEnd != ourEnd {
				t.Errorf("sshd %q then %s, ours %q then %s", realOut, realEnd, ourOut, ourEnd)
			}
		})
	}
}

// probe sends one bad identification line and returns everything the
// server said and how the connection ended.
func probe(t *testing.T, addr, send string) (string, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, send); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(c)
	var ne net.Error
	switch {
	case err == nil:
		return string(out), "FIN"
	case errors.Is(err, syscall.ECONNRESET):
		return string(out), "RST"
	case errors.As(err, &ne) && ne.Timeout():
		return string(out), "open"
	default:
		return string(out), err.Error()
	}
}
