package shell

import (
	"fmt"
	"strings"
	"time"
)

// proc is one line of the fake process table.
type proc struct {
	user      string
	pid, ppid int
	vsz, rss  int
	tty, stat string
	start     time.Time
	cpu       time.Duration
	cmd       string
}

// procs is the process table: system services started at boot, this
// session's sshd, shell, and the ps itself.
func (s *Session) procs(self string) []proc {
	boot := s.fs.boot
	at := func(d time.Duration) time.Time { return boot.Add(d) }
	up := s.uptime()
	cpu := func(per float64) time.Duration { return time.Duration(float64(up) * per) }
	ps := []proc{
		{"root", 1, 0, 167744, 11712, "?", "Ss", at(0), cpu(0.00002), "/sbin/init"},
		{"root", 2, 0, 0, 0, "?", "S", at(0), 0, "[kthreadd]"},
		{"root", 3, 2, 0, 0, "?", "I<", at(0), 0, "[rcu_gp]"},
		{"root", 4, 2, 0, 0, "?", "I<", at(0), 0, "[rcu_par_gp]"},
		{"root", 10, 2, 0, 0, "?", "I<", at(0), 0, "[mm_percpu_wq]"},
		{"root", 11, 2, 0, 0, "?", "S", at(0), cpu(0.000002), "[ksoftirqd/0]"},
		{"root", 12, 2, 0, 0, "?", "I", at(0), cpu(0.00001), "[rcu_preempt]"},
		{"root", 13, 2, 0, 0, "?", "S", at(0), 0, "[migration/0]"},
		{"root", 16, 2, 0, 0, "?", "S", at(0), 0, "[cpuhp/0]"},
		{"root", 24, 2, 0, 0, "?", "S", at(0), 0, "[kdevtmpfs]"},
		{"root", 29, 2, 0, 0, "?", "S", at(0), 0, "[khungtaskd]"},
		{"root", 30, 2, 0, 0, "?", "S", at(0), 0, "[oom_reaper]"},
		{"root", 33, 2, 0, 0, "?", "SN", at(0), 0, "[ksmd]"},
		{"root", 67, 2, 0, 0, "?", "S", at(0), cpu(0.000003), "[kswapd0]"},
		{"root", 243, 2, 0, 0, "?", "I", at(time.Hour), 0, "[kworker/0:2-events]"},
		{"root", 311, 1, 49196, 15184, "?", "Ss", at(3 * time.Second), cpu(0.00003), "/lib/systemd/systemd-journald"},
		{"root", 337, 1, 25764, 6404, "?", "Ss", at(3 * time.Second), cpu(0.000004), "/lib/systemd/systemd-udevd"},
	}
	if s.d.rhel {
		ps = append(ps,
			proc{"root", 612, 1, 266588, 19496, "?", "Ssl", at(6 * time.Second), cpu(0.00001), "/usr/sbin/NetworkManager --no-daemon"},
			proc{"root", 640, 1, 221824, 3088, "?", "Ss", at(6 * time.Second), cpu(0.000002), "/usr/sbin/crond -n"},
			proc{"dbus", 590, 1, 10204, 5120, "?", "Ss", at(5 * time.Second), cpu(0.000003), "/usr/bin/dbus-broker-launch --scope system --audit"},
			proc{"root", 598, 1, 16264, 7640, "?", "Ss", at(5 * time.Second), cpu(0.000002), "/usr/lib/systemd/systemd-logind"},
			proc{"chrony", 605, 1, 84564, 3640, "?", "S", at(5 * time.Second), cpu(0.000001), "/usr/sbin/chronyd -F 2"},
		)
	} else {
		ps = append(ps,
			proc{"root", 512, 1, 6608, 2652, "?", "Ss", at(5 * time.Second), cpu(0.000003), "/usr/sbin/cron -f"},
			proc{"message+", 513, 1, 9252, 4840, "?", "Ss", at(5 * time.Second), cpu(0.000002), "/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only"},
			proc{"root", 521, 1, 222220, 5228, "?", "Ssl", at(5 * time.Second), cpu(0.000004), "/usr/sbin/rsyslogd -n -iNONE"},
			proc{"root", 524, 1, 17304, 7964, "?", "Ss", at(5 * time.Second), cpu(0.000002), "/lib/systemd/systemd-logind"},
			proc{"root", 598, 1, 5876, 1032, "tty1", "Ss+", at(6 * time.Second), 0, "/sbin/agetty -o -p -- \\u --noclear - linux"},
		)
	}
	sshd := "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"
	if !s.d.lineNo {
		sshd = "/usr/sbin/sshd -D"
	}
	ps = append(ps, proc{"root", 812, 1, 15432, 9180, "?", "Ss", at(6 * time.Second), cpu(0.000001), sshd})
	tty := s.tty
	if tty == "" {
		tty = "?"
	}
	login := s.login
	who := s.user.name
	ps = append(ps,
		proc{"root", s.pid - 2, 812, 17180, 10844, "?", "Ss", login, 20 * time.Millisecond, "sshd: " + who + " [priv]"},
		proc{who, s.pid - 1, s.pid - 2, 17476, 6812, "?", "S", login, 0, "sshd: " + who + "@" + tty},
		proc{who, s.pid, s.pid - 1, 8232, 5172, tty, "Ss", login, 0, "-bash"},
		proc{who, s.pid + 7 + len(s.history), s.pid, 11104, 4608, tty, "R+", s.now(), 0, self},
	)
	return ps
}

func cmdPs(c *call) int {
	s := c.s
	style := "bsd"
	if len(c.args) == 0 {
		style = "plain"
	}
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") && strings.ContainsAny(a, "ef") {
			style = "full"
		}
	}
	self := "ps " + strings.Join(c.args, " ")
	all := s.procs(strings.TrimSpace(self))
	now := s.now()
	w := 7
	if !s.d.lineNo && s.d.rhel {
		w = 5
	}
	if s.d.ash {
		c.printf("PID   USER     TIME  COMMAND\n")
		for _, p := range all {
			c.printf("%5d %-8s %2d:%02d %s\n", p.pid, p.user, int(p.cpu.Minutes()), int(p.cpu.Seconds())%60, p.cmd)
		}
		return 0
	}
	memKB := s.sys.machine().memKB
	switch style {
	case "plain":
		c.printf("%*s TTY          TIME CMD\n", w, "PID")
		for _, p := range all {
			if p.tty == s.tty && p.tty != "?" {
				name := strings.TrimPrefix(strings.Fields(p.cmd)[0], "-")
				c.printf("%*d %-8s %s %s\n", w, p.pid, p.tty, hms(p.cpu), name)
			}
		}
	case "full":
		c.printf("UID      %*s %*s  C STIME TTY          TIME CMD\n", w, "PID", w, "PPID")
		for _, p := range all {
			c.printf("%-8s %*d %*d  0 %s %-8s %s %s\n", p.user, w, p.pid, w, p.ppid, psStart(p.start, now), p.tty, hms(p.cpu), p.cmd)
		}
	default:
		c.printf("USER     %*s %%CPU %%MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n", w, "PID")
		for _, p := range all {
			mem := float64(p.rss) * 100 / float64(memKB)
			c.printf("%-8s %*d %4.1f %4.1f %6d %5d %-8s %-4s %5s %6s %s\n", p.user, w, p.pid, 0.0, mem, p.vsz, p.rss, p.tty, p.stat,
				psStart(p.start, now), fmt.Sprintf("%d:%02d", int(p.cpu.Minutes()), int(p.cpu.Seconds())%60), p.cmd)
		}
	}
	return 0
}

func hms(d time.Duration) string {
	sec := int(d.Seconds())
	return fmt.Sprintf("%02d:%02d:%02d", sec/3600, sec/60%60, sec%60)
}

// psStart is procps' START column: time today, month and day this year,
// the year before.
func psStart(t, now time.Time) string {
	t = t.UTC()
	switch {
	case now.Sub(t) < 24*time.Hour:
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan02")
	}
	return t.Format("2006")
}

// virtualFile generates /proc files from the machine's state; nil for any
// other path.
func virtualFile(f *FS, p string) []byte {
	if !strings.HasPrefix(p, "/proc/") {
		return nil
	}
	sys := f.sys
	m := sys.machine()
	up := time.Since(f.boot).Seconds()
	switch p {
	case "/proc/uptime":
		return fmt.Appendf(nil, "%.2f %.2f\n", up, up*float64(m.cores)*0.97)
	case "/proc/version":
		k := sys.kernel()
		return fmt.Appendf(nil, "Linux version %s %s %s\n", k.Release, k.Builder, k.Version)
	case "/proc/loadavg":
		return fmt.Appendf(nil, "0.%02d 0.%02d 0.%02d 1/%d %d\n", hashN(sys.Hostname, 10), hashN(sys.Hostname+"5", 8), hashN(sys.Hostname+"15", 6), 120+hashN(sys.Hostname, 30), f.nextPID)
	case "/proc/meminfo":
		free := m.memKB / 2
		return fmt.Appendf(nil, "MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\nBuffers:        %8d kB\nCached:         %8d kB\nSwapCached:            0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
			m.memKB, free, free+m.memKB/4, m.memKB/40, m.memKB/5)
	case "/proc/cpuinfo":
		var b strings.Builder
		for i := 0; i < m.cores; i++ {
			vendor := "GenuineIntel"
			if strings.HasPrefix(m.cpu, "AMD") {
				vendor = "AuthenticAMD"
			}
			fmt.Fprintf(&b, "processor\t: %d\nvendor_id\t: %s\ncpu family\t: 6\nmodel\t\t: 79\nmodel name\t: %s\nstepping\t: 1\nmicrocode\t: 0x1\ncpu MHz\t\t: %s\ncache size\t: 16384 KB\nphysical id\t: %d\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\napicid\t\t: %d\ninitial apicid\t: %d\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch invpcid_single pti ssbd ibrs ibpb stibp fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm rdseed adx smap xsaveopt arat md_clear arch_capabilities\nbugs\t\t: cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs taa itlb_multihit mmio_stale_data retbleed\nbogomips\t: 4799.99\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 46 bits physical, 48 bits virtual\npower management:\n\n",
				i, vendor, m.cpu, m.mhz, i, i, i)
		}
		return []byte(b.String())
	case "/proc/mounts":
		return []byte("/dev/vda1 / ext4 rw,relatime,discard,errors=remount-ro 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\nsysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\ntmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=401564k,mode=755 0 0\n")
	}
	return nil
}

// procFiles are the /proc entries ls shows.
var procFiles = []string{"cpuinfo", "loadavg", "meminfo", "mounts", "uptime", "version"}
