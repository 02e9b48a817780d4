package testutil

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// echo serves until the test ends, sending back what it reads.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for c, err := ln.Accept(); err == nil; c, err = ln.Accept() {
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func TestProxy(t *testing.T) {
	p := StartProxy(t, "127.0.0.1", echo(t))
	sent := [][]byte{[]byte("first client"), {0, 1, 2, 0xff}, nil}
	for _, msg := range sent {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(msg)
		back := make([]byte, len(msg))
		if _, err := io.ReadFull(c, back); err != nil || !slices.Equal(back, msg) {
			t.Errorf("through the proxy %q came back as %q (%v)", msg, back, err)
		}
		c.Close()
	}
	// The connections end (and are recorded) in their own time: Flows
	// waits for them.
	flows := p.Flows()
	if len(flows) != len(sent) {
		t.Fatalf("%d flows, want %d: %q", len(flows), len(sent), flows)
	}
	for _, msg := range sent {
		if !slices.ContainsFunc(flows, func(f []byte) bool { return slices.Equal(f, msg) }) {
			t.Errorf("%q not among the flows %q", msg, flows)
		}
	}
	if _, err := net.Dial("tcp", p.Addr); err == nil {
		t.Error("the proxy still accepts after Flows")
	}
}

func TestWriteSeed(t *testing.T) {
	t.Chdir(t.TempDir())
	data := []byte("a\x00\"\xff\n")
	WriteSeed(t, "FuzzX", "seed-1", data)
	got, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzX", "seed-1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"; string(got) != want {
		t.Errorf("seed file %q, want %q", got, want)
	}
}

func TestGoldenHex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golden", "x.hex")
	GoldenHex(t, path, []byte{0xde, 0xad}, true)
	if b, _ := os.ReadFile(path); string(b) != "dead\n" {
		t.Fatalf("written %q", b)
	}
	tests := []struct {
		got  []byte
		fail bool
	}{
		{[]byte{0xde, 0xad}, false},
		{[]byte{0xde, 0xae}, true},
		{[]byte{0xde}, true},
	}
	for _, tc := range tests {
		rec := &errorTB{TB: t}
		GoldenHex(rec, path, tc.got, false)
		if rec.failed != tc.fail {
			t.Errorf("GoldenHex(%x) failed = %v, want %v", tc.got, rec.failed, tc.fail)
		}
	}
}

// errorTB records Errorf instead of failing the test.
type errorTB struct {
	testing.TB
	failed bool
}

func (e *errorTB) Helper() {}

func (e *errorTB) Errorf(string, ...any) { e.failed = true }
