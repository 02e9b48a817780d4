package ssh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"decnet/internal/shell"
	"decnet/internal/testutil"
)

// newTestShell opens a fresh fake filesystem and logs user in.
func newTestShell(t testing.TB, user string) *shell.Session {
	t.Helper()
	f, err := shell.Open(t.TempDir(), shell.System{Hostname: "SRV-WEB-17", Distro: "debian", IP: "10.0.0.23"})
	if err != nil {
		t.Fatal(err)
	}
	sess := f.NewSession(shell.Options{User: user, RemoteIP: "203.0.113.9"})
	t.Cleanup(func() { sess.Close() })
	return sess
}

// pipeRW joins a reader and a writer into the channel a server sees.
type pipeRW struct {
	io.Reader
	io.Writer
}

// sftpPeer is a running SFTP server with a raw client on it.
type sftpPeer struct {
	t    testing.TB
	in   io.WriteCloser
	out  io.Reader
	exit chan int
}

// startOurSFTP runs serveSFTP on sess over pipes, buffered like a
// channel's window.
func startOurSFTP(t testing.TB, sess *shell.Session, log sftpLog) *sftpPeer {
	t.Helper()
	cr, sw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	sr, cw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cr.Close(); sr.Close() })
	p := &sftpPeer{t: t, in: cw, out: cr, exit: make(chan int, 1)}
	if log == nil {
		log = func(string, bool, map[string]string) {}
	}
	go func() {
		p.exit <- serveSFTP(sess, pipeRW{sr, sw}, &budget{max: transferBudget}, len(sftpExtensions), log)
		sw.Close()
	}()
	t.Cleanup(func() { cw.Close() })
	return p
}

// startRealSFTP runs OpenSSH's sftp-server in dir, with the open-file
// limit of a systemd service.
func startRealSFTP(t testing.TB, dir string) *sftpPeer {
	t.Helper()
	bin := testutil.RequireTool(t, "/usr/lib/openssh/sftp-server")
	cmd := exec.Command("sh", "-c", "ulimit -n 1024; umask 022; exec "+bin)
	cmd.Dir = dir
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &sftpPeer{t: t, in: in, out: out, exit: make(chan int, 1)}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		p.exit <- cmd.ProcessState.ExitCode()
		close(done)
	}()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	return p
}

// packet encodes an SFTP packet: each field a byte, a uint32, a uint64, a
// string or a []byte (a string on the wire), or raw bytes in a [][]byte.
func packet(fields ...any) []byte {
	var b []byte
	for _, f := range fields {
		switch v := f.(type) {
		case byte:
			b = append(b, v)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, v)
		case string:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case []byte:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case [][]byte:
			for _, raw := range v {
				b = append(b, raw...)
			}
		default:
			panic(fmt.Sprintf("packet field %T", f))
		}
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func (p *sftpPeer) send(fields ...any) {
	p.t.Helper()
	if _, err := p.in.Write(packet(fields...)); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// recv reads one reply, nil when none comes within a second.
func (p *sftpPeer) recv() []byte {
	p.t.Helper()
	got := make(chan []byte, 1)
	go func() {
		var hdr [4]byte
		if _, err := io.ReadFull(p.out, hdr[:]); err != nil {
			got <- nil
			return
		}
		b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		io.ReadFull(p.out, b)
		got <- b
	}()
	select {
	case b := <-got:
		return b
	case <-time.After(2 * time.Second):
		return nil
	}
}

func handle(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

// nameEntries parses an SSH_FXP_NAME reply into each name's long name and
// attributes, as text.
func nameEntries(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	if len(b) < 9 || b[0] != fxpName {
		t.Errorf("not a NAME reply: % x", b)
		return out
	}
	r := &sftpReader{b: b[9:]}
	for n := binary.BigEndian.Uint32(b[5:]); n > 0 && r.err == nil; n-- {
		name, long := r.cstring(), r.cstring()
		a := r.attrs()
		out[name] = fmt.Sprintf("%s %+v", long, a)
	}
	if r.err != nil {
		t.Errorf("NAME reply: %v", r.err)
	}
	return out
}

func noAttrs() uint32 { return 0 }

// TestSFTPMatchesOpenSSH sends the same requests to OpenSSH's sftp-server
// and to ours, on the same tree, and expects the same bytes back.
func TestSFTPMatchesOpenSSH(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(dir, "d", "f"), []byte("hello\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "e"), 0o755)
	os.WriteFile(filepath.Join(dir, "e", "x"), nil, 0o644)
	os.Symlink("d/f", filepath.Join(dir, "ln"))
	mtime := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	os.Chtimes(filepath.Join(dir, "e", "x"), mtime, mtime)
	real := startRealSFTP(t, dir)

	sess := newTestShell(t, "root")
	for _, err := range []error{sess.Mkdir("d", 0o755), sess.Upload("d/f", []byte("hello\n")), sess.Mkdir("e", 0o755),
		sess.Upload("e/x", nil), sess.Symlink("d/f", "ln"), sess.Chtimes("e/x", mtime, true)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ours := startOurSFTP(t, sess, nil)

	const (
		open   = byte(fxpOpen)
		ext    = byte(fxpExtended)
		rdwr   = uint32(fxfWrite | fxfCreat | fxfTrunc)
		perm   = uint32(attrPerm)
		nobody = "nosuchuserxyz"
	)
	tests := []struct {
		name   string
		req    []any
		prefix int // compare only this many bytes of the reply (0: all)
	}{
		{"init", []any{byte(fxpInit), uint32(3)}, 0},
		{"limits", []any{ext, uint32(1), "limits@openssh.com"}, 0},
		{"stat missing", []any{byte(fxpStat), uint32(2), "nope"}, 0},
		{"lstat link", []any{byte(fxpLstat), uint32(3), "ln"}, 1 + 4 + 4 + 8 + 8}, // type, id, flags, size, uid+gid
		{"opendir file", []any{byte(fxpOpendir), uint32(4), "d/f"}, 0},
		{"opendir missing", []any{byte(fxpOpendir), uint32(5), "nope"}, 0},
		{"mkdir existing", []any{byte(fxpMkdir), uint32(6), "d", noAttrs()}, 0},
		{"mkdir no parent", []any{byte(fxpMkdir), uint32(7), "nope/x", noAttrs()}, 0},
		{"rmdir not empty", []any{byte(fxpRmdir), uint32(8), "e"}, 0},
		{"rmdir file", []any{byte(fxpRmdir), uint32(9), "d/f"}, 0},
		{"remove dir", []any{byte(fxpRemove), uint32(10), "e"}, 0},
		{"remove missing", []any{byte(fxpRemove), uint32(11), "nope"}, 0},
		{"open missing", []any{open, uint32(12), "nope", uint32(fxfRead), noAttrs()}, 0},
		{"open dir for write", []any{open, uint32(13), "d", uint32(fxfWrite), noAttrs()}, 0},
		{"create", []any{open, uint32(14), "new", rdwr, perm, uint32(0o644)}, 0},
		{"write", []any{byte(fxpWrite), uint32(15), handle(0), uint64(0), "abc"}, 0},
		{"fstat written", []any{byte(fxpFstat), uint32(16), handle(0)}, 1 + 4 + 4 + 8 + 8 + 4},
		{"close", []any{byte(fxpClose), uint32(17), handle(0)}, 0},
		{"close again", []any{byte(fxpClose), uint32(18), handle(0)}, 0},
		{"open read", []any{open, uint32(19), "new", uint32(fxfRead), noAttrs()}, 0},
		{"read", []any{byte(fxpRead), uint32(20), handle(0), uint64(0), uint32(100)}, 0},
		{"read at end", []any{byte(fxpRead), uint32(21), handle(0), uint64(3), uint32(100)}, 0},
		{"write read-only", []any{byte(fxpWrite), uint32(22), handle(0), uint64(0), "x"}, 0},
		{"read bad handle", []any{byte(fxpRead), uint32(23), handle(9), uint64(0), uint32(1)}, 0},
		{"read short handle", []any{byte(fxpRead), uint32(24), []byte{1}, uint64(0), uint32(1)}, 0},
		{"close read", []any{byte(fxpClose), uint32(25), handle(0)}, 0},
		{"readlink file", []any{byte(fxpReadlink), uint32(26), "d/f"}, 0},
		{"readlink", []any{byte(fxpReadlink), uint32(27), "ln"}, 0},
		{"rename onto file", []any{byte(fxpRename), uint32(28), "new", "d/f"}, 0},
		{"posix-rename", []any{ext, uint32(29), "posix-rename@openssh.com", "new", "new2"}, 0},
		{"symlink exists", []any{byte(fxpSymlink), uint32(30), "d/f", "ln"}, 0},
		{"unknown extension", []any{ext, uint32(31), "nope@example.com"}, 0},
		{"expand unknown user", []any{ext, uint32(32), "expand-path@openssh.com", "~" + nobody}, 0},
		{"home unknown user", []any{ext, uint32(33), "home-directory", nobody}, 0},
		{"users-groups-by-id", []any{ext, uint32(34), "users-groups-by-id@openssh.com", handle(0), handle(0)}, 0},
		{"realpath missing parent", []any{byte(fxpRealpath), uint32(35), "nope/x"}, 0},
		{"fsync bad handle", []any{ext, uint32(36), "fsync@openssh.com", handle(7)}, 0},
		{"setstat mode", []any{byte(fxpSetstat), uint32(37), "new2", perm, uint32(0o600)}, 0},
		{"lsetstat size", []any{ext, uint32(38), "lsetstat@openssh.com", "new2", uint32(attrSize), uint64(1)}, 0},
		{"statvfs missing", []any{ext, uint32(39), "statvfs@openssh.com", "nope"}, 0},
		{"hardlink onto file", []any{ext, uint32(40), "hardlink@openssh.com", "new2", "d/f"}, 0},
		{"hardlink dir", []any{ext, uint32(41), "hardlink@openssh.com", "d", "d2"}, 0},
		{"opendir", []any{byte(fxpOpendir), uint32(42), "e"}, 0},
		{"readdir", []any{byte(fxpReaddir), uint32(43), handle(0)}, 1 + 4 + 4}, // the count: ., .., x
		{"readdir end", []any{byte(fxpReaddir), uint32(44), handle(0)}, 0},
		{"readdir file handle", []any{byte(fxpReaddir), uint32(45), handle(5)}, 0},
		{"closedir", []any{byte(fxpClose), uint32(46), handle(0)}, 0},
		{"mkdir", []any{byte(fxpMkdir), uint32(47), "m", perm, uint32(0o700)}, 0},
		{"rmdir", []any{byte(fxpRmdir), uint32(48), "m"}, 0},
		{"remove", []any{byte(fxpRemove), uint32(49), "new2"}, 0},
	}
	for _, tt := range tests {
		real.send(tt.req...)
		ours.send(tt.req...)
		want, got := real.recv(), ours.recv()
		if tt.prefix > 0 && len(want) >= tt.prefix && len(got) >= tt.prefix {
			want, got = want[:tt.prefix], got[:tt.prefix]
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%s:\n got % x\nwant % x", tt.name, got, want)
		}
	}

	// A directory entry: the same long name and attributes for the same
	// file.
	for _, p := range []*sftpPeer{real, ours} {
		p.send(byte(fxpOpendir), uint32(60), "e")
		p.recv()
		p.send(byte(fxpReaddir), uint32(61), handle(0))
	}
	want, got := nameEntries(t, real.recv())["x"], nameEntries(t, ours.recv())["x"]
	if want == "" || got != want {
		t.Errorf("readdir entry x:\n got %q\nwant %q", got, want)
	}

	// An unknown request type gets no answer at all. (sftp-server then
	// leaves what is queued behind it until more input comes: the third
	// request wakes it.)
	for _, p := range []*sftpPeer{real, ours} {
		p.send(byte(99), uint32(50))
		p.send(byte(fxpStat), uint32(51), "nope")
	}
	time.Sleep(200 * time.Millisecond)
	for _, p := range []*sftpPeer{real, ours} {
		p.send(byte(fxpStat), uint32(52), "nope")
	}
	for _, id := range []uint32{51, 52} {
		if want, got := real.recv(), ours.recv(); !bytes.Equal(want, got) || len(got) < 5 || binary.BigEndian.Uint32(got[1:]) != id {
			t.Errorf("after an unknown type: got % x, want % x", got, want)
		}
	}
}

// TestSFTPExitStatus checks how the server ends, as sftp-server does.
func TestSFTPExitStatus(t *testing.T) {
	tests := []struct {
		name string
		send [][]byte
		want int
	}{
		{"input ends", nil, sftpExitOK},
		{"input ends in a long header", [][]byte{binary.BigEndian.AppendUint32(nil, sftpMaxMsg+1)}, sftpExitOK},
		{"request before init", [][]byte{packet(byte(fxpStat), uint32(1), "x")}, sftpExitProtocol},
		{"extended before init", [][]byte{packet(byte(fxpExtended), uint32(1), "limits@openssh.com")}, sftpExitProtocol},
		{"message too long", [][]byte{binary.BigEndian.AppendUint32(nil, sftpMaxMsg+1), {1}}, sftpExitTooLong},
		{"truncated field", [][]byte{packet(byte(fxpInit), uint32(3)), packet(byte(fxpStat), uint32(1), [][]byte{{0, 0, 0, 9, 'a'}})}, sftpExitProtocol},
		{"NUL in a path", [][]byte{packet(byte(fxpInit), uint32(3)), packet(byte(fxpStat), uint32(1), "a\x00b")}, sftpExitProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var codes []int
			peers := []*sftpPeer{startOurSFTP(t, newTestShell(t, "root"), nil)}
			if _, err := exec.LookPath("/usr/lib/openssh/sftp-server"); err == nil || testutil.InCI() {
				peers = append(peers, startRealSFTP(t, t.TempDir()))
			}
			for _, p := range peers {
				go io.Copy(io.Discard, p.out)
				for _, b := range tt.send {
					p.in.Write(b)
				}
				// sftp-server drops what is queued once its input ends, so
				// input stays open unless ending it is the test (or the
				// message is left unfinished, which it waits for).
				if tt.want == sftpExitOK {
					p.in.Close()
				}
				select {
				case c := <-p.exit:
					codes = append(codes, c)
				case <-time.After(5 * time.Second):
					t.Fatal("server did not exit")
				}
			}
			for _, c := range codes {
				if c != tt.want {
					t.Errorf("exit statuses %v, want %d", codes, tt.want)
				}
			}
		})
	}
}

// TestSFTPWithGoClient drives the server with an independent client
// implementation through the operations tools use.
func TestSFTPWithGoClient(t *testing.T) {
	sess := newTestShell(t, "admin")
	var mu sync.Mutex
	var logged []string
	p := startOurSFTP(t, sess, func(op string, change bool, f map[string]string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, op+" "+f["path"]+" "+f["status"])
	})
	c, err := sftp.NewClientPipe(p.out, p.in)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if wd, err := c.Getwd(); err != nil || wd != "/home/admin" {
		t.Errorf("getwd: %q %v", wd, err)
	}
	payload := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 KB: several writes
	f, err := c.Create("drop.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(payload); err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len(payload)) {
		t.Errorf("fstat while open: %v %v", fi, err)
	}
	f.Close()
	if got, err := sess.ReadFile("/home/admin/drop.bin"); err != nil || !bytes.Equal(got, payload) {
		t.Errorf("fake filesystem holds %d bytes, %v", len(got), err)
	}
	r, err := c.Open("drop.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("read back %d bytes, %v", len(got), err)
	}
	if err := c.Mkdir("sub"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("drop.bin", "sub/d.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.Chmod("sub/d.bin", 0o700); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := c.Chtimes("sub/d.bin", mt, mt); err != nil {
		t.Fatal(err)
	}
	fi, err := c.Stat("sub/d.bin")
	if err != nil || fi.Mode().Perm() != 0o700 || !fi.ModTime().Equal(mt) || fi.Size() != int64(len(payload)) {
		t.Errorf("stat after chmod/chtimes: %v %v", fi, err)
	}
	if err := c.Symlink("sub/d.bin", "l"); err != nil {
		t.Fatal(err)
	}
	if tgt, err := c.ReadLink("l"); err != nil || tgt != "sub/d.bin" {
		t.Errorf("readlink: %q %v", tgt, err)
	}
	ents, err := c.ReadDir("/home/admin")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != ".bash_history .bash_logout .bashrc .profile .ssh l sub" {
		t.Errorf("readdir: %s", got)
	}
	if _, err := c.Open("/etc/shadow"); !errors.Is(err, os.ErrPermission) {
		t.Errorf("open /etc/shadow as admin: %v", err)
	}
	if err := c.Remove("/etc/passwd"); !errors.Is(err, os.ErrPermission) {
		t.Errorf("remove /etc/passwd as admin: %v", err)
	}
	if vfs, err := c.StatVFS("/"); err != nil || vfs.Bsize != 4096 || vfs.Blocks == 0 || vfs.Bfree > vfs.Blocks {
		t.Errorf("statvfs: %+v %v", vfs, err)
	}
	if err := c.Truncate("sub/d.bin", 10); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDirectory("sub"); err == nil {
		t.Error("rmdir of a full directory worked")
	}
	if err := c.Remove("sub/d.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDirectory("sub"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"open drop.bin success", "close drop.bin success", "mkdir sub success", "open /etc/shadow permission denied",
		"remove /etc/passwd permission denied", "rmdir sub failure", "rmdir sub success"} {
		if !strings.Contains(strings.Join(logged, "\n"), want) {
			t.Errorf("log lacks %q:\n%s", want, strings.Join(logged, "\n"))
		}
	}
}

// TestSFTPBounds checks the limits on handles, file size and memory.
func TestSFTPBounds(t *testing.T) {
	sess := newTestShell(t, "root")
	p := startOurSFTP(t, sess, nil)
	p.send(byte(fxpInit), uint32(3))
	p.recv()
	status := func(b []byte) uint32 {
		if len(b) < 9 || b[0] != fxpStatus {
			return 1 << 31
		}
		return binary.BigEndian.Uint32(b[5:])
	}
	for i := range sftpMaxHandles {
		p.send(byte(fxpOpendir), uint32(i), "/")
		if b := p.recv(); len(b) == 0 || b[0] != fxpHandle {
			t.Fatalf("opendir %d: % x", i, b)
		}
	}
	p.send(byte(fxpOpendir), uint32(999), "/")
	if got := status(p.recv()); got != fxFailure {
		t.Errorf("handle %d: status %d, want failure", sftpMaxHandles+1, got)
	}
	p.send(byte(fxpClose), uint32(1000), handle(5))
	p.recv()
	p.send(byte(fxpOpen), uint32(1001), "/tmp/big", uint32(fxfWrite|fxfCreat), noAttrs())
	if b := p.recv(); len(b) < 13 || b[0] != fxpHandle || !bytes.Equal(b[9:13], handle(5)) {
		t.Fatalf("open reuses the freed handle: % x", b)
	}
	p.send(byte(fxpWrite), uint32(1002), handle(5), uint64(maxUpload), "x")
	if got := status(p.recv()); got != fxFailure {
		t.Errorf("write past the cap: status %d", got)
	}
	p.send(byte(fxpWrite), uint32(1003), handle(5), uint64(shell.MaxFileSize), "x")
	if got := status(p.recv()); got != fxOK {
		t.Errorf("write past the filesystem's limit: status %d", got)
	}
	// The bytes are captured, but the filesystem refuses them: a full disk.
	p.send(byte(fxpClose), uint32(1004), handle(5))
	if got := status(p.recv()); got != fxFailure {
		t.Errorf("close of an oversized file: status %d", got)
	}
}

// TestSFTPReleases checks the extensions each persona's sftp-server has.
func TestSFTPReleases(t *testing.T) {
	tests := []struct {
		version string
		last    string // the last extension advertised
	}{
		{"OpenSSH_7.4", "fsync@openssh.com"},
		{"OpenSSH_8.2p1 Ubuntu-4ubuntu0.13", "lsetstat@openssh.com"},
		{"OpenSSH_8.7", "expand-path@openssh.com"},
		{"OpenSSH_8.9p1 Ubuntu-3ubuntu0.13", "expand-path@openssh.com"},
		{"OpenSSH_9.0", "copy-data"},
		{"OpenSSH_9.2p1 Debian-2+deb12u10", "users-groups-by-id@openssh.com"},
		{"OpenSSH_10.0p2 Debian-5", "users-groups-by-id@openssh.com"},
		{"dropbear", "users-groups-by-id@openssh.com"},
	}
	for _, tt := range tests {
		if n := sftpExtensionsOf(tt.version); sftpExtensions[n-1][0] != tt.last {
			t.Errorf("%s: %d extensions, up to %s; want up to %s", tt.version, n, sftpExtensions[n-1][0], tt.last)
		}
	}
	// An older release has no handler for a later extension.
	sess := newTestShell(t, "root")
	cr, sw, _ := os.Pipe()
	sr, cw, _ := os.Pipe()
	defer cr.Close()
	defer cw.Close()
	go func() {
		serveSFTP(sess, pipeRW{sr, sw}, &budget{max: transferBudget}, sftpExtensionsOf("OpenSSH_8.2p1"), func(string, bool, map[string]string) {})
		sw.Close()
	}()
	p := &sftpPeer{t: t, in: cw, out: cr}
	p.send(byte(fxpInit), uint32(3))
	if v := p.recv(); bytes.Contains(v, []byte("limits@openssh.com")) || !bytes.Contains(v, []byte("lsetstat@openssh.com")) {
		t.Errorf("8.2's VERSION: %q", v)
	}
	p.send(byte(fxpExtended), uint32(1), "limits@openssh.com")
	if b := p.recv(); len(b) < 9 || b[0] != fxpStatus || binary.BigEndian.Uint32(b[5:]) != fxOpUnsupported {
		t.Errorf("limits on 8.2: % x", b)
	}
}

// TestBudget checks the shared transfer allowance.
func TestBudget(t *testing.T) {
	b := &budget{max: 10}
	tests := []struct {
		take int64
		ok   bool
	}{{4, true}, {6, true}, {1, false}, {-1, false}}
	for _, tt := range tests {
		if got := b.take(tt.take); got != tt.ok {
			t.Errorf("take(%d) = %v, want %v", tt.take, got, tt.ok)
		}
	}
	b.give(5)
	if !b.take(5) || b.take(1) {
		t.Error("give did not return the bytes")
	}
}
