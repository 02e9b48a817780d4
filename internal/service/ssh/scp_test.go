package ssh

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/shell"
	"decnet/internal/testutil"
)

func TestParseSCPControl(t *testing.T) {
	tests := []struct {
		line string
		want scpControl
		err  string
	}{
		{"C0644 5 a.sh", scpControl{kind: 'C', mode: 0o644, size: 5, name: "a.sh"}, ""},
		{"D0755 0 dir", scpControl{kind: 'D', mode: 0o755, name: "dir"}, ""},
		{"C0644 5 with space", scpControl{kind: 'C', mode: 0o644, size: 5, name: "with space"}, ""},
		{"C0644 5 a\x00b", scpControl{kind: 'C', mode: 0o644, size: 5, name: "a"}, ""},
		{"T1700000000 0 1700000001 0", scpControl{kind: 'T', mtime: time.Unix(1700000000, 0)}, ""},
		{"T1700000000 5 1700000001 999999", scpControl{kind: 'T', mtime: time.Unix(1700000000, 5000)}, ""},
		{"T99999999999999999999 0 1 0", scpControl{kind: 'T'}, ""},
		{"C0844 5 a", scpControl{}, "protocol error: bad mode"},
		{"C064", scpControl{}, "protocol error: bad mode"},
		{"C0644x5 a", scpControl{}, "protocol error: mode not delimited"},
		{"C0644 a", scpControl{}, "protocol error: size not present"},
		{"C0644 5a", scpControl{}, "protocol error: size not delimited"},
		{"C0644 5", scpControl{}, "protocol error: size not delimited"},
		{"C0644 99999999999999999999 a", scpControl{}, "protocol error: size out of range"},
		{"C0644 9223372036854775808 a", scpControl{}, "protocol error: size out of range"},
		{"C0644 5 ", scpControl{}, "unexpected filename"},
		{"C0644 5 ../x", scpControl{}, "unexpected filename"},
		{"C0644 5 ..", scpControl{}, "unexpected filename"},
		{"D0755 0 .", scpControl{}, "unexpected filename"},
		{"T", scpControl{}, "protocol error: mtime.sec not present"},
		{"T1", scpControl{}, "protocol error: mtime.sec not delimited"},
		{"T1 x", scpControl{}, "protocol error: mtime.usec not delimited"},
		{"T1 0 ", scpControl{}, "protocol error: atime.sec not present"},
		{"T1 0 2", scpControl{}, "protocol error: atime.sec not delimited"},
		{"T1 0 2 0 ", scpControl{}, "protocol error: atime.usec not delimited"},
		{"T1 1000000 2 0", scpControl{}, "protocol error: mtime.usec not delimited"},
		{"T1 -1 2 0", scpControl{}, "protocol error: mtime.usec not delimited"},
		{"X", scpControl{}, "protocol error: expected control record"},
		{"", scpControl{}, "protocol error: expected control record"},
	}
	for _, tt := range tests {
		got, err := parseSCPControl(tt.line)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.line, err)
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("%q: error %v, want %q", tt.line, err, tt.err)
		case tt.err == "" && !reflect.DeepEqual(got, tt.want):
			t.Errorf("%q: got %+v, want %+v", tt.line, got, tt.want)
		}
	}
}

func TestParseSCPArgs(t *testing.T) {
	tests := []struct {
		args []string
		want scpOptions
		bad  string
	}{
		{[]string{"-t", "/tmp/"}, scpOptions{to: true, args: []string{"/tmp/"}}, ""},
		{[]string{"-v", "-r", "-p", "-d", "-t", "--", "-x"}, scpOptions{to: true, dir: true, recursive: true, preserve: true, args: []string{"-x"}}, ""},
		{[]string{"-prf", "a", "b"}, scpOptions{from: true, recursive: true, preserve: true, args: []string{"a", "b"}}, ""},
		{[]string{"a", "-f"}, scpOptions{from: true, args: []string{"a"}}, ""},
		{[]string{"-l", "100", "-t", "x"}, scpOptions{to: true, args: []string{"x"}}, ""},
		{[]string{"-ol", "-t"}, scpOptions{to: true}, ""},
		{[]string{"-Z"}, scpOptions{}, "scp: invalid option -- 'Z'\n"},
		{[]string{"-t", "-P"}, scpOptions{}, "scp: option requires an argument -- 'P'\n"},
	}
	for _, tt := range tests {
		got, bad, ok := parseSCPArgs(tt.args)
		if bad != tt.bad || ok != (tt.bad == "") || ok && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v %q %v, want %+v %q", tt.args, got, bad, ok, tt.want, tt.bad)
		}
	}
}

// scpTree is the tree both scp servers of the differential test start
// from: d/f (6 bytes), e/x (empty), relative to their working directory.
func scpTree(t *testing.T, dir string, sess *shell.Session) {
	t.Helper()
	mt := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	os.MkdirAll(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(dir, "d", "f"), []byte("hello\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "e"), 0o755)
	os.WriteFile(filepath.Join(dir, "e", "x"), nil, 0o644)
	for _, p := range []string{"d/f", "e/x", "e", "d"} {
		os.Chtimes(filepath.Join(dir, p), mt, mt)
	}
	for _, err := range []error{sess.Mkdir("d", 0o755), sess.Upload("d/f", []byte("hello\n")), sess.Mkdir("e", 0o755),
		sess.Upload("e/x", nil)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"d/f", "e/x", "e", "d"} {
		sess.Chtimes(p, mt, true)
	}
}

// runRealSCP runs OpenSSH's scp in server mode in dir with input in.
func runRealSCP(t *testing.T, bin, dir string, args []string, in []byte) ([]byte, int) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", `umask 022; exec "$0" "$@"`, bin}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.Bytes(), cmd.ProcessState.ExitCode()
}

// runOurSCP runs serveSCP for the words of an scp command line.
func runOurSCP(sess *shell.Session, args []string, in []byte) ([]byte, int) {
	var out bytes.Buffer
	o, bad, ok := parseSCPArgs(args)
	if !ok {
		return []byte(bad), 1
	}
	code := serveSCP(sess, o, pipeRW{bytes.NewReader(in), &out}, &budget{max: transferBudget}, func(string, map[string]string) {})
	return out.Bytes(), code
}

// TestSCPMatchesOpenSSH feeds the same client streams to OpenSSH's scp in
// server mode and to ours, and expects the same answers, exit statuses
// and files.
func TestSCPMatchesOpenSSH(t *testing.T) {
	bin := testutil.RequireTool(t, "scp")
	tests := []struct {
		name string
		args []string
		in   string
		file string // a file whose mode and contents must agree afterwards
	}{
		{"upload", []string{"-t", "d"}, "C0755 5 new\nhello\x00", "d/new"},
		{"upload onto a file", []string{"-t", "d/f"}, "C0600 3 other\nabc\x00", "d/f"},
		{"upload with times", []string{"-p", "-t", "d"}, "T1700000000 0 1700000000 0\nC0640 2 t\nhi\x00", "d/t"},
		{"into a missing directory", []string{"-t", "nodir/x"}, "C0644 2 x\nhi\x00", ""},
		{"two files", []string{"-d", "-t", "e"}, "C0644 1 a\na\x00C0644 1 b\nb\x00", "e/b"},
		{"target not a directory", []string{"-d", "-t", "d/f"}, "", ""},
		{"ambiguous target", []string{"-t"}, "", ""},
		{"ambiguous targets", []string{"-t", "a", "b"}, "", ""},
		{"bad mode", []string{"-t", "d"}, "C0x44 5 a\n", ""},
		{"bad name", []string{"-t", "d"}, "C0644 5 ../a\n", ""},
		{"not a control line", []string{"-t", "d"}, "Xfoo\n", ""},
		{"not a control line later", []string{"-t", "d"}, "C0644 1 a\na\x00Xfoo\n", ""},
		{"newline", []string{"-t", "d"}, "\n", ""},
		{"client error", []string{"-t", "d"}, "\x01scp: local: oops\n", ""},
		{"client fatal", []string{"-t", "d"}, "\x02scp: local: oops\n", ""},
		{"end at top", []string{"-t", "d"}, "E\n", ""},
		{"lost connection", []string{"-t", "d"}, "C0644 5 a", ""},
		{"size out of range", []string{"-t", "d"}, "C0644 99999999999999999999 a\n", ""},
		{"bad times", []string{"-t", "d"}, "T1 x\n", ""},
		{"directory without -r", []string{"-t", "."}, "D0755 0 sub\n", ""},
		{"directory", []string{"-r", "-t", "."}, "D0750 0 sub\nC0644 3 f\nabc\x00E\n", "sub/f"},
		{"directory over a file", []string{"-r", "-t", "d"}, "D0755 0 f\nC0644 1 z\nz\x00E\n", "d/z"},
		{"client error after the data", []string{"-t", "d"}, "C0644 2 g\nhi\x01scp: read error\n", "d/g"},
		{"download", []string{"-f", "d/f"}, "\x00\x00\x00", ""},
		{"download with times", []string{"-p", "-f", "d/f"}, "\x00\x00\x00\x00", ""},
		{"download missing", []string{"-f", "nope"}, "\x00", ""},
		{"download a directory", []string{"-f", "d"}, "\x00", ""},
		{"download a tree", []string{"-r", "-f", "e/"}, "\x00\x00\x00\x00\x00", ""},
		{"download refused", []string{"-f", "d/f"}, "\x00\x01scp: local: no space\n", ""},
		{"unknown option", []string{"-Z", "-t", "d"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			sess := newTestShell(t, "root")
			scpTree(t, dir, sess)
			if tt.name == "unknown option" {
				// scp prints its usage on stderr, not in the protocol.
				got, code := runOurSCP(sess, tt.args, nil)
				if code != 1 || string(got) != "scp: invalid option -- 'Z'\n" {
					t.Errorf("got %d %q", code, got)
				}
				return
			}
			want, wantCode := runRealSCP(t, bin, dir, tt.args, []byte(tt.in))
			got, code := runOurSCP(sess, tt.args, []byte(tt.in))
			if !bytes.Equal(got, want) || code != wantCode {
				t.Errorf("got %d %q\nwant %d %q", code, got, wantCode, want)
			}
			if tt.file == "" {
				return
			}
			st, err := os.Stat(filepath.Join(dir, tt.file))
			fi, err2 := sess.Stat(tt.file)
			if err != nil || err2 != nil || fi.Mode.Perm() != st.Mode().Perm() || fi.Size != st.Size() {
				t.Errorf("%s: ours %v %v, OpenSSH's %v %v", tt.file, fi, err2, st, err)
			}
			if tt.args[0] == "-p" && !fi.MTime.Equal(st.ModTime()) {
				t.Errorf("%s: mtime %v, OpenSSH's %v", tt.file, fi.MTime, st.ModTime())
			}
			realData, _ := os.ReadFile(filepath.Join(dir, tt.file))
			ourData, _ := sess.ReadFile(tt.file)
			if !bytes.Equal(realData, ourData) {
				t.Errorf("%s: %q, OpenSSH's %q", tt.file, ourData, realData)
			}
		})
	}
}

// TestSCPUploadCap checks that bytes past the cap are read and dropped,
// the transfer stays in step, and the client is told the disk is full.
func TestSCPUploadCap(t *testing.T) {
	sess := newTestShell(t, "root")
	var events []map[string]string
	size := maxUpload + 10
	in := io.MultiReader(strings.NewReader("C0644 "+strconv.Itoa(size)+" big\n"), bytes.NewReader(make([]byte, size)),
		strings.NewReader("\x00C0644 2 small\nok\x00"))
	var out bytes.Buffer
	o, _, _ := parseSCPArgs([]string{"-t", "/tmp"})
	code := serveSCP(sess, o, pipeRW{in, &out}, &budget{max: transferBudget}, func(op string, f map[string]string) { events = append(events, f) })
	if want := "\x00\x00\x01scp: /tmp/big: No space left on device\n\x00\x00"; out.String() != want || code != 1 {
		t.Errorf("got %d %q, want 1 %q", code, out.String(), want)
	}
	if data, err := sess.ReadFile("/tmp/small"); err != nil || string(data) != "ok" {
		t.Errorf("the file after the big one: %q %v", data, err)
	}
	if len(events) != 2 || events[0]["received"] != strconv.Itoa(maxUpload) {
		t.Errorf("events %v", events)
	}
	if fi, err := sess.Stat("/tmp/big"); err != nil || fi.Size != 0 || fi.Mode != fs.FileMode(0o644) {
		t.Errorf("the refused file: %+v %v", fi, err)
	}
}
