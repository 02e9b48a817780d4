package tftp

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/udplimit"
)

// unit is the length of a protocol second in the timing tests.
const unit = 20 * time.Millisecond

// TestRetransmission checks tftp-hpa's schedule: a packet left
// unacknowledged is sent at 0, 1, 3, 7, 15 and 31 timeouts, and the
// transfer is given up at 63; the timeout option sets the first timeout.
func TestRetransmission(t *testing.T) {
	cases := []struct {
		name  string
		req   []byte
		first string
		rexmt time.Duration
	}{
		{"DATA", rrq("hello.txt", "octet"), "\x00\x03\x00\x01hello\n", unit},
		{"OACK", rrq("hello.txt", "octet", "tsize", "0"), "\x00\x06tsize\x006\x00", unit},
		{"timeout option", rrq("hello.txt", "octet", "timeout", "2"), "\x00\x06timeout\x002\x00", 2 * unit},
		{"ACK of an upload", wrq("new.bin", "octet"), "\x00\x04\x00\x00", unit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ev := newTestServer(t, testHost(t), nil)
			s.second = unit
			addr := serve(t, s, "127.0.69.20")
			cl := newClient(t)
			start := time.Now()
			cl.send(addr, c.req)
			var at []time.Duration
			for {
				p, _ := cl.recv(40 * c.rexmt)
				if p == nil {
					break
				}
				if string(p) != c.first {
					t.Fatalf("got %q", p)
				}
				at = append(at, time.Since(start))
			}
			if len(at) != 6 {
				t.Fatalf("%d copies at %v, want 6", len(at), at)
			}
			// Each gap doubles the one before. Scheduling delays only
			// lengthen gaps, so the upper bound is loose.
			for i := 1; i < len(at); i++ {
				w := c.rexmt << (i - 1)
				if gap := at[i] - at[i-1]; gap < w-5*time.Millisecond || gap > w*3/2+100*time.Millisecond {
					t.Errorf("copy %d came %v after copy %d, want about %v", i, gap, i-1, w)
				}
			}
			tr := waitFor(t, ev, typeTransfer, 1)
			if tr.Fields["result"] != resultTimeout {
				t.Errorf("transfer result %q", tr.Fields["result"])
			}
			if d := time.Since(start); d < 63*c.rexmt {
				t.Errorf("given up after %v, want 63 timeouts", d)
			}
		})
	}
}

// TestUploads checks what is kept of uploads: an aborted one keeps its
// blocks, one over the memory budget is acknowledged to the end but kept
// only as far as the budget went, and a duplicate WRQ for a file being
// written goes unanswered.
func TestUploads(t *testing.T) {
	block := func(n uint16, b byte, size int) []byte { return dataPacket(n, bytes.Repeat([]byte{b}, size)) }

	t.Run("aborted", func(t *testing.T) {
		s, ev := newTestServer(t, testHost(t), nil)
		addr := serve(t, s, "127.0.69.21")
		c := newClient(t)
		c.send(addr, wrq("/payload.elf", "octet"))
		_, tid := c.mustRecv("ACK 0")
		for i := uint16(1); i <= 2; i++ {
			c.send(tid, block(i, 'A'+byte(i), 512))
			c.mustRecv("ACK")
		}
		c.send(tid, []byte("\x00\x05\x00\x03Disk full\x00"))
		fc := waitFor(t, ev, event.TypeFileCaptured, 1)
		tr := waitFor(t, ev, typeTransfer, 1)
		if fc.Fields["size"] != "1024" || fc.Fields["complete"] != "false" || fc.Fields["orig_path"] != "/payload.elf" ||
			fc.Fields["src_ip"] != "127.0.0.1" || fc.Fields["session"] == "" || fc.Fields["session"] != tr.Fields["session"] {
			t.Errorf("file_captured %v", fc.Fields)
		}
		if tr.Fields["result"] != resultAborted || tr.Fields["error"] != "Disk full" || tr.Fields["blocks"] != "2" || tr.Fields["bytes"] != "1024" {
			t.Errorf("transfer %v", tr.Fields)
		}
		// The partial file is there to read, as on the real server.
		if b, _ := s.files.read("payload.elf"); len(b) != 1024 {
			t.Errorf("payload.elf holds %d bytes", len(b))
		}
	})

	t.Run("over budget", func(t *testing.T) {
		s, ev := newTestServer(t, testHost(t), nil)
		s.files = newTree(nil, 1000)
		addr := serve(t, s, "127.0.69.22")
		c := newClient(t)
		c.send(addr, wrq("big.bin", "octet"))
		_, tid := c.mustRecv("ACK 0")
		for i := uint16(1); i <= 3; i++ {
			c.send(tid, block(i, 'x', 512))
			if p, _ := c.mustRecv("ACK"); string(p) != string(ackPacket(i)) {
				t.Fatalf("got %q", p)
			}
		}
		c.send(tid, block(4, 'y', 10))
		if p, _ := c.mustRecv("last ACK"); string(p) != string(ackPacket(4)) {
			t.Fatalf("got %q", p)
		}
		fc := waitFor(t, ev, event.TypeFileCaptured, 1)
		if fc.Fields["size"] != "512" || fc.Fields["truncated"] != "true" || fc.Fields["complete"] != "true" {
			t.Errorf("file_captured %v", fc.Fields)
		}
		if s.files.used != 512 {
			t.Errorf("budget used %d, want 512", s.files.used)
		}
	})

	t.Run("duplicate WRQ", func(t *testing.T) {
		s, ev := newTestServer(t, testHost(t), nil)
		addr := serve(t, s, "127.0.69.23")
		c, c2 := newClient(t), newClient(t)
		c.send(addr, wrq("x.bin", "octet"))
		_, tid := c.mustRecv("ACK 0")
		c2.send(addr, wrq("x.bin", "octet"))
		c2.send(addr, rrq("x.bin", "octet"))
		if p, _ := c2.recv(300 * time.Millisecond); p != nil {
			t.Fatalf("a request for a file being written got %q", p)
		}
		reqs := ev.OfType(event.TypeRequest)
		if len(reqs) != 3 || !strings.HasPrefix(reqs[1].Fields["result"], "ignored") || !strings.HasPrefix(reqs[2].Fields["result"], "ignored") {
			t.Errorf("request events %v", reqs)
		}
		c.send(tid, block(1, 'z', 3))
		c.mustRecv("ACK 1")
		c2.send(addr, rrq("x.bin", "octet"))
		if p, _ := c2.mustRecv("DATA"); string(p) != "\x00\x03\x00\x01zzz" {
			t.Errorf("read back %q", p)
		}
	})
}

// TestNotRequests checks that datagrams other than requests are recorded
// and not answered.
func TestNotRequests(t *testing.T) {
	s, ev := newTestServer(t, testHost(t), nil)
	addr := serve(t, s, "127.0.69.24")
	c := newClient(t)
	c.send(addr, []byte("\x00\x03\x00\x01abc"))
	e := waitFor(t, ev, typeError, 1)
	if e.Fields["opcode"] != "3" || e.Fields["data"] != "00030001616263" || e.Fields["size"] != "7" || e.Fields["src_ip"] != "127.0.0.1" {
		t.Errorf("error event %v", e.Fields)
	}
	if p, _ := c.recv(200 * time.Millisecond); p != nil {
		t.Errorf("answered %q", p)
	}
}

// TestLimits checks that a source gets a bounded number of transfers and
// requests, and that a flood is reported once.
func TestLimits(t *testing.T) {
	t.Run("transfers", func(t *testing.T) {
		s, ev := newTestServer(t, testHost(t), nil)
		s.lim = udplimit.New(udplimit.Limits{MaxBusy: 10, MaxBusyPerSource: 2, Rate: 100, Burst: 100, GlobalRate: 100, GlobalBurst: 100, MaxSources: 10})
		addr := serve(t, s, "127.0.69.25")
		c := newClient(t)
		for range 3 {
			c.send(addr, rrq("hello.txt", "octet"))
		}
		got := 0
		for {
			p, _ := c.recv(300 * time.Millisecond)
			if p == nil {
				break
			}
			if string(p) == "\x00\x03\x00\x01hello\n" {
				got++
			}
		}
		if got != 2 { // the first DATA of two transfers (retransmissions come after 1 s)
			t.Errorf("%d DATA packets, want 2", got)
		}
		reqs := ev.OfType(event.TypeRequest)
		if len(reqs) != 3 || reqs[2].Fields["dropped"] != dropSrcTransfers {
			t.Errorf("request events %v", reqs)
		}
		// Errors need no transfer slot.
		c.send(addr, rrq("missing", "octet"))
		c.mustRecv("File not found")
	})

	t.Run("rate", func(t *testing.T) {
		s, ev := newTestServer(t, testHost(t), nil)
		s.lim = udplimit.New(udplimit.Limits{MaxBusy: 10, MaxBusyPerSource: 2, Rate: 0.001, Burst: 5, GlobalRate: 100, GlobalBurst: 100, MaxSources: 10})
		addr := serve(t, s, "127.0.69.26")
		c := newClient(t)
		for range 8 {
			c.send(addr, rrq("missing", "octet"))
		}
		got := 0
		for {
			p, _ := c.recv(300 * time.Millisecond)
			if p == nil {
				break
			}
			got++
		}
		if got != 5 {
			t.Errorf("%d answers, want 5", got)
		}
		errs := ev.OfType(typeError)
		if len(errs) != 1 || errs[0].Fields["dropped"] != string(udplimit.Rate) {
			t.Errorf("error events %v", errs)
		}
		if n := len(ev.OfType(event.TypeRequest)); n != 5 {
			t.Errorf("%d request events, want 5", n)
		}
	})
}

// TestBounds checks that a transfer ends at its lifetime whatever its
// timeout, and at shutdown.
func TestBounds(t *testing.T) {
	t.Run("lifetime", func(t *testing.T) {
		s, ev := newTestServer(t, testHost(t), nil)
		s.limits.Lifetime = 300 * time.Millisecond
		addr := serve(t, s, "127.0.69.27")
		c := newClient(t)
		start := time.Now()
		c.send(addr, rrq("hello.txt", "octet", "timeout", "255"))
		c.mustRecv("OACK")
		tr := waitFor(t, ev, typeTransfer, 1)
		if tr.Fields["result"] != resultLifetime || time.Since(start) > 2*time.Second {
			t.Errorf("transfer %v after %v", tr.Fields, time.Since(start))
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		s, ev := newTestServer(t, testHost(t), nil)
		pc, err := net.ListenPacket("udp", "127.0.69.28:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, service.Listeners{UDP: map[int]net.PacketConn{Port: pc}}) }()
		c := newClient(t)
		c.send(pc.LocalAddr().(*net.UDPAddr), rrq("hello.txt", "octet"))
		c.mustRecv("DATA")
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Serve did not return")
		}
		if tr := lastOf(t, ev, typeTransfer); tr.Fields["result"] != resultShutdown {
			t.Errorf("transfer %v", tr.Fields)
		}
	})
}

// TestRollover sends a file of more than 65535 blocks: the block number
// goes on from the rollover option's value.
func TestRollover(t *testing.T) {
	if testing.Short() {
		t.Skip("65537 round trips")
	}
	p := defaultPersona().(*Persona)
	p.Bait = baitNone
	p.Files = map[string]string{"big": strings.Repeat("r", 65536*8+3)}
	s, ev := newTestServer(t, testHost(t), p)
	addr := serve(t, s, "127.0.69.29")
	c := newClient(t)
	c.send(addr, rrq("big", "octet", "blksize", "8", "rollover", "1"))
	_, tid := c.mustRecv("OACK")
	c.send(tid, ackPacket(0))
	var last uint16
	for n := 1; ; n++ {
		p, _ := c.mustRecv("DATA")
		op, b, _ := header(p)
		want := uint16(n)
		if n > 65535 {
			want = uint16(n - 65536 + 1)
		}
		if op != opDATA || b != want {
			t.Fatalf("packet %d: op %d block %d, want block %d", n, op, b, want)
		}
		c.send(tid, ackPacket(b))
		last = b
		if len(p) < 12 {
			break
		}
	}
	if last != 2 {
		t.Errorf("last block %d, want 2 (65537 blocks, rolled over to 1)", last)
	}
	if tr := waitFor(t, ev, typeTransfer, 1); tr.Fields["result"] != resultComplete || tr.Fields["blocks"] != "65537" {
		t.Errorf("transfer %v", tr.Fields)
	}
}

func TestFieldText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"running-config", "running-config"},
		{"a b/ü.txt", "a b/ü.txt"},
		{"a\nb", `"a\nb"`},
		{"\xff", `"\xff"`},
		{strings.Repeat("x", 2000), strings.Repeat("x", 1024) + "..."},
	} {
		if got := fieldText(c.in); got != c.want {
			t.Errorf("fieldText(%.20q) = %.40q", c.in, got)
		}
	}
	if got := optionsJSON([]option{{"tsize", "0"}, {"b\x00", "\n"}}); got != `{"\"b\\x00\"":"\"\\n\"","tsize":"0"}` {
		t.Errorf("optionsJSON = %s", got)
	}
}
