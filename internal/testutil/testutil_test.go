package testutil

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// TestDial: a server that never answers fails the read at the deadline
// instead of hanging it, and the connection is gone when the test ends.
func TestDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var c net.Conn
	t.Run("silent server", func(t *testing.T) {
		c = Dial(t, ln.Addr().String(), 100*time.Millisecond)
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read from a silent server: %v, want the deadline", err)
		}
	})
	if _, err := c.Write([]byte{0}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after the test: %v, want the connection closed", err)
	}
}

// TestBuffer writes from several goroutines while reading (the race
// detector checks the locking) and loses nothing.
func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("x"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := len(b.String()); got != 400 {
		t.Errorf("%d bytes, want 400", got)
	}
}

func TestClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		time.Sleep(100 * time.Millisecond)
		ln.Close()
	}()
	Closed(t, addr)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("Closed returned while the port still accepts")
	}
}
