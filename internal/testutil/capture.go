package testutil

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy that records what clients send through it, so
// that real clients' traffic to a test server can seed the fuzz corpora.
type Proxy struct {
	// Addr is where clients connect (host:port).
	Addr string

	t     testing.TB
	ln    net.Listener
	wg    sync.WaitGroup // the accept loop and the open connections
	mu    sync.Mutex
	flows [][]byte
}

// StartProxy listens on a free port of host and forwards every connection
// to target until the test ends or Flows is called.
func StartProxy(t testing.TB, host, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &Proxy{Addr: ln.Addr().String(), t: t, ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go p.forward(c, target)
		}
	}()
	return p
}

// forward relays c to target and records what c sent once c ends.
func (p *Proxy) forward(c net.Conn, target string) {
	defer p.wg.Done()
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go io.Copy(c, up)
	b, _ := io.ReadAll(io.TeeReader(c, up))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flows = append(p.flows, b)
}

// Flows stops the proxy, waits for the connections still open to end
// (their clients are done, so they are closing) and returns what the
// client sent on each connection, in the order the connections ended.
// Connections still open after 5 s fail the test.
func (p *Proxy) Flows() [][]byte {
	p.t.Helper()
	p.ln.Close()
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.t.Error("proxy: connections still open 5s after the clients were done")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.flows...)
}

// WriteSeed writes data as the seed name of the []byte fuzz target
// target, in testdata/fuzz/target as go test reads it.
func WriteSeed(t testing.TB, target, name string, data []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seed := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
	if err := os.WriteFile(filepath.Join(dir, name), seed, 0o644); err != nil {
		t.Fatal(err)
	}
}
