// Package accounts holds the logins that a decky's login services (ssh,
// telnet) accept: root's password and user:pass pairs from the persona,
// or the weak pairs brute-force lists try first. An account accepts the
// first of its passwords an attacker uses and only that one afterwards,
// kept in a file so it survives restarts: a decky that took any password
// of a list would give itself away.
package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"decnet/internal/atomicfile"
	"decnet/internal/flock"
)

// FileName is the file of a decky's bound passwords in its shared
// directory (service.Host.SharedDir): one for all its login services.
const FileName = "logins.json"

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
// concurrent use, and so is its file: the decky's services that accept
// logins (ssh and telnet, maybe in other processes) share one, so that an
// account takes one password on the whole machine. Bindings are added
// under a file lock, and reread when the file changed.
type Accounts struct {
	log    *slog.Logger
	file   string
	logins map[string][]string

	mu sync.Mutex
	// bound is the password each account was first entered with, by any
	// service of the file; those this service does not accept (its persona
	// changed, or differs) leave the account free for it.
	bound map[string]string
	disk  os.FileInfo // the version of file bound was read from
}

// lockWait bounds the wait for another process binding an account, which
// holds the lock for milliseconds.
const lockWait = 10 * time.Second

// Open returns the accounts of a persona, with the passwords bound by
// earlier runs and other services read from file ("" keeps them in memory
// only).
func Open(rootPassword string, users []string, file string, log *slog.Logger) *Accounts {
	if log == nil {
		log = slog.Default()
	}
	a := &Accounts{log: log, file: file, logins: Pairs(rootPassword, users), bound: map[string]string{}}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reload()
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
// passwords that succeeds, here or in another service of the file.
func (a *Accounts) Accept(user, pw string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reload()
	if b, ok := a.boundTo(user); ok || !a.valid(user, pw) {
		return ok && b == pw
	}
	return a.bind(user, pw)
}

// bind binds user to pw, unless another service bound the account since
// the last reload, and reports whether pw is the account's password.
// Callers hold a.mu.
func (a *Accounts) bind(user, pw string) bool {
	if a.file == "" {
		a.bound[user] = pw
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	unlock, err := flock.Lock(ctx, a.file+".lock")
	if err != nil {
		// The login happened: it holds in memory.
		a.log.Warn("lock bound logins", "file", a.file, "err", err)
		a.bound[user] = pw
		return true
	}
	defer unlock()
	a.reload()
	if b, ok := a.boundTo(user); ok {
		return b == pw
	}
	a.bound[user] = pw
	a.save()
	return true
}

// boundTo returns the password user is bound to, when this service
// accepts it.
func (a *Accounts) boundTo(user string) (string, bool) {
	b, ok := a.bound[user]
	return b, ok && a.valid(user, b)
}

// reload rereads the bindings when the file changed since they were read:
// a stat when it did not. Callers hold a.mu.
func (a *Accounts) reload() {
	if a.file == "" {
		return
	}
	fi, err := os.Stat(a.file)
	if err != nil || atomicfile.SameVersion(fi, a.disk) {
		return
	}
	b, err := os.ReadFile(a.file)
	if err != nil {
		return
	}
	// Not read again until it changes; the next binding replaces it.
	a.disk = fi
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		a.log.Warn("read bound logins", "file", a.file, "err", err)
		return
	}
	a.bound = m
	if a.bound == nil {
		a.bound = map[string]string{}
	}
}

// save writes the bindings; a failure is logged, as the login itself
// happened. Callers hold a.mu and the file lock.
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
		return
	}
	if fi, err := os.Stat(a.file); err == nil {
		a.disk = fi
	}
}
