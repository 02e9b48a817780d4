package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"decnet/internal/api"
	"decnet/internal/fleet"
	"decnet/internal/mutate"
	"decnet/internal/runtime/docker"
	"decnet/internal/runtime/local"
)

// Interface guards: both runtimes are what the mutator changes.
var (
	_ mutate.Runtime = (*local.Fleet)(nil)
	_ mutate.Runtime = (*docker.Runtime)(nil)
)

// fleetControl is a runtime as the API steers it: the runtime is the
// record of what is deployed, the mutation engine changes it, and deploy
// (nil: not supported) adds the deckies of an INI document.
type fleetControl struct {
	rt     mutate.Runtime
	engine *mutate.Engine
	deploy func(ctx context.Context, ini string) error
	// active reports which deckies serve (nil: all of them, as a local
	// fleet serves all its deckies or fails to start).
	active func() map[string]bool
}

var _ api.FleetControl = (*fleetControl)(nil)

// Deckies implements api.FleetControl. A decky's own interval is shown as
// a number of minutes, 0 when it is never mutated, and nil when it follows
// the fleet's global interval.
func (f *fleetControl) Deckies() []api.Decky {
	ds := f.rt.Deckies()
	var active map[string]bool
	if f.active != nil {
		active = f.active()
	}
	out := make([]api.Decky, len(ds))
	for i, d := range ds {
		var interval *int
		switch {
		case d.MutateOff:
			interval = new(0)
		case d.MutateInterval > 0:
			interval = new(d.MutateInterval)
		}
		var last *time.Time
		if !d.LastMutated.IsZero() {
			last = new(d.LastMutated.UTC())
		}
		out[i] = api.Decky{
			Name: d.Name, IP: d.IP.String(), Hostname: d.Hostname, Distro: d.Distro, Archetype: d.Archetype,
			OS: d.OS, MAC: d.MAC, Services: d.Services, ServiceConfig: d.ServiceConfig, Ports: d.TCPPorts(),
			MutateInterval: interval, LastMutated: last,
			Active: active == nil || active[d.Name],
		}
	}
	return out
}

// Mutate implements api.FleetControl.
func (f *fleetControl) Mutate(ctx context.Context, name string) error {
	return apiError(f.engine.Mutate(ctx, name))
}

// SetMutateInterval implements api.FleetControl: nil is the global
// interval, 0 never, as Deckies shows them.
func (f *fleetControl) SetMutateInterval(ctx context.Context, name string, minutes *int) error {
	var engine *int // the engine's nil is never, its 0 the global interval
	switch {
	case minutes == nil:
		engine = new(0)
	case *minutes != 0:
		engine = minutes
	}
	return apiError(f.engine.SetInterval(ctx, name, engine))
}

// GlobalMutateInterval implements api.FleetControl.
func (f *fleetControl) GlobalMutateInterval() int { return f.engine.GlobalInterval() }

// SetGlobalMutateInterval implements api.FleetControl.
func (f *fleetControl) SetGlobalMutateInterval(ctx context.Context, minutes int) error {
	return apiError(f.engine.SetGlobalInterval(ctx, minutes))
}

// Deploy implements api.FleetControl.
func (f *fleetControl) Deploy(ctx context.Context, ini string) error {
	if f.deploy == nil {
		return fmt.Errorf("deploy: the local runtime runs the fleet it was started with (restart decnet up with --config): %w", api.ErrNotSupported)
	}
	return apiError(f.deploy(ctx, ini))
}

// deployINI adds the deckies of an INI document to the docker deployment,
// replacing those of the same name, on the deployment's LAN.
func deployINI(ctx context.Context, rt *docker.Runtime, ini string) error {
	net, err := rt.Network()
	if err != nil {
		return err
	}
	add, err := fleet.LoadINI(strings.NewReader(ini), "deploy", time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	current := rt.Deckies()
	next := fleet.Fleet{Customs: add.Customs}
	reserved := []fleet.Decky{}
	for _, d := range current {
		replaced := false
		for _, a := range add.Deckies {
			replaced = replaced || a.Name == d.Name
		}
		if !replaced {
			reserved = append(reserved, d.Decky)
		}
	}
	next.Deckies = append(reserved, add.Deckies...)
	next.General.Net, next.General.Gateway, next.General.Interface = net.Subnet, net.Gateway, net.Parent
	next.General.MutateInterval = rt.GlobalMutateInterval()
	alloc, err := rt.Allocator()
	if err != nil {
		return err
	}
	if err := fleet.AssignIPs(&next, alloc); err != nil {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if len(next.Deckies) > fleet.MaxDeckies {
		return fmt.Errorf("%w: %d deckies, at most %d", api.ErrInvalid, len(next.Deckies), fleet.MaxDeckies)
	}
	return rt.Deploy(ctx, next, docker.DeployOptions{Network: net})
}

// apiError adds to err the api error its kind maps to, keeping its text.
func apiError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fleet.ErrNoDecky):
		return fmt.Errorf("%w: %w", api.ErrUnknownDecky, err)
	case errors.Is(err, fleet.ErrInterval), errors.Is(err, mutate.ErrNoChoice), errors.Is(err, local.ErrStopped):
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return err
}

// activeTTL is how long the docker deckies' states are reused: the fleet
// page and /deckies are read often, the engine is asked at most this often.
const activeTTL = 2 * time.Second

// dockerActive returns the active func of a docker runtime: container
// states from the engine, cached for activeTTL. When the engine does not
// answer, every decky shows inactive.
func dockerActive(rt *docker.Runtime) func() map[string]bool {
	var mu sync.Mutex
	var at time.Time
	var last map[string]bool
	return func() map[string]bool {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) < activeTTL {
			return last
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		m, err := rt.Active(ctx)
		if err != nil {
			m = map[string]bool{}
		}
		last, at = m, time.Now()
		return last
	}
}
