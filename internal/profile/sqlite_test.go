package profile

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/store"
)

// End to end on the real store: records ingested as the pipeline does,
// profiled, then profiled again after a restart that lost the cursor.
func TestWorkerSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decnet.db")
	repo, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { repo.Close() }()

	const ip = "203.0.113.50"
	rec := func(d time.Duration, decky, service, typ string, fields map[string]string) event.Record {
		fields["src_ip"] = ip
		return event.NewRecord(event.Event{Time: at(d), Decky: decky, Service: service, Type: typ,
			Severity: event.Info, Fields: fields})
	}
	s := time.Second
	batch := []event.Record{
		rec(0, "decky-02", "http", "request", map[string]string{"method": "GET", "path": "/",
			"headers": `{"Host":"127.77.0.11","User-Agent":"sqlmap/1.7.2#stable"}`, "user_agent": "sqlmap/1.7.2#stable"}),
		rec(1*s, "decky-02", "ssh", "auth", map[string]string{"username": "root", "password": "123456", "success": "true"}),
		rec(2*s, "decky-01", "ssh", "command", map[string]string{"command": "uname -a"}),
		rec(4*s, "decky-01", "ssh", "command", map[string]string{"command": "cat /etc/passwd"}),
		rec(5*s, "decky-01", "redis", "command", map[string]string{"cmd": "KEYS"}),
		event.NewRecord(event.Event{Time: at(6 * s), Decky: "decky-01", Service: "ssh", Type: "command",
			Severity: event.Info, Fields: map[string]string{"command": "id"}}), // names no attacker
	}
	if err := repo.Ingest(ctx, batch, "test:ingest", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}

	w := New(repo, Options{})
	step(t, w, 1)
	page, err := repo.Attackers(ctx, store.AttackerQuery{Limit: 10})
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("attackers %+v, %v", page, err)
	}
	got, err := repo.Attacker(ctx, page.Data[0].UUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IP != ip || got.EventCount != 5 || got.DeckyCount != 2 || !got.IsTraversal || got.TraversalPath != "decky-02 → decky-01" ||
		!reflect.DeepEqual(got.Services, []string{"http", "redis", "ssh"}) || got.CommandCount != 3 || len(got.Commands) != 3 ||
		got.CredentialCount != 1 || got.BountyCount != 2 || len(got.Fingerprints) != 1 {
		t.Fatalf("profile %s", jsonOf(t, got))
	}
	if got.Behavior == nil || got.Behavior.BehaviorClass != ClassScanning ||
		!reflect.DeepEqual(got.Behavior.ToolGuesses, []string{"sqlmap"}) || got.Behavior.TimingStats.EventCount != 5 {
		t.Fatalf("behaviour %s", jsonOf(t, got.Behavior))
	}

	// Restart with a cursor lost: the profile is rebuilt from the store, the
	// same as before (the original rebuilt only from later events).
	if err := repo.Close(); err != nil {
		t.Fatal(err)
	}
	if repo, err = store.OpenSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := repo.SetState(ctx, CursorKey, []byte(`{"last_log_id":0}`)); err != nil {
		t.Fatal(err)
	}
	step(t, New(repo, Options{}), 1)
	again, err := repo.Attacker(ctx, got.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(withoutTimes(again), withoutTimes(got)) {
		t.Fatalf("rebuilt\n%s\nwas\n%s", jsonOf(t, again), jsonOf(t, got))
	}
}
