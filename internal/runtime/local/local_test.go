package local

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"decnet/internal/event"
	"decnet/internal/fleet"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// echoService greets with the decky's hostname and echoes one line.
type echoService struct {
	slug  string
	ports []service.Port
}

func (s echoService) Info() service.Info { return service.Info{Slug: s.slug, Ports: s.ports} }

func (echoService) New(cfg service.Config) (service.Server, error) { return echoServer{cfg}, nil }

type echoServer struct{ cfg service.Config }

func (s echoServer) Serve(ctx context.Context, ls service.Listeners) error {
	var wg sync.WaitGroup
	for _, ln := range ls.TCP {
		wg.Add(1)
		go func() {
			defer wg.Done()
			service.ServeTCP(ctx, ln, s.cfg.Emit, service.DefaultLimits, func(ctx context.Context, c *service.Conn) {
				r := bufio.NewReader(c)
				c.Write([]byte(s.cfg.Host.Hostname + "\n"))
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					s.cfg.Emit.Emit(event.Event{Type: "line", Fields: map[string]string{"line": strings.TrimSpace(line)}})
					c.Write([]byte(line))
				}
			})
		}()
	}
	wg.Wait()
	return nil
}

func tcp(n int) service.Port { return service.Port{Number: n, Proto: service.TCP} }

func init() {
	service.Register(echoService{"zz-echo", []service.Port{tcp(7), tcp(7777)}})
	service.Register(echoService{"zz-alpha", []service.Port{tcp(7101)}})
	service.Register(echoService{"zz-beta", []service.Port{tcp(7102)}})
}

func decky(name, ip string) fleet.Decky {
	return fleet.Decky{Name: name, IP: netip.MustParseAddr(ip), Hostname: "host-" + name, Distro: "debian", OS: "linux", Services: []string{"zz-echo"}}
}

func TestStartServesOnOwnAddressWithOffset(t *testing.T) {
	var col testutil.Events
	f, err := Start(context.Background(), fleet.Fleet{Deckies: []fleet.Decky{decky("d1", "127.77.9.10"), decky("d2", "127.77.9.11")}},
		Options{PortOffset: 20000, ForceOffset: true, DataDir: t.TempDir(), Emit: &col})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	got := f.Deckies()
	if len(got) != 2 || len(got[1].Bindings) != 2 {
		t.Fatalf("deckies %+v", got)
	}
	b := got[1].Bindings
	if b[0].Addr != "127.77.9.11:20007" || !b[0].Shifted() || b[1].Addr != "127.77.9.11:7777" || b[1].Shifted() {
		t.Fatalf("bindings %+v", b)
	}
	if p := got[1].TCPPorts(); len(p) != 1 || p["zz-echo"] != 20007 {
		t.Fatalf("TCP ports %v, want the first port as bound", p)
	}
	c, err := net.Dial("tcp", "127.77.9.11:20007")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if greet, _ := r.ReadString('\n'); greet != "host-d2\n" {
		t.Fatalf("greeting %q", greet)
	}
	c.Write([]byte("hello\n"))
	if echo, _ := r.ReadString('\n'); echo != "hello\n" {
		t.Fatalf("echo %q", echo)
	}
	evs := col.All()
	var line *event.Event
	for i := range evs {
		if e := &evs[i]; e.Decky != "d2" || e.Service != "zz-echo" || e.Time.IsZero() {
			t.Fatalf("unstamped event %+v", e)
		}
		if evs[i].Type == "line" {
			line = &evs[i]
		}
	}
	if line == nil || line.Fields["line"] != "hello" {
		t.Fatalf("events %+v", evs)
	}
}

func TestStartFailsOnTakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.77.9.20:7777")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = Start(context.Background(), fleet.Fleet{Deckies: []fleet.Decky{decky("d1", "127.77.9.19"), decky("web", "127.77.9.20")}},
		Options{PortOffset: 20000, ForceOffset: true, DataDir: t.TempDir(), Emit: &testutil.Events{}})
	if err == nil {
		t.Fatal("start succeeded on a taken port")
	}
	for _, want := range []string{"decky web", "service zz-echo", "127.77.9.20:7777", "fix:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// Everything bound before the failure was released.
	ln, err := net.Listen("tcp", "127.77.9.19:20007")
	if err != nil {
		t.Fatalf("listener of decky d1 leaked: %v", err)
	}
	ln.Close()
}

func TestStartServesCustomService(t *testing.T) {
	d := decky("c1", "127.77.9.30")
	d.Services = []string{"myapp"}
	fl := fleet.Fleet{Deckies: []fleet.Decky{d}, Customs: []fleet.Custom{{Name: "myapp", Binary: "img:1", Ports: []int{9999}}}}
	var col testutil.Events
	f, err := Start(context.Background(), fl, Options{DataDir: t.TempDir(), Emit: &col})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", "127.77.9.30:9999")
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("probe\n"))
	defer f.Stop()
	defer c.Close()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("events: %+v", col.All())
		}
	})
	testutil.Eventually(t, "the custom service to record the probe", func() bool {
		for _, e := range col.All() {
			if e.Type == "data" && e.Fields["data"] == "probe\n" && e.Service == "myapp" && e.Decky == "c1" {
				return true
			}
		}
		return false
	})
}
