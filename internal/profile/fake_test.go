package profile

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"decnet/internal/store"
)

// fakeRepo is an in-memory store with what the worker uses; calling any
// other Repository method panics on the nil embedded interface.
type fakeRepo struct {
	store.Repository

	mu        sync.Mutex
	logs      []store.Log
	bounties  []store.Bounty
	state     map[string][]byte
	attackers map[string]store.Attacker // by IP
	failIP    map[string]error          // Activity fails for these IPs
	activity  map[string]int            // Activity calls per IP
	saves     int                       // SetState calls
}

var _ store.Repository = (*fakeRepo)(nil)

func newFakeRepo() *fakeRepo {
	return &fakeRepo{state: map[string][]byte{}, attackers: map[string]store.Attacker{},
		failIP: map[string]error{}, activity: map[string]int{}}
}

// add stores logs with the next ids.
func (r *fakeRepo) add(logs ...store.Log) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range logs {
		l.ID = int64(len(r.logs) + 1)
		r.logs = append(r.logs, l)
	}
}

func (r *fakeRepo) LogsAfter(_ context.Context, afterID int64, limit int) ([]store.Log, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.Log
	for _, l := range r.logs {
		if l.ID > afterID && len(out) < limit {
			out = append(out, l)
		}
	}
	return out, nil
}

func (r *fakeRepo) Activity(_ context.Context, ip string, recent int) (store.Activity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.activity[ip]++
	if err := r.failIP[ip]; err != nil {
		return store.Activity{}, err
	}
	var mine []store.Log
	for _, l := range r.logs {
		if l.AttackerIP == ip {
			mine = append(mine, l)
		}
	}
	a := store.Activity{IP: ip, EventCount: int64(len(mine)), Deckies: []string{}, Services: []string{}}
	byTime := slices.Clone(mine)
	slices.SortStableFunc(byTime, func(x, y store.Log) int { return x.Timestamp.Compare(y.Timestamp) })
	for i, l := range byTime {
		if i == 0 {
			a.FirstSeen = l.Timestamp
		}
		a.LastSeen = l.Timestamp
		if !slices.Contains(a.Deckies, l.Decky) {
			a.Deckies = append(a.Deckies, l.Decky)
		}
		if !slices.Contains(a.Services, l.Service) {
			a.Services = append(a.Services, l.Service)
		}
		if !slices.Contains(store.CommandEventTypes, l.EventType) {
			continue
		}
		for _, f := range store.CommandFields {
			if c := l.Fields[f]; c != "" {
				a.CommandCount++
				a.Commands = append(a.Commands, store.Command{Timestamp: l.Timestamp, Decky: l.Decky, Service: l.Service, Command: c})
				break
			}
		}
	}
	slices.Sort(a.Services)
	if len(a.Commands) > store.MaxProfileCommands {
		a.Commands = a.Commands[len(a.Commands)-store.MaxProfileCommands:]
	}
	a.Recent = mine[max(0, len(mine)-recent):]
	return a, nil
}

func (r *fakeRepo) BountiesByIP(_ context.Context, ip string) ([]store.Bounty, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.Bounty
	for _, b := range r.bounties {
		if b.AttackerIP == ip {
			out = append(out, b)
		}
	}
	return out, nil
}

func (r *fakeRepo) UpsertAttacker(_ context.Context, a store.Attacker) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a.UUID = cmp.Or(r.attackers[a.IP].UUID, "uuid-"+a.IP)
	r.attackers[a.IP] = a
	return a.UUID, nil
}

func (r *fakeRepo) State(_ context.Context, key string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.state[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}

func (r *fakeRepo) SetState(_ context.Context, key string, value []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saves++
	r.state[key] = value
	return nil
}

func (r *fakeRepo) attacker(ip string) (store.Attacker, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.attackers[ip]
	return a, ok
}

// t0 is the start of every synthetic timeline.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// timeline makes logs of ip from t0 at the given intervals, cycling
// through services, each with event type typ on decky-01.
func timeline(ip, typ string, services []string, intervals ...time.Duration) []store.Log {
	t := t0
	logs := []store.Log{{Timestamp: t, Decky: "decky-01", Service: services[0], EventType: typ, AttackerIP: ip}}
	for i, d := range intervals {
		t = t.Add(d)
		logs = append(logs, store.Log{Timestamp: t, Decky: "decky-01", Service: services[(i+1)%len(services)],
			EventType: typ, AttackerIP: ip})
	}
	return logs
}

// every repeats d n times.
func every(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// alternating gives n intervals alternating mean-dev and mean+dev: their
// mean is mean and their population stdev dev (n even).
func alternating(mean, dev time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = mean - dev
		if i%2 == 1 {
			out[i] = mean + dev
		}
	}
	return out
}

// jsonOf is v as JSON, for failure messages.
func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
