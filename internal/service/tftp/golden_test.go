package tftp

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// A flow is a request and what follows it: each step sends a datagram to
// the transfer's port (learned from the first reply), or expects one
// exact datagram, or expects silence.
type flow struct {
	name string
	req  []byte
	// steps after the request; a flow with none expects silence.
	steps []step
	// stale marks answers that tftp-hpa takes from whatever an earlier,
	// longer request left in its buffer (an unterminated last string, an
	// empty datagram): ours are fixed, so the differential test skips
	// them.
	stale bool
	// create flows need an upload target: a new file for us, the
	// world-writable up.bin for the stock server.
	create bool
}

type step struct {
	send, want string
	fromOther  bool // send from another socket (another TID)
}

func want(s string) step { return step{want: s} }
func send(s string) step { return step{send: s} }

const silence = ""

// errPkt is an ERROR packet.
func errPkt(code uint16, msg string) string { return string(errorPacket(tftpError{code, msg})) }

// goldenFlows are tftpd-hpa 5.2+20150808-1.4's answers, captured from
// `in.tftpd -L -a 127.0.0.66:69 -s /srv/tftp -u tftp --secure` holding
// testFiles (big.bin's bytes differ from the capture's random ones).
func goldenFlows() []flow {
	files := testFiles()
	big := files["big.bin"]
	notFound := errPkt(1, "File not found")
	missingMode := errPkt(4, "Missing mode")
	unsupported := errPkt(8, "Unsupported option(s) requested")
	hello := "\x00\x03\x00\x01hello\n"
	many := func(n int) []string {
		var s []string
		for range n {
			s = append(s, "tsize", "0")
		}
		return s
	}
	bigOACK := "\x00\x06" + strings.Repeat("tsize\x001500\x00", 5951)
	return []flow{
		{name: "missing", req: rrq("nope", "octet"), steps: []step{want(notFound)}},
		{name: "missing netascii", req: rrq("nope", "netascii"), steps: []step{want(notFound)}},
		{name: "file", req: rrq("hello.txt", "octet"), steps: []step{want(hello)}},
		{name: "directory", req: rrq("pxelinux.cfg", "octet"), steps: []step{want(errPkt(0, "Is a directory"))}},
		{name: "dot", req: rrq(".", "octet"), steps: []step{want(errPkt(0, "Is a directory"))}},
		{name: "empty name", req: rrq("", "octet"), steps: []step{want(missingMode)}},
		{name: "no mode", req: rrq("hello.txt"), steps: []step{want(missingMode)}},
		{name: "empty mode", req: rrq("hello.txt", ""), steps: []step{want(missingMode)}},
		{name: "mode unterminated", req: []byte("\x00\x01hello.txt\x00octet"), stale: true,
			steps: []step{want(errPkt(4, "Request not null-terminated"))}},
		{name: "name unterminated", req: []byte("\x00\x01hello.txt"), stale: true,
			steps: []step{want(errPkt(4, "Request not null-terminated"))}},
		{name: "option unterminated", req: []byte("\x00\x01hello.txt\x00octet\x00blksize\x00512"), stale: true,
			steps: []step{want(errPkt(4, "Request not null-terminated"))}},
		{name: "mode mail", req: rrq("hello.txt", "mail"), steps: []step{want(errPkt(4, "Unknown mode"))}},
		{name: "mode upper case", req: rrq("hello.txt", "OCTET"), steps: []step{want(hello)}},
		{name: "mode before file", req: rrq("nope", "foo"), steps: []step{want(errPkt(4, "Unknown mode"))}},
		{name: "tsize blksize", req: rrq("hello.txt", "octet", "tsize", "0", "blksize", "1428"),
			steps: []step{want("\x00\x06tsize\x006\x00blksize\x001428\x00")}},
		{name: "file before options", req: rrq("nope", "octet", "tsize", "0"), steps: []step{want(notFound)}},
		{name: "blksize 7", req: rrq("hello.txt", "octet", "blksize", "7"), steps: []step{want(unsupported)}},
		{name: "blksize capped", req: rrq("hello.txt", "octet", "blksize", "70000"), steps: []step{want("\x00\x06blksize\x0065464\x00")}},
		{name: "option repeated", req: rrq("hello.txt", "octet", "BLKSIZE", "512", "blksize", "600"),
			steps: []step{want("\x00\x06BLKSIZE\x00512\x00blksize\x00600\x00")}},
		{name: "timeout 0", req: rrq("hello.txt", "octet", "timeout", "0"), steps: []step{want(unsupported)}},
		{name: "timeout 3", req: rrq("hello.txt", "octet", "timeout", "3"), steps: []step{want("\x00\x06timeout\x003\x00")}},
		{name: "timeout 255", req: rrq("hello.txt", "octet", "timeout", "255"), steps: []step{want("\x00\x06timeout\x00255\x00")}},
		{name: "timeout 256", req: rrq("hello.txt", "octet", "timeout", "256"), steps: []step{want(unsupported)}},
		{name: "windowsize ignored", req: rrq("hello.txt", "octet", "windowsize", "4"), steps: []step{want(hello)}},
		{name: "unknown option", req: rrq("hello.txt", "octet", "foo", "bar"), steps: []step{want(hello)}},
		{name: "value not a number", req: rrq("hello.txt", "octet", "blksize", "abc"), steps: []step{want(hello)}},
		{name: "option without value", req: rrq("hello.txt", "octet", "blksize"), steps: []step{want(hello)}},
		{name: "empty option ends the list", req: rrq("hello.txt", "octet", "", "", "blksize", "600"), steps: []step{want(hello)}},
		{name: "empty value ends the list", req: rrq("hello.txt", "octet", "blksize", "", "tsize", "0"), steps: []step{want(hello)}},
		{name: "tsize netascii", req: rrq("hello.txt", "netascii", "tsize", "0"), steps: []step{want(unsupported)}},
		{name: "tsize echoed", req: rrq("hello.txt", "octet", "tsize", "5"), steps: []step{want("\x00\x06tsize\x005\x00")}},
		{name: "tsize repeated", req: rrq("hello.txt", "octet", "tsize", "0", "tsize", "0"),
			steps: []step{want("\x00\x06tsize\x006\x00tsize\x006\x00")}},
		{name: "tsize out of range", req: rrq("hello.txt", "octet", "tsize", "99999999999999999999999"), steps: []step{want(hello)}},
		{name: "blksize space", req: rrq("hello.txt", "octet", "blksize", " 512"), steps: []step{want("\x00\x06blksize\x00512\x00")}},
		{name: "blksize plus", req: rrq("hello.txt", "octet", "blksize", "+512"), steps: []step{want("\x00\x06blksize\x00512\x00")}},
		{name: "blksize zeros", req: rrq("hello.txt", "octet", "blksize", "00512"), steps: []step{want("\x00\x06blksize\x00512\x00")}},
		{name: "blksize minus", req: rrq("hello.txt", "octet", "blksize", "-1"), steps: []step{want("\x00\x06blksize\x0065464\x00")}},
		{name: "blksize2", req: rrq("hello.txt", "octet", "blksize2", "1000"), steps: []step{want("\x00\x06blksize2\x00512\x00")}},
		{name: "blksize2 capped", req: rrq("hello.txt", "octet", "blksize2", "1000000"), steps: []step{want("\x00\x06blksize2\x0065464\x00")}},
		{name: "blksize2 7", req: rrq("hello.txt", "octet", "blksize2", "7"), steps: []step{want(unsupported)}},
		{name: "utimeout", req: rrq("hello.txt", "octet", "utimeout", "500000"), steps: []step{want("\x00\x06utimeout\x00500000\x00")}},
		{name: "utimeout 9999", req: rrq("hello.txt", "octet", "utimeout", "9999"), steps: []step{want(unsupported)}},
		{name: "rollover", req: rrq("hello.txt", "octet", "rollover", "1"), steps: []step{want("\x00\x06rollover\x001\x00")}},
		{name: "rollover 65536", req: rrq("hello.txt", "octet", "rollover", "65536"), steps: []step{want(unsupported)}},
		{name: "options fill the OACK", req: rrq(append([]string{"big.bin", "octet"}, many(5951)...)...), steps: []step{want(bigOACK)}},
		{name: "options overflow the OACK", req: rrq(append([]string{"big.bin", "octet"}, many(5952)...)...),
			steps: []step{want(errPkt(8, "Insufficient space for options"))}},
		{name: "absolute outside root", req: rrq("/etc/passwd", "octet"), steps: []step{want(notFound)}},
		{name: "dot dot", req: rrq("../../etc/passwd", "octet"), steps: []step{want(notFound)}},
		{name: "absolute in root", req: rrq("/hello.txt", "octet"), steps: []step{want(hello)}},
		{name: "file with slash", req: rrq("hello.txt/", "octet"), steps: []step{want(notFound)}},
		{name: "through missing dir", req: rrq("nope/../hello.txt", "octet"), steps: []step{want(notFound)}},
		{name: "through dir", req: rrq("pxelinux.cfg/../hello.txt", "octet"), steps: []step{want(hello)}},
		{name: "long component", req: rrq(strings.Repeat("a", 300), "octet"), steps: []step{want(errPkt(0, "File name too long"))}},
		{name: "long component write", req: wrq(strings.Repeat("a", 300), "octet"), steps: []step{want(errPkt(0, "File name too long"))}},
		{name: "long path missing dirs", req: rrq(strings.Repeat("a/", 400), "octet"), steps: []step{want(notFound)}},
		{name: "path too long", req: rrq(strings.Repeat("a/", 4000), "octet"), steps: []step{want(errPkt(0, "File name too long"))}},
		{name: "write existing", req: wrq("hello.txt", "octet"), steps: []step{want(errPkt(0, "Permission denied"))}},
		{name: "write directory", req: wrq("pxelinux.cfg", "octet"), steps: []step{want(errPkt(0, "Is a directory"))}},
		{name: "opcode 9", req: []byte("\x00\x09abc\x00")},
		{name: "stray DATA", req: []byte("\x00\x03\x00\x01abc")},
		{name: "stray ACK", req: []byte("\x00\x04\x00\x01")},
		{name: "stray ERROR", req: []byte("\x00\x05\x00\x01x\x00")},
		{name: "stray OACK", req: []byte("\x00\x06a\x00b\x00")},
		{name: "one byte", req: []byte("\x00")},
		{name: "opcode only", req: []byte("\x00\x01"), steps: []step{want(missingMode)}},
		{name: "empty datagram", req: []byte{}, stale: true},

		{name: "blocks", req: rrq("big.bin", "octet"), steps: []step{
			want("\x00\x03\x00\x01" + big[:512]),
			send("\x00\x04\x00\x00"), want(silence), // a stale ACK is not answered
			send("\x00\x04\x00\x01"), want("\x00\x03\x00\x02" + big[512:1024]),
			send("\x00\x04\x00\x02"), want("\x00\x03\x00\x03" + big[1024:]),
			send("\x00\x04\x00\x03"), want(silence),
			send("\x00\x04\x00\x03"), want(silence),
		}},
		{name: "empty last block", req: rrq("k1.bin", "octet"), steps: []step{
			want("\x00\x03\x00\x01" + strings.Repeat("\x00", 512)),
			send("\x00\x04\x00\x01"), want("\x00\x03\x00\x02" + strings.Repeat("\x00", 512)),
			send("\x00\x04\x00\x02"), want("\x00\x03\x00\x03"),
			send("\x00\x04\x00\x03"), want(silence),
		}},
		{name: "client error", req: rrq("big.bin", "octet"), steps: []step{
			want("\x00\x03\x00\x01" + big[:512]),
			send("\x00\x05\x00\x00abort\x00"), want(silence),
		}},
		{name: "other TID", req: rrq("big.bin", "octet"), steps: []step{
			want("\x00\x03\x00\x01" + big[:512]),
			{send: "\x00\x04\x00\x01", fromOther: true}, want(silence),
			send("\x00\x04\x00\x01"), want("\x00\x03\x00\x02" + big[512:1024]),
			send("\x00\x05\x00\x00x\x00"),
		}},
		{name: "OACK overwritten by a wrong ACK", req: rrq("big.bin", "octet", "blksize", "1000"), steps: []step{
			want("\x00\x06blksize\x001000\x00"),
			send("\x00\x04\x00\x01"), want("\x00\x04\x00\x01ksize\x001000\x00"),
			send("\x00\x04\x00\x00"), want("\x00\x03\x00\x01" + big[:1000]),
			send("\x00\x04\x00\x01"), want("\x00\x03\x00\x02" + big[1000:]),
			send("\x00\x04\x00\x02"), want(silence),
		}},
		{name: "OACK refused", req: rrq("big.bin", "octet", "blksize", "1000"), steps: []step{
			want("\x00\x06blksize\x001000\x00"),
			send("\x00\x05\x00\x08nope\x00"), want(silence),
		}},
		{name: "directory after OACK", req: rrq("pxelinux.cfg", "octet", "tsize", "0"), steps: []step{
			want("\x00\x06tsize\x004096\x00"),
			send("\x00\x04\x00\x00"), want(errPkt(0, "Is a directory")),
		}},
		{name: "upload", create: true, req: wrq("up.bin", "octet"), steps: []step{
			want("\x00\x04\x00\x00"),
			send("\x00\x03\x00\x01" + strings.Repeat("A", 512)), want("\x00\x04\x00\x01"),
			send("\x00\x03\x00\x01" + strings.Repeat("A", 512)), want("\x00\x04\x00\x01"), // repeat: ACK again
			send("\x00\x03\x00\x03AAAAAAAAAA"), want(silence), // ahead: ignored
			send("\x00\x03\x00\x02BBBBBBBBBB"), want("\x00\x04\x00\x02"),
			send("\x00\x03\x00\x02BBBBBBBBBB"), want("\x00\x04\x00\x02"), // final ACK sent once more
			send("\x00\x03\x00\x02BBBBBBBBBB"), want(silence),
		}},
		{name: "upload with options", create: true, req: wrq("up.bin", "octet", "tsize", "20", "blksize", "16", "timeout", "2"), steps: []step{
			want("\x00\x06tsize\x0020\x00blksize\x0016\x00timeout\x002\x00"),
			send("\x00\x03\x00\x01CCCCCCCCCCCCCCCC"), want("\x00\x04\x00\x01"),
			send("\x00\x03\x00\x02DDDD"), want("\x00\x04\x00\x02"),
		}},
		{name: "upload tsize 0", create: true, req: wrq("up.bin", "octet", "tsize", "0"), steps: []step{
			want("\x00\x06tsize\x000\x00"),
			send("\x00\x03\x00\x01x"), want("\x00\x04\x00\x01"),
		}},
		{name: "upload netascii tsize", create: true, req: wrq("up.bin", "netascii", "tsize", "5"), steps: []step{
			want("\x00\x06tsize\x005\x00"),
			send("\x00\x03\x00\x01x"), want("\x00\x04\x00\x01"),
		}},
		{name: "upload OACK then ACK", create: true, req: wrq("up.bin", "octet", "blksize", "1000"), steps: []step{
			want("\x00\x06blksize\x001000\x00"),
			send("\x00\x04\x00\x00"), want(silence),
			send("\x00\x03\x00\x01y"), want("\x00\x04\x00\x01"),
		}},
	}
}

// runFlow plays f against a server at addr.
func runFlow(t *testing.T, addr *net.UDPAddr, f flow) {
	t.Helper()
	c := newClient(t)
	other := newClient(t)
	c.send(addr, f.req)
	var tid *net.UDPAddr
	for i, s := range f.steps {
		switch {
		case s.send != "":
			if tid == nil {
				t.Fatalf("step %d: no transfer port yet", i)
			}
			if s.fromOther {
				other.send(tid, []byte(s.send))
			} else {
				c.send(tid, []byte(s.send))
			}
		case s.want == silence:
			if p, _ := c.recv(300 * time.Millisecond); p != nil {
				t.Fatalf("step %d: want silence, got %q", i, trunc(p))
			}
			if p, _ := other.recv(time.Millisecond); p != nil {
				t.Fatalf("step %d: the other TID got %q", i, trunc(p))
			}
		default:
			p, from := c.recv(2 * time.Second)
			if p == nil {
				t.Fatalf("step %d: want %q, got nothing", i, trunc([]byte(s.want)))
			}
			if !bytes.Equal(p, []byte(s.want)) {
				t.Fatalf("step %d: got %q, want %q", i, trunc(p), trunc([]byte(s.want)))
			}
			if from.Port == addr.Port {
				t.Fatalf("step %d: reply from the server's port %d, want a new one", i, addr.Port)
			}
			if !from.IP.Equal(addr.IP) {
				t.Fatalf("step %d: reply from %v, want %v", i, from.IP, addr.IP)
			}
			if tid != nil && from.Port != tid.Port {
				t.Fatalf("step %d: reply from port %d, the transfer's is %d", i, from.Port, tid.Port)
			}
			tid = from
		}
	}
	if len(f.steps) == 0 {
		if p, _ := c.recv(300 * time.Millisecond); p != nil {
			t.Fatalf("want no reply, got %q", trunc(p))
		}
	}
	if tid != nil {
		// End a transfer left waiting, so that it does not hold one of
		// the source's transfer slots.
		c.send(tid, []byte("\x00\x05\x00\x00done\x00"))
	}
}

func trunc(p []byte) string {
	if len(p) > 80 {
		return fmt.Sprintf("%s... (%d bytes)", p[:80], len(p))
	}
	return string(p)
}

// TestGolden plays the flows captured from tftpd-hpa against our server,
// with uploads refused as on a stock install, except in the flows that
// upload.
func TestGolden(t *testing.T) {
	stock := defaultPersona().(*Persona)
	stock.Bait, stock.Files, stock.Create = baitNone, testFiles(), false
	s, _ := newTestServer(t, testHost(t), stock)
	addr := serve(t, s, "127.0.69.1")
	s2, _ := newTestServer(t, testHost(t), nil)
	addr2 := serve(t, s2, "127.0.69.2")
	for _, f := range goldenFlows() {
		t.Run(f.name, func(t *testing.T) {
			if f.create {
				runFlow(t, addr2, f)
				return
			}
			runFlow(t, addr, f)
		})
	}
	t.Run("write new refused", func(t *testing.T) {
		runFlow(t, addr, flow{req: wrq("new.txt", "octet"), steps: []step{want(errPkt(1, "File not found"))}})
	})
}

// TestDifferential plays the golden flows against the real tftpd-hpa, to
// keep the table honest. It needs root (tftpd chroots) and tftpd-hpa.
func TestDifferential(t *testing.T) {
	tftpd := testutil.RequireTool(t, "in.tftpd")
	testutil.RequireRoot(t, "to run in.tftpd --secure")
	root := t.TempDir()
	os.Chmod(root, 0o755)
	for name, content := range testFiles() {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := net.ListenPacket("udp", "127.0.69.3:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().(*net.UDPAddr)
	pc.Close()
	cmd := exec.Command(tftpd, "-L", "-a", addr.String(), "-s", root, "-u", "tftp", "--secure")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	time.Sleep(200 * time.Millisecond)
	for _, f := range goldenFlows() {
		if f.stale {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			if f.create {
				// No --create: the stock server writes only to an
				// existing world-writable file.
				p := filepath.Join(root, "up.bin")
				if err := os.WriteFile(p, nil, 0o666); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, 0o666)
			}
			runFlow(t, addr, f)
		})
	}
}
