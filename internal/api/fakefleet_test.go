package api

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// fakeFleet is an in-memory FleetControl that records what it is asked.
type fakeFleet struct {
	mu      sync.Mutex
	deckies []Decky
	global  int
	mutated []string
	deploy  error // returned by Deploy
}

func newFakeFleet(ds ...Decky) *fakeFleet { return &fakeFleet{deckies: ds, global: 30} }

func (f *fakeFleet) Deckies() []Decky {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Decky(nil), f.deckies...)
}

func (f *fakeFleet) find(name string) (*Decky, error) {
	for i := range f.deckies {
		if f.deckies[i].Name == name {
			return &f.deckies[i], nil
		}
	}
	return nil, fmt.Errorf("decky %q: %w", name, ErrUnknownDecky)
}

func (f *fakeFleet) Mutate(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.find(name)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	d.LastMutated = &now
	f.mutated = append(f.mutated, name)
	return nil
}

func (f *fakeFleet) SetMutateInterval(_ context.Context, name string, minutes *int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.find(name)
	if err != nil {
		return err
	}
	d.MutateInterval = minutes
	return nil
}

func (f *fakeFleet) GlobalMutateInterval() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.global
}

func (f *fakeFleet) SetGlobalMutateInterval(_ context.Context, minutes int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.global = minutes
	return nil
}

func (f *fakeFleet) Deploy(context.Context, string) error {
	if f.deploy != nil {
		return f.deploy
	}
	return fmt.Errorf("deploy: %w", ErrNotSupported)
}

var _ FleetControl = (*fakeFleet)(nil)
