package shell

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// machine is the hardware a decky claims, stable per hostname.
type machine struct {
	cores   int
	memKB   int64
	cpu     string
	mhz     string
	mac     string
	diskKB  int64
	baseUse int64 // KB used on / before the attacker's files
}

func (s System) machine() machine {
	h := s.Hostname
	cpus := []struct{ name, mhz string }{
		{"Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", "2399.998"},
		{"Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz", "2095.078"},
		{"AMD EPYC 7543 32-Core Processor", "2794.748"},
	}
	cpu := cpus[hashN(h+"cpu", len(cpus))]
	mem := []int64{2014596, 4015632, 8136412}[hashN(h+"mem", 3)]
	return machine{
		cores: []int{2, 4}[hashN(h+"cores", 2)], memKB: mem, cpu: cpu.name, mhz: cpu.mhz,
		mac:    fmt.Sprintf("52:54:00:%02x:%02x:%02x", hashN(h+"m1", 256), hashN(h+"m2", 256), hashN(h+"m3", 256)),
		diskKB: []int64{40470732, 81987992, 20466256}[hashN(h+"disk", 3)], baseUse: 3200000 + int64(hashN(h+"use", 2400000)),
	}
}

func cmdUname(c *call) int {
	opts, ops, ok := c.getopt("asnrvmpio", map[string]rune{"all": 'a', "kernel-name": 's', "nodename": 'n',
		"kernel-release": 'r', "kernel-version": 'v', "machine": 'm', "processor": 'p', "hardware-platform": 'i',
		"operating-system": 'o'})
	if !ok {
		return 1
	}
	if len(ops) > 0 {
		c.errorf("uname: extra operand %s\nTry 'uname --help' for more information.\n", quoteaf(ops[0]))
		return 1
	}
	d, k := c.s.d, c.s.sys.kernel()
	proc := "unknown"
	if d.selinux {
		proc = "x86_64"
	}
	osName := "GNU/Linux"
	if d.ash {
		osName = "Linux"
	}
	fields := []struct {
		flag rune
		val  string
	}{{'s', "Linux"}, {'n', c.s.sys.Hostname}, {'r', k.Release}, {'v', k.Version}, {'m', "x86_64"},
		{'p', proc}, {'i', proc}, {'o', osName}}
	all := has(opts, 'a')
	if len(opts) == 0 {
		opts['s'] = ""
	}
	var out []string
	for _, f := range fields {
		if has(opts, f.flag) || all && (f.val != "unknown" || d.ash && (f.flag == 'p' || f.flag == 'i')) {
			out = append(out, f.val)
		}
	}
	c.printf("%s\n", strings.Join(out, " "))
	return 0
}

func cmdHostname(c *call) int {
	sys := c.s.sys
	if len(c.args) == 0 {
		c.printf("%s\n", sys.Hostname)
		return 0
	}
	switch c.args[0] {
	case "-I", "--all-ip-addresses":
		c.printf("%s \n", sys.IP)
	case "-i", "--ip-address":
		c.printf("127.0.1.1\n")
	case "-f", "--fqdn", "--long":
		c.printf("%s\n", sys.Hostname)
	case "-s", "--short":
		c.printf("%s\n", sys.ShortHostname())
	case "-d", "--domain":
		_, dom, _ := strings.Cut(sys.Hostname, ".")
		c.printf("%s\n", dom)
	default:
		if strings.HasPrefix(c.args[0], "--") {
			c.errorf("hostname: unrecognized option '%s'\nTry 'hostname --help' or 'hostname --usage' for more information.\n", c.args[0])
			return 1
		}
		if strings.HasPrefix(c.args[0], "-") && len(c.args[0]) > 1 {
			c.errorf("hostname: invalid option -- '%c'\nTry 'hostname --help' or 'hostname --usage' for more information.\n", c.args[0][1])
			return 1
		}
		if c.s.cred.uid != 0 {
			c.errorf("hostname: you must be root to change the host name\n")
			return 1
		}
	}
	return 0
}

// --- time and load ---

func (s *Session) uptime() time.Duration { return s.now().Sub(s.fs.boot) }

// loadavg is a small, slowly changing load, the same for every session.
func (s *Session) loadavg() [3]float64 {
	m := s.now().Unix() / 300
	base := float64(hashN(s.sys.Hostname+strconv.FormatInt(m, 10), 12)) / 100
	return [3]float64{base, base*0.8 + 0.01, base * 0.6}
}

func (s *Session) users() int {
	s.fs.sessMu.Lock()
	defer s.fs.sessMu.Unlock()
	return max(s.fs.sessions, 1)
}

// uptimeLine is procps' uptime/w header.
func (s *Session) uptimeLine() string {
	up := s.uptime()
	days := int(up.Hours()) / 24
	hours := int(up.Hours()) % 24
	mins := int(up.Minutes()) % 60
	var b strings.Builder
	fmt.Fprintf(&b, " %s up ", s.now().Format("15:04:05"))
	if days > 0 {
		plural := "s"
		if days == 1 {
			plural = ""
		}
		fmt.Fprintf(&b, "%d day%s, ", days, plural)
	}
	if hours > 0 {
		fmt.Fprintf(&b, "%2d:%02d, ", hours, mins)
	} else {
		fmt.Fprintf(&b, "%d min, ", mins)
	}
	n := s.users()
	plural := "s"
	if n == 1 {
		plural = ""
	}
	l := s.loadavg()
	fmt.Fprintf(&b, " %d user%s,  load average: %.2f, %.2f, %.2f", n, plural, l[0], l[1], l[2])
	return b.String()
}

func cmdUptime(c *call) int {
	if len(c.args) > 0 && (c.args[0] == "-p" || c.args[0] == "--pretty") {
		up := c.s.uptime()
		days, hours, mins := int(up.Hours())/24, int(up.Hours())%24, int(up.Minutes())%60
		var parts []string
		if w := days / 7; w > 0 {
			parts = append(parts, plural(w, "week"))
			days %= 7
		}
		if days > 0 {
			parts = append(parts, plural(days, "day"))
		}
		if hours > 0 {
			parts = append(parts, plural(hours, "hour"))
		}
		parts = append(parts, plural(mins, "minute"))
		c.printf("up %s\n", strings.Join(parts, ", "))
		return 0
	}
	if len(c.args) > 0 && (c.args[0] == "-s" || c.args[0] == "--since") {
		c.printf("%s\n", c.s.fs.boot.UTC().Format("2006-01-02 15:04:05"))
		return 0
	}
	c.printf("%s\n", c.s.uptimeLine())
	return 0
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (s *Session) from() string {
	if s.remote == "" {
		return "-"
	}
	return s.remote
}

func cmdW(c *call) int {
	s := c.s
	if len(c.args) == 0 || c.args[0] != "-h" {
		c.printf("%s\n", s.uptimeLine())
		c.printf("USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n")
	}
	if s.tty != "" {
		c.printf("%-8.8s %-8.8s %-16.16s %-7s  0.00s  0.02s  0.00s w\n", s.user.name, s.tty, s.from(), s.login.Format("15:04"))
	}
	return 0
}

func cmdWho(c *call) int {
	s := c.s
	if len(c.args) > 0 && c.args[0] == "-b" {
		c.printf("         system boot  %s\n", s.fs.boot.UTC().Format("2006-01-02 15:04"))
		return 0
	}
	if s.tty != "" {
		c.printf("%-8s %-12s %s (%s)\n", s.user.name, s.tty, s.login.Format("2006-01-02 15:04"), s.from())
	}
	return 0
}

func cmdDate(c *call) int {
	now := c.s.now()
	for _, a := range c.args {
		switch {
		case a == "-u" || a == "--utc":
		case strings.HasPrefix(a, "+"):
			c.printf("%s\n", strftime(a[1:], now))
			return 0
		case a == "-R":
			c.printf("%s\n", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
			return 0
		default:
			if c.s.cred.uid != 0 {
				c.errorf("date: cannot set date: Operation not permitted\n")
			} else {
				c.errorf("date: invalid date %s\n", c.quote(a))
			}
			return 1
		}
	}
	if strings.HasPrefix(c.s.vars["LANG"], "en_US") && !c.s.d.rhel {
		c.printf("%s\n", now.Format("Mon Jan _2 03:04:05 PM MST 2006"))
	} else {
		c.printf("%s\n", now.Format("Mon Jan _2 15:04:05 MST 2006"))
	}
	return 0
}

// strftime handles the conversions scripts use.
func strftime(f string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString(t.Format("2006"))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'I':
			b.WriteString(t.Format("03"))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'S':
			b.WriteString(t.Format("05"))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// --- memory, disk, cpu ---

func cmdFree(c *call) int {
	opts, _, ok := c.getopt("bkmghtlw", map[string]rune{"human": 'h', "mega": 'm', "giga": 'g', "kilo": 'k', "bytes": 'b', "total": 't', "wide": 'w'})
	if !ok {
		return 1
	}
	m := c.s.sys.machine()
	total := m.memKB
	used := total/7 + int64(hashN(c.s.sys.Hostname+"u", int(total/20)))
	shared := int64(1024 + hashN(c.s.sys.Hostname+"sh", 4000))
	cache := total/4 + int64(hashN(c.s.sys.Hostname+"c", int(total/10)))
	free := total - used - cache
	avail := free + cache*9/10
	format := func(kb int64) string {
		switch {
		case has(opts, 'h'):
			return humanFree(kb * 1024)
		case has(opts, 'm'):
			return strconv.FormatInt(kb/1024, 10)
		case has(opts, 'g'):
			return strconv.FormatInt(kb/1024/1024, 10)
		case has(opts, 'b'):
			return strconv.FormatInt(kb*1024, 10)
		}
		return strconv.FormatInt(kb, 10)
	}
	label := 7
	if c.s.d.procps4 {
		label = 8
	}
	c.printf("%*s%12s%12s%12s%12s%12s\n", label+12, "total", "used", "free", "shared", "buff/cache", "available")
	c.printf("%-*s%12s%12s%12s%12s%12s%12s\n", label, "Mem:", format(total), format(used), format(free), format(shared), format(cache), format(avail))
	c.printf("%-*s%12s%12s%12s\n", label, "Swap:", format(0), format(0), format(0))
	return 0
}

// humanFree is free -h: one decimal below 10, binary unit suffixes.
func humanFree(b int64) string {
	if b < 1024 {
		return strconv.FormatInt(b, 10) + "B"
	}
	v := float64(b)
	for _, u := range []string{"Ki", "Mi", "Gi", "Ti"} {
		v /= 1024
		if v < 1024 {
			if v < 10 {
				return strconv.FormatFloat(v, 'f', 1, 64) + u
			}
			return strconv.FormatFloat(v, 'f', 0, 64) + u
		}
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "Pi"
}

func cmdDf(c *call) int {
	opts, _, ok := c.getopt("hTaklmP", map[string]rune{"human-readable": 'h', "print-type": 'T', "all": 'a'})
	if !ok {
		return 1
	}
	s := c.s
	m := s.sys.machine()
	s.fs.mu.RLock()
	used := m.baseUse + s.fs.total/1024
	s.fs.mu.RUnlock()
	root := "/dev/vda1"
	devfs := "udev"
	if s.d.rhel {
		root = "/dev/mapper/rl-root"
		devfs = "devtmpfs"
	}
	type mount struct {
		dev, fstype string
		size, used  int64
		target      string
	}
	mounts := []mount{
		{devfs, "devtmpfs", m.memKB / 2, 0, "/dev"},
		{"tmpfs", "tmpfs", m.memKB / 10, 1100 + int64(hashN(s.sys.Hostname, 300)), "/run"},
		{root, "ext4", m.diskKB, used, "/"},
		{"tmpfs", "tmpfs", m.memKB / 2, 0, "/dev/shm"},
		{"tmpfs", "tmpfs", 5120, 0, "/run/lock"},
	}
	if s.d.rhel {
		mounts[2].fstype = "xfs"
		mounts = append(mounts, mount{"/dev/vda1", "xfs", 983040, 302452, "/boot"})
	}
	mounts = append(mounts, mount{"tmpfs", "tmpfs", m.memKB / 10, 0, "/run/user/" + strconv.Itoa(s.cred.uid)})
	head := []string{"Filesystem", "1K-blocks", "Used", "Available", "Use%", "Mounted on"}
	if has(opts, 'h') {
		head = []string{"Filesystem", "Size", "Used", "Avail", "Use%", "Mounted on"}
	}
	rows := [][]string{head}
	for _, mt := range mounts {
		avail := mt.size - mt.used
		if mt.target == "/" {
			avail = mt.size*95/100 - mt.used
		}
		pct := "0%"
		if mt.used > 0 {
			pct = strconv.FormatInt((mt.used*100+mt.used+avail-1)/(mt.used+avail), 10) + "%"
		}
		num := func(kb int64) string {
			if has(opts, 'h') {
				if kb == 0 {
					return "0"
				}
				return humanSize(kb * 1024)
			}
			return strconv.FormatInt(kb, 10)
		}
		rows = append(rows, []string{mt.dev, num(mt.size), num(mt.used), num(avail), pct, mt.target})
	}
	widths := []int{14, 5, 5, 5, 4, 0}
	for _, r := range rows {
		for i, v := range r {
			widths[i] = max(widths[i], len(v))
		}
	}
	for _, r := range rows {
		var line []string
		for i, v := range r {
			switch i {
			case 0:
				line = append(line, fmt.Sprintf("%-*s", widths[i], v))
			case 5:
				line = append(line, v)
			default:
				line = append(line, fmt.Sprintf("%*s", widths[i], v))
			}
		}
		c.printf("%s\n", strings.Join(line, " "))
	}
	return 0
}

func cmdNproc(c *call) int {
	c.printf("%d\n", c.s.sys.machine().cores)
	return 0
}

// --- network ---

func (s System) prefix() (ip, brd string) {
	ip = s.IP
	brd = gateway(ip)
	if i := strings.LastIndexByte(brd, '.'); i > 0 {
		brd = brd[:i] + ".255"
	}
	return ip, brd
}

func (m machine) linkLocal() string {
	p := strings.Split(m.mac, ":")
	return "fe80::5054:ff:fe" + strings.TrimLeft(p[3], "0") + ":" + p[4] + p[5]
}

func cmdIP(c *call) int {
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = args[1:]
	}
	obj := "help"
	if len(args) > 0 {
		obj = args[0]
	}
	m := c.s.sys.machine()
	ip, brd := c.s.sys.prefix()
	lease := 86400 - int(c.s.uptime().Seconds())%86400
	switch {
	case strings.HasPrefix("address", obj) || obj == "a" || obj == "addr":
		c.printf("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n" +
			"    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n" +
			"    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n" +
			"    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever\n")
		c.printf("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000\n"+
			"    link/ether %s brd ff:ff:ff:ff:ff:ff\n"+
			"    inet %s/24 brd %s scope global dynamic eth0\n       valid_lft %dsec preferred_lft %dsec\n"+
			"    inet6 %s/64 scope link \n       valid_lft forever preferred_lft forever\n", m.mac, ip, brd, lease, lease, m.linkLocal())
	case strings.HasPrefix("route", obj) || obj == "r":
		c.printf("default via %s dev eth0 proto dhcp src %s metric 100 \n%s/24 dev eth0 proto kernel scope link src %s metric 100 \n",
			gateway(ip), ip, strings.TrimSuffix(brd, "255")+"0", ip)
	case strings.HasPrefix("link", obj) || obj == "l":
		c.printf("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n"+
			"    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"+
			"2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\n"+
			"    link/ether %s brd ff:ff:ff:ff:ff:ff\n", m.mac)
	case obj == "help":
		c.errorf("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n       ip [ -force ] -batch filename\n" +
			"where  OBJECT := { address | addrlabel | fou | help | ila | ioam | l2tp | link |\n" +
			"                   macsec | maddress | monitor | mptcp | mroute | mrule |\n" +
			"                   neighbor | neighbour | netconf | netns | nexthop | ntable |\n" +
			"                   ntbl | route | rule | sr | tap | tcpmetrics |\n" +
			"                   token | tunnel | tuntap | vrf | xfrm }\n")
		return 255
	default:
		c.errorf("Object \"%s\" is unknown, try \"ip help\".\n", obj)
		return 255
	}
	return 0
}

func cmdIfconfig(c *call) int {
	m := c.s.sys.machine()
	ip, brd := c.s.sys.prefix()
	up := int64(c.s.uptime().Seconds())
	rxp, txp := up*3+int64(hashN(ip, 1000)), up*2+int64(hashN(ip+"t", 1000))
	rxb, txb := rxp*412, txp*236
	c.printf("eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"+
		"        inet %s  netmask 255.255.255.0  broadcast %s\n"+
		"        inet6 %s  prefixlen 64  scopeid 0x20<link>\n"+
		"        ether %s  txqueuelen 1000  (Ethernet)\n"+
		"        RX packets %d  bytes %d (%s)\n        RX errors 0  dropped 0  overruns 0  frame 0\n"+
		"        TX packets %d  bytes %d (%s)\n        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n",
		ip, brd, m.linkLocal(), m.mac, rxp, rxb, ifBytes(rxb), txp, txb, ifBytes(txb))
	c.printf("lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n" +
		"        inet 127.0.0.1  netmask 255.0.0.0\n        inet6 ::1  prefixlen 128  scopeid 0x10<host>\n" +
		"        loop  txqueuelen 1000  (Local Loopback)\n" +
		"        RX packets 0  bytes 0 (0.0 B)\n        RX errors 0  dropped 0  overruns 0  frame 0\n" +
		"        TX packets 0  bytes 0 (0.0 B)\n        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n")
	return 0
}

// ifBytes is net-tools' size in parentheses.
func ifBytes(b int64) string {
	v := float64(b)
	for _, u := range []string{"B", "KiB", "MiB", "GiB", "TiB"} {
		if v < 1024 {
			return strconv.FormatFloat(v, 'f', 1, 64) + " " + u
		}
		v /= 1024
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " PiB"
}

// --- wget, curl: never fetch, always fail like a host without egress ---

func findURL(args []string) string {
	for _, a := range args {
		if strings.Contains(a, "://") {
			return a
		}
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && strings.Contains(a, ".") {
			return a
		}
	}
	return ""
}

func hostPort(raw string) (u *url.URL, host string, port int) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return nil, "", 0
	}
	port = 80
	if u.Scheme == "https" {
		port = 443
	}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		port = p
	}
	return u, u.Hostname(), port
}

func (c *call) recordURL(raw string) {
	if c.s.hooks.Download != nil && raw != "" {
		c.s.hooks.Download(Download{Tool: c.name, URL: raw})
	}
}

func cmdWget(c *call) int {
	raw := findURL(c.args)
	if raw == "" {
		c.errorf("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n")
		return 1
	}
	c.recordURL(raw)
	quiet := false
	for _, a := range c.args {
		quiet = quiet || a == "-q" || a == "--quiet" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "q")
	}
	u, host, port := hostPort(raw)
	if u == nil {
		c.errorf("%s: Invalid URL %s: Unsupported scheme\n", raw, raw)
		return 1
	}
	if c.s.d.ash {
		c.errorf("wget: bad address '%s'\n", host)
		return 1
	}
	if quiet {
		return 4
	}
	c.errorf("--%s--  %s\n", c.s.now().Format("2006-01-02 15:04:05"), u.String())
	if net.ParseIP(host) == nil {
		c.errorf("Resolving %s (%s)... failed: Temporary failure in name resolution.\nwget: unable to resolve host address %s\n", host, host, c.quote(host))
		return 4
	}
	c.errorf("Connecting to %s:%d... failed: Connection refused.\n", host, port)
	return 4
}

func cmdCurl(c *call) int {
	raw := findURL(c.args)
	if raw == "" {
		c.errorf("curl: try 'curl --help' or 'curl --manual' for more information\n")
		return 2
	}
	c.recordURL(raw)
	silent, showErr := false, false
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") {
			silent = silent || strings.Contains(a, "s")
			showErr = showErr || strings.Contains(a, "S")
		}
		silent = silent || a == "--silent"
		showErr = showErr || a == "--show-error"
	}
	u, host, port := hostPort(raw)
	quietErr := silent && !showErr
	if u == nil {
		if !quietErr {
			c.errorf("curl: (3) URL using bad/illegal format or missing URL\n")
		}
		return 3
	}
	if net.ParseIP(host) == nil {
		if !quietErr {
			c.errorf("curl: (6) Could not resolve host: %s\n", host)
		}
		return 6
	}
	if !quietErr {
		if c.s.d.lineNo {
			c.errorf("curl: (7) Failed to connect to %s port %d after 0 ms: Couldn't connect to server\n", host, port)
		} else {
			c.errorf("curl: (7) Failed to connect to %s port %d: Connection refused\n", host, port)
		}
	}
	return 7
}
