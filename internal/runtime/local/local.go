// Package local is the local runtime: every decky is a set of goroutines
// whose listeners are bound to the decky's own loopback address
// (127.77.0.10, .11, ...). It needs no privileges; ports below 1024 are
// shifted by an offset when the process may not bind them.
//
// A running Fleet is the one record of deployment state: Deckies is a
// snapshot of it, Replace changes a decky's services in place (what the
// mutator does), SetMutateInterval and SetGlobalMutateInterval its
// schedule. Nothing of it outlives the process; the mutator stores the
// intervals set at run time (package mutate).
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"decnet/internal/event"
	"decnet/internal/fleet"
	rtinstance "decnet/internal/runtime/instance"
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
	// DataDir holds per-decky state: DataDir/<decky>/<service> for each
	// service, DataDir/<decky>/_host (service.SharedDirName) for what its
	// services share.
	DataDir string
	// Emit receives every service's events.
	Emit event.Emitter
	Log  *slog.Logger
}

// ErrStopped is returned by changes asked of a fleet that Stop has stopped.
var ErrStopped = errors.New("the fleet is stopped")

// Fleet is a running local fleet. It is the one record of what is deployed
// while it runs: each decky's identity, services, bindings, mutation
// interval and last mutation, and the fleet's default interval. It is safe
// for concurrent use.
type Fleet struct {
	opts    Options
	floor   int
	customs []fleet.Custom
	// byName is filled by Start and only read afterwards.
	byName map[string]*slot
	order  []*slot
	// ctx is the fleet's lifetime: every service's context derives from it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every serving goroutine

	mu      sync.Mutex // guards stopped, global and every slot's d and insts
	stopped bool
	global  int
}

// slot is one decky: its state and its running services.
type slot struct {
	// change serialises Replace calls on this decky; it is held while the
	// services change, which may wait for open sessions to close.
	change sync.Mutex
	d      fleet.Deployed
	insts  []*instance // in the order of d.Services
}

// instance is one service of one decky, bound and ready to serve.
type instance struct {
	decky, slug string
	server      service.Server
	ls          service.Listeners
	binds       []fleet.Binding
	// stop and done are set by serve.
	stop context.CancelFunc
	done chan struct{}
}

// Start binds every listener of every decky first, so that a taken port
// fails the whole start with a message naming decky, port and fix before
// anything serves; then it serves them all until Stop. Every decky's
// LastMutated becomes the start time.
func Start(ctx context.Context, fl fleet.Fleet, opts Options) (*Fleet, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	f := &Fleet{opts: opts, floor: 1024, customs: slices.Clone(fl.Customs), byName: map[string]*slot{}, global: fl.General.MutateInterval}
	if !opts.ForceOffset {
		f.floor = unprivilegedFloor()
	}
	var insts []*instance
	closeAll := func() {
		for _, in := range insts {
			rtinstance.Close(in.ls)
		}
	}
	now := time.Now()
	for _, d := range fl.Deckies {
		s := &slot{d: fleet.Deployed{Decky: d}.Clone()}
		s.d.LastMutated = now
		for _, slug := range d.Services {
			in, err := f.prepare(s.d.Decky, slug)
			if err != nil {
				closeAll()
				return nil, err
			}
			insts = append(insts, in)
			s.insts = append(s.insts, in)
		}
		s.d.Bindings = bindings(s.insts)
		f.byName[d.Name] = s
		f.order = append(f.order, s)
	}
	f.ctx, f.cancel = context.WithCancel(ctx)
	for _, in := range insts {
		f.serve(in)
	}
	return f, nil
}

// serve runs in until it is halted or the fleet stops. Callers hold f.mu
// and have checked f.stopped, except Start, which nothing can race.
func (f *Fleet) serve(in *instance) {
	var ctx context.Context
	ctx, in.stop = context.WithCancel(f.ctx)
	in.done = make(chan struct{})
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(in.done)
		defer rtinstance.Close(in.ls)
		if err := in.server.Serve(ctx, in.ls); err != nil && ctx.Err() == nil {
			f.opts.Log.Error("service stopped", "decky", in.decky, "service", in.slug, "err", err)
		}
	}()
}

// halt stops in and waits until its listeners and sessions are closed.
func halt(in *instance) {
	in.stop()
	<-in.done
}

func bindings(insts []*instance) []fleet.Binding {
	var out []fleet.Binding
	for _, in := range insts {
		out = append(out, in.binds...)
	}
	return out
}

// Replace makes services the service set of decky name, on the same
// address. Services in both the old and the new set keep running with
// their sessions; the others are stopped (listeners closed, sessions
// ended, goroutines finished) before the new ones are bound. It is
// all-or-nothing: when a new service cannot bind, the old set is restored
// and the error names the port. On success the decky's LastMutated is now.
// Persona keys of the decky's ServiceConfig apply to services that come
// back; keys of services no longer run are kept for that.
func (f *Fleet) Replace(ctx context.Context, name string, services []string) error {
	s := f.byName[name]
	if s == nil {
		return fmt.Errorf("%w %q", fleet.ErrNoDecky, name)
	}
	if len(services) == 0 {
		return fmt.Errorf("decky %s: no services", name)
	}
	for i, slug := range services {
		if slices.Contains(services[:i], slug) {
			return fmt.Errorf("decky %s: service %q listed twice", name, slug)
		}
		if _, err := f.find(slug); err != nil {
			return fmt.Errorf("decky %s: %w", name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.change.Lock()
	defer s.change.Unlock()

	f.mu.Lock()
	// Read-only copies suffice: commit swaps in new slices, never edits.
	stopped, d, old := f.stopped, s.d.Decky, s.insts
	f.mu.Unlock()
	if stopped {
		return ErrStopped
	}

	byslug := map[string]*instance{}
	var dropped []*instance
	for _, in := range old {
		if slices.Contains(services, in.slug) {
			byslug[in.slug] = in
		} else {
			dropped = append(dropped, in)
		}
	}
	for _, in := range dropped {
		halt(in)
	}
	added, err := f.prepareAll(d, services, byslug)
	if err != nil {
		// Restore what was dropped; its ports were free a moment ago.
		restored, rerr := f.prepareAll(d, d.Services, byslug)
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("decky %s: restoring its services failed, it now runs only those kept: %w", name, rerr))
		}
		return errors.Join(err, f.commit(s, d.Services, byslug, restored, false))
	}
	return f.commit(s, services, byslug, added, true)
}

// prepareAll binds every service of services that byslug lacks, adding it
// there; on failure it closes what it bound and adds nothing.
func (f *Fleet) prepareAll(d fleet.Decky, services []string, byslug map[string]*instance) ([]*instance, error) {
	var added []*instance
	for _, slug := range services {
		if byslug[slug] != nil {
			continue
		}
		in, err := f.prepare(d, slug)
		if err != nil {
			for _, in := range added {
				rtinstance.Close(in.ls)
			}
			return nil, err
		}
		added = append(added, in)
	}
	for _, in := range added {
		byslug[in.slug] = in
	}
	return added, nil
}

// commit serves added and records the decky as running the services of
// order that byslug holds.
func (f *Fleet) commit(s *slot, order []string, byslug map[string]*instance, added []*instance, mutated bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		for _, in := range added {
			rtinstance.Close(in.ls)
		}
		return ErrStopped
	}
	for _, in := range added {
		f.serve(in)
	}
	var insts []*instance
	var services []string
	for _, slug := range order {
		if in := byslug[slug]; in != nil {
			insts = append(insts, in)
			services = append(services, slug)
		}
	}
	s.insts, s.d.Services, s.d.Bindings = insts, services, bindings(insts)
	if mutated {
		s.d.LastMutated = time.Now()
	}
	return nil
}

// SetMutateInterval sets how often decky name is mutated on schedule:
// minutes > 0 is its own interval, 0 the fleet default, NeverMutate never.
func (f *Fleet) SetMutateInterval(name string, minutes int) error {
	s := f.byName[name]
	if s == nil {
		return fmt.Errorf("%w %q", fleet.ErrNoDecky, name)
	}
	if minutes < fleet.NeverMutate {
		return fmt.Errorf("decky %s: mutate interval %d: want minutes, 0 for the fleet default or NeverMutate", name, minutes)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s.d.MutateOff = minutes == fleet.NeverMutate
	s.d.MutateInterval = max(minutes, 0)
	return nil
}

// GlobalMutateInterval is the fleet default interval in minutes, for
// deckies that set none; 0 means they are never mutated on schedule.
func (f *Fleet) GlobalMutateInterval() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.global
}

// SetGlobalMutateInterval sets the fleet default interval in minutes; 0
// switches scheduled mutation off for deckies that set no interval.
func (f *Fleet) SetGlobalMutateInterval(minutes int) error {
	if minutes < 0 {
		return fmt.Errorf("global mutate interval %d: negative", minutes)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.global = minutes
	return nil
}

// find returns a service: registered, or the fleet's [custom-<name>],
// which this runtime serves as a recording listener (it runs no images).
func (f *Fleet) find(slug string) (service.Service, error) {
	for _, c := range f.customs {
		if c.Name == slug {
			return custom.New(c.Name, c.Ports), nil
		}
	}
	return service.Lookup(slug)
}

// prepare builds service slug of decky d and binds its listeners; it
// serves nothing yet.
func (f *Fleet) prepare(d fleet.Decky, slug string) (*instance, error) {
	svc, err := f.find(slug)
	if err != nil {
		return nil, fmt.Errorf("decky %s: %w", d.Name, err)
	}
	in := &instance{decky: d.Name, slug: slug}
	deckyDir := filepath.Join(f.opts.DataDir, d.Name)
	host := service.Host{Name: d.Name, Hostname: d.Hostname, Distro: d.Distro, OS: d.OS, Archetype: d.Archetype, IP: d.IP.String(),
		DataDir: filepath.Join(deckyDir, slug), SharedDir: filepath.Join(deckyDir, service.SharedDirName)}
	if err := service.AdoptShared(host.SharedDir, func(slug string) string { return filepath.Join(deckyDir, slug) }); err != nil {
		return nil, fmt.Errorf("decky %s: %w", d.Name, err)
	}
	if in.server, err = rtinstance.Build(svc, host, d.ServiceConfig[slug], f.opts.Emit, f.opts.Log); err != nil {
		return nil, err
	}
	ports := svc.Info().Ports
	in.ls, err = rtinstance.Listen(ports, d.IP.String(), func(p service.Port) int {
		if p.Number < f.floor {
			return p.Number + f.opts.PortOffset
		}
		return p.Number
	})
	if be, ok := errors.AsType[*rtinstance.BindError](err); ok {
		return nil, bindError(d.Name, slug, be)
	} else if err != nil {
		return nil, err
	}
	for _, p := range ports {
		var addr net.Addr
		if p.Proto == service.UDP {
			addr = in.ls.UDP[p.Number].LocalAddr()
		} else {
			addr = in.ls.TCP[p.Number].Addr()
		}
		in.binds = append(in.binds, fleet.Binding{Service: slug, Port: p, Addr: addr.String()})
	}
	return in, nil
}

func bindError(decky, slug string, be *rtinstance.BindError) error {
	var fix string
	p, err := be.Port, be.Err
	switch {
	case errors.Is(err, syscall.EADDRINUSE) && be.Bound == p.Number && p.Number < 1024:
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
	return fmt.Errorf("decky %s: service %s %w; fix: %s", decky, slug, be, fix)
}

// Deckies returns a snapshot of the running deckies and their bindings,
// in fleet order; it shares no memory with the fleet.
func (f *Fleet) Deckies() []fleet.Deployed {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]fleet.Deployed, len(f.order))
	for i, s := range f.order {
		out[i] = s.d.Clone()
	}
	return out
}

// Stop stops every service and waits for them; open sessions are closed.
// Replace fails with ErrStopped afterwards.
func (f *Fleet) Stop() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
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
