// Package local is the local runtime: every decky is a set of goroutines
// whose listeners are bound to the decky's own loopback address
// (127.77.0.10, .11, ...). It needs no privileges; ports below 1024 are
// shifted by an offset when the process may not bind them.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"decnet/internal/event"
	"decnet/internal/fleet"
	"decnet/internal/service"
	"decnet/internal/service/custom"
)

// Options configure the local runtime.
type Options struct {
	// PortOffset is added to a port below 1024 when the process may not
	// bind it (not root and no CAP_NET_BIND_SERVICE).
	PortOffset int
	// ForceOffset shifts every port below 1024, even when it could be
	// bound: for hosts whose own servers hold the real ports, and for
	// tests that must behave the same as root and as a user.
	ForceOffset bool
	// DataDir holds per-decky service state: DataDir/<decky>/<service>.
	DataDir string
	// Emit receives every service's events.
	Emit event.Emitter
	Log  *slog.Logger
}

// Binding is one declared port of a service and the address serving it.
type Binding struct {
	Service string       `json:"service"`
	Port    service.Port `json:"port"`
	Addr    string       `json:"addr"` // ip:port actually bound
}

// Shifted reports whether the bound port differs from the declared one.
func (b Binding) Shifted() bool {
	_, p, _ := net.SplitHostPort(b.Addr)
	return p != strconv.Itoa(b.Port.Number)
}

// Decky is a running decky and its bindings.
type Decky struct {
	fleet.Decky
	Bindings []Binding `json:"bindings"`
}

// Fleet is a running local fleet.
type Fleet struct {
	deckies []Decky
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	log     *slog.Logger
}

// instance is one service of one decky, bound and ready to serve.
type instance struct {
	decky, slug string
	server      service.Server
	ls          service.Listeners
}

// Start binds every listener of every decky first, so that a taken port
// fails the whole start with a message naming decky, port and fix before
// anything serves; then it serves them all until Stop.
func Start(ctx context.Context, fl fleet.Fleet, opts Options) (*Fleet, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	floor := 1024
	if !opts.ForceOffset {
		floor = unprivilegedFloor()
	}
	var insts []instance
	f := &Fleet{log: opts.Log}
	closeAll := func() {
		for _, in := range insts {
			closeListeners(in.ls)
		}
	}
	for _, d := range fl.Deckies {
		rd := Decky{Decky: d}
		for _, slug := range d.Services {
			in, binds, err := prepare(d, lookup(&fl, slug), opts, floor)
			if err != nil {
				closeAll()
				return nil, err
			}
			insts = append(insts, in)
			rd.Bindings = append(rd.Bindings, binds...)
		}
		f.deckies = append(f.deckies, rd)
	}
	ctx, f.cancel = context.WithCancel(ctx)
	for _, in := range insts {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer closeListeners(in.ls)
			if err := in.server.Serve(ctx, in.ls); err != nil && ctx.Err() == nil {
				f.log.Error("service stopped", "decky", in.decky, "service", in.slug, "err", err)
			}
		}()
	}
	return f, nil
}

// lookup finds a service: registered, or the fleet's [custom-<name>],
// which this runtime serves as a recording listener (it runs no images).
func lookup(fl *fleet.Fleet, slug string) func() (service.Service, error) {
	return func() (service.Service, error) {
		for _, c := range fl.Customs {
			if c.Name == slug {
				return custom.New(c.Name, c.Ports), nil
			}
		}
		return service.Lookup(slug)
	}
}

func prepare(d fleet.Decky, find func() (service.Service, error), opts Options, floor int) (instance, []Binding, error) {
	svc, err := find()
	if err != nil {
		return instance{decky: d.Name}, nil, fmt.Errorf("decky %s: %w", d.Name, err)
	}
	info := svc.Info()
	slug := info.Slug
	in := instance{decky: d.Name, slug: slug}
	persona, err := service.NewPersona(info, d.ServiceConfig[slug])
	if err != nil {
		return in, nil, fmt.Errorf("decky %s: %w", d.Name, err)
	}
	dir := filepath.Join(opts.DataDir, d.Name, slug)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return in, nil, fmt.Errorf("decky %s: service %s data dir: %w", d.Name, slug, err)
	}
	host := service.Host{Name: d.Name, Hostname: d.Hostname, Distro: d.Distro, OS: d.OS, IP: d.IP.String(), DataDir: dir}
	in.server, err = svc.New(service.Config{
		Host: host, Persona: persona,
		Emit: stamp(opts.Emit, d.Name, slug),
		Log:  opts.Log.With("decky", d.Name, "service", slug),
	})
	if err != nil {
		return in, nil, fmt.Errorf("decky %s: service %s: %w", d.Name, slug, err)
	}
	in.ls = service.Listeners{TCP: map[int]net.Listener{}, UDP: map[int]net.PacketConn{}}
	var binds []Binding
	for _, p := range info.Ports {
		port := p.Number
		if port < floor {
			port += opts.PortOffset
		}
		addr := net.JoinHostPort(d.IP.String(), strconv.Itoa(port))
		if err := bind(&in.ls, p, addr); err != nil {
			closeListeners(in.ls)
			return in, nil, bindError(d.Name, slug, p, port, addr, err)
		}
		binds = append(binds, Binding{Service: slug, Port: p, Addr: addr})
	}
	return in, binds, nil
}

// listenConfig turns TCP keepalive off: Go's default 15 s probes are a tell
// (sshd leaves the kernel default of two hours).
var listenConfig = net.ListenConfig{KeepAlive: -1}

func bind(ls *service.Listeners, p service.Port, addr string) error {
	switch p.Proto {
	case service.UDP:
		pc, err := listenConfig.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return err
		}
		ls.UDP[p.Number] = pc
	default:
		ln, err := listenConfig.Listen(context.Background(), "tcp", addr)
		if err != nil {
			return err
		}
		ls.TCP[p.Number] = ln
	}
	return nil
}

func bindError(decky, slug string, p service.Port, bound int, addr string, err error) error {
	var fix string
	switch {
	case errors.Is(err, syscall.EADDRINUSE) && bound == p.Number && p.Number < 1024:
		// Typically the host's own sshd or web server: a listener on
		// 0.0.0.0 holds the port on every address, loopback aliases too.
		fix = fmt.Sprintf("another process listens on port %d (a listener on 0.0.0.0 holds it on every address, e.g. the host's own server): stop it, or run with --shift-ports to serve ports below 1024 at --port-offset", p.Number)
	case errors.Is(err, syscall.EADDRINUSE):
		fix = "another process (or another decky) already uses it: stop it, or choose another --port-offset or --ip-base"
	case errors.Is(err, syscall.EACCES):
		fix = "ports below 1024 need root or CAP_NET_BIND_SERVICE (sudo setcap cap_net_bind_service=+ep $(which decnet)); or use --port-offset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		fix = "the address is not on this host: local deckies need 127.0.0.0/8 addresses (--ip-base)"
	default:
		fix = "check the address and port"
	}
	return fmt.Errorf("decky %s: service %s cannot bind %s/%s (declared port %d): %w; fix: %s", decky, slug, addr, p.Proto, p.Number, err, fix)
}

func closeListeners(ls service.Listeners) {
	for _, l := range ls.TCP {
		l.Close()
	}
	for _, c := range ls.UDP {
		c.Close()
	}
}

// stamp fills in what the runtime knows of every event of one service.
func stamp(next event.Emitter, decky, slug string) event.Emitter {
	return event.EmitterFunc(func(e event.Event) {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		e.Decky, e.Service = decky, slug
		next.Emit(e)
	})
}

// Deckies returns the running deckies and their bindings.
func (f *Fleet) Deckies() []Decky { return f.deckies }

// Stop stops every service and waits for them; open sessions are closed.
func (f *Fleet) Stop() {
	f.cancel()
	f.wg.Wait()
}

// unprivilegedFloor is the lowest port this process may bind: 0 for root
// or with CAP_NET_BIND_SERVICE, else ip_unprivileged_port_start (1024 by
// default).
func unprivilegedFloor() int {
	if os.Geteuid() == 0 {
		return 0
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
				caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				const capNetBindService = 10
				if err == nil && caps&(1<<capNetBindService) != 0 {
					return 0
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < 1024 {
			return n
		}
	}
	return 1024
}
