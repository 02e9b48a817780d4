package fleet

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
)

func TestDeploymentRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := LoadDeployment(dir); !errors.Is(err, ErrNoDeployment) {
		t.Fatalf("empty dir: %v, want ErrNoDeployment", err)
	}
	d := Deployed{Decky: Decky{Name: "a", IP: netip.MustParseAddr("10.0.0.5"), Services: []string{"ssh"}}}
	err := UpdateDeployment(ctx, dir, func(dep *Deployment, exists bool) error {
		if exists {
			t.Error("exists before the first write")
		}
		dep.Mode, dep.Deckies = ModeDocker, []Deployed{d}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failing change leaves the record as it was.
	boom := errors.New("boom")
	if err := UpdateDeployment(ctx, dir, func(dep *Deployment, _ bool) error {
		dep.Deckies = nil
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing update: %v", err)
	}
	// Concurrent updates are serialised: none is lost.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := UpdateDeployment(ctx, dir, func(dep *Deployment, _ bool) error {
				dep.General.MutateInterval++
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := LoadDeployment(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != ModeDocker || len(got.Deckies) != 1 || got.Deckies[0].IP != d.IP || got.General.MutateInterval != 20 || got.Updated.IsZero() {
		t.Fatalf("record %+v", got)
	}
	if dd, err := got.Decky("a"); err != nil || dd.Name != "a" {
		t.Fatalf("Decky(a) = %v, %v", dd, err)
	}
	if _, err := got.Decky("b"); !errors.Is(err, ErrNoDecky) {
		t.Fatalf("Decky(b): %v", err)
	}
	if err := RemoveDeployment(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDeployment(dir); !errors.Is(err, ErrNoDeployment) {
		t.Fatalf("after remove: %v", err)
	}
}
