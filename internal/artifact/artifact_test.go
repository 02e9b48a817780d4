package artifact

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestKeep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "artifacts")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	a := s.Keep("/tmp/x.sh", []byte("#!/bin/sh\necho pwned\n"), now)
	if a.NotStored != "" || a.Size != 21 || len(a.SHA256) != 64 ||
		!regexp.MustCompile(`^2026-11-26T04:00:00Z_[0-9a-f]{12}_x\.sh$`).MatchString(a.StoredAs) {
		t.Fatalf("first keep: %+v", a)
	}
	// The same bytes under another name are kept once.
	if b := s.Keep("/var/tmp/other", []byte("#!/bin/sh\necho pwned\n"), now.Add(time.Minute)); b.StoredAs != a.StoredAs {
		t.Fatalf("same bytes stored twice: %q and %q", a.StoredAs, b.StoredAs)
	}
	// A hostile name becomes a plain file name.
	c := s.Keep("../../<img src=x>", []byte("other"), now)
	if m, _ := regexp.MatchString(`^[A-Za-z0-9:._-]+$`, c.StoredAs); !m || filepath.Dir(filepath.Join(dir, c.StoredAs)) != dir {
		t.Fatalf("hostile name stored as %q", c.StoredAs)
	}
	// A new store of the same directory finds the files by content.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := s2.Keep("again", []byte("other"), now.Add(time.Hour)); d.StoredAs != c.StoredAs {
		t.Fatalf("after reopening, %q stored again as %q", c.StoredAs, d.StoredAs)
	}
	// Over the budget nothing more is kept, and the event says why.
	old := Budget
	Budget = 40
	defer func() { Budget = old }()
	e := s2.Keep("big", make([]byte, 64), now)
	if e.StoredAs != "" || e.NotStored != NotStoredBudget {
		t.Fatalf("over budget: %+v", e)
	}
	f := e.Fields("/root/big")
	if f["stored"] != "false" || f["reason"] != NotStoredBudget || f["size"] != "64" || f["orig_path"] != "/root/big" || f["sha256"] != e.SHA256 {
		t.Fatalf("fields %v", f)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("%d files kept, want 2", len(ents))
	}
}
