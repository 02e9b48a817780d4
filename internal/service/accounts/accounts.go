// Package accounts holds the logins that a decky's login services (ssh,
// telnet) accept: root's password and user:pass pairs from the persona,
// or the weak pairs brute-force lists try first. An account accepts the
// first of its passwords an attacker uses and only that one afterwards,
// kept in a file so it survives restarts: a decky that took any password
// of a list would give itself away.
package accounts

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"decnet/internal/atomicfile"
)

// Defaults are the pairs accepted when a persona names none.
func Defaults() []string {
	return []string{"root:root", "root:admin", "root:123456", "root:password", "admin:admin",
		"ubuntu:ubuntu", "pi:raspberry", "user:user"}
}

// ValidateUsers checks a persona's users key: "user:pass" each.
func ValidateUsers(users []string) error {
	for _, u := range users {
		name, _, ok := strings.Cut(u, ":")
		if !ok || name == "" {
			return fmt.Errorf("users: %q is not user:pass", u)
		}
	}
	return nil
}

// Pairs returns the accepted passwords per user of a persona: root's
// password first, then users, or Defaults when both are empty.
func Pairs(rootPassword string, users []string) map[string][]string {
	pairs := users
	if rootPassword != "" {
		pairs = append([]string{"root:" + rootPassword}, pairs...)
	}
	if len(pairs) == 0 {
		pairs = Defaults()
	}
	out := map[string][]string{}
	for _, pair := range pairs {
		u, pw, _ := strings.Cut(pair, ":")
		out[u] = append(out[u], pw)
	}
	return out
}

// Accounts are one service's logins on one decky. It is safe for
// concurrent use.
type Accounts struct {
	log    *slog.Logger
	file   string
	logins map[string][]string

	mu    sync.Mutex
	bound map[string]string // the password each account was first entered with
}

// Open returns the accounts of a persona, with the passwords bound by
// earlier runs read from file ("" keeps them in memory only).
func Open(rootPassword string, users []string, file string, log *slog.Logger) *Accounts {
	if log == nil {
		log = slog.Default()
	}
	a := &Accounts{log: log, file: file, logins: Pairs(rootPassword, users), bound: map[string]string{}}
	if file == "" {
		return a
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return a
	}
	var m map[string]string
	if json.Unmarshal(b, &m) != nil {
		return a
	}
	for u, pw := range m {
		// A persona change that drops an account or password wins.
		if a.valid(u, pw) {
			a.bound[u] = pw
		}
	}
	return a
}

func (a *Accounts) valid(user, pw string) bool {
	for _, p := range a.logins[user] {
		if p == pw {
			return true
		}
	}
	return false
}

// Accept checks a login and binds the account to the first of its
// passwords that succeeds.
func (a *Accounts) Accept(user, pw string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if b, ok := a.bound[user]; ok {
		return b == pw
	}
	if !a.valid(user, pw) {
		return false
	}
	a.bound[user] = pw
	a.save()
	return true
}

// save writes the bindings; a failure is logged, as the login itself
// happened. Callers hold a.mu.
func (a *Accounts) save() {
	if a.file == "" {
		return
	}
	b, err := json.Marshal(a.bound)
	if err == nil {
		err = atomicfile.Write(a.file, b, 0o600)
	}
	if err != nil {
		a.log.Warn("save bound logins", "file", a.file, "err", err)
	}
}
