package shell

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFileOps checks the system-call semantics of the file API, as root
// and as an ordinary user.
func TestFileOps(t *testing.T) {
	root := newTestSession(t, "debian", "root", "")
	user := root.fs.NewSession(Options{User: "admin"})
	user.now = root.now
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.Mkdir("/srv/d", 0o750))
	must(root.Upload("/srv/d/f", []byte("data")))
	must(root.Symlink("d/f", "/srv/l"))
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"mkdir existing", func() error { return root.Mkdir("/srv/d", 0o755) }, ErrExist},
		{"mkdir no parent", func() error { return root.Mkdir("/srv/x/y", 0o755) }, ErrNotExist},
		{"mkdir as user in /etc", func() error { return user.Mkdir("/etc/x", 0o755) }, ErrPermission},
		{"mkdir too long", func() error { return root.Mkdir("/tmp/"+strings.Repeat("a", 4096), 0o755) }, ErrNameTooLong},
		{"create exclusive", func() error { _, err := root.CreateFile("/srv/d/f", 0o644, true, false); return err }, ErrExist},
		{"create over a dir", func() error { _, err := root.CreateFile("/srv/d", 0o644, false, false); return err }, ErrIsDir},
		{"create as user in /srv", func() error { _, err := user.CreateFile("/srv/new", 0o644, false, false); return err }, ErrPermission},
		{"open root's file as user", func() error { _, err := user.CreateFile("/etc/passwd", 0o644, false, false); return err }, ErrPermission},
		{"rmdir not empty", func() error { return root.Rmdir("/srv/d") }, ErrNotEmpty},
		{"rmdir a file", func() error { return root.Rmdir("/srv/d/f") }, ErrNotDir},
		{"rmdir /", func() error { return root.Rmdir("/") }, ErrPermission},
		{"remove a dir", func() error { return root.Remove("/srv/d") }, ErrIsDir},
		{"rename onto a file", func() error { return root.Rename("/srv/l", "/srv/d/f", false) }, ErrExist},
		{"rename a dir into itself", func() error { return root.Rename("/srv/d", "/srv/d/sub", true) }, ErrInvalid},
		{"rename a dir onto a file", func() error { return root.Rename("/srv/d", "/etc/hostname", true) }, ErrNotDir},
		{"rename a file onto a dir", func() error { return root.Rename("/etc/hostname", "/srv/d", true) }, ErrIsDir},
		{"readlink a file", func() error { _, err := root.Readlink("/srv/d/f"); return err }, ErrInvalid},
		{"chmod a link itself", func() error { return root.Chmod("/srv/l", 0o600, false) }, ErrNotSupported},
		{"chmod root's file as user", func() error { return user.Chmod("/etc/hostname", 0o600, true) }, ErrNotPermitted},
		{"chown as user", func() error { return user.Chown("/home/admin", 0, 0, true) }, ErrNotPermitted},
		{"link a dir", func() error { return root.Link("/srv/d", "/srv/d2") }, ErrNotPermitted},
		{"truncate past the limit", func() error { return root.Truncate("/srv/d/f", MaxFileSize+1) }, ErrTooBig},
		{"realpath through a file", func() error { _, err := root.RealPath("/etc/hostname/x"); return err }, ErrNotDir},
	}
	for _, tt := range tests {
		if err := tt.op(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}

	if p, err := root.RealPath("/srv/l"); err != nil || p != "/srv/d/f" {
		t.Errorf("realpath of a link: %q %v", p, err)
	}
	if p, err := root.RealPath("/srv/d/missing"); err != nil || p != "/srv/d/missing" {
		t.Errorf("realpath of a missing last name: %q %v", p, err)
	}
	fi, err := root.Stat("/srv/d")
	if err != nil || !fi.Mode.IsDir() || fi.Mode.Perm() != 0o750 || fi.Nlink != 2 || fi.Name != "d" {
		t.Errorf("stat dir: %+v %v", fi, err)
	}
	if fi, err := root.Lstat("/srv/l"); err != nil || fi.Mode&fs.ModeSymlink == 0 || fi.Size != 3 {
		t.Errorf("lstat link: %+v %v", fi, err)
	}
	if fi, err := root.Stat("/"); err != nil || fi.Nlink < 10 {
		t.Errorf("stat / counts its subdirectories: %+v %v", fi, err)
	}
	ents, err := root.ReadDir("/srv")
	if err != nil || len(ents) != 2 || ents[0].Name != "d" || ents[0].Nlink != 2 || ents[1].Name != "l" {
		t.Errorf("readdir: %+v %v", ents, err)
	}
	if _, err := user.ReadDir("/root"); !errors.Is(err, ErrPermission) {
		t.Errorf("readdir /root as user: %v", err)
	}

	// Rename with replace moves a tree over an empty directory.
	must(root.Mkdir("/srv/empty", 0o755))
	must(root.Rename("/srv/d", "/srv/empty", true))
	if data, err := root.ReadFile("/srv/empty/f"); err != nil || string(data) != "data" {
		t.Errorf("after rename: %q %v", data, err)
	}
	must(root.Link("/srv/empty/f", "/srv/hard"))
	must(root.Upload("/srv/hard", []byte("changed")))
	if data, _ := root.ReadFile("/srv/empty/f"); string(data) != "data" {
		t.Errorf("a write through one name changed the other: %q", data)
	}
	// CreateFile truncates on request and keeps content otherwise.
	if _, err := root.CreateFile("/srv/hard", 0o600, false, false); err != nil {
		t.Fatal(err)
	}
	if data, _ := root.ReadFile("/srv/hard"); string(data) != "changed" {
		t.Errorf("open without truncate: %q", data)
	}
	if _, err := root.CreateFile("/srv/hard", 0o600, false, true); err != nil {
		t.Fatal(err)
	}
	if fi, _ := root.Stat("/srv/hard"); fi.Size != 0 {
		t.Errorf("truncated size %d", fi.Size)
	}
	mt := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	must(root.Chtimes("/srv/hard", mt, true))
	must(root.Chmod("/srv/hard", 0o640, true))
	must(root.Chown("/srv/hard", 1000, 1000, true))
	if fi, _ := root.Stat("/srv/hard"); !fi.MTime.Equal(mt) || fi.Mode != 0o640 || fi.UID != 1000 || root.UserName(fi.UID) != "admin" || root.GroupName(fi.GID) != "admin" {
		t.Errorf("after chtimes, chmod, chown: %+v", fi)
	}
	must(root.Truncate("/srv/hard", 3))
	if data, _ := root.ReadFile("/srv/hard"); string(data) != "\x00\x00\x00" {
		t.Errorf("truncate up pads with zeros: %q", data)
	}
	if home, ok := root.LookupUser("admin"); !ok || home != "/home/admin" || root.Home() != "/root" || user.Home() != "/home/admin" {
		t.Errorf("homes: %q %v", home, ok)
	}
	if size, used := root.DiskUsage(); size <= used || used <= 0 {
		t.Errorf("disk usage %d %d", size, used)
	}
	if ModeString(fs.ModeDir|0o755) != "drwxr-xr-x" {
		t.Errorf("ModeString %q", ModeString(fs.ModeDir|0o755))
	}
}

// TestUploadCapturesRefusedFiles checks that an upload the filesystem
// refuses is still kept and reported.
func TestUploadCapturesRefusedFiles(t *testing.T) {
	var got []FileWrite
	s := newTestSession(t, "debian", "admin", "")
	s.hooks.File = func(f FileWrite) { got = append(got, f) }
	err := s.Upload("/etc/evil", []byte("payload"))
	if !errors.Is(err, ErrPermission) {
		t.Errorf("upload into /etc as admin: %v", err)
	}
	if len(got) != 1 || got[0].Path != "/etc/evil" || got[0].StoredAs == "" || got[0].Size != 7 {
		t.Errorf("reported %+v", got)
	}
	if err := s.Upload("rel", nil); err != nil || len(got) != 1 {
		t.Errorf("an empty upload: %v, %d reports", err, len(got))
	}
	if fi, err := s.Stat("/home/admin/rel"); err != nil || fi.UID != 1000 {
		t.Errorf("relative upload: %+v %v", fi, err)
	}
}

func TestWords(t *testing.T) {
	s := newTestSession(t, "debian", "root", "")
	tests := []struct {
		line string
		want []string
		ok   bool
	}{
		{"scp -t /tmp/", []string{"scp", "-t", "/tmp/"}, true},
		{"scp -f '/root/my file' ~/notes.txt", []string{"scp", "-f", "/root/my file", "/root/notes.txt"}, true},
		{"scp -f /root/projects/*.s*", []string{"scp", "-f", "/root/projects/app.service", "/root/projects/backup.sh"}, true},
		{"scp -f /nothing/*", []string{"scp", "-f", "/nothing/*"}, true},
		{"scp -t /tmp; id", nil, false},
		{"scp -t /tmp > /dev/null", nil, false},
		{"X=1 scp -t /tmp", nil, false},
		{"scp -t '/tmp", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, ok := s.Words(context.Background(), tt.line)
		if ok != tt.ok || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q: %q %v, want %q %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSetEnvAndPID(t *testing.T) {
	s := newTestSession(t, "debian", "root", "")
	s.SetEnv("SSH_AUTH_SOCK", "/tmp/ssh-abc/agent.7")
	s.SetEnv("bad name", "x")
	if out, _ := runLine(s, "echo $SSH_AUTH_SOCK; env | grep -c SSH_AUTH_SOCK; echo $$"); out != "/tmp/ssh-abc/agent.7\n1\n"+strconv.Itoa(s.PID())+"\n" {
		t.Errorf("got %q", out)
	}
}
