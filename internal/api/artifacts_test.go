package api

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"decnet/internal/store"
)

// Names of the artifact tree's entries; each matches the stored_as pattern.
const (
	artFile      = "2024-05-01T10:03:00Z_0123456789ab_dropper.sh"
	artSecond    = "2024-05-01T10:04:00Z_0123456789ab_second.bin"
	artOutside   = "2024-05-01T10:05:00Z_0123456789ab_outside"
	artInside    = "2024-05-01T10:06:00Z_0123456789ab_inside"
	artFIFO      = "2024-05-01T10:07:00Z_0123456789ab_fifo"
	artDir       = "2024-05-01T10:08:00Z_0123456789ab_dir"
	artMissing   = "2024-05-01T10:09:00Z_0123456789ab_missing"
	artDotDot    = "2024-05-01T10:10:00Z_0123456789ab_.."
	secretText   = "TOP SECRET host file"
	artFileBody  = "#!/bin/sh\necho pwned\n"
	artSecondBin = "\x00\x01binary\xff"
)

// artifactTree builds two artifact directories of decky web-01 (and a
// missing one before them) next to a secret file outside them, with the
// hostile entries a decky could plant: symlinks out and in, a FIFO and
// a directory.
func artifactTree(t testing.TB) func(string) []string {
	t.Helper()
	base := t.TempDir()
	dir, dir2, outside := filepath.Join(base, "art"), filepath.Join(base, "art2"), filepath.Join(base, "outside")
	for _, d := range []string{dir, dir2, outside, filepath.Join(dir, artDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, body string) {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "secret"), secretText)
	write(filepath.Join(dir, artFile), artFileBody)
	write(filepath.Join(dir2, artSecond), artSecondBin)
	// What a name made of dots and slashes would reach.
	write(filepath.Join(base, "secret"), secretText)
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, artOutside)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(artFile, filepath.Join(dir, artInside)); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, artFIFO), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(decky string) []string {
		if decky == "web-01" {
			return []string{filepath.Join(base, "gone"), dir, dir2}
		}
		return nil
	}
}

func TestArtifactDownload(t *testing.T) {
	dirs := artifactTree(t)
	f, _, viewerTok := newProfileFixture(t, func(c *Config) { c.ArtifactDirs = dirs })
	analystTok := f.token(t, f.addUser(t, "analyst", "password1", store.RoleAnalyst, false))
	adminTok := f.token(t, f.addUser(t, "admin", "password1", store.RoleAdmin, false))

	tests := []struct {
		name   string
		token  string
		path   string // after /api/v1/artifacts/, as sent
		status int    // 0: any refusal (404 or 422)
		body   string // for 200
	}{
		{"analyst", analystTok, "web-01/" + artFile, 200, artFileBody},
		{"admin", adminTok, "web-01/" + artFile, 200, artFileBody},
		{"second directory", analystTok, "web-01/" + artSecond, 200, artSecondBin},
		{"viewer", viewerTok, "web-01/" + artFile, 403, ""},
		{"no token", "", "web-01/" + artFile, 401, ""},
		{"missing", analystTok, "web-01/" + artMissing, 404, ""},
		{"decky without directories", analystTok, "db-01/" + artFile, 404, ""},
		{"symlink out", analystTok, "web-01/" + artOutside, 404, ""},
		{"symlink in", analystTok, "web-01/" + artInside, 404, ""},
		{"fifo", analystTok, "web-01/" + artFIFO, 404, ""},
		{"directory", analystTok, "web-01/" + artDir, 404, ""},
		{"dot-dot name", analystTok, "web-01/" + artDotDot, 404, ""},
		{"bad name", analystTok, "web-01/dropper.sh", 422, ""},
		{"bad decky", analystTok, "Web_01/" + artFile, 422, ""},
		{"dot-dot segment", analystTok, "web-01/../secret", 0, ""},
		{"dot-dot decky", analystTok, "../" + artFile, 0, ""},
		{"encoded dot-dot", analystTok, "web-01/%2e%2e", 0, ""},
		{"encoded slashes", analystTok, "web-01/..%2f..%2fsecret", 0, ""},
		{"encoded slashes after a valid prefix", analystTok, "web-01/2024-05-01T10:03:00Z_0123456789ab_..%2F..%2Fsecret", 0, ""},
		{"encoded decky", analystTok, "..%2Fart/" + artFile, 0, ""},
		{"nul", analystTok, "web-01/" + artFile + "%00", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan *httptest.ResponseRecorder, 1)
			go func() { done <- f.do(t, "GET", "/api/v1/artifacts/"+tt.path, tt.token, "") }()
			var rec *httptest.ResponseRecorder
			select {
			case rec = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the download hangs")
			}
			code, body := rec.Code, rec.Body.String()
			if strings.Contains(body, secretText) {
				t.Fatalf("served the secret: %d", code)
			}
			switch {
			case tt.status == 0:
				if code != 404 && code != 422 {
					t.Fatalf("status %d, want 404 or 422: %s", code, body)
				}
				return
			case code != tt.status:
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			case code != 200:
				return
			}
			h := rec.Result().Header
			for k, want := range map[string]string{
				"Content-Type":           "application/octet-stream",
				"Content-Length":         strconv.Itoa(len(tt.body)),
				"X-Content-Type-Options": "nosniff",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			name := strings.TrimPrefix(tt.path, "web-01/")
			if got, want := h.Get("Content-Disposition"), `attachment; filename="`+name+`"`; got != want {
				t.Errorf("Content-Disposition = %q, want %q", got, want)
			}
			if body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
		})
	}
}

func TestArtifactsWithoutDirectories(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t, f.addUser(t, "analyst", "password1", store.RoleAnalyst, false))
	expect(t, f.do(t, "GET", "/api/v1/artifacts/web-01/"+artFile, tok, ""), 404, "Artifact not found")
}

func TestOpenArtifact(t *testing.T) {
	dirs := artifactTree(t)
	dir := dirs("web-01")[1]
	tests := []struct {
		name string
		want error // nil: opened
	}{
		{artFile, nil},
		{artMissing, fs.ErrNotExist},
		{artOutside, errNotRegular},
		{artInside, errNotRegular},
		{artFIFO, errNotRegular},
		{artDir, errNotRegular},
		{"../outside/secret", nil}, // any error: os.Root refuses to leave dir
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, size, err := openArtifact(dir, tt.name)
			if err == nil {
				f.Close()
			}
			switch {
			case tt.name == "../outside/secret":
				if err == nil {
					t.Fatal("left the directory")
				}
			case tt.want == nil:
				if err != nil || size != int64(len(artFileBody)) {
					t.Fatalf("open: %v, size %d", err, size)
				}
			case !errors.Is(err, tt.want):
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	if _, _, err := openArtifact(filepath.Join(dir, "nope"), artFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing directory: %v", err)
	}
}

// FuzzArtifactPath requests arbitrary paths under /artifacts/ as an
// analyst: no answer is a server error, and the only bytes ever served
// are those of the files in the decky's directories.
func FuzzArtifactPath(f *testing.F) {
	for _, seed := range []string{
		"web-01/" + artFile,
		"web-01/" + artOutside,
		"web-01/../secret",
		"web-01/..%2f..%2fsecret",
		"web-01/2024-05-01T10:03:00Z_0123456789ab_..%2F..%2Fsecret",
		"%2e%2e/%2e%2e",
		"web-01/" + artFIFO,
	} {
		f.Add(seed)
	}
	dirs := artifactTree(f)
	repo := newFakeRepo()
	srv, err := New(Config{Repo: repo, JWTSecret: testSecret, ArtifactDirs: dirs})
	if err != nil {
		f.Fatal(err)
	}
	fx := &fixture{srv: srv, repo: repo}
	u := store.User{UUID: "u-analyst", Username: "analyst", Role: store.RoleAnalyst}
	if err := repo.CreateUser(f.Context(), u); err != nil {
		f.Fatal(err)
	}
	tok, err := srv.issueToken(u)
	if err != nil {
		f.Fatal(err)
	}
	served := map[string]bool{artFileBody: true, artSecondBin: true}
	f.Fuzz(func(t *testing.T, path string) {
		req, err := http.NewRequest("GET", "http://127.0.0.1/api/v1/artifacts/"+path, nil)
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := serve(fx, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		case rec.Code == 200 && !served[rec.Body.String()]:
			t.Fatalf("served %q", rec.Body)
		}
	})
}
