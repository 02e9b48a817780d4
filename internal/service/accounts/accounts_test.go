package accounts

import (
	"path/filepath"
	"testing"
)

func TestPairs(t *testing.T) {
	tests := []struct {
		name  string
		root  string
		users []string
		want  map[string]int // passwords per user
	}{
		{"defaults", "", nil, map[string]int{"root": 4, "admin": 1, "ubuntu": 1, "pi": 1, "user": 1}},
		{"root password", "Winter2026!", nil, map[string]int{"root": 1}},
		{"root and users", "x", []string{"alice:a", "alice:b"}, map[string]int{"root": 1, "alice": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Pairs(tt.root, tt.users)
			if len(got) != len(tt.want) {
				t.Fatalf("%v", got)
			}
			for u, n := range tt.want {
				if len(got[u]) != n {
					t.Fatalf("%s: %v", u, got[u])
				}
			}
		})
	}
	if err := ValidateUsers([]string{"ok:x", "nocolon"}); err == nil {
		t.Fatal("a user without a password passed")
	}
}

func TestBinding(t *testing.T) {
	file := filepath.Join(t.TempDir(), "logins.json")
	a := Open("", []string{"root:a", "root:b"}, file, nil)
	if a.Accept("root", "wrong") || !a.Accept("root", "b") || a.Accept("root", "a") {
		t.Fatal("the first accepted password must be the only one afterwards")
	}
	// Kept across restarts.
	if b := Open("", []string{"root:a", "root:b"}, file, nil); b.Accept("root", "a") || !b.Accept("root", "b") {
		t.Fatal("binding lost on reopen")
	}
	// A persona that drops the bound password frees the account.
	if c := Open("", []string{"root:a"}, file, nil); !c.Accept("root", "a") {
		t.Fatal("a binding to a password the persona dropped still holds")
	}
}
