package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
)

const (
	ipA = "198.51.100.10"
	ipB = "198.51.100.11"
)

func cursorOf(t *testing.T, r *fakeRepo) int64 {
	t.Helper()
	b, err := r.State(context.Background(), CursorKey)
	if err != nil {
		t.Fatalf("cursor: %v", err)
	}
	var c struct {
		LastLogID int64 `json:"last_log_id"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("cursor %q: %v", b, err)
	}
	return c.LastLogID
}

func step(t *testing.T, w *Worker, want int) {
	t.Helper()
	n, err := w.Step(context.Background())
	if err != nil {
		t.Fatalf("Step: %v", err)
	}
	if n != want {
		t.Fatalf("Step profiled %d attackers, want %d", n, want)
	}
}

// withoutTimes drops what differs between two builds of one profile.
func withoutTimes(a store.Attacker) store.Attacker {
	a.UpdatedAt = time.Time{}
	if a.Behavior != nil {
		b := *a.Behavior
		b.UpdatedAt = time.Time{}
		a.Behavior = &b
	}
	return a
}

func TestStepIncremental(t *testing.T) {
	repo := newFakeRepo()
	w := New(repo, Options{Batch: 2})

	step(t, w, 0) // an empty store
	if _, err := repo.State(context.Background(), CursorKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a pass over nothing saved a cursor: %v", err)
	}

	repo.add(timeline(ipA, "auth", []string{"ssh"}, time.Second, time.Second)...)
	step(t, w, 1)
	if got := cursorOf(t, repo); got != 3 {
		t.Fatalf("cursor %d after 3 logs", got)
	}
	a, ok := repo.attacker(ipA)
	if !ok || a.EventCount != 3 || a.Behavior == nil || a.UpdatedAt.IsZero() || a.Behavior.UpdatedAt.IsZero() {
		t.Fatalf("profile of A: %s", jsonOf(t, a))
	}

	// New logs of B and of nobody: only B is profiled again.
	repo.add(timeline(ipB, "request", []string{"http"}, time.Second)...)
	repo.add(store.Log{Timestamp: t0, Decky: "decky-01", Service: "ssh", EventType: "command", AttackerIP: "Unknown"},
		store.Log{Timestamp: t0, Decky: "decky-01", Service: "ssh", EventType: "command"})
	step(t, w, 1)
	if got := cursorOf(t, repo); got != 7 {
		t.Errorf("cursor %d after 7 logs", got)
	}
	if repo.activity[ipA] != 1 || repo.activity[ipB] != 1 || len(repo.activity) != 2 {
		t.Errorf("Activity calls %v, want A and B once each", repo.activity)
	}
	if st := w.Status(); st.Cursor != 7 || st.Profiled != 2 || st.LastPass.IsZero() || st.LastError != "" {
		t.Errorf("status %+v", st)
	}

	step(t, w, 0) // nothing new
	if got := cursorOf(t, repo); got != 7 {
		t.Errorf("cursor moved to %d with nothing new", got)
	}
}

// A restart, with its cursor kept, deleted or corrupt, ends with the same
// profiles, built from every stored log (the original rebuilt only from
// what it saw after the restart).
func TestStepRebuildAfterRestart(t *testing.T) {
	tests := []struct {
		name    string
		restart func(*fakeRepo)
		again   int // profiles the restarted worker writes before the new log
	}{
		{"cursor kept", func(*fakeRepo) {}, 0},
		{"cursor deleted", func(r *fakeRepo) { delete(r.state, CursorKey) }, 2},
		{"cursor corrupt", func(r *fakeRepo) { r.state[CursorKey] = []byte("{not json") }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := newFakeRepo()
			repo.add(timeline(ipA, "connect", []string{"ssh"}, alternating(60*time.Second, 12*time.Second, 4)...)...)
			repo.add(timeline(ipB, "auth", []string{"ssh", "http"}, time.Second, time.Second)...)
			step(t, New(repo, Options{}), 2)
			before, _ := repo.attacker(ipA)
			if before.Behavior.BehaviorClass != ClassBeaconing {
				t.Fatalf("A is %s", before.Behavior.BehaviorClass)
			}

			tt.restart(repo)
			w := New(repo, Options{})
			step(t, w, tt.again)
			after, _ := repo.attacker(ipA)
			if !reflect.DeepEqual(withoutTimes(after), withoutTimes(before)) {
				t.Fatalf("after the restart\n%s\nbefore\n%s", jsonOf(t, after), jsonOf(t, before))
			}

			// One more event after the restart: the profile counts them all.
			repo.add(store.Log{Timestamp: at(10 * time.Minute), Decky: "decky-02", Service: "ssh", EventType: "connect", AttackerIP: ipA})
			step(t, w, 1)
			a, _ := repo.attacker(ipA)
			if a.EventCount != 6 || a.TraversalPath != "decky-01 → decky-02" || a.Behavior.TimingStats.EventCount != 6 {
				t.Errorf("after one more event: %d events, path %q, timing over %d", a.EventCount, a.TraversalPath,
					a.Behavior.TimingStats.EventCount)
			}
			if got := cursorOf(t, repo); got != 9 {
				t.Errorf("cursor %d after 9 logs", got)
			}
		})
	}
}

// A failing attacker keeps the cursor, so the next pass retries, while the
// others are still profiled.
func TestStepFailureKeepsCursor(t *testing.T) {
	repo := newFakeRepo()
	w := New(repo, Options{})
	repo.add(timeline(ipA, "auth", []string{"ssh"}, time.Second)...)
	step(t, w, 1)
	repo.add(timeline(ipB, "auth", []string{"ssh"}, time.Second)...)
	repo.add(store.Log{Timestamp: at(time.Hour), Decky: "decky-01", Service: "ssh", EventType: "auth", AttackerIP: ipA})
	boom := errors.New("disk on fire")
	repo.failIP[ipB] = boom

	n, err := w.Step(context.Background())
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("Step = %d, %v; want 1 (A), and B's error", n, err)
	}
	if a, _ := repo.attacker(ipA); a.EventCount != 3 {
		t.Errorf("A not profiled past B's failure: %d events", a.EventCount)
	}
	if got := cursorOf(t, repo); got != 2 {
		t.Errorf("cursor moved to %d past a failed attacker", got)
	}
	if st := w.Status(); !strings.Contains(st.LastError, "disk on fire") || st.LastErrorAt.IsZero() {
		t.Errorf("status %+v", st)
	}

	delete(repo.failIP, ipB)
	step(t, w, 2)
	if got := cursorOf(t, repo); got != 5 {
		t.Errorf("cursor %d after the retry", got)
	}
	if _, ok := repo.attacker(ipB); !ok || w.Status().LastError != "" {
		t.Errorf("B not profiled on retry, or the error stayed: %+v", w.Status())
	}
}

// A first pass over many attackers profiles them in chunks, saving the
// cursor after each.
func TestStepCheckpointsLargeBacklog(t *testing.T) {
	repo := newFakeRepo()
	const chunk = 1000
	const attackers = chunk + 10
	for i := range attackers {
		repo.add(store.Log{Timestamp: t0, Decky: "decky-01", Service: "ssh", EventType: "connect",
			AttackerIP: fmt.Sprintf("10.%d.%d.1", i/256, i%256)})
	}
	w := New(repo, Options{Batch: 100})
	w.pending = chunk
	step(t, w, attackers)
	if repo.saves != 2 {
		t.Errorf("%d cursor saves, want 2 (one per chunk)", repo.saves)
	}
	if got := cursorOf(t, repo); got != attackers {
		t.Errorf("cursor %d", got)
	}
}

func TestRunAndCheck(t *testing.T) {
	repo := newFakeRepo()
	w := New(repo, Options{Interval: 10 * time.Millisecond})
	if err := w.Check(context.Background()); err == nil || err.Error() != "not started" {
		t.Fatalf("Check before Run: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	repo.add(timeline(ipA, "auth", []string{"ssh"}, time.Second)...)
	waitFor(t, "A's profile", func() bool { _, ok := repo.attacker(ipA); return ok })
	waitFor(t, "a healthy check", func() bool { return w.Check(context.Background()) == nil })

	repo.mu.Lock()
	repo.failIP[ipB] = errors.New("store gone")
	repo.mu.Unlock()
	repo.add(timeline(ipB, "auth", []string{"ssh"}, time.Second)...)
	waitFor(t, "a failing check", func() bool {
		err := w.Check(context.Background())
		return err != nil && strings.Contains(err.Error(), "store gone")
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if err := w.Check(context.Background()); err == nil || err.Error() != "stopped" {
		t.Errorf("Check after Run: %v", err)
	}
	if w.Status().Running {
		t.Error("still running")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
