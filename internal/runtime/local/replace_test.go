package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/fleet"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

func startOne(t *testing.T, d fleet.Decky, col *testutil.Events) *Fleet {
	t.Helper()
	f, err := Start(context.Background(), fleet.Fleet{Deckies: []fleet.Decky{d}, General: fleet.General{MutateInterval: 30}},
		Options{PortOffset: 20000, ForceOffset: true, DataDir: t.TempDir(), Emit: col})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// session is an open connection to an echo service, past its greeting.
type session struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *session {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	s := &session{c, bufio.NewReader(c)}
	if _, err := s.r.ReadString('\n'); err != nil {
		t.Fatalf("%s: greeting: %v", addr, err)
	}
	return s
}

// echo sends a line and reports whether it came back.
func (s *session) echo(line string) error {
	if _, err := fmt.Fprintf(s.c, "%s\n", line); err != nil {
		return err
	}
	got, err := s.r.ReadString('\n')
	if err != nil {
		return err
	}
	if got != line+"\n" {
		return fmt.Errorf("echo %q, want %q", got, line)
	}
	return nil
}

func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err != nil
}

func sawLine(col *testutil.Events, decky, slug, line string) bool {
	for _, e := range col.OfType("line") {
		if e.Decky == decky && e.Service == slug && e.Fields["line"] == line {
			return true
		}
	}
	return false
}

func TestReplaceKeepsSharedServicesAndSwapsTheRest(t *testing.T) {
	var col testutil.Events
	d := decky("m1", "127.77.9.40")
	d.Services = []string{"zz-echo", "zz-alpha"}
	f := startOne(t, d, &col)
	before := f.Deckies()[0]
	kept := dial(t, "127.77.9.40:7777")
	gone := dial(t, "127.77.9.40:7101")

	if err := f.Replace(context.Background(), "m1", []string{"zz-beta", "zz-echo"}); err != nil {
		t.Fatal(err)
	}

	// The dropped service's session was closed, the kept one's was not.
	if _, err := gone.r.ReadString('\n'); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("session of the dropped service: %v, want closed", err)
	}
	if err := kept.echo("still here"); err != nil {
		t.Fatalf("session of the kept service: %v", err)
	}
	if !refused("127.77.9.40:7101") {
		t.Fatal("the dropped service still listens")
	}
	s := dial(t, "127.77.9.40:7102")
	if err := s.echo("new one"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "events of kept and new services", func() bool {
		return sawLine(&col, "m1", "zz-echo", "still here") && sawLine(&col, "m1", "zz-beta", "new one")
	})

	after := f.Deckies()[0]
	if !slices.Equal(after.Services, []string{"zz-beta", "zz-echo"}) {
		t.Errorf("services %v", after.Services)
	}
	var addrs []string
	for _, b := range after.Bindings {
		addrs = append(addrs, b.Service+"@"+b.Addr)
	}
	if want := []string{"zz-beta@127.77.9.40:7102", "zz-echo@127.77.9.40:20007", "zz-echo@127.77.9.40:7777"}; !slices.Equal(addrs, want) {
		t.Errorf("bindings %v, want %v", addrs, want)
	}
	if !after.LastMutated.After(before.LastMutated) {
		t.Errorf("last mutated %v, not after the start %v", after.LastMutated, before.LastMutated)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "connection reset") }

func TestReplaceRollsBackWhenABindFails(t *testing.T) {
	var col testutil.Events
	d := decky("m2", "127.77.9.41")
	d.Services = []string{"zz-echo", "zz-alpha"}
	f := startOne(t, d, &col)
	taken, err := net.Listen("tcp", "127.77.9.41:7102")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	before := f.Deckies()[0]

	err = f.Replace(context.Background(), "m2", []string{"zz-alpha", "zz-beta"})
	if err == nil {
		t.Fatal("replace succeeded on a taken port")
	}
	for _, want := range []string{"decky m2", "service zz-beta", "127.77.9.41:7102"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	after := f.Deckies()[0]
	if !slices.Equal(after.Services, before.Services) || !slices.Equal(after.Bindings, before.Bindings) || !after.LastMutated.Equal(before.LastMutated) {
		t.Fatalf("after a failed replace (%v) %+v, want %+v", err, after, before)
	}
	// The old set serves again, dropped service included, and records.
	for _, addr := range []string{"127.77.9.41:7777", "127.77.9.41:20007", "127.77.9.41:7101"} {
		if err := dial(t, addr).echo("back " + addr); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	testutil.Eventually(t, "events after the rollback", func() bool {
		return sawLine(&col, "m2", "zz-echo", "back 127.77.9.41:7777") && sawLine(&col, "m2", "zz-alpha", "back 127.77.9.41:7101")
	})
}

func TestReplaceRefuses(t *testing.T) {
	d := decky("m3", "127.77.9.42")
	f := startOne(t, d, &testutil.Events{})
	for _, tc := range []struct {
		name, decky string
		services    []string
		is          error
		says        string
	}{
		{"unknown decky", "nope", []string{"zz-echo"}, fleet.ErrNoDecky, `"nope"`},
		{"unknown service", "m3", []string{"zz-echo", "zz-none"}, service.ErrUnknown, "zz-none"},
		{"twice", "m3", []string{"zz-alpha", "zz-alpha"}, nil, "listed twice"},
		{"empty", "m3", nil, nil, "no services"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.Replace(context.Background(), tc.decky, tc.services)
			if err == nil || !strings.Contains(err.Error(), tc.says) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("error %v, want %v saying %q", err, tc.is, tc.says)
			}
		})
	}
	// Nothing changed: the one service still serves.
	if err := dial(t, "127.77.9.42:7777").echo("ok"); err != nil {
		t.Fatal(err)
	}
	f.Stop()
	if err := f.Replace(context.Background(), "m3", []string{"zz-alpha"}); !errors.Is(err, ErrStopped) {
		t.Fatalf("replace after stop: %v", err)
	}
	if !refused("127.77.9.42:7101") {
		t.Fatal("a replace after stop bound a listener")
	}
}

func TestDeckiesIsASnapshot(t *testing.T) {
	d := decky("m4", "127.77.9.43")
	d.ServiceConfig = map[string]map[string]string{"zz-echo": {}}
	f := startOne(t, d, &testutil.Events{})
	got := f.Deckies()
	got[0].Services[0] = "changed"
	got[0].Bindings[0].Addr = "changed"
	got[0].ServiceConfig["zz-echo"]["k"] = "v"
	got[0].ServiceConfig["other"] = nil
	again := f.Deckies()[0]
	if again.Services[0] != "zz-echo" || again.Bindings[0].Addr == "changed" || len(again.ServiceConfig) != 1 || len(again.ServiceConfig["zz-echo"]) != 0 {
		t.Fatalf("the snapshot shares memory with the fleet: %+v", again)
	}
}

func TestMutateIntervals(t *testing.T) {
	f := startOne(t, decky("m5", "127.77.9.44"), &testutil.Events{})
	for _, tc := range []struct {
		name           string
		decky, global  int
		wantErr        bool
		interval       int
		off            bool
		effective      int
		effectiveNoDef int // with global 0
	}{
		{"fleet default", 0, 30, false, 0, false, 30, 0},
		{"own interval", 45, 30, false, 45, false, 45, 45},
		{"never", fleet.NeverMutate, 30, false, 0, true, 0, 0},
		{"back to default", 0, 30, false, 0, false, 30, 0},
		{"below never", -2, 30, true, 0, false, 30, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.SetMutateInterval("m5", tc.decky)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v", err)
			}
			if err := f.SetGlobalMutateInterval(tc.global); err != nil {
				t.Fatal(err)
			}
			d := f.Deckies()[0]
			if d.MutateInterval != tc.interval || d.MutateOff != tc.off {
				t.Fatalf("interval %d off %v", d.MutateInterval, d.MutateOff)
			}
			if got := d.EffectiveMutateInterval(f.GlobalMutateInterval()); got != tc.effective {
				t.Errorf("effective %d, want %d", got, tc.effective)
			}
			if got := d.EffectiveMutateInterval(0); got != tc.effectiveNoDef {
				t.Errorf("effective without default %d, want %d", got, tc.effectiveNoDef)
			}
		})
	}
	if err := f.SetMutateInterval("nope", 5); !errors.Is(err, fleet.ErrNoDecky) {
		t.Errorf("unknown decky: %v", err)
	}
	if err := f.SetGlobalMutateInterval(-1); err == nil {
		t.Error("negative global interval accepted")
	}
}

// TestReplaceConcurrently runs replaces, snapshots and sessions at once;
// under -race it proves the fleet's state is guarded.
func TestReplaceConcurrently(t *testing.T) {
	var col testutil.Events
	a, b := decky("m6", "127.77.9.45"), decky("m7", "127.77.9.46")
	f, err := Start(context.Background(), fleet.Fleet{Deckies: []fleet.Decky{a, b}},
		Options{PortOffset: 20000, ForceOffset: true, DataDir: t.TempDir(), Emit: &col})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	sets := [][]string{{"zz-alpha"}, {"zz-echo", "zz-beta"}, {"zz-beta"}, {"zz-echo"}}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, name := range []string{"m6", "m6", "m7"} {
		wg.Go(func() {
			for i := range 8 {
				if err := f.Replace(context.Background(), name, sets[i%len(sets)]); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			for _, d := range f.Deckies() {
				if len(d.Services) == 0 || len(d.Bindings) == 0 {
					errs <- fmt.Errorf("decky %s without services in a snapshot", d.Name)
				}
			}
		}
	})
	wg.Go(func() {
		// Sessions come and go while the services change under them.
		for range 30 {
			if c, err := net.Dial("tcp", "127.77.9.45:7777"); err == nil {
				c.Close()
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every decky ends on the last set and serves it.
	for _, d := range f.Deckies() {
		if !slices.Equal(d.Services, []string{"zz-echo"}) {
			t.Errorf("%s runs %v", d.Name, d.Services)
		}
		if err := dial(t, d.IP.String()+":7777").echo("end " + d.Name); err != nil {
			t.Error(err)
		}
	}
}
