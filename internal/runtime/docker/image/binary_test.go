package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"decnet/internal/testutil"
)

// echoProgram prints its uid and its arguments: enough to see a container
// ran the entrypoint with the command as arguments, as the image's user.
const echoProgram = `package main

import (
	"fmt"
	"os"
	"strings"
)

func main() { fmt.Println(os.Getuid(), strings.Join(os.Args[1:], " ")) }
`

// cgoProgram links libc dynamically.
const cgoProgram = `package main

import "C"

func main() {}
`

// goBuild compiles a one-file program with cgo on or off and returns the
// binary's path.
func goBuild(t *testing.T, src string, cgo bool) string {
	t.Helper()
	goTool := testutil.RequireTool(t, "go")
	dir := t.TempDir()
	for name, data := range map[string]string{"go.mod": "module tiny\n\ngo 1.22\n", "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	enabled := "0"
	if cgo {
		enabled = "1"
	}
	out := filepath.Join(dir, "prog")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+enabled, "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (CGO_ENABLED=%s): %v\n%s", enabled, err, b)
	}
	return out
}

func TestIsStatic(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		binary  func(t *testing.T) string
		want    bool
		wantErr bool
	}{
		{"static", func(t *testing.T) string { return goBuild(t, echoProgram, false) }, true, false},
		{"cgo", func(t *testing.T) string {
			testutil.RequireTool(t, "gcc")
			return goBuild(t, cgoProgram, true)
		}, false, false},
		{"not ELF", func(*testing.T) string { return notELF }, false, true},
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "none") }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IsStatic(tt.binary(t))
			if (err != nil) != tt.wantErr {
				t.Fatalf("IsStatic error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("IsStatic = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGoModModule(t *testing.T) {
	tests := []struct {
		name, gomod, want string
	}{
		{"plain", "module decnet\n\ngo 1.26\n", "decnet"},
		{"quoted", "module \"decnet\"\n", "decnet"},
		{"comment", "// the honeypot\nmodule decnet // root\n", "decnet"},
		{"other", "module example.com/tool\n", "example.com/tool"},
		{"none", "go 1.26\n", ""},
		{"prefix only", "modules decnet\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := goModModule([]byte(tt.gomod)); got != tt.want {
				t.Errorf("goModModule = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"src/go.mod":            "module decnet\n",
		"src/internal/x/x.go":   "package x\n",
		"src/tools/go.mod":      "module decnet/tools\n",
		"src/tools/lint/l.go":   "package lint\n",
		"other/go.mod":          "module other\n",
		"other/pkg/p.go":        "package p\n",
		"lonely/deep/a/place.x": "",
	}
	for name, data := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := func(rel string) string { return filepath.Join(root, rel) }
	tests := []struct {
		name   string
		starts []string
		want   string // "" = error
	}{
		{"at the root", []string{in("src")}, in("src")},
		{"below the root", []string{in("src/internal/x")}, in("src")},
		{"past a nested module", []string{in("src/tools/lint")}, in("src")},
		{"second start", []string{in("other/pkg"), in("src/internal")}, in("src")},
		{"other module only", []string{in("other/pkg")}, ""},
		{"no go.mod", []string{in("lonely/deep/a")}, ""},
		{"no start", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := moduleRoot(tt.starts)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("moduleRoot = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("moduleRoot = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestStatic compiles decnet itself: the test binary is dynamically linked
// (or not decnet), so Static must take the source route from this tree.
func TestStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles decnet")
	}
	testutil.RequireTool(t, "go")
	const version = "v0.0.0-imagetest"
	path, cleanup, err := Static(context.Background(), nil, version)
	if err != nil {
		t.Fatal(err)
	}
	static, err := IsStatic(path)
	if err != nil || !static {
		t.Fatalf("IsStatic(%s) = %v, %v; want a static binary", path, static, err)
	}
	out, err := exec.CommandContext(t.Context(), path, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", path, err)
	}
	if !strings.Contains(string(out), version) {
		t.Errorf("%s version printed %q, want the stamped version %s", path, out, version)
	}
	cleanup()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s: %v", path, err)
	}
}
