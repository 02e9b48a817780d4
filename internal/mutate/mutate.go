// Package mutate is the mutator: it changes the service set of deckies,
// on demand or when their interval has passed, so that the network an
// attacker maps does not stay the same. Only the service set changes
// (never address, hostname, distro or OS): a random 1–3 services from the
// decky's archetype, or from every registered service when it has none,
// different from the set it runs.
//
// The running fleet (the Runtime) is the one record of deployment state,
// intervals included; the engine holds none of it. It keeps only the
// intervals set at run time, in its State, to replay them onto the fleet
// when it starts again.
package mutate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/event"
	"decnet/internal/fleet"
	"decnet/internal/service"
)

// Runtime is the running fleet the engine mutates. Errors about a decky it
// does not have wrap fleet.ErrNoDecky.
type Runtime interface {
	// Deckies returns a snapshot of the deckies, in fleet order.
	Deckies() []fleet.Deployed
	// Replace makes services the decky's service set and sets its
	// LastMutated, or leaves it as it was and fails.
	Replace(ctx context.Context, name string, services []string) error
	// SetMutateInterval sets a decky's interval: minutes > 0, 0 for the
	// fleet default, fleet.NeverMutate for never.
	SetMutateInterval(name string, minutes int) error
	GlobalMutateInterval() int
	SetGlobalMutateInterval(minutes int) error
}

// State is where the engine keeps the intervals set at run time;
// store.Repository provides it. State fails with an error wrapping
// store.ErrNotFound for a key never set.
type State interface {
	State(ctx context.Context, key string) ([]byte, error)
	SetState(ctx context.Context, key string, value []byte) error
}

// StateKey is the State key of the intervals set at run time.
const StateKey = "mutator:intervals"

// The mutation event, one per mutation: operational, not an attacker's.
const (
	EventService = "mutator"
	EventType    = "mutation"
)

// DefaultEvery is how often Run looks for due deckies, as in the original.
const DefaultEvery = 10 * time.Second

// ErrNoChoice is wrapped when no service set other than the current one
// can be drawn for a decky (an archetype with one implemented service).
var ErrNoChoice = errors.New("no other service set to mutate to")

// Options configure an Engine; every field is optional.
type Options struct {
	// Emit receives a mutation event for every mutation.
	Emit event.Emitter
	// State keeps the intervals set at run time across restarts; without
	// it they last as long as the process.
	State State
	Log   *slog.Logger
	// Rand draws the new service sets; tests seed it.
	Rand *rand.Rand
	// Every is how often Run looks for due deckies (DefaultEvery).
	Every time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Engine mutates the deckies of a Runtime. It is safe for concurrent use.
type Engine struct {
	rt   Runtime
	opts Options

	mu     sync.Mutex // guards rng, failed and busy
	rng    *rand.Rand
	failed map[string]time.Time   // last failed mutation, per decky
	busy   map[string]*sync.Mutex // serialises the mutations of one decky

	// saveMu serialises interval changes, so the stored record and the
	// runtime change in the same order.
	saveMu sync.Mutex
	saved  record
}

// record is the State value: the intervals set at run time, in minutes.
type record struct {
	// Global is the fleet default, when it was set.
	Global *int `json:"global,omitempty"`
	// Deckies maps a decky to its interval: null for never, 0 for the
	// fleet default.
	Deckies map[string]*int `json:"deckies,omitempty"`
}

// New returns an engine over rt and replays onto rt the intervals its
// State holds from earlier runs (those of deckies rt lacks are dropped).
func New(ctx context.Context, rt Runtime, opts Options) (*Engine, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	e := &Engine{rt: rt, opts: opts, rng: opts.Rand, failed: map[string]time.Time{}, busy: map[string]*sync.Mutex{}}
	rec, err := e.load(ctx)
	if err != nil {
		return nil, err
	}
	e.saved = record{Global: rec.Global, Deckies: map[string]*int{}}
	if rec.Global != nil {
		if err := checkMinutes(*rec.Global); err != nil {
			return nil, fmt.Errorf("mutator: stored global interval: %w", err)
		}
		if err := rt.SetGlobalMutateInterval(*rec.Global); err != nil {
			return nil, fmt.Errorf("mutator: stored global interval: %w", err)
		}
	}
	for name, minutes := range rec.Deckies {
		if minutes != nil {
			if err := checkMinutes(*minutes); err != nil {
				return nil, fmt.Errorf("mutator: stored interval of decky %s: %w", name, err)
			}
		}
		err := rt.SetMutateInterval(name, runtimeMinutes(minutes))
		switch {
		case errors.Is(err, fleet.ErrNoDecky):
			opts.Log.Info("mutator: dropping the stored interval of a decky no longer deployed", "decky", name)
			continue
		case err != nil:
			return nil, fmt.Errorf("mutator: stored interval of decky %s: %w", name, err)
		}
		e.saved.Deckies[name] = minutes
	}
	return e, nil
}

// Mutate gives decky name a new service set now, whatever its interval,
// and emits a mutation event. Errors about an unknown decky wrap
// fleet.ErrNoDecky; a decky that has no other set to take, ErrNoChoice.
func (e *Engine) Mutate(ctx context.Context, name string) error {
	lock := e.lock(name)
	lock.Lock()
	defer lock.Unlock()
	d, err := e.decky(name)
	if err != nil {
		return err
	}
	err = e.mutate(ctx, d)
	e.mu.Lock()
	if err != nil {
		e.failed[name] = e.opts.Now()
	} else {
		delete(e.failed, name)
	}
	e.mu.Unlock()
	return err
}

func (e *Engine) mutate(ctx context.Context, d fleet.Deployed) error {
	pool, err := Pool(d.Archetype)
	if err != nil {
		return fmt.Errorf("mutate decky %s: %w", d.Name, err)
	}
	e.mu.Lock()
	next, err := choose(e.rng, pool, d.Services)
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("mutate decky %s: %w", d.Name, err)
	}
	if err := e.rt.Replace(ctx, d.Name, next); err != nil {
		return fmt.Errorf("mutate decky %s: %w", d.Name, err)
	}
	e.opts.Log.Info("mutator: decky mutated", "decky", d.Name, "old", d.Services, "new", next)
	if e.opts.Emit != nil {
		e.opts.Emit.Emit(event.Event{
			Time: e.opts.Now(), Decky: d.Name, Service: EventService, Type: EventType, Severity: event.Notice,
			Fields: map[string]string{"decky": d.Name, "old_services": jsonList(d.Services), "new_services": jsonList(next)},
		})
	}
	return nil
}

// lock returns the mutex that serialises the mutations of one decky, so
// that two at once cannot both start from the same old set.
func (e *Engine) lock(name string) *sync.Mutex {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.busy[name]
	if m == nil {
		m = &sync.Mutex{}
		e.busy[name] = m
	}
	return m
}

func (e *Engine) decky(name string) (fleet.Deployed, error) {
	for _, d := range e.rt.Deckies() {
		if d.Name == name {
			return d, nil
		}
	}
	return fleet.Deployed{}, fmt.Errorf("%w %q", fleet.ErrNoDecky, name)
}

func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s) // a []string always marshals
	return string(b)
}

// Pool is the services a decky of archetype arch ("" for none) may be
// given: the archetype's that are implemented, or every registered service.
func Pool(arch string) ([]string, error) {
	var pool []string
	if arch == "" {
		for _, s := range service.AllDecky() {
			pool = append(pool, s.Info().Slug)
		}
		return pool, nil
	}
	a, err := archetype.Lookup(arch)
	if err != nil {
		return nil, err
	}
	for _, slug := range a.Services {
		if _, err := service.LookupDecky(slug); err == nil {
			pool = append(pool, slug)
		}
	}
	return pool, nil
}

// choose draws 1–3 services from pool, never the set current, by the
// original's rule (fleet.RandomServices). Its retries can all land on
// current; a single service other than current is then taken, so the
// outcome never depends on luck.
func choose(rng *rand.Rand, pool, current []string) ([]string, error) {
	if next := fleet.RandomServices(rng, pool, current); next != nil && !sameSet(next, current) {
		return next, nil
	}
	for _, i := range rng.Perm(len(pool)) {
		if one := []string{pool[i]}; !sameSet(one, current) {
			return one, nil
		}
	}
	return nil, fmt.Errorf("%w: it runs %v and may only run %v", ErrNoChoice, current, pool)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// Due returns the deckies whose interval has passed at now, in fleet
// order: those with an interval in force whose last mutation (or last
// failed attempt, so that a decky that cannot change is not retried every
// round) is at least that long ago.
func (e *Engine) Due(now time.Time) []string {
	global, deckies := e.rt.GlobalMutateInterval(), e.rt.Deckies()
	e.mu.Lock()
	defer e.mu.Unlock()
	var due []string
	for _, d := range deckies {
		minutes := d.EffectiveMutateInterval(global)
		if minutes <= 0 {
			continue
		}
		since := d.LastMutated
		if f := e.failed[d.Name]; f.After(since) {
			since = f
		}
		if now.Sub(since) >= time.Duration(min(minutes, fleet.MaxInterval))*time.Minute {
			due = append(due, d.Name)
		}
	}
	return due
}

// Run mutates due deckies at once and then every Options.Every until ctx
// is done, and returns nil then. Failed mutations are logged.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.opts.Every)
	defer t.Stop()
	for {
		for _, name := range e.Due(e.opts.Now()) {
			if err := e.Mutate(ctx, name); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				e.opts.Log.Warn("mutator: scheduled mutation failed; retrying after its interval", "decky", name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SetInterval sets how often decky name is mutated, in minutes: nil for
// never, 0 for the fleet default, else 1 to fleet.MaxInterval. It is stored so
// that it survives a restart; when storing fails nothing changes.
func (e *Engine) SetInterval(ctx context.Context, name string, minutes *int) error {
	if minutes != nil {
		if err := checkMinutes(*minutes); err != nil {
			return fmt.Errorf("decky %s: %w", name, err)
		}
		minutes = new(*minutes)
	}
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	d, err := e.decky(name)
	if err != nil {
		return err
	}
	if err := e.rt.SetMutateInterval(name, runtimeMinutes(minutes)); err != nil {
		return err
	}
	rec := e.saved
	rec.Deckies = maps.Clone(e.saved.Deckies)
	rec.Deckies[name] = minutes
	if err := e.save(ctx, rec); err != nil {
		prev := d.MutateInterval
		if d.MutateOff {
			prev = fleet.NeverMutate
		}
		return errors.Join(err, e.rt.SetMutateInterval(name, prev))
	}
	e.saved = rec
	return nil
}

// GlobalInterval is the fleet default interval in minutes; 0 means
// deckies without their own interval are not mutated on schedule.
func (e *Engine) GlobalInterval() int { return e.rt.GlobalMutateInterval() }

// SetGlobalInterval sets the fleet default interval in minutes: 0 to
// switch it off, else 1 to fleet.MaxInterval. It is stored like SetInterval.
func (e *Engine) SetGlobalInterval(ctx context.Context, minutes int) error {
	if err := checkMinutes(minutes); err != nil {
		return fmt.Errorf("global: %w", err)
	}
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	prev := e.rt.GlobalMutateInterval()
	if err := e.rt.SetGlobalMutateInterval(minutes); err != nil {
		return err
	}
	rec := e.saved
	rec.Global = &minutes
	if err := e.save(ctx, rec); err != nil {
		return errors.Join(err, e.rt.SetGlobalMutateInterval(prev))
	}
	e.saved = rec
	return nil
}

func checkMinutes(m int) error {
	if m < 0 || m > fleet.MaxInterval {
		return fmt.Errorf("%w: %d minutes, want 0 to %d", fleet.ErrInterval, m, fleet.MaxInterval)
	}
	return nil
}

// runtimeMinutes turns a stored interval (nil: never) into the runtime's.
func runtimeMinutes(m *int) int {
	if m == nil {
		return fleet.NeverMutate
	}
	return *m
}
