package image

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

const (
	// modulePath is the module the image's binary is built from.
	modulePath = "decnet"
	// mainPackage is the command the image runs, relative to the module root.
	mainPackage = "./cmd/decnet"
)

// Static returns the path of a statically linked decnet binary for the
// image, and a cleanup that removes it when it is a temporary build.
//
// A FROM-scratch image has no libc, so a cgo binary (what `go run` and
// `go test` produce wherever gcc exists) cannot start in it. The running
// executable is used when it is decnet and static; otherwise, when a
// decnet source tree and a go toolchain are at hand, the binary is
// compiled with CGO_ENABLED=0. version, when not empty, is stamped into
// the compiled binary (main.version) so `decnet version` in a container
// matches the image tag. log may be nil.
func Static(ctx context.Context, log *slog.Logger, version string) (path string, cleanup func(), err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if exe, ok := staticSelf(); ok {
		return exe, func() {}, nil
	}
	if version != "" && !tagPattern.MatchString(version) {
		return "", nil, fmt.Errorf("invalid version %q for the binary", version)
	}
	root, err := moduleRoot(sourceDirs())
	if err != nil {
		return "", nil, fmt.Errorf("the running decnet is not a static binary and %w; "+
			"build decnet with CGO_ENABLED=0 (CGO_ENABLED=0 go build %s) or pass a static binary", err, mainPackage)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", nil, fmt.Errorf("the running decnet is not a static binary and no go toolchain is on PATH to compile one from %s (%w); "+
			"build decnet with CGO_ENABLED=0 or pass a static binary", root, err)
	}
	dir, err := os.MkdirTemp("", "decnet-image-")
	if err != nil {
		return "", nil, fmt.Errorf("temporary directory for the binary: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	out := filepath.Join(dir, "decnet")
	log.Info("compiling a static binary for the image", "source", root, "version", version)
	if err := compileStatic(ctx, goTool, root, out, version); err != nil {
		cleanup()
		return "", nil, err
	}
	static, err := IsStatic(out)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	if !static {
		// GOFLAGS or a toolchain setting can still force external linking.
		cleanup()
		return "", nil, fmt.Errorf("%s built with CGO_ENABLED=0 is still dynamically linked; check GOFLAGS", out)
	}
	return out, cleanup, nil
}

// staticSelf returns the running executable when it is the decnet command
// and statically linked. The package check keeps a static test binary (or
// any other program importing this package) out of the image.
func staticSelf() (string, bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Path != modulePath+strings.TrimPrefix(mainPackage, ".") {
		return "", false
	}
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	static, err := IsStatic(exe)
	return exe, err == nil && static
}

// sourceDirs lists where a decnet source tree may be found: the working
// directory, then the directory this file was compiled from (absolute
// unless built with -trimpath), which still points into the tree when
// decnet runs through `go run` from elsewhere.
func sourceDirs() []string {
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append(dirs, filepath.Dir(file))
	}
	return dirs
}

// moduleRoot returns the first directory, walking up from each start in
// turn, whose go.mod declares the decnet module. Other modules met on the
// way (nested ones, such as tools) are walked past.
func moduleRoot(starts []string) (string, error) {
	for _, start := range starts {
		for dir := filepath.Clean(start); ; {
			data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && goModModule(data) == modulePath {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no go.mod of module %s above %s", modulePath, strings.Join(starts, " or "))
}

// goModModule returns the module path a go.mod declares, or "".
func goModModule(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		fields := strings.Fields(line)
		if len(fields) != 2 || fields[0] != "module" {
			continue
		}
		if p, err := strconv.Unquote(fields[1]); err == nil {
			return p
		}
		return fields[1]
	}
	return ""
}

// compileStatic builds the decnet command at root into out without cgo,
// for the engine's platform (this host).
func compileStatic(ctx context.Context, goTool, root, out, version string) error {
	ldflags := "-s -w"
	if version != "" {
		ldflags += " -X main.version=" + version
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags", ldflags, "-o", out, mainPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("CGO_ENABLED=0 go build %s in %s: %w: %s", mainPackage, root, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// IsStatic reports whether the ELF executable at path runs without a
// dynamic loader: no PT_INTERP program header and no DT_NEEDED library.
func IsStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, fmt.Errorf("reading executable %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return false, fmt.Errorf("reading the libraries %s needs: %w", path, err)
	}
	return len(libs) == 0, nil
}
