package ssh

import (
	"testing"

	"decnet/internal/artifact"
	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestFileCapturedOverBudget checks the events of writes once the decky's
// artifact budget is spent: still reported with hash, size and path, but
// marked as not kept; and a repeated content reuses the kept copy.
func TestFileCapturedOverBudget(t *testing.T) {
	old := artifact.Budget
	artifact.Budget = 16
	defer func() { artifact.Budget = old }()
	ts := start(t, "127.77.0.11", "debian", &Persona{Password: "pw"}, "")
	c, err := dial(t, ts.addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run(t, c, "echo payload > /tmp/a; echo payload > /tmp/b; echo 0123456789 > /tmp/c")
	testutil.Eventually(t, "file_captured", func() bool { return len(ts.ev.OfType(event.TypeFileCaptured)) == 3 })
	ev := ts.ev.OfType(event.TypeFileCaptured)
	a, b, over := ev[0].Fields, ev[1].Fields, ev[2].Fields
	if a["stored"] != "true" || a["stored_as"] == "" || a["reason"] != "" {
		t.Errorf("first write %v", a)
	}
	if b["stored_as"] != a["stored_as"] || b["stored"] != "true" || b["orig_path"] != "/tmp/b" {
		t.Errorf("same content %v, want stored as %s", b, a["stored_as"])
	}
	want := map[string]string{"stored": "false", "reason": artifact.NotStoredBudget, "stored_as": "", "size": "11",
		"orig_path": "/tmp/c", "sha256": "c67c199595622dfbdc9e415c4a0ad6166eb49cbf74c6aac7bb3e958604d5ecb8"}
	for k, v := range want {
		if over[k] != v {
			t.Errorf("over budget: %s = %q, want %q", k, over[k], v)
		}
	}
}
