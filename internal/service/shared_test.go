package service

import (
	"os"
	"path/filepath"
	"testing"
)

// legacyService kept, in older versions, shared state under its own names.
type legacyService struct {
	fakeService
	names map[string]string
}

func (l legacyService) LegacyShared() map[string]string { return l.names }

func init() {
	// Slug order: zz-legacy-a before zz-legacy-b.
	Register(legacyService{fakeService{Info{Slug: "zz-legacy-b"}}, map[string]string{"zz-state": "b_state", "zz-dir": "dir"}})
	Register(legacyService{fakeService{Info{Slug: "zz-legacy-a"}}, map[string]string{"zz-state": "a_state"}})
}

func TestAdoptShared(t *testing.T) {
	tests := []struct {
		name   string
		before map[string]string // path under the decky directory: content
		want   map[string]string // path under the decky directory: content; "" absent
	}{
		{"first service in slug order wins",
			map[string]string{"zz-legacy-a/a_state": "A", "zz-legacy-b/b_state": "B", "zz-legacy-b/dir/f": "D"},
			map[string]string{"_host/zz-state": "A", "zz-legacy-a/a_state": "", "zz-legacy-b/b_state": "B", "_host/zz-dir/f": "D"}},
		{"the next when the first has none",
			map[string]string{"zz-legacy-b/b_state": "B"},
			map[string]string{"_host/zz-state": "B", "zz-legacy-b/b_state": ""}},
		{"shared state is never replaced",
			map[string]string{"zz-legacy-a/a_state": "A", "_host/zz-state": "S"},
			map[string]string{"_host/zz-state": "S", "zz-legacy-a/a_state": "A"}},
		{"nothing to adopt", nil, map[string]string{"_host/zz-state": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, content := range tt.before {
				p = filepath.Join(dir, p)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			shared := filepath.Join(dir, SharedDirName)
			for range 2 { // a second run changes nothing
				if err := AdoptShared(shared, func(slug string) string { return filepath.Join(dir, slug) }); err != nil {
					t.Fatal(err)
				}
			}
			for p, want := range tt.want {
				got, err := os.ReadFile(filepath.Join(dir, p))
				if want == "" && !os.IsNotExist(err) || want != "" && string(got) != want {
					t.Errorf("%s: %q (%v), want %q", p, got, err, want)
				}
			}
		})
	}
}
