package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"decnet/internal/compose"
	"decnet/internal/fleet"
	"decnet/internal/runtime/docker/lan"
)

// recordTimeout bounds the record changes of the calls that get no
// context (the mutator's interval setters).
const recordTimeout = 30 * time.Second

// Deckies implements the mutator's Runtime: the recorded deckies, in
// fleet order; none when nothing is deployed or the record cannot be read
// (logged).
func (r *Runtime) Deckies() []fleet.Deployed {
	dep, err := fleet.LoadDeployment(r.opts.DataDir)
	if err != nil {
		if !errors.Is(err, fleet.ErrNoDeployment) {
			r.opts.Log.Error("docker runtime: reading the deployment record", "err", err)
		}
		return nil
	}
	out := make([]fleet.Deployed, len(dep.Deckies))
	for i, d := range dep.Deckies {
		out[i] = d.Clone()
	}
	return out
}

// Replace implements the mutator's Runtime: decky name runs services from
// now on. The compose file is rewritten and applied (`up -d
// --remove-orphans`: containers of dropped services go, new ones start,
// the others keep their sessions) and the record changes only when that
// succeeded; on failure the previous compose file is applied again.
func (r *Runtime) Replace(ctx context.Context, name string, services []string) error {
	if len(services) == 0 {
		return fmt.Errorf("decky %s: no services", name)
	}
	return fleet.UpdateDeployment(ctx, r.opts.DataDir, func(dep *fleet.Deployment, exists bool) error {
		if !exists {
			return fmt.Errorf("%w %q: nothing is deployed", fleet.ErrNoDecky, name)
		}
		st, err := r.stateOf(*dep)
		if err != nil {
			return err
		}
		d, err := dep.Decky(name)
		if err != nil {
			return err
		}
		before := dep.Fleet()
		d.Services = slices.Clone(services)
		d.Bindings = fleet.DeclaredBindings(d.Decky, dep.Customs)
		d.LastMutated = time.Now().UTC()
		after := dep.Fleet()
		if err := after.Validate(); err != nil {
			return err
		}
		if err := r.apply(ctx, after, st); err != nil {
			if rerr := r.apply(context.WithoutCancel(ctx), before, st); rerr != nil {
				err = errors.Join(err, fmt.Errorf("restoring the previous services failed too: %w", rerr))
			}
			return err
		}
		return nil
	})
}

// SetMutateInterval implements the mutator's Runtime: minutes > 0 is the
// decky's own interval, 0 the fleet default, fleet.NeverMutate never.
func (r *Runtime) SetMutateInterval(name string, minutes int) error {
	if minutes < fleet.NeverMutate {
		return fmt.Errorf("decky %s: mutate interval %d: want minutes, 0 for the fleet default or NeverMutate", name, minutes)
	}
	return r.update(func(dep *fleet.Deployment) error {
		d, err := dep.Decky(name)
		if err != nil {
			return err
		}
		d.MutateOff = minutes == fleet.NeverMutate
		d.MutateInterval = max(minutes, 0)
		return nil
	})
}

// GlobalMutateInterval implements the mutator's Runtime.
func (r *Runtime) GlobalMutateInterval() int {
	dep, err := fleet.LoadDeployment(r.opts.DataDir)
	if err != nil {
		return 0
	}
	return dep.General.MutateInterval
}

// SetGlobalMutateInterval implements the mutator's Runtime.
func (r *Runtime) SetGlobalMutateInterval(minutes int) error {
	if minutes < 0 {
		return fmt.Errorf("global mutate interval %d: negative", minutes)
	}
	return r.update(func(dep *fleet.Deployment) error {
		dep.General.MutateInterval = minutes
		return nil
	})
}

func (r *Runtime) update(fn func(dep *fleet.Deployment) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	return fleet.UpdateDeployment(ctx, r.opts.DataDir, func(dep *fleet.Deployment, exists bool) error {
		if !exists {
			return fleet.ErrNoDeployment
		}
		return fn(dep)
	})
}

func (r *Runtime) stateOf(dep fleet.Deployment) (state, error) {
	if dep.Mode != fleet.ModeDocker {
		return state{}, fmt.Errorf("%s records a %s deployment, not a docker one", r.opts.DataDir, dep.Mode)
	}
	var st state
	if err := json.Unmarshal(dep.Runtime, &st); err != nil {
		return st, fmt.Errorf("deployment record: docker state: %w", err)
	}
	return st, nil
}

// Network returns the LAN of the recorded deployment.
func (r *Runtime) Network() (lan.Config, error) {
	_, st, err := r.load()
	return st.Network, err
}

// Allocator returns the allocator of addresses for deckies added to the
// recorded deployment: from its first decky address, past the gateway and
// this host (fleet.AssignIPs skips the addresses deckies hold).
func (r *Runtime) Allocator() (*fleet.Allocator, error) {
	_, st, err := r.load()
	if err != nil {
		return nil, err
	}
	return fleet.NewAllocator(st.Network.Subnet, st.IPStart, st.Network.Gateway, st.Network.HostIP)
}

// Redeploy brings the engine and the host back to the recorded
// deployment: the image, the network, the hairpin (lost when the host
// restarts) and every container (`up -d`), without changing the record.
func (r *Runtime) Redeploy(ctx context.Context) error {
	dep, st, err := r.load()
	if err != nil {
		return err
	}
	fl := dep.Fleet()
	return r.Deploy(ctx, fl, DeployOptions{Network: st.Network, IPStart: st.IPStart})
}

// Active tells, for every recorded decky, whether its base container and
// the container of each of its services run.
func (r *Runtime) Active(ctx context.Context) (map[string]bool, error) {
	cs, err := r.Containers(ctx)
	if err != nil {
		return nil, err
	}
	running := map[string]bool{}
	for _, c := range cs {
		running[c.Name] = c.State == "running"
	}
	out := map[string]bool{}
	for _, d := range r.Deckies() {
		up := running[d.Name]
		for _, s := range d.Services {
			up = up && running[compose.ContainerName(d.Name, s)]
		}
		out[d.Name] = up
	}
	return out, nil
}
