package accounts

import (
	"fmt"
	"path/filepath"
	"sync"
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

// TestSharedFile drives two Accounts on one file, as the ssh and telnet
// services of a decky hold it (maybe in two processes): a password bound
// through one is the only one the other accepts.
func TestSharedFile(t *testing.T) {
	type login struct {
		side     int
		user, pw string
		want     bool
	}
	tests := []struct {
		name   string
		users  [2][]string // each side's persona
		logins []login
	}{
		{"bound on one side, enforced on the other", [2][]string{{"root:a", "root:b"}, {"root:a", "root:b"}}, []login{
			{1, "root", "b", true},
			{0, "root", "a", false},
			{0, "root", "b", true},
			{1, "root", "a", false},
		}},
		{"each side binds its own account, both hold", [2][]string{{"root:a", "pi:p", "pi:q"}, {"root:a", "pi:p", "pi:q"}}, []login{
			{0, "root", "a", true},
			{1, "pi", "q", true},
			{0, "pi", "p", false},
			{0, "pi", "q", true},
			{1, "root", "a", true},
		}},
		{"a binding the other side's persona lacks leaves the account free there", [2][]string{{"root:a"}, {"root:z"}}, []login{
			{0, "root", "a", true},
			{1, "root", "a", false},
			{1, "root", "z", true},
			{0, "root", "z", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "logins.json")
			sides := [2]*Accounts{Open("", tt.users[0], file, nil), Open("", tt.users[1], file, nil)}
			for i, l := range tt.logins {
				if got := sides[l.side].Accept(l.user, l.pw); got != l.want {
					t.Fatalf("login %d: side %d %s:%s accepted %v, want %v", i, l.side, l.user, l.pw, got, l.want)
				}
			}
		})
	}
}

// TestSharedConcurrentBinding races both sides: every account ends bound
// to one password on both, and no side's binding is lost.
func TestSharedConcurrentBinding(t *testing.T) {
	const n = 20
	pws := [2]string{"a", "b"}
	var users []string
	for i := range n {
		users = append(users, fmt.Sprintf("u%d:a", i), fmt.Sprintf("u%d:b", i), fmt.Sprintf("own%d:a", i), fmt.Sprintf("own%d:b", i))
	}
	file := filepath.Join(t.TempDir(), "logins.json")
	sides := [2]*Accounts{Open("", users, file, nil), Open("", users, file, nil)}
	var won [2][n]bool
	var wg sync.WaitGroup
	for side, a := range sides {
		wg.Go(func() {
			for i := range n {
				// Both race for u<i>, each with its own password; own<i>
				// is bound by one side alone, with its password.
				won[side][i] = a.Accept(fmt.Sprintf("u%d", i), pws[side])
				if i%2 == side {
					a.Accept(fmt.Sprintf("own%d", i), pws[side])
				}
			}
		})
	}
	wg.Wait()
	fresh := Open("", users, file, nil)
	for i := range n {
		if won[0][i] == won[1][i] {
			t.Errorf("u%d: side 0 accepted %v, side 1 %v: want exactly one", i, won[0][i], won[1][i])
		}
		winner := pws[0]
		if won[1][i] {
			winner = pws[1]
		}
		for side, a := range []*Accounts{sides[0], sides[1], fresh} {
			if !a.Accept(fmt.Sprintf("u%d", i), winner) {
				t.Errorf("u%d: accounts %d refuse the winning password %s", i, side, winner)
			}
		}
		if own := pws[i%2]; !fresh.Accept(fmt.Sprintf("own%d", i), own) || fresh.Accept(fmt.Sprintf("own%d", i), pws[1-i%2]) {
			t.Errorf("own%d: the binding to %s was lost", i, own)
		}
	}
}
