package ssh

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdh"
	crand "crypto/rand"
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
}{
	missing: map[string][]string{
		"kex": {"sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "diffie-hellman-group18-sha512"},
		"mac_c2s": {"umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha1-etm@openssh.com",
			"umac-64@openssh.com", "umac-128@openssh.com"},
		"compression_c2s": {"zlib@openssh.com"},
	},
	sshdKexinit: 1136, ourKexinit: 776,
}

// missingFor returns the documented missing names of a field; the
// server-to-client lists lack what the client-to-server ones do.
func missingFor(field string) []string {
	return debianDelta.missing[strings.Replace(field, "_s2c", "_c2s", 1)]
}

// plainPacket is one unencrypted binary packet.
type plainPacket struct {
	raw     []byte // length field included
	payload []byte
	padding []byte
}

// readPacket reads one plaintext packet.
func readPacket(r io.Reader) (plainPacket, error) {
	var p plainPacket
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
	p.payload = p.raw[5 : len(p.raw)-pad]
	return p, nil
}

// checkSSHDPadding reports how a plaintext packet's padding differs from
// sshd's (packet.c without a cipher: the fewest bytes, at least 4, that
// fill 8-byte blocks, all zero).
func checkSSHDPadding(p plainPacket) error {
	if want := sshdPadding(len(p.payload)); len(p.padding) != want {
		return fmt.Errorf("%d bytes of padding after a %d-byte payload, sshd's rule gives %d", len(p.padding), len(p.payload), want)
	}
	if slices.ContainsFunc(p.padding, func(b byte) bool { return b != 0 }) {
		return fmt.Errorf("padding %x is not zero", p.padding)
	}
	return nil
}

// kexinitPacket is a server's first binary packet, split up.
type kexinitPacket struct {
	plainPacket
	lists   [10][]string
	follows byte
}

// readKexinit reads one plaintext packet and parses it as KEXINIT.
func readKexinit(r io.Reader) (kexinitPacket, error) {
	var p kexinitPacket
	var err error
	if p.plainPacket, err = readPacket(r); err != nil {
		return p, err
	}
	if len(p.payload) < 17 || p.payload[0] != 20 {
		return p, errNotKexinit
	}
	rest := p.payload[17:]
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
	log  *testutil.Buffer
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
	log := &testutil.Buffer{}
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

// serverKex is what a server sends up to its NEWKEYS.
type serverKex struct {
	line    string
	kexinit kexinitPacket
	reply   plainPacket // SSH_MSG_KEX_ECDH_REPLY
	newkeys plainPacket
}

// clientKexLists make both servers pick curve25519 and an Ed25519 host
// key, so their replies have equal payload sizes.
var clientKexLists = []string{"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes128-ctr",
	"hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""}

// handshake connects to addr, reads the identification line, sends an
// OpenSSH 9.2 client's, then a KEXINIT and a curve25519 ECDH_INIT, and
// returns the server's plaintext packets up to its NEWKEYS.
func handshake(t *testing.T, addr string) serverKex {
	t.Helper()
	c := testutil.Dial(t, addr, 5*time.Second)
	defer c.Close()
	br := bufio.NewReader(c)
	var k serverKex
	var err error
	if k.line, err = br.ReadString('\n'); err != nil {
		t.Fatalf("%s: identification: %v", addr, err)
	}
	if _, err := io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"); err != nil {
		t.Fatal(err)
	}
	if k.kexinit, err = readKexinit(br); err != nil {
		t.Fatalf("%s: KEXINIT: %v", addr, err)
	}
	priv, err := ecdh.X25519().GenerateKey(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecdhInit := binary.BigEndian.AppendUint32([]byte{30}, 32)
	ecdhInit = append(ecdhInit, priv.PublicKey().Bytes()...)
	out := appendSSHDPacket(appendSSHDPacket(nil, kexinitPayload(clientKexLists)), ecdhInit)
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		p   *plainPacket
		msg byte
	}{{&k.reply, 31}, {&k.newkeys, msgNewKeys}} {
		if *step.p, err = readPacket(br); err != nil {
			t.Fatalf("%s: message %d: %v", addr, step.msg, err)
		}
		if len(step.p.payload) == 0 || step.p.payload[0] != step.msg {
			t.Fatalf("%s: got %x, want message %d", addr, step.p.payload, step.msg)
		}
	}
	return k
}

// TestDifferentialSSHD compares the debian persona's identification,
// KEXINIT and answers to bad identification lines with Debian's real sshd
// on loopback, and checks that they differ exactly as the README says.
func TestDifferentialSSHD(t *testing.T) {
	theirs := startSSHD(t, "127.77.3.2")
	ours := start(t, "127.77.3.1", "debian", &Persona{Password: "pw"}, "")

	real, our := handshake(t, theirs.addr), handshake(t, ours.addr)
	if real.line != our.line {
		t.Errorf("identification: sshd %q, ours %q", real.line, our.line)
	}
	realKex, ourKex := real.kexinit, our.kexinit
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

	// KEXINIT sizes differ only through the lists; every plaintext packet
	// is padded by sshd's rule, which sshd itself must follow too.
	for _, k := range []struct {
		who  string
		kex  serverKex
		size int
	}{{"sshd", real, debianDelta.sshdKexinit}, {"ours", our, debianDelta.ourKexinit}} {
		t.Logf("%s: KEXINIT %d bytes, padding %x", k.who, len(k.kex.kexinit.raw), k.kex.kexinit.padding)
		if len(k.kex.kexinit.raw) != k.size {
			t.Errorf("%s: KEXINIT is %d bytes, README says %d", k.who, len(k.kex.kexinit.raw), k.size)
		}
		for name, p := range map[string]plainPacket{"KEXINIT": k.kex.kexinit.plainPacket, "KEX_ECDH_REPLY": k.kex.reply, "NEWKEYS": k.kex.newkeys} {
			if err := checkSSHDPadding(p); err != nil {
				t.Errorf("%s %s: %v", k.who, name, err)
			}
		}
	}
	t.Logf("ECDH reply: sshd %d bytes, ours %d", len(real.reply.raw), len(our.reply.raw))
	if len(real.reply.raw) != len(our.reply.raw) || !bytes.Equal(real.newkeys.raw, our.newkeys.raw) {
		t.Errorf("ECDH reply %d bytes and NEWKEYS %x from sshd; ours %d bytes and %x",
			len(real.reply.raw), real.newkeys.raw, len(our.reply.raw), our.newkeys.raw)
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

// TestDifferentialMaxStartups opens 40 unauthenticated connections to a
// fresh Debian sshd (MaxStartups left at 10:30:100) and checks what
// TestMaxStartups assumes of it: the refusal's text and FIN, and a number
// of banners sshd's rule makes all but certain (outside 17..39 about once
// in a million runs).
func TestDifferentialMaxStartups(t *testing.T) {
	theirs := startSSHD(t, "127.77.3.3")
	banners, refused := burst(t, theirs.addr, "127.77.3.4", 40)
	t.Logf("sshd: %d banners, %d refusals", len(banners), refused)
	if len(banners) < 17 || len(banners) > 39 {
		t.Errorf("sshd gave %d banners to 40 connections", len(banners))
	}
}

// probe sends one bad identification line and returns everything the
// server said and how the connection ended.
func probe(t *testing.T, addr, send string) (string, string) {
	t.Helper()
	c := testutil.Dial(t, addr, 3*time.Second)
	defer c.Close()
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
