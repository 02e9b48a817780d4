package main

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"decnet/internal/api"
	"decnet/internal/fleet"
	"decnet/internal/mutate"
	"decnet/internal/pipeline"
	"decnet/internal/runtime/local"
	"decnet/internal/service"
	"decnet/internal/store"
)

// TestLocalFleetControl drives the API's view of a running local fleet:
// intervals as the API writes and reads them, mutation, and the api
// errors each failure maps to.
func TestLocalFleetControl(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	alloc, err := fleet.LocalAllocator(netip.MustParseAddr("127.77.222.10"))
	if err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.Build(fleet.Options{Deckies: 1, Services: []string{"redis", "ssh"}, Seed: 1, Alloc: alloc})
	if err != nil {
		t.Fatal(err)
	}
	em, err := pipeline.NewFileEmitter(filepath.Join(dir, "events.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	log := slog.New(slog.DiscardHandler)
	running, err := local.Start(ctx, fl, local.Options{PortOffset: 10000, ForceOffset: true, DataDir: dir, Emit: em, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer running.Stop()
	repo, err := store.OpenSQLite(ctx, filepath.Join(dir, "decnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	engine, err := mutate.New(ctx, running, mutate.Options{State: repo, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	fc := &fleetControl{rt: running, engine: engine}

	// Ports are what a client dials: ssh's 22 shifted by the offset,
	// redis's 6379 as declared.
	if got, want := fc.Deckies()[0].Ports, map[string]int{"redis": 6379, "ssh": 10022}; !maps.Equal(got, want) {
		t.Errorf("ports %v, want %v", got, want)
	}
	expectListening(t, fc.Deckies()[0])

	interval := func() *int { return fc.Deckies()[0].MutateInterval }
	for _, tc := range []struct {
		name string
		set  *int
		want *int
	}{
		{"own interval", new(45), new(45)},
		{"never", new(0), new(0)},
		{"back to the global one", nil, nil},
	} {
		if err := fc.SetMutateInterval(ctx, "decky-01", tc.set); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := interval(); (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("%s: interval %v, want %v", tc.name, got, tc.want)
		}
	}
	if err := fc.SetGlobalMutateInterval(ctx, 90); err != nil || fc.GlobalMutateInterval() != 90 {
		t.Errorf("global interval: %v, reads %d", err, fc.GlobalMutateInterval())
	}

	before := fc.Deckies()[0]
	if err := fc.Mutate(ctx, "decky-01"); err != nil {
		t.Fatal(err)
	}
	after := fc.Deckies()[0]
	if slices.Equal(after.Services, before.Services) || !after.LastMutated.After(*before.LastMutated) || !after.Active {
		t.Errorf("mutation: before %+v, after %+v", before, after)
	}
	expectListening(t, after)

	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"mutate unknown", fc.Mutate(ctx, "nope"), api.ErrUnknownDecky},
		{"interval of unknown", fc.SetMutateInterval(ctx, "nope", new(5)), api.ErrUnknownDecky},
		{"negative interval", fc.SetMutateInterval(ctx, "decky-01", new(-5)), api.ErrInvalid},
		{"global too long", fc.SetGlobalMutateInterval(ctx, fleet.MaxInterval+1), api.ErrInvalid},
		{"deploy", fc.Deploy(ctx, "[x]\nservices = ssh\n"), api.ErrNotSupported},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

// expectListening checks that d's ports name exactly its services and
// that each is where that service answers.
func expectListening(t *testing.T, d api.Decky) {
	t.Helper()
	// Ports lists what a client dials over TCP: every service that
	// declares a TCP port (tftp has only 69/udp).
	var tcp []string
	for _, s := range d.Services {
		for _, p := range fleet.PortsOf(s, nil) {
			if p.Proto == service.TCP {
				tcp = append(tcp, s)
				break
			}
		}
	}
	if got := slices.Sorted(maps.Keys(d.Ports)); !slices.Equal(got, slices.Sorted(slices.Values(tcp))) {
		t.Errorf("%s: ports of %v, services over TCP %v", d.Name, got, tcp)
	}
	for svc, port := range d.Ports {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(d.IP, strconv.Itoa(port)), 5*time.Second)
		if err != nil {
			t.Errorf("%s: %s on port %d: %v", d.Name, svc, port, err)
			continue
		}
		c.Close()
	}
}
