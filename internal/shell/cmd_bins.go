package shell

import (
	"io/fs"
	"path"
	"time"
)

// binPlace says where a distribution keeps a program the shell implements,
// when that differs from a file in /usr/bin (/bin on Alpine).
type binPlace struct {
	sbin    func(d *distro) bool // in /usr/sbin, which only root's PATH has on Debian
	link    func(d *distro) string
	missing func(d *distro) bool // not installed by default
}

func always(*distro) bool     { return true }
func rhelOnly(d *distro) bool { return d.rhel }

var binPlaces = map[string]binPlace{
	"chpasswd":  {sbin: always},
	"dmidecode": {sbin: always, missing: func(d *distro) bool { return d.ash }},
	"ifconfig":  {sbin: always, missing: func(d *distro) bool { return !d.ifconfig }},
	"netstat":   {missing: func(d *distro) bool { return !d.ifconfig }},
	"ip":        {sbin: rhelOnly},
	"ss":        {sbin: rhelOnly, missing: func(d *distro) bool { return d.ash }},
	"lscpu":     {missing: func(d *distro) bool { return d.ash }},
	"lsblk":     {missing: func(d *distro) bool { return d.ash }},
	"mawk":      {missing: func(d *distro) bool { return d.rhel || d.ash }},
	"gawk":      {missing: func(d *distro) bool { return !d.rhel }},
	"busybox":   {missing: rhelOnly},
	// Debian picks its awk through alternatives; Red Hat links gawk.
	"awk": {link: func(d *distro) string {
		if d.rhel {
			return "gawk"
		}
		return "/etc/alternatives/awk"
	}},
}

// debian12Sizes are the sizes of the programs on Debian 12 (amd64),
// measured there: bots print ls -lh $(which ls), and a 27K ls would stand
// out. Other distributions keep stable made-up sizes.
var debian12Sizes = map[string]int64{"mawk": 158376, "base64": 48016, "bash": 1265648, "busybox": 772880,
	"cat": 44016, "chattr": 14584, "chmod": 64496, "chpasswd": 63856, "clear": 14584, "cp": 151152, "curl": 280800,
	"cut": 48112, "date": 121904, "df": 102200, "dmidecode": 130216, "env": 48536, "free": 26936, "getconf": 27136,
	"grep": 203152, "head": 48080, "hostname": 22680, "id": 48144, "ip": 691016, "killall": 32720, "last": 51520,
	"ls": 151344, "lsattr": 14584, "lsblk": 207168, "lscpu": 129344, "mkdir": 97552, "mv": 142968, "nproc": 43920,
	"pgrep": 35248, "pkill": 35248, "ps": 146360, "rm": 72752, "sh": 125640, "sleep": 43888, "sort": 118456, "ss": 193680,
	"ssh": 1129504, "su": 72000, "tail": 76944, "top": 134736, "touch": 109616, "tr": 56208, "uname": 43888,
	"uniq": 48080, "uptime": 14648, "w": 22840, "wc": 52280, "wget": 470384, "who": 60432, "whoami": 39792}

func programSize(d *distro, name string) int64 {
	if n, ok := debian12Sizes[name]; ok && d == distros["debian"] {
		return n
	}
	return binarySize(name)
}

// programsVersion numbers the set of programs installPrograms puts in a
// filesystem. Raise it when commands are added: a filesystem saved with an
// older set gets the new programs' files at its next Open, so `which` and
// `ls /usr/bin` agree with what the shell runs.
const programsVersion = 2

// installPrograms puts every implemented program where the distribution
// has it, so PATH lookup, which, ls and the dispatcher agree.
func installPrograms(put func(string, *Node), d *distro, t time.Time) {
	link := func(p, target string) {
		put(p, &Node{Mode: fs.ModeSymlink | 0o777, MTime: t, Target: target})
	}
	if d.ash {
		put("/bin/busybox", &Node{Mode: 0o755, MTime: t, VSize: 808712})
	} else {
		put("/etc/alternatives", &Node{Mode: fs.ModeDir | 0o755, MTime: t})
		link("/etc/alternatives/awk", "/usr/bin/mawk")
	}
	for _, name := range binaries() {
		place := binPlaces[name]
		if place.missing != nil && place.missing(d) {
			continue
		}
		switch {
		case d.ash:
			if name != "busybox" {
				link(path.Join("/bin", name), "/bin/busybox")
			}
		case place.link != nil:
			link(path.Join("/usr/bin", name), place.link(d))
		case place.sbin != nil && place.sbin(d):
			put(path.Join("/usr/sbin", name), &Node{Mode: 0o755, MTime: t, VSize: programSize(d, name)})
		default:
			put(path.Join("/usr/bin", name), &Node{Mode: 0o755, MTime: t, VSize: programSize(d, name)})
		}
	}
}
