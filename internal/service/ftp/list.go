package ftp

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// maxMatchIters is VSFTP_MATCHITERS_MAX: a filter that needs more steps
// matches nothing, so a crafted pattern cannot eat the CPU.
const maxMatchIters = 1000

// matchFilter is vsftpd's vsf_filename_passes_filter: "*" and "?"
// wildcards and one level of {a,b} alternatives, matched greedily from
// the left with no backtracking (so "*.txt" does not match "a.txt.txt",
// as on a real vsftpd). iters counts steps across the recursion.
func matchFilter(name, filter string, iters *int) bool {
	var last byte
	atStart := true
	for filter != "" && *iters < maxMatchIters {
		*iters++
		var need string
		if i := strings.IndexAny(filter, "*?{"); i >= 0 {
			need, last, filter = filter[:i], filter[i], filter[i+1:]
		} else {
			need, last, filter = filter, 0, ""
		}
		if need != "" {
			j := strings.Index(name, need)
			if j < 0 || (atStart && j > 0) {
				return false
			}
			name = name[j+len(need):]
		}
		switch last {
		case '?':
			if name == "" {
				return false
			}
			name, atStart = name[1:], true
		case '{':
			atStart = true
			if k := strings.IndexByte(filter, '}'); k >= 0 {
				alts, after := filter[:k], filter[k+1:]
				for {
					alt, rest, _ := strings.Cut(alts, ",")
					if alt == "" {
						return false
					}
					if matchFilter(name, alt+after, iters) {
						return true
					}
					alts = rest
				}
			}
			if name == "" || name[0] != '{' {
				return false
			}
			name = name[1:]
		default:
			atStart = false
		}
	}
	if name != "" && last != '*' {
		return false
	}
	return *iters != maxMatchIters
}

// listOpts are the ls options vsftpd honours in LIST, NLST and STAT.
type listOpts struct {
	all, reverse, byTime, classify, long bool
}

func parseListOpts(s string, long bool) listOpts {
	o := listOpts{all: strings.Contains(s, "a"), reverse: strings.Contains(s, "r"), byTime: strings.Contains(s, "t"),
		classify: strings.Contains(s, "F"), long: long || strings.Contains(s, "l")}
	if o.byTime {
		o.reverse = !o.reverse // newest first, as ls -t
	}
	return o
}

// listing renders the entries of the directory dir as vsftpd's
// vsf_ls_populate_dir_list does: a long line per entry for LIST, or the
// name (prefixed by dir unless it is ".") for NLST.
func listing(ents []entry, dir, filter string, o listOpts, now time.Time) []byte {
	if filter != "" && filter[0] == '.' {
		o.all = true
	}
	prefix := ""
	if dir != "." {
		prefix = dir
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
	}
	type line struct {
		key, text string
		mtime     time.Time
	}
	var lines []line
	iters := 0
	for _, e := range ents {
		if e.name[0] == '.' && !o.all {
			continue
		}
		if filter != "" {
			iters = 0
			if !matchFilter(e.name, filter, &iters) {
				continue
			}
		}
		var text string
		if o.long {
			name := e.name
			if e.info.mode&fs.ModeSymlink != 0 && e.info.target != "" {
				name += " -> " + e.info.target
			}
			if o.classify && e.info.mode.IsDir() {
				name += "/"
			}
			text = longLine(name, e.info, now)
		} else {
			text = prefix + e.name
			if o.classify && e.info.mode.IsDir() {
				text += "/"
			} else if o.classify && e.info.mode&fs.ModeSymlink != 0 {
				text += "@"
			}
			text += "\r\n"
		}
		lines = append(lines, line{e.name, text, e.info.mtime})
	}
	sort.Slice(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		c := strings.Compare(a.key, b.key)
		if o.byTime && !a.mtime.Equal(b.mtime) {
			c = a.mtime.Compare(b.mtime)
		}
		if o.reverse {
			c = -c
		}
		return c < 0
	})
	var out []byte
	for _, l := range lines {
		out = append(out, l.text...)
	}
	return out
}

// sixMonths is vsftpd's cut-off (182 days) between a time and a year in
// a listing's date column.
const sixMonths = 182 * 24 * time.Hour

// longLine is vsftpd's build_dir_line: numeric owner and group (vsftpd's
// default, text_userdb_names=NO), dates in UTC (use_localtime=NO).
func longLine(name string, in info, now time.Time) string {
	mt := in.mtime.UTC()
	date := mt.Format("Jan 02 15:04")
	if mt.After(now) || now.Sub(mt) > sixMonths {
		date = mt.Format("Jan 02  2006")
	}
	return fmt.Sprintf("%s %4d %-8d %-8d %8d %s %s\r\n", permString(in.mode), in.nlink, in.uid, in.gid, in.size, date, name)
}

// permString is ls's ten-character mode.
func permString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	}
	for i, c := range "rwxrwxrwx" {
		if m.Perm()&(1<<(8-i)) != 0 {
			b[i+1] = byte(c)
		}
	}
	special := func(i int, set bool, lower byte) {
		if !set {
			return
		}
		if b[i] == 'x' {
			b[i] = lower
		} else {
			b[i] = lower - 'a' + 'A'
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's')
	special(6, m&fs.ModeSetgid != 0, 's')
	special(9, m&fs.ModeSticky != 0, 't')
	return string(b)
}
