package ssh

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// goPacket frames payload as x/crypto does before NEWKEYS: padded to 16
// with random bytes.
func goPacket(payload []byte, rnd *rand.Rand) []byte {
	pad := 16 - (5+len(payload))%16
	if pad < 4 {
		pad += 16
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	out = append(out, byte(pad))
	out = append(out, payload...)
	for range pad {
		out = append(out, byte(rnd.IntN(256)))
	}
	return out
}

func TestPlainPadder(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	kexinit := kexinitPayload([]string{"curve25519-sha256", "ssh-ed25519", "aes128-ctr", "aes128-ctr",
		"hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""})
	reply := append([]byte{31}, bytes.Repeat([]byte{0xab}, 190)...)
	newkeys := []byte{msgNewKeys}
	// Encrypted bytes after NEWKEYS, shaped like a packet so a padder that
	// kept going would rewrite them.
	encrypted := goPacket([]byte{7, 1, 2, 3}, rnd)

	var in []byte
	for _, p := range [][]byte{kexinit, reply, newkeys} {
		in = append(in, goPacket(p, rnd)...)
	}
	in = append(in, encrypted...)
	var want []byte
	for _, p := range [][]byte{kexinit, reply, newkeys} {
		want = appendSSHDPacket(want, p)
	}
	want = append(want, encrypted...)
	if kexLen := len(appendSSHDPacket(nil, kexinit)); kexLen%8 != 0 {
		t.Fatalf("sshd framing of KEXINIT is %d bytes", kexLen)
	}

	tests := []struct {
		name  string
		sizes func(n int) int // length of the next write, n bytes left
	}{
		{"whole", func(n int) int { return n }},
		{"byte by byte", func(int) int { return 1 }},
		{"bufio-sized", func(n int) int { return min(n, 4096) }},
		{"odd chunks", func(n int) int { return min(n, 7) }},
		{"random", func(n int) int { return 1 + rnd.IntN(n) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pp plainPadder
			var got []byte
			for rest := in; len(rest) > 0; {
				n := tt.sizes(len(rest))
				got = append(got, pp.feed(rest[:n])...)
				rest = rest[n:]
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %d bytes, want %d:\n got  %x\n want %x", len(got), len(want), got, want)
			}
		})
	}
}

func TestSSHDPadding(t *testing.T) {
	// Sizes sshd sent on loopback (ssh-openssh.md §1): KEXINIT payload
	// 1120 bytes, padding 11; NEWKEYS 1 byte, padding 10.
	for _, tt := range []struct{ payload, pad int }{{1120, 11}, {1, 10}, {3, 8}, {0, 11}, {6, 5}, {7, 4}} {
		if got := sshdPadding(tt.payload); got != tt.pad {
			t.Errorf("payload %d: padding %d, want %d", tt.payload, got, tt.pad)
		}
	}
}

func TestMaxStartupsRule(t *testing.T) {
	// sshd.c should_drop_connection for 10:30:100: p = 30 + 70*(n-10)/90
	// in integer arithmetic, dropped when arc4random_uniform(100) < p.
	tests := []struct {
		pending, draw int
		drop          bool
	}{
		{0, 0, false}, {9, 0, false},
		{10, 29, true}, {10, 30, false},
		{55, 64, true}, {55, 65, false},
		{99, 98, true}, {99, 99, false},
		{100, 99, true}, {250, 99, true},
	}
	for _, tt := range tests {
		m := newMaxStartups()
		m.intn = func(int) int { return tt.draw }
		if got := m.drop(tt.pending); got != tt.drop {
			t.Errorf("%d pending, draw %d: drop %v, want %v", tt.pending, tt.draw, got, tt.drop)
		}
	}
}

// TestBannerDelay: the pause before the identification line is sshd's
// fork and re-exec time.
func TestBannerDelay(t *testing.T) {
	srv := start(t, "127.77.9.9", "debian", &Persona{Password: "pw"}, "").srv
	if lo, hi := srv.BannerDelayMin, srv.BannerDelayMax; lo != 8*time.Millisecond || hi != 13*time.Millisecond {
		t.Fatalf("banner delay %v..%v, want sshd's fork and re-exec time, 8ms..13ms", lo, hi)
	}
}

// burst opens n connections to addr from ip, all left unauthenticated,
// and sorts them by what the server said first: its identification line
// (kept open, returned for the caller to close) or sshd's MaxStartups
// refusal followed by a close.
func burst(t *testing.T, addr, ip string, n int) (banners []net.Conn, refused int) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	for i, c := range conns {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		first := make([]byte, 4)
		if _, err := io.ReadFull(c, first); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if string(first) == "SSH-" {
			banners = append(banners, c)
			continue
		}
		rest, err := io.ReadAll(c)
		if got := string(first) + string(rest); got != msgMaxStartups || err != nil {
			t.Fatalf("connection %d: %q then %v, want %q then FIN", i, got, err, msgMaxStartups)
		}
		refused++
	}
	return banners, refused
}

func TestMaxStartups(t *testing.T) {
	ts := start(t, "127.77.9.1", "debian", &Persona{Password: "pw"}, "")
	const seed = 7
	m := ts.srv.startups
	m.mu.Lock()
	m.intn = rand.New(rand.NewPCG(seed, seed)).IntN
	m.mu.Unlock()
	// The same draws against sshd's rule, with every admitted connection
	// still pending.
	sim := newMaxStartups()
	sim.intn = rand.New(rand.NewPCG(seed, seed)).IntN
	want := 0
	for range 40 {
		if !sim.drop(want) {
			want++
		}
	}
	if want < 20 || want > 39 {
		t.Fatalf("seed %d admits %d of 40: pick one sshd would plausibly show", seed, want)
	}

	banners, refused := burst(t, ts.addr, "127.77.9.2", 40)
	if len(banners) != want || refused != 40-want {
		t.Errorf("40 concurrent connections: %d banners and %d refusals, want %d and %d", len(banners), refused, want, 40-want)
	}
	// One source past MaxStartups does not shut another out.
	if other, _ := burst(t, ts.addr, "127.77.9.3", 1); len(other) != 1 {
		t.Error("a second source was refused")
	}

	testutil.Eventually(t, "a disconnect per refusal", func() bool {
		n := 0
		for _, e := range ts.ev.OfType(event.TypeDisconnect) {
			if e.Fields["reason"] == "maxstartups" {
				n++
				if e.Fields["src_ip"] != "127.77.9.2" || e.Fields["bytes_out"] != "22" {
					t.Fatalf("refusal recorded as %v", e.Fields)
				}
			}
		}
		return n == refused
	})
	// Every refused connection was announced too, and nothing else was
	// said about it.
	if got := len(ts.ev.OfType(event.TypeConnect)); got != 41 {
		t.Errorf("%d connect events, want 41", got)
	}
	for _, e := range ts.ev.All() {
		if e.Type != event.TypeConnect && e.Type != event.TypeDisconnect {
			t.Errorf("unexpected %s event %v", e.Type, e.Fields)
		}
	}

	// Connections that end stop counting, as sshd's children do.
	for _, c := range banners {
		c.Close()
	}
	testutil.Eventually(t, "the source's pending count back to zero", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.pending["127.77.9.2"] == 0
	})
	if again, _ := burst(t, ts.addr, "127.77.9.2", 10); len(again) != 10 {
		t.Errorf("after the burst ended, %d of 10 connections got a banner", len(again))
	}
}

func TestMaxStartupsCountsOnlyUnauthenticated(t *testing.T) {
	ts := start(t, "127.77.9.4", "debian", &Persona{Password: "pw"}, "")
	m := ts.srv.startups
	m.mu.Lock()
	m.intn = func(int) int { return 0 } // drop whenever sshd might
	m.mu.Unlock()
	for i := range maxStartupsBegin + 2 {
		c, err := dial(t, ts.addr, "root", "pw")
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
	}
	testutil.Eventually(t, "logged-in connections no longer counted", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.pending) == 0
	})
}
