package shell

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestProgramsAddedToOlderFilesystems: a filesystem saved before programs
// were added (no "programs" number, their files absent) gets their files
// at its next Open, dated like the old ones, while a file the attacker
// replaced stays theirs; the number is kept, so it happens once.
func TestProgramsAddedToOlderFilesystems(t *testing.T) {
	dir := t.TempDir()
	sys := System{Hostname: "SRV-WEB-17", Distro: "debian", IP: "10.0.0.23", Boot: testBoot}
	f, err := Open(dir, sys)
	if err != nil {
		t.Fatal(err)
	}
	lsTime := f.nodes["/usr/bin/ls"].MTime

	// Make it an older snapshot: no number, no lscpu or awk link, and an
	// attacker's own cut.
	path := filepath.Join(dir, snapshotName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var snap map[string]json.RawMessage
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	delete(snap, "programs")
	var nodes map[string]*Node
	json.Unmarshal(snap["nodes"], &nodes)
	delete(nodes, "/usr/bin/lscpu")
	delete(nodes, "/usr/bin/awk")
	nodes["/usr/bin/cut"] = &Node{Mode: 0o755, Data: []byte("#!/bin/sh\necho trojan\n")}
	snap["nodes"], _ = json.Marshal(nodes)
	b, _ = json.Marshal(snap)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	g, err := Open(dir, sys)
	if err != nil {
		t.Fatal(err)
	}
	s := g.NewSession(Options{User: "root"})
	for line, want := range map[string]string{
		"which lscpu awk":                 "/usr/bin/lscpu\n/usr/bin/awk\n",
		"cat /usr/bin/cut":                "#!/bin/sh\necho trojan\n",
		"echo a:b | awk -F: '{print $2}'": "b\n",
	} {
		if got, _ := runLine(s, line); got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
	if n := g.nodes["/usr/bin/lscpu"]; n == nil || !n.MTime.Equal(lsTime) {
		t.Errorf("lscpu added as %+v, want dated %v like ls", n, lsTime)
	}
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
	h, err := Open(dir, sys)
	if err != nil {
		t.Fatal(err)
	}
	if h.programs != programsVersion || h.dirty {
		t.Errorf("after a save: programs %d, dirty %v; want %d and nothing to add", h.programs, h.dirty, programsVersion)
	}
}
