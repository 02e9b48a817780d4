package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"decnet/internal/api"
	"decnet/internal/fleet"
	"decnet/internal/mutate"
	"decnet/internal/runtime/local"
)

// localFleet is the local runtime as the API steers it: the running fleet
// is the record of what is deployed, the mutation engine changes it.
type localFleet struct {
	fleet  *local.Fleet
	engine *mutate.Engine
}

var _ api.FleetControl = (*localFleet)(nil)

// Deckies implements api.FleetControl. A decky's own interval is shown as
// a number of minutes, 0 when it is never mutated, and nil when it follows
// the fleet's global interval.
func (f *localFleet) Deckies() []api.Decky {
	ds := f.fleet.Deckies()
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
			OS: d.OS, Services: d.Services, ServiceConfig: d.ServiceConfig, Ports: d.TCPPorts(),
			MutateInterval: interval, LastMutated: last,
			// Every decky of a local fleet serves while the fleet runs:
			// Start fails unless all of them bind.
			Active: true,
		}
	}
	return out
}

// Mutate implements api.FleetControl.
func (f *localFleet) Mutate(ctx context.Context, name string) error {
	return apiError(f.engine.Mutate(ctx, name))
}

// SetMutateInterval implements api.FleetControl: nil is the global
// interval, 0 never, as Deckies shows them.
func (f *localFleet) SetMutateInterval(ctx context.Context, name string, minutes *int) error {
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
func (f *localFleet) GlobalMutateInterval() int { return f.engine.GlobalInterval() }

// SetGlobalMutateInterval implements api.FleetControl.
func (f *localFleet) SetGlobalMutateInterval(ctx context.Context, minutes int) error {
	return apiError(f.engine.SetGlobalInterval(ctx, minutes))
}

// Deploy implements api.FleetControl: a local fleet is the one `decnet up`
// was started with.
func (f *localFleet) Deploy(context.Context, string) error {
	return fmt.Errorf("deploy: the local runtime runs the fleet it was started with (restart decnet up with --config): %w", api.ErrNotSupported)
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
