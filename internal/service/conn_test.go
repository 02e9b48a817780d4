package service

import (
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestServeTCPEventsAndLimits(t *testing.T) {
	ln := listen(t)
	var col testutil.Events
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		ServeTCP(ctx, ln, &col, Limits{MaxPerSource: 1, Idle: time.Second}, func(ctx context.Context, c *Conn) {
			c.Write([]byte("hi\n"))
			<-release
		})
		close(done)
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(c1, buf); err != nil || string(buf) != "hi\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
	// A second connection from the same source is over the limit: closed at once, recorded.
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := c2.Read(buf); err == nil {
		t.Fatalf("over-limit connection read %d bytes", n)
	}
	close(release)
	c1.Close()
	testutil.Eventually(t, "one disconnect event", func() bool { return len(col.OfType(event.TypeDisconnect)) == 1 })
	connects := col.OfType(event.TypeConnect)
	if len(connects) != 2 || connects[1].Fields["dropped"] == "" || connects[0].Fields["dropped"] != "" {
		t.Fatalf("connect events %+v", connects)
	}
	d := col.OfType(event.TypeDisconnect)[0]
	if d.Fields["bytes_out"] != "3" || d.Fields["session"] != connects[0].Fields["session"] || d.Fields["src_ip"] != "127.0.0.1" {
		t.Fatalf("disconnect %+v", d.Fields)
	}
	cancel()
	<-done
}

func TestIdleDeadline(t *testing.T) {
	ln := listen(t)
	var col testutil.Events
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readErr := make(chan error, 1)
	go ServeTCP(ctx, ln, &col, Limits{Idle: 100 * time.Millisecond}, func(ctx context.Context, c *Conn) {
		_, err := c.Read(make([]byte, 1))
		readErr <- err
	})
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-readErr:
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Fatalf("read err = %v, want timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("idle connection was not timed out")
	}
}

func TestServeTCPStopsOpenSessions(t *testing.T) {
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		ServeTCP(ctx, ln, &testutil.Events{}, DefaultLimits, func(ctx context.Context, c *Conn) {
			io.Copy(io.Discard, c) // blocks until the connection is closed
		})
		close(done)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeTCP did not return after cancel with a session open")
	}
}

func TestConnFieldsThroughWrapper(t *testing.T) {
	ln := listen(t)
	wl := Listen(ln, &testutil.Events{}, DefaultLimits)
	go net.Dial("tcp", ln.Addr().String())
	c, err := wl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := ConnFields(wrapped{c})
	if f["session"] == "" || f["src_ip"] != "127.0.0.1" {
		t.Fatalf("fields %v", f)
	}
}

type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

func TestServeTCPPortsTellsDeclaredPort(t *testing.T) {
	ls := Listeners{TCP: map[int]net.Listener{80: listen(t), 8080: listen(t)}}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan int, 2)
	done := make(chan struct{})
	go func() {
		ServeTCPPorts(ctx, ls, &testutil.Events{}, DefaultLimits, func(_ context.Context, port int, c *Conn) {
			got <- port
		})
		close(done)
	}()
	for want, ln := range ls.TCP {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		select {
		case port := <-got:
			if port != want {
				t.Errorf("connection to the %d listener reported port %d", want, port)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no connection on port %d", want)
		}
		c.Close()
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeTCPPorts did not return after cancel")
	}
}

// flakyListener fails its first Accepts the way a process out of file
// descriptors does.
type flakyListener struct {
	net.Listener
	fails int
}

func (f *flakyListener) Accept() (net.Conn, error) {
	if f.fails > 0 {
		f.fails--
		return nil, syscall.EMFILE
	}
	return f.Listener.Accept()
}

// TestServeTCPSurvivesAcceptErrors: a failing accept must not leave the
// port dead for the rest of the run.
func TestServeTCPSurvivesAcceptErrors(t *testing.T) {
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		ServeTCP(ctx, &flakyListener{Listener: ln, fails: 3}, &testutil.Events{}, DefaultLimits, func(ctx context.Context, c *Conn) {
			served <- struct{}{}
		})
		close(done)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection served after accept errors")
	}
	cancel()
	<-done
}

// TestFullListenerEvictsTheIdlest fills a listener with connections from
// several sources, keeps one of them busy, and checks that a newcomer is
// served: the connection idle the longest makes room, and its disconnect
// says so; the busy one stays.
func TestFullListenerEvictsTheIdlest(t *testing.T) {
	ln := listen(t)
	var col testutil.Events
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		ServeTCP(ctx, ln, &col, Limits{MaxConns: 4, MaxPerSource: 2, Idle: time.Minute}, func(ctx context.Context, c *Conn) {
			buf := make([]byte, 16)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				c.Write(buf[:n])
			}
		})
		close(done)
	}()
	dial := func(src string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	echo := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte("x")); err != nil {
			return err
		}
		_, err := io.ReadFull(c, make([]byte, 1))
		return err
	}
	var idle []net.Conn
	for _, src := range []string{"127.0.0.21", "127.0.0.22", "127.0.0.23"} {
		c := dial(src)
		if err := echo(c); err != nil { // served, then idle
			t.Fatal(err)
		}
		idle = append(idle, c)
		time.Sleep(20 * time.Millisecond)
	}
	busy := dial("127.0.0.24")
	for range 3 {
		time.Sleep(20 * time.Millisecond)
		if err := echo(busy); err != nil {
			t.Fatal(err)
		}
	}
	// Full: a newcomer evicts the first idle connection, not the busy one.
	newcomer := dial("127.0.0.25")
	if err := echo(newcomer); err != nil {
		t.Fatalf("the newcomer to a full listener was not served: %v", err)
	}
	if err := echo(idle[0]); err == nil {
		t.Fatal("the connection idle the longest was not evicted")
	}
	if err := echo(busy); err != nil {
		t.Fatalf("the busy connection was evicted: %v", err)
	}
	testutil.Eventually(t, "an evicted disconnect", func() bool {
		for _, d := range col.OfType(event.TypeDisconnect) {
			if d.Fields["evicted"] != "" && d.Fields["src_ip"] == "127.0.0.21" {
				return true
			}
		}
		return false
	})
	for _, c := range append(idle, busy, newcomer) {
		c.Close()
	}
	cancel()
	<-done
}
