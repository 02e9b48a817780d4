package servicetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// portEcho answers each connection with the declared port it came in on,
// then closes it, until ctx is done.
type portEcho struct{}

func (portEcho) Serve(ctx context.Context, ls service.Listeners) error {
	for port, ln := range ls.TCP {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Fprint(c, port)
				c.Close()
			}
		}()
	}
	<-ctx.Done()
	return nil
}

// read dials addr and returns all it is sent.
func read(t *testing.T, addr string) string {
	t.Helper()
	b, err := io.ReadAll(testutil.Dial(t, addr, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServeTCPPorts(t *testing.T) {
	for _, ports := range [][]int{{7}, {389, 636}, {80, 443, 8080}} {
		t.Run(fmt.Sprint(ports), func(t *testing.T) {
			var addrs map[int]string
			if len(ports) == 1 {
				addrs = map[int]string{ports[0]: ServeTCP(t, portEcho{}, "127.0.0.1", ports[0])}
			} else {
				addrs = ServeTCPPorts(t, portEcho{}, "127.0.0.1", ports...)
			}
			if len(addrs) != len(ports) {
				t.Fatalf("addresses %v for ports %v", addrs, ports)
			}
			for _, port := range ports {
				if got := read(t, addrs[port]); got != strconv.Itoa(port) {
					t.Errorf("%s served declared port %q, want %d", addrs[port], got, port)
				}
			}
		})
	}
}

// errTB records what a server's end reports instead of failing the test.
type errTB struct {
	testing.TB
	errs []string
}

func (e *errTB) Helper() {}

func (e *errTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

func (e *errTB) Error(args ...any) { e.errs = append(e.errs, fmt.Sprint(args...)) }

// stopping is a server that returns err once stopped, or after stall.
type stopping struct {
	err   error
	stall time.Duration
}

func (s stopping) Serve(ctx context.Context, _ service.Listeners) error {
	<-ctx.Done()
	time.Sleep(s.stall)
	return s.err
}

// TestServeEnd checks what the end of a test does: listeners of both
// kinds are closed, and a server that fails or does not stop is reported.
func TestServeEnd(t *testing.T) {
	tests := []struct {
		name string
		srv  stopping
		want string
	}{
		{"clean stop", stopping{}, ""},
		{"error", stopping{err: errors.New("boom")}, "Serve: boom"},
		{"stuck", stopping{stall: 6 * time.Second}, "Serve did not return within 5s of the end of the test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			etb := &errTB{}
			t.Run("serve", func(t *testing.T) {
				etb.TB = t
				Serve(etb, tc.srv, service.Listeners{TCP: map[int]net.Listener{1: ln}, UDP: map[int]net.PacketConn{2: pc}})
			})
			if want := []string{tc.want}; tc.want == "" && len(etb.errs) != 0 || tc.want != "" && fmt.Sprint(etb.errs) != fmt.Sprint(want) {
				t.Errorf("reported %q, want %q", etb.errs, tc.want)
			}
			if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("TCP listener left open: Accept = %v", err)
			}
			if _, err := pc.WriteTo([]byte{0}, pc.LocalAddr()); !errors.Is(err, net.ErrClosed) {
				t.Errorf("UDP listener left open: WriteTo = %v", err)
			}
		})
	}
}

// greeter is a service whose persona's greeting and decky name go to
// every connection and whose connections are events.
type greeter struct{}

type greeterPersona struct {
	// Greeting is what every connection reads first.
	Greeting string `ini:"greeting"`
}

func (greeter) Info() service.Info {
	return service.Info{Slug: "greeter", Ports: []service.Port{{Number: 7, Proto: service.TCP}},
		Persona: func() any { return &greeterPersona{Greeting: "hello"} }}
}

func (greeter) New(cfg service.Config) (service.Server, error) {
	return greeterServer{cfg}, nil
}

type greeterServer struct{ cfg service.Config }

func (s greeterServer) Serve(ctx context.Context, ls service.Listeners) error {
	go func() {
		for {
			c, err := ls.TCP[7].Accept()
			if err != nil {
				return
			}
			s.cfg.Emit.Emit(event.Event{Type: event.TypeConnect, Fields: event.Peer(c.RemoteAddr())})
			fmt.Fprintf(c, "%s from %s", s.cfg.Persona.(*greeterPersona).Greeting, s.cfg.Host.Name)
			c.Close()
		}
	}()
	<-ctx.Done()
	return nil
}

func TestStart(t *testing.T) {
	tests := []struct {
		keys map[string]string
		want string
	}{
		{nil, "hello from decky-1"},
		{map[string]string{"greeting": "welcome"}, "welcome from decky-1"},
	}
	for _, tc := range tests {
		addr, ev := Start(t, greeter{}, service.Host{Name: "decky-1", IP: "127.0.0.2"}, tc.keys, 7)
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.2" {
			t.Errorf("served at %s, not on the decky's address", addr)
		}
		if got := read(t, addr); got != tc.want {
			t.Errorf("keys %v: read %q, want %q", tc.keys, got, tc.want)
		}
		if got := ev.OfType(event.TypeConnect); len(got) != 1 || got[0].Fields[event.FieldSrcIP] != "127.0.0.1" {
			t.Errorf("keys %v: connect events %v", tc.keys, got)
		}
	}
}

// listenersOf is a server that hands over the listeners it is given.
type listenersOf chan service.Listeners

func (c listenersOf) Serve(ctx context.Context, ls service.Listeners) error {
	c <- ls
	<-ctx.Done()
	return nil
}

// TestServeRealPorts: each port is served at its own number over its
// own protocol.
func TestServeRealPorts(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := free.Addr().(*net.TCPAddr).Port
	free.Close()
	got := make(listenersOf, 1)
	ServeRealPorts(t, got, "127.0.0.1", service.Port{Number: port, Proto: service.TCP}, service.Port{Number: port, Proto: service.UDP})
	ls := <-got
	want := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if len(ls.TCP) != 1 || ls.TCP[port] == nil || ls.TCP[port].Addr().String() != want {
		t.Errorf("TCP listeners %v, want %s", ls.TCP, want)
	}
	if len(ls.UDP) != 1 || ls.UDP[port] == nil || ls.UDP[port].LocalAddr().String() != want {
		t.Errorf("UDP listeners %v, want %s", ls.UDP, want)
	}
}
