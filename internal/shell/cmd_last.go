package shell

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// wtmpEntry is one terminal login, as sshd writes it to /var/log/wtmp.
type wtmpEntry struct {
	ID     int64     `json:"id"`
	User   string    `json:"user"`
	TTY    string    `json:"tty"`
	Host   string    `json:"host,omitempty"`
	Login  time.Time `json:"login"`
	Logout time.Time `json:"logout,omitzero"`
}

// maxWtmp bounds the logins kept (logrotate keeps about a month of them).
const maxWtmp = 200

// recordLogin adds this terminal session to wtmp. Callers hold f.mu.
func (s *Session) recordLogin() {
	f := s.fs
	s.wtmpID = s.login.UnixNano() + int64(s.pid)
	f.wtmp = append(f.wtmp, wtmpEntry{ID: s.wtmpID, User: s.user.name, TTY: s.tty, Host: s.remote, Login: s.login})
	if len(f.wtmp) > maxWtmp {
		f.wtmp = f.wtmp[len(f.wtmp)-maxWtmp:]
	}
	f.live[s.wtmpID] = true
}

// recordLogout closes this session's wtmp entry.
func (s *Session) recordLogout() {
	if s.wtmpID == 0 {
		return
	}
	f := s.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, s.wtmpID)
	for i := range f.wtmp {
		if f.wtmp[i].ID == s.wtmpID {
			f.wtmp[i].Logout = s.now()
			f.dirty = true
		}
	}
}

// wtmpFromLastlog gives a filesystem saved before wtmp was kept the
// logins lastlog knows of, each a short session.
func (f *FS) wtmpFromLastlog() {
	users := make([]string, 0, len(f.last))
	for u := range f.last {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		l := f.last[u]
		f.wtmp = append(f.wtmp, wtmpEntry{ID: l.Time.UnixNano(), User: u, TTY: "pts/0", Host: l.From, Login: l.Time,
			Logout: l.Time.Add(time.Duration(12+hashN(u+l.From, 50)) * time.Minute)})
	}
	sort.Slice(f.wtmp, func(i, j int) bool { return f.wtmp[i].Login.Before(f.wtmp[j].Login) })
}

// cmdLast is util-linux's last: logins newest first, the current boot, and
// when wtmp begins.
func cmdLast(c *call) int {
	opts, ops, ok := c.getopt("n:0123456789RxadFiw", map[string]rune{"limit": 'n', "nohostname": 'R'})
	if !ok {
		return 1
	}
	limit := 0
	if v, set := opts['n']; set {
		n, err := strconv.Atoi(v)
		if err != nil {
			c.errorf("last: failed to parse number: '%s'\n", v)
			return 1
		}
		limit = n
	}
	for _, a := range c.args {
		if len(a) > 1 && a[0] == '-' && strings.Trim(a[1:], "0123456789") == "" {
			limit, _ = strconv.Atoi(a[1:])
		}
	}
	s := c.s
	f := s.fs
	f.mu.RLock()
	entries := append([]wtmpEntry(nil), f.wtmp...)
	live := map[int64]bool{}
	for id := range f.live {
		live[id] = true
	}
	boot := f.boot
	f.mu.RUnlock()

	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	begins := boot
	for _, e := range entries {
		if e.Login.Before(begins) {
			begins = e.Login
		}
		if !wanted(ops, e.User, e.TTY) {
			continue
		}
		var out, length string
		switch {
		case !e.Logout.IsZero():
			out, length = "- "+e.Logout.UTC().Format("15:04"), lastLength(e.Logout.Sub(e.Login))
		case live[e.ID]:
			out, length = "  still", "logged in"
		case e.Login.Before(boot):
			out, length = "- crash", lastLength(boot.Sub(e.Login))
		default:
			out, length = "   gone", "- no logout"
		}
		lines = append(lines, line{e.Login, lastLine(e.User, e.TTY, e.Host, e.Login, out, length, has(opts, 'R'))})
	}
	if wanted(ops, "reboot", "system boot") {
		lines = append(lines, line{boot, lastLine("reboot", "system boot", s.sys.kernel().Release, boot, "  still", "running", has(opts, 'R'))})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.After(lines[j].at) })
	for i, l := range lines {
		if limit > 0 && i >= limit {
			break
		}
		c.printf("%s\n", l.text)
	}
	c.printf("\nwtmp begins %s\n", begins.UTC().Format("Mon Jan _2 15:04:05 2006"))
	return 0
}

// wanted is last's filter: no operands, or one naming the user or tty.
func wanted(ops []string, user, tty string) bool {
	if len(ops) == 0 {
		return true
	}
	for _, o := range ops {
		if o == user || o == tty || "tty"+o == tty {
			return true
		}
	}
	return false
}

// lastLength is the session length column: " (HH:MM)" or "(D+HH:MM)".
func lastLength(d time.Duration) string {
	mins := int(d.Minutes())
	if days := mins / 1440; days > 0 {
		return fmt.Sprintf("(%d+%02d:%02d)", days, mins/60%24, mins%60)
	}
	return fmt.Sprintf(" (%02d:%02d)", mins/60, mins%60)
}

// lastLine formats one record as util-linux does, trailing blanks cut.
func lastLine(user, tty, host string, login time.Time, out, length string, noHost bool) string {
	when := login.UTC().Format("Mon Jan _2 15:04")
	var l string
	if noHost {
		l = fmt.Sprintf("%-8.8s %-12.12s %-16.16s %-7.7s %s", user, tty, when, out, length)
	} else {
		l = fmt.Sprintf("%-8.8s %-12.12s %-16.16s %-16.16s %-7.7s %s", user, tty, host, when, out, length)
	}
	return strings.TrimRight(l, " ")
}
