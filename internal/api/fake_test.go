package api

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"decnet/internal/event"
	"decnet/internal/store"
)

// fakeRepo is an in-memory store.Repository that records the queries it
// is asked and can be told to fail.
type fakeRepo struct {
	// Repository is nil: methods a test needs but the fake lacks panic.
	store.Repository

	mu       sync.Mutex
	users    map[string]store.User // by UUID
	logs     []store.Log
	bounties []store.Bounty
	stats    store.Stats
	services []store.ServiceCount // most first, as the store orders them

	lastLogQuery     store.LogQuery
	lastBountyQuery  store.BountyQuery
	lastServiceLimit int

	err     error // returned by every read when set
	pingErr error
	panics  bool // Stats panics
}

func newFakeRepo() *fakeRepo { return &fakeRepo{users: map[string]store.User{}} }

func (f *fakeRepo) Ingest(context.Context, []event.Record, string, []byte) error {
	return fmt.Errorf("fake: ingest not supported")
}

func (f *fakeRepo) Logs(_ context.Context, q store.LogQuery) (store.Page[store.Log], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastLogQuery = q
	if f.err != nil {
		return store.Page[store.Log]{}, f.err
	}
	p := store.Page[store.Log]{Limit: q.Limit, Offset: q.Offset}
	for _, l := range f.logs {
		if logMatches(l, q) {
			p.Data = append(p.Data, l)
		}
	}
	if !q.NoTotal {
		p.Total = int64(len(p.Data))
	}
	return p, nil
}

// CountLogs counts as Logs does, without recording the query: tests
// check the page query the store was asked.
func (f *fakeRepo) CountLogs(ctx context.Context, q store.LogQuery) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	var n int64
	for _, l := range f.logs {
		if logMatches(l, q) {
			n++
		}
	}
	return n, nil
}

// logMatches is the fake's search: a substring of the raw line.
func logMatches(l store.Log, q store.LogQuery) bool { return strings.Contains(l.RawLine, q.Search) }

func (f *fakeRepo) Bounties(_ context.Context, q store.BountyQuery) (store.Page[store.Bounty], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastBountyQuery = q
	if f.err != nil {
		return store.Page[store.Bounty]{}, f.err
	}
	return store.Page[store.Bounty]{Total: int64(len(f.bounties)), Limit: q.Limit, Offset: q.Offset, Data: f.bounties}, nil
}

func (f *fakeRepo) Stats(context.Context) (store.Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics {
		panic("fake: stats exploded")
	}
	return f.stats, f.err
}

func (f *fakeRepo) ServiceCounts(_ context.Context, limit int) ([]store.ServiceCount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastServiceLimit = limit
	if f.err != nil {
		return nil, f.err
	}
	return append([]store.ServiceCount(nil), f.services[:min(limit, len(f.services))]...), nil
}

func (f *fakeRepo) State(context.Context, string) ([]byte, error) { return nil, store.ErrNotFound }
func (f *fakeRepo) SetState(context.Context, string, []byte) error {
	return fmt.Errorf("fake: state not supported")
}

func (f *fakeRepo) CreateUser(_ context.Context, u store.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.users {
		if o.Username == u.Username {
			return fmt.Errorf("create user: %w", store.ErrConflict)
		}
	}
	f.users[u.UUID] = u
	return nil
}

func (f *fakeRepo) UserByName(_ context.Context, name string) (store.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return store.User{}, f.err
	}
	for _, u := range f.users {
		if u.Username == name {
			return u, nil
		}
	}
	return store.User{}, fmt.Errorf("user %q: %w", name, store.ErrNotFound)
}

func (f *fakeRepo) UserByUUID(_ context.Context, id string) (store.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return store.User{}, fmt.Errorf("user %q: %w", id, store.ErrNotFound)
	}
	return u, nil
}

func (f *fakeRepo) SetPassword(_ context.Context, id, hash string, mustChange bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[id]
	if !ok {
		return store.ErrNotFound
	}
	u.PasswordHash, u.MustChangePassword = hash, mustChange
	f.users[id] = u
	return nil
}

func (f *fakeRepo) CountUsers(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.users)), f.err
}

func (f *fakeRepo) Ping(context.Context) error { return f.pingErr }
func (f *fakeRepo) Close() error               { return nil }

var _ store.Repository = (*fakeRepo)(nil)

func (f *fakeRepo) lastQuery() store.LogQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastLogQuery
}

func (f *fakeRepo) lastBounty() store.BountyQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastBountyQuery
}
