package mutate

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"decnet/internal/fleet"
	"decnet/internal/runtime/local"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// TestMutateChangesWhatListens mutates deckies of a real local fleet and
// checks, by connecting, that exactly the new services listen.
func TestMutateChangesWhatListens(t *testing.T) {
	const offset = 21000
	decky := func(name, ip, arch string, services ...string) fleet.Decky {
		return fleet.Decky{Name: name, IP: netip.MustParseAddr(ip), Hostname: "srv-" + name, Distro: "debian", OS: "linux", Archetype: arch, Services: services}
	}
	var col testutil.Events
	rt, err := local.Start(context.Background(), fleet.Fleet{Deckies: []fleet.Decky{
		decky("web", "127.77.210.10", "linux-server", "ssh"),
		decky("any", "127.77.210.11", "", "redis"),
	}}, local.Options{PortOffset: offset, ForceOffset: true, DataDir: t.TempDir(), Emit: &col})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Stop()
	e := newEngine(t, rt, Options{Emit: &col, Rand: seeded(42)})

	for round := range 3 {
		for i, name := range []string{"web", "any"} {
			before := rt.Deckies()[i]
			if err := e.Mutate(context.Background(), name); err != nil {
				t.Fatal(err)
			}
			after := rt.Deckies()[i]
			if sameSet(after.Services, before.Services) || !after.LastMutated.After(before.LastMutated) {
				t.Fatalf("round %d: %s went from %v to %v", round, name, before.Services, after.Services)
			}
			pool, _ := Pool(after.Archetype)
			for _, slug := range pool {
				svc, _ := service.Lookup(slug)
				for _, p := range svc.Info().Ports {
					port := p.Number
					if port < 1024 {
						port += offset
					}
					addr := net.JoinHostPort(after.IP.String(), strconv.Itoa(port))
					if open, want := listens(addr), slices.Contains(after.Services, slug); open != want {
						t.Errorf("round %d: %s runs %v, yet %s (%s) open=%v", round, name, after.Services, addr, slug, open)
					}
				}
			}
		}
	}
	if n := len(col.OfType(EventType)); n != 6 {
		t.Errorf("%d mutation events, want 6", n)
	}
}

func listens(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
