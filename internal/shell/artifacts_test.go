package shell

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/artifact"
)

// writer is a root session on the filesystem under dir that records the
// File hook.
type writer struct {
	f      *FS
	s      *Session
	writes []FileWrite
}

func openWriter(t *testing.T, dir string) *writer {
	t.Helper()
	f, err := Open(dir, System{Hostname: "h", Distro: "debian"})
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{f: f}
	w.s = f.NewSession(Options{User: "root", Hooks: Hooks{File: func(fw FileWrite) { w.writes = append(w.writes, fw) }}})
	t.Cleanup(func() { w.s.Close() })
	return w
}

// run runs line and returns the one write it reported.
func (w *writer) run(t *testing.T, line string) FileWrite {
	t.Helper()
	n := len(w.writes)
	if out, st := runLine(w.s, line); st != 0 {
		t.Fatalf("%s: %d %q", line, st, out)
	}
	if len(w.writes) != n+1 {
		t.Fatalf("%s: %d writes reported", line, len(w.writes)-n)
	}
	return w.writes[n]
}

// artifactFiles lists the artifact directory and its total size.
func artifactFiles(t *testing.T, dir string) ([]string, int64) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var total int64
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
		total += info.Size()
	}
	return names, total
}

func TestArtifactsBudgetDedupReopen(t *testing.T) {
	old := artifact.Budget
	artifact.Budget = 40
	defer func() { artifact.Budget = old }()
	dir := t.TempDir()
	w := openWriter(t, dir)

	// "aaaa\n" (5 bytes) is kept once however often and wherever it is
	// written.
	first := w.run(t, "echo aaaa > /tmp/a")
	if first.StoredAs == "" || first.NotStored != "" || first.Size != 5 {
		t.Fatalf("first write %+v", first)
	}
	for _, line := range []string{"echo aaaa > /tmp/a", "echo aaaa > /root/other", "echo aaaa > /tmp/a"} {
		if got := w.run(t, line); got.StoredAs != first.StoredAs || got.SHA256 != first.SHA256 || got.NotStored != "" {
			t.Errorf("%s: %+v, want stored as %s", line, got, first.StoredAs)
		}
	}
	// Appends store the grown file: 10, then 15 bytes; 5+10+15 = 30.
	grow1 := w.run(t, "echo aaaa >> /tmp/a")
	grow2 := w.run(t, "echo aaaa >> /tmp/a")
	if grow1.StoredAs == "" || grow2.StoredAs == "" || grow2.Size != 15 {
		t.Fatalf("appends %+v %+v", grow1, grow2)
	}
	// The next grown copy (20 bytes) would pass 40: reported, not kept.
	over := w.run(t, "echo aaaa >> /tmp/a")
	if over.StoredAs != "" || over.NotStored != artifact.NotStoredBudget || over.Size != 20 || len(over.SHA256) != 64 || over.Path != "/tmp/a" {
		t.Errorf("over budget %+v", over)
	}
	// The file itself is still written; only the capture is skipped.
	if out, _ := runLine(w.s, "wc -c < /tmp/a"); strings.TrimSpace(out) != "20" {
		t.Errorf("file after unkept write: %q", out)
	}
	// Content already kept is still found when the budget is spent.
	if got := w.run(t, "echo aaaa > /var/tmp/z"); got.StoredAs != first.StoredAs {
		t.Errorf("dedup after budget: %+v", got)
	}
	// What fits still goes in: 30 + 9 = 39.
	small := w.run(t, "echo 12345678 > /tmp/s")
	if small.StoredAs == "" {
		t.Errorf("small write refused: %+v", small)
	}
	names, total := artifactFiles(t, dir)
	if len(names) != 4 || total != 39 {
		t.Fatalf("artifacts %v, %d bytes", names, total)
	}

	// A restart recounts the directory: the budget stays spent and the
	// old copies are found by content.
	os.WriteFile(filepath.Join(dir, "artifacts", ".tmp-123"), []byte("left by a crash"), 0o600)
	w2 := openWriter(t, dir)
	if got := w2.run(t, "echo 1 > /tmp/t"); got.NotStored != artifact.NotStoredBudget {
		t.Errorf("after reopen, budget not recounted: %+v", got)
	}
	if got := w2.run(t, "echo aaaa > /tmp/b"); got.StoredAs != first.StoredAs {
		t.Errorf("after reopen, dedup %+v, want %s", got, first.StoredAs)
	}
	if got := w2.run(t, "echo aaaa >> /tmp/b"); got.StoredAs != grow1.StoredAs {
		t.Errorf("after reopen, dedup %+v, want %s", got, grow1.StoredAs)
	}
	if names2, total2 := artifactFiles(t, dir); len(names2) != 4 || total2 != 39 {
		t.Errorf("after reopen: %v, %d bytes", names2, total2)
	}

	// Removing kept files frees their bytes at the next open.
	for _, n := range names {
		if n == small.StoredAs || n == grow2.StoredAs {
			os.Remove(filepath.Join(dir, "artifacts", n))
		}
	}
	w3 := openWriter(t, dir)
	if got := w3.run(t, "echo 0123456789abcdefghi > /tmp/u"); got.StoredAs == "" {
		t.Errorf("after cleanup, 20 bytes in 15 used: %+v", got)
	}
}

// TestArtifactsPrefixCollision checks that a kept file whose name shares
// the 12-digit prefix but not the content does not swallow a new payload.
func TestArtifactsPrefixCollision(t *testing.T) {
	dir := t.TempDir()
	w := openWriter(t, dir)
	real := w.run(t, "echo payload > /tmp/p")
	// Fake an earlier run's file with that prefix and other bytes.
	decoy := "2020-01-01T00:00:00Z_" + real.SHA256[:12] + "_decoy"
	if err := os.WriteFile(filepath.Join(dir, "artifacts", decoy), []byte("other"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "artifacts", real.StoredAs))
	w2 := openWriter(t, dir)
	got := w2.run(t, "echo payload > /tmp/q")
	if got.StoredAs == "" || got.StoredAs == decoy {
		t.Fatalf("payload stored as %q", got.StoredAs)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "artifacts", got.StoredAs)); err != nil || string(b) != "payload\n" {
		t.Errorf("kept %q %v", b, err)
	}
}

func TestBootFollowsArchetype(t *testing.T) {
	dir := t.TempDir()
	f, err := Open(dir, System{Hostname: "SRV-DB-17"})
	if err != nil {
		t.Fatal(err)
	}
	want := archetype.Boot("SRV-DB-17", time.Now())
	if !f.Boot().Equal(want) {
		t.Errorf("boot %v, want %v", f.Boot(), want)
	}
	// A snapshot from before holds its own random boot time; the decky's
	// boot replaces it, and the boot-time mounts are redated to it.
	b, err := os.ReadFile(filepath.Join(dir, snapshotName))
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "{", `{"boot":"2001-02-03T04:05:06Z",`, 1))
	if err := os.WriteFile(filepath.Join(dir, snapshotName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	later := want.Add(90 * 24 * time.Hour) // past at least one reboot
	f2, err := Open(dir, System{Hostname: "SRV-DB-17", Boot: archetype.Boot("SRV-DB-17", later)})
	if err != nil {
		t.Fatal(err)
	}
	if !f2.Boot().After(want) {
		t.Fatalf("boot %v did not move past %v", f2.Boot(), want)
	}
	_, n, err := f2.stat("/proc/uptime", false)
	if err != nil || !n.MTime.Equal(f2.Boot()) {
		t.Errorf("/proc/uptime mtime %v, boot %v (%v)", n.MTime, f2.Boot(), err)
	}
	_, n, _ = f2.stat("/run", false)
	if !n.MTime.Equal(f2.Boot()) {
		t.Errorf("/run mtime %v, boot %v", n.MTime, f2.Boot())
	}
	_, n, _ = f2.stat("/etc", false)
	if !n.MTime.Before(want) {
		t.Errorf("/etc mtime %v redated", n.MTime)
	}
}

// TestArtifactStoredNames: a stored name keeps only a safe alphabet of
// the written file's name, since analysts copy these files around and
// the API downloads no other names; the full path stays in Path.
func TestArtifactStoredNames(t *testing.T) {
	stored := regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z_[a-f0-9]{12}_([A-Za-z0-9._-]{1,64})$`)
	w := openWriter(t, t.TempDir())
	for i, tc := range []struct{ line, path, base string }{
		{`echo a > /tmp/payload.sh`, "/tmp/payload.sh", "payload.sh"},
		{`echo b > '/tmp/<img src=x onerror=alert(1)>'`, "/tmp/<img src=x onerror=alert(1)>", "_img_src_x_onerror_alert_1__"},
		{`echo c > "/tmp/a b'c;d"`, `/tmp/a b'c;d`, "a_b_c_d"},
		{`echo d > /tmp/ünï`, "/tmp/ünï", "_n_"},
	} {
		got := w.run(t, tc.line)
		m := stored.FindStringSubmatch(got.StoredAs)
		if m == nil || m[1] != tc.base || got.Path != tc.path {
			t.Errorf("%d: %s: stored as %q, path %q; want base %q, path %q", i, tc.line, got.StoredAs, got.Path, tc.base, tc.path)
		}
	}
}
