package service

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

func TestServeUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		ServeUDP(ctx, pc, 4, func(peer *net.UDPAddr, b []byte) {
			mu.Lock()
			got = append(got, string(b))
			mu.Unlock()
			pc.WriteTo(b, peer)
		})
	}()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, msg := range []string{"ab", "abcdefgh"} {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 16)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeUDP did not return when its context ended")
	}
	if len(got) != 2 || got[0] != "ab" || got[1] != "abcd" {
		t.Errorf("handled %q, want ab and the first 4 bytes of the second", got)
	}
}
