package redis

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// recorder keeps the events a test server emits.
type recorder struct {
	mu  sync.Mutex
	evs []event.Event
}

func (r *recorder) Emit(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

// ofType returns the events of one type seen so far.
func (r *recorder) ofType(typ string) []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Event
	for _, e := range r.evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// start serves a decky's Redis on addr (a 127.x loopback address, port 0
// for any) until the test ends.
func start(t testing.TB, addr string, keys map[string]string) (string, *recorder) {
	t.Helper()
	p, err := service.NewPersona(Service{}.Info(), keys)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	srv, err := Service{}.New(service.Config{
		Host:    service.Host{Name: "decky-07", Hostname: "SRV-DB-17", Distro: "debian"},
		Persona: p, Emit: rec,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, service.Listeners{TCP: map[int]net.Listener{Port: ln}}) }()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return ln.Addr().String(), rec
}
