package shell

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
)

// openTwice opens one directory as two filesystems: what two processes
// sharing a decky's directory (its ssh and telnet containers) hold.
func openTwice(t *testing.T) [2]*FS {
	t.Helper()
	dir := t.TempDir()
	var out [2]*FS
	for i := range out {
		f, err := Open(dir, System{Hostname: "SRV-WEB-17", Distro: "debian", IP: "10.0.0.23", Boot: testBoot})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = f
	}
	return out
}

// TestSharedDirectory runs command lines alternately on two filesystems of
// one directory, each in a session opened at the start: every line sees
// what the other side's lines did.
func TestSharedDirectory(t *testing.T) {
	type step struct {
		side       int
		line, want string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a file written on one side is read on the other", []step{
			{0, "cat /tmp/x", "cat: /tmp/x: No such file or directory\n"},
			{1, "cat /tmp/x", "cat: /tmp/x: No such file or directory\n"},
			{0, "echo dropped > /tmp/x; chmod 755 /tmp/x", ""},
			{1, "cat /tmp/x; ls -l /tmp/x | grep -c ^-rwxr-xr-x", "dropped\n1\n"},
		}},
		{"a removal on one side is seen on the other", []step{
			{0, "mkdir -p /tmp/d/e && echo x > /tmp/d/e/f", ""},
			{1, "cat /tmp/d/e/f", "x\n"},
			{1, "rm -r /tmp/d", ""},
			{0, "ls /tmp/d", "ls: cannot access '/tmp/d': No such file or directory\n"},
		}},
		{"both sides append to one file", []step{
			{0, "echo one >> /tmp/log", ""},
			{1, "echo two >> /tmp/log", ""},
			{0, "echo three >> /tmp/log; cat /tmp/log", "one\ntwo\nthree\n"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fss := openTwice(t)
			var sess [2]*Session
			for i, f := range fss {
				sess[i] = f.NewSession(Options{User: "root"})
			}
			for _, st := range tt.steps {
				if got, _ := runLine(sess[st.side], st.line); got != st.want {
					t.Fatalf("side %d: %s: %q, want %q", st.side, st.line, got, st.want)
				}
			}
		})
	}
}

// TestSharedConcurrentWrites has both sides write at the same time, each
// command line saved as it ends: no file and no appended line is lost.
func TestSharedConcurrentWrites(t *testing.T) {
	const n = 25
	fss := openTwice(t)
	var wg sync.WaitGroup
	for side, f := range fss {
		wg.Go(func() {
			s := f.NewSession(Options{User: "root"})
			for i := range n {
				runLine(s, fmt.Sprintf("echo %d > /tmp/f%d-%d; echo %d-%d >> /tmp/log", i, side, i, side, i))
			}
			s.Close()
		})
	}
	wg.Wait()
	f, err := Open(fss[0].dir, fss[0].sys)
	if err != nil {
		t.Fatal(err)
	}
	s := f.NewSession(Options{User: "root"})
	if got, _ := runLine(s, "ls /tmp | grep -c '^f'"); got != fmt.Sprint(2*n, "\n") {
		t.Errorf("%s files in /tmp, want %d", strings.TrimSpace(got), 2*n)
	}
	log, _ := runLine(s, "cat /tmp/log")
	lines := strings.Fields(log)
	var lost []string
	for side := range fss {
		for i := range n {
			if line := fmt.Sprintf("%d-%d", side, i); !slices.Contains(lines, line) {
				lost = append(lost, line)
			}
		}
	}
	if len(lost) > 0 || len(lines) != 2*n {
		t.Errorf("/tmp/log has %d lines, lost %v", len(lines), lost)
	}
}

// TestSharedUnsavedChanges merges what one side changed in memory, not
// yet saved, with what the other saved meanwhile.
func TestSharedUnsavedChanges(t *testing.T) {
	fss := openTwice(t)
	a, b := fss[0].NewSession(Options{User: "root"}), fss[1].NewSession(Options{User: "root"})
	runLine(a, "mkdir /tmp/gone /tmp/kept")
	runLine(b, "true")
	// b writes without saving, as sftp does between saves.
	for _, p := range []string{"/tmp/gone/f", "/tmp/kept/f", "/tmp/new"} {
		if _, _, err := fss[1].writeFile(cred{}, p, []byte("b"), false, testNow); err != nil {
			t.Fatal(err)
		}
	}
	runLine(a, "rm -r /tmp/gone; echo a > /tmp/kept/g")
	// b's next command line sees a's changes under its own.
	if got, _ := runLine(b, "ls /tmp/gone /tmp/kept; cat /tmp/new"); got != "ls: cannot access '/tmp/gone': No such file or directory\n/tmp/kept:\nf\ng\nb" {
		t.Errorf("b after a's save: %q", got)
	}
	if got, _ := runLine(a, "ls /tmp/kept; cat /tmp/new; ls /tmp/gone"); got != "f\ng\nbls: cannot access '/tmp/gone': No such file or directory\n" {
		t.Errorf("a after b's save: %q", got)
	}
	fss[1].mu.RLock()
	defer fss[1].mu.RUnlock()
	if n := fss[1].nodes["/tmp/gone/f"]; n != nil {
		t.Error("a file created in a directory the other side removed is left without a parent")
	}
}

// TestSharedLastLogin: a login on one side is the other's "Last login".
func TestSharedLastLogin(t *testing.T) {
	fss := openTwice(t)
	s := fss[0].NewSession(Options{User: "root", RemoteIP: "198.51.100.7", TTY: "pts/0"})
	s.LoginBanner()
	s.Close()
	if got := fss[1].NewSession(Options{User: "root", TTY: "pts/0"}).LoginBanner(); !strings.Contains(got, "Last login: ") || !strings.Contains(got, " from 198.51.100.7\n") {
		t.Errorf("banner on the other side: %q", got)
	}
}

func TestMergeNode(t *testing.T) {
	file := func(data string) *Node { return &Node{Mode: 0o644, Data: []byte(data), MTime: testNow} }
	tests := []struct {
		name               string
		base               Node
		ours, theirs, want *Node
	}{
		{"both appended", *file("a\n"), file("a\nours\n"), file("a\ntheirs\n"), file("a\ntheirs\nours\n")},
		{"both created", Node{}, file("ours\n"), file("theirs\n"), file("theirs\nours\n")},
		{"the same append on both sides is kept once", *file("a\n"), file("a\nb\n"), file("a\nb\n"), file("a\nb\n")},
		{"ours replaced", *file("a\n"), file("new\n"), file("a\ntheirs\n"), file("new\n")},
		{"theirs replaced", *file("a\n"), file("a\nours\n"), file("new\n"), file("a\nours\n")},
		{"ours removed", *file("a\n"), nil, file("a\ntheirs\n"), nil},
		{"theirs removed", *file("a\n"), file("a\nours\n"), nil, file("a\nours\n")},
		{"directory", Node{Mode: fs.ModeDir | 0o755}, &Node{Mode: fs.ModeDir | 0o700}, &Node{Mode: fs.ModeDir | 0o711}, &Node{Mode: fs.ModeDir | 0o700}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeNode(tt.base, tt.ours, tt.theirs)
			if (got == nil) != (tt.want == nil) || got != nil && !tt.want.same(got) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
