package mutate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/fleet"
	"decnet/internal/service"
	_ "decnet/internal/service/http"
	_ "decnet/internal/service/redis"
	_ "decnet/internal/service/sniffer"
	_ "decnet/internal/service/ssh"
	"decnet/internal/store"
	"decnet/internal/testutil"
)

// fakeRuntime is a fleet in memory; failReplace makes Replace fail.
type fakeRuntime struct {
	mu          sync.Mutex
	deckies     []fleet.Deployed
	global      int
	failReplace error
	replaced    [][]string
}

var _ Runtime = (*fakeRuntime)(nil)

func (r *fakeRuntime) Deckies() []fleet.Deployed {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.deckies)
	for i := range out {
		out[i].Services = slices.Clone(out[i].Services)
	}
	return out
}

func (r *fakeRuntime) find(name string) (*fleet.Deployed, error) {
	for i := range r.deckies {
		if r.deckies[i].Name == name {
			return &r.deckies[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q", fleet.ErrNoDecky, name)
}

func (r *fakeRuntime) Replace(_ context.Context, name string, services []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := r.find(name)
	if err != nil {
		return err
	}
	if r.failReplace != nil {
		return r.failReplace
	}
	d.Services, d.LastMutated = slices.Clone(services), time.Now()
	r.replaced = append(r.replaced, slices.Clone(services))
	return nil
}

func (r *fakeRuntime) SetMutateInterval(name string, minutes int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, err := r.find(name)
	if err != nil {
		return err
	}
	d.MutateOff, d.MutateInterval = minutes == fleet.NeverMutate, max(minutes, 0)
	return nil
}

func (r *fakeRuntime) GlobalMutateInterval() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.global
}

func (r *fakeRuntime) SetGlobalMutateInterval(minutes int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.global = minutes
	return nil
}

func fakeDecky(name, arch string, services ...string) fleet.Deployed {
	return fleet.Deployed{Decky: fleet.Decky{Name: name, Archetype: arch, Services: services}}
}

// memState is a State in memory; fail makes SetState fail.
type memState struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error
}

func (s *memState) State(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.m[key]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("state %q: %w", key, store.ErrNotFound)
}

func (s *memState) SetState(_ context.Context, key string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = v
	return nil
}

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

func newEngine(t *testing.T, rt Runtime, opts Options) *Engine {
	t.Helper()
	if opts.Rand == nil {
		opts.Rand = seeded(1)
	}
	e, err := New(context.Background(), rt, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPool(t *testing.T) {
	var all []string
	for _, s := range service.All() {
		if slug := s.Info().Slug; slug != "sniffer" { // a fleet singleton
			all = append(all, slug)
		}
	}
	for _, tc := range []struct {
		arch string
		want []string
	}{
		{"linux-server", []string{"ssh", "http"}},
		{"database-server", []string{"redis"}}, // mysql and postgres are not implemented
		{"windows-workstation", nil},
		{"", all},
	} {
		got, err := Pool(tc.arch)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Pool(%q) = %v, %v; want %v", tc.arch, got, err, tc.want)
		}
	}
	if _, err := Pool("mainframe"); !errors.Is(err, archetype.ErrUnknown) {
		t.Errorf("unknown archetype: %v", err)
	}
}

// repeating is a random source that always gives the same number, so
// every draw repeats the one before: the worst luck choose can have. (Not
// 0, with which the standard library's bounded draws never end.)
type repeating struct{}

func (repeating) Uint64() uint64 { return 0x9e3779b97f4a7c15 }

func TestChooseRules(t *testing.T) {
	for _, tc := range []struct {
		name          string
		pool, current []string
	}{
		{"bigger pool", []string{"a", "b", "c", "d", "e"}, []string{"b", "d"}},
		{"two, running one", []string{"a", "b"}, []string{"a"}},
		{"two, running both", []string{"a", "b"}, []string{"b", "a"}},
		{"one, running another", []string{"a"}, []string{"x"}},
		{"three, running all", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, rng := range []*rand.Rand{rand.New(repeating{}), seeded(1), seeded(2), seeded(3)} {
				for range 200 {
					got, err := choose(rng, tc.pool, tc.current)
					if err != nil {
						t.Fatalf("rng %d: %v", i, err)
					}
					if len(got) < 1 || len(got) > 3 || sameSet(got, tc.current) || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
						t.Fatalf("rng %d: chose %v (running %v)", i, got, tc.current)
					}
					for _, s := range got {
						if !slices.Contains(tc.pool, s) {
							t.Fatalf("rng %d: chose %q, not in %v", i, s, tc.pool)
						}
					}
				}
			}
		})
	}
	for _, tc := range []struct{ pool, current []string }{{[]string{"ssh"}, []string{"ssh"}}, {nil, []string{"ssh"}}} {
		if got, err := choose(seeded(1), tc.pool, tc.current); !errors.Is(err, ErrNoChoice) {
			t.Errorf("choose(%v, %v) = %v, %v; want ErrNoChoice", tc.pool, tc.current, got, err)
		}
	}
}

func TestChooseDrawsEverySet(t *testing.T) {
	// Every other set of 1–3 of {a,b,c} comes up: the draw is not biased
	// to a few.
	pool, seen := []string{"a", "b", "c"}, map[string]bool{}
	rng := seeded(7)
	for range 500 {
		got, err := choose(rng, pool, []string{"a"})
		if err != nil {
			t.Fatal(err)
		}
		seen[fmt.Sprint(got)] = true
	}
	if len(seen) != 6 {
		t.Fatalf("drew %d distinct sets, want the 6 other than [a]: %v", len(seen), seen)
	}
}

func TestMutateFollowsTheArchetype(t *testing.T) {
	rt := &fakeRuntime{deckies: []fleet.Deployed{
		fakeDecky("web", "linux-server", "ssh"),
		fakeDecky("free", "", "ssh"),
		fakeDecky("lone", "deaddeck", "ssh"),
		fakeDecky("db", "database-server", "redis"),
	}}
	var col testutil.Events
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	e := newEngine(t, rt, Options{Emit: &col, Now: func() time.Time { return now }})
	ctx := context.Background()

	for range 20 {
		old := rt.Deckies()[0].Services
		if err := e.Mutate(ctx, "web"); err != nil {
			t.Fatal(err)
		}
		got := rt.Deckies()[0].Services
		if sameSet(got, old) || len(got) == 0 || slices.ContainsFunc(got, func(s string) bool { return s != "ssh" && s != "http" }) {
			t.Fatalf("web: %v -> %v", old, got)
		}
	}
	if err := e.Mutate(ctx, "free"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lone", "db"} {
		if err := e.Mutate(ctx, name); !errors.Is(err, ErrNoChoice) {
			t.Errorf("%s: %v, want ErrNoChoice", name, err)
		}
	}
	if err := e.Mutate(ctx, "nope"); !errors.Is(err, fleet.ErrNoDecky) {
		t.Errorf("unknown decky: %v", err)
	}

	evs := col.OfType(EventType)
	if len(evs) != 21 {
		t.Fatalf("%d mutation events, want 21", len(evs))
	}
	last := evs[len(evs)-1]
	var oldS, newS []string
	if err := json.Unmarshal([]byte(last.Fields["old_services"]), &oldS); err != nil || !slices.Equal(oldS, []string{"ssh"}) {
		t.Errorf("old_services %q", last.Fields["old_services"])
	}
	if err := json.Unmarshal([]byte(last.Fields["new_services"]), &newS); err != nil || !slices.Equal(newS, rt.Deckies()[1].Services) {
		t.Errorf("new_services %q, decky runs %v", last.Fields["new_services"], rt.Deckies()[1].Services)
	}
	if last.Decky != "free" || last.Fields["decky"] != "free" || last.Service != EventService || !last.Time.Equal(now) {
		t.Errorf("event %+v", last)
	}
}

func TestMutateReportsAFailedReplace(t *testing.T) {
	rt := &fakeRuntime{deckies: []fleet.Deployed{fakeDecky("web", "linux-server", "ssh")}, failReplace: errors.New("port taken")}
	var col testutil.Events
	e := newEngine(t, rt, Options{Emit: &col})
	if err := e.Mutate(context.Background(), "web"); err == nil || err.Error() != "mutate decky web: port taken" {
		t.Fatalf("error %v", err)
	}
	if len(col.All()) != 0 {
		t.Fatalf("events for a failed mutation: %+v", col.All())
	}
}

func TestDue(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d fleet.Deployed, last time.Time, own int, off bool) fleet.Deployed {
		d.LastMutated, d.MutateInterval, d.MutateOff = last, own, off
		return d
	}
	rt := &fakeRuntime{global: 30, deckies: []fleet.Deployed{
		at(fakeDecky("own10", "linux-server", "ssh"), t0, 10, false),
		at(fakeDecky("default", "linux-server", "ssh"), t0, 0, false),
		at(fakeDecky("off", "linux-server", "ssh"), t0, 0, true),
		at(fakeDecky("never-mutated", "linux-server", "ssh"), time.Time{}, 0, false),
		at(fakeDecky("forever", "linux-server", "ssh"), t0, fleet.MaxInterval*3, false),
	}}
	e := newEngine(t, rt, Options{})
	for _, tc := range []struct {
		after  time.Duration
		global int
		want   []string
	}{
		{0, 30, []string{"never-mutated"}},
		{9*time.Minute + 59*time.Second, 30, []string{"never-mutated"}},
		{10 * time.Minute, 30, []string{"own10", "never-mutated"}},
		{30 * time.Minute, 30, []string{"own10", "default", "never-mutated"}},
		{1000 * time.Hour, 30, []string{"own10", "default", "never-mutated"}},
		{1000 * time.Hour, 0, []string{"own10"}},
		{101 * 365 * 24 * time.Hour, 0, []string{"own10", "forever"}},
	} {
		rt.SetGlobalMutateInterval(tc.global)
		if got := e.Due(t0.Add(tc.after)); !slices.Equal(got, tc.want) {
			t.Errorf("after %v with default %d: due %v, want %v", tc.after, tc.global, got, tc.want)
		}
	}
}

func TestDueWaitsAfterAFailure(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	d := fakeDecky("web", "linux-server", "ssh")
	d.LastMutated, d.MutateInterval = t0, 10
	rt := &fakeRuntime{deckies: []fleet.Deployed{d}, failReplace: errors.New("port taken")}
	e := newEngine(t, rt, Options{Now: func() time.Time { return now }})
	if got := e.Due(now); !slices.Equal(got, []string{"web"}) {
		t.Fatalf("due %v", got)
	}
	if err := e.Mutate(context.Background(), "web"); err == nil {
		t.Fatal("mutation succeeded")
	}
	for _, tc := range []struct {
		after time.Duration
		want  []string
	}{{0, nil}, {9 * time.Minute, nil}, {10 * time.Minute, []string{"web"}}} {
		if got := e.Due(now.Add(tc.after)); !slices.Equal(got, tc.want) {
			t.Errorf("%v after the failure: due %v, want %v", tc.after, got, tc.want)
		}
	}
}

func TestRunMutatesDueDeckies(t *testing.T) {
	d := fakeDecky("web", "linux-server", "ssh")
	d.LastMutated = time.Now().Add(-time.Hour)
	rt := &fakeRuntime{global: 30, deckies: []fleet.Deployed{d, fakeDecky("fresh", "linux-server", "ssh")}}
	rt.deckies[1].LastMutated = time.Now()
	var col testutil.Events
	e := newEngine(t, rt, Options{Emit: &col, Every: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	testutil.Eventually(t, "the due decky to be mutated", func() bool { return len(col.OfType(EventType)) > 0 })
	// Mutated, it is no longer due: one mutation, of the due decky only.
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	evs := col.OfType(EventType)
	if len(evs) != 1 || evs[0].Decky != "web" || !slices.Equal(rt.Deckies()[1].Services, []string{"ssh"}) {
		t.Fatalf("events %+v, fleet %+v", evs, rt.Deckies())
	}
}

func TestIntervalsPersistAcrossRestarts(t *testing.T) {
	st := &memState{}
	ctx := context.Background()
	fresh := func() *fakeRuntime {
		a, b, c := fakeDecky("a", "", "ssh"), fakeDecky("b", "", "ssh"), fakeDecky("c", "", "ssh")
		c.MutateInterval = 45 // from the fleet file
		return &fakeRuntime{global: 30, deckies: []fleet.Deployed{a, b, c}}
	}
	rt := fresh()
	e := newEngine(t, rt, Options{State: st})
	if err := e.SetInterval(ctx, "a", new(90)); err != nil {
		t.Fatal(err)
	}
	if err := e.SetInterval(ctx, "b", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.SetGlobalInterval(ctx, 1440); err != nil {
		t.Fatal(err)
	}
	if err := e.SetInterval(ctx, "nope", new(5)); !errors.Is(err, fleet.ErrNoDecky) {
		t.Errorf("unknown decky: %v", err)
	}
	for _, bad := range []int{-1, fleet.MaxInterval + 1} {
		if err := e.SetInterval(ctx, "a", &bad); !errors.Is(err, fleet.ErrInterval) {
			t.Errorf("interval %d: %v", bad, err)
		}
		if err := e.SetGlobalInterval(ctx, bad); !errors.Is(err, fleet.ErrInterval) {
			t.Errorf("global interval %d: %v", bad, err)
		}
	}
	check := func(rt *fakeRuntime, e *Engine) {
		t.Helper()
		ds := rt.Deckies()
		if ds[0].MutateInterval != 90 || ds[0].MutateOff || ds[1].MutateInterval != 0 || !ds[1].MutateOff || ds[2].MutateInterval != 45 || ds[2].MutateOff {
			t.Errorf("intervals %+v", ds)
		}
		if e.GlobalInterval() != 1440 {
			t.Errorf("global %d", e.GlobalInterval())
		}
	}
	check(rt, e)

	// A restart: a fresh fleet from the same file, a new engine, same store.
	// A decky that is gone is dropped from what was stored.
	st.m[StateKey] = []byte(`{"global":1440,"deckies":{"a":90,"b":null,"gone":5}}`)
	rt2 := fresh()
	e2 := newEngine(t, rt2, Options{State: st})
	check(rt2, e2)
	if err := e2.SetInterval(ctx, "a", new(0)); err != nil {
		t.Fatal(err)
	}
	var rec record
	if err := json.Unmarshal(st.m[StateKey], &rec); err != nil {
		t.Fatal(err)
	}
	if _, gone := rec.Deckies["gone"]; gone || *rec.Deckies["a"] != 0 || rec.Deckies["b"] != nil || *rec.Global != 1440 {
		t.Errorf("stored %s", st.m[StateKey])
	}
}

func TestIntervalUnchangedWhenStoringFails(t *testing.T) {
	st := &memState{fail: errors.New("disk full")}
	d := fakeDecky("a", "", "ssh")
	d.MutateInterval = 45
	rt := &fakeRuntime{global: 30, deckies: []fleet.Deployed{d}}
	e := newEngine(t, rt, Options{State: st})
	ctx := context.Background()
	if err := e.SetInterval(ctx, "a", nil); err == nil {
		t.Fatal("no error")
	}
	if err := e.SetGlobalInterval(ctx, 5); err == nil {
		t.Fatal("no error")
	}
	if got := rt.Deckies()[0]; got.MutateInterval != 45 || got.MutateOff || rt.GlobalMutateInterval() != 30 {
		t.Fatalf("changed although not stored: %+v, global %d", got, rt.GlobalMutateInterval())
	}
}

func TestNewRefusesABadStore(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   State
	}{
		{"unreadable", failingState{}},
		{"not JSON", &memState{m: map[string][]byte{StateKey: []byte("{")}}},
		{"negative", &memState{m: map[string][]byte{StateKey: []byte(`{"deckies":{"a":-3}}`)}}},
		{"too long", &memState{m: map[string][]byte{StateKey: []byte(`{"global":999999999}`)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &fakeRuntime{deckies: []fleet.Deployed{fakeDecky("a", "", "ssh")}}
			if _, err := New(context.Background(), rt, Options{State: tc.st}); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

type failingState struct{}

func (failingState) State(context.Context, string) ([]byte, error)  { return nil, errors.New("locked") }
func (failingState) SetState(context.Context, string, []byte) error { return errors.New("locked") }
