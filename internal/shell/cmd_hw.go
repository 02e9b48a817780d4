package shell

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The hardware commands read the same machine as /proc/cpuinfo, free, df
// and nproc: a KVM guest with virtio disks, so every view agrees.

// cpuinfoField returns a field of the first processor in the generated
// /proc/cpuinfo, so lscpu shows what cat shows.
func (s *Session) cpuinfoField(name string) string {
	for _, line := range strings.Split(string(virtualFile(s.fs, "/proc/cpuinfo")), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func cpuList(n int) string {
	if n == 1 {
		return "0"
	}
	if n == 2 {
		return "0,1"
	}
	return "0-" + strconv.Itoa(n-1)
}

func cmdLscpu(c *call) int {
	s := c.s
	m := s.sys.machine()
	n := m.cores
	inst := func(size int, unit string) string {
		suffix := "s"
		if n == 1 {
			suffix = ""
		}
		return fmt.Sprintf("%d %s (%d instance%s)", size*n, unit, n, suffix)
	}
	rows := [][2]string{
		{"Architecture:", "x86_64"},
		{"CPU op-mode(s):", "32-bit, 64-bit"},
		{"Address sizes:", s.cpuinfoField("address sizes")},
		{"Byte Order:", "Little Endian"},
		{"CPU(s):", strconv.Itoa(n)},
		{"On-line CPU(s) list:", cpuList(n)},
		{"Vendor ID:", s.cpuinfoField("vendor_id")},
		{"Model name:", m.cpu},
		{"CPU family:", s.cpuinfoField("cpu family")},
		{"Model:", s.cpuinfoField("model")},
		{"Thread(s) per core:", "1"},
		{"Core(s) per socket:", "1"},
		{"Socket(s):", strconv.Itoa(n)},
		{"Stepping:", s.cpuinfoField("stepping")},
		{"BogoMIPS:", s.cpuinfoField("bogomips")},
		{"Flags:", s.cpuinfoField("flags")},
		{"Hypervisor vendor:", "KVM"},
		{"Virtualization type:", "full"},
		{"L1d cache:", inst(32, "KiB")},
		{"L1i cache:", inst(32, "KiB")},
		{"L2 cache:", inst(4, "MiB")},
		{"L3 cache:", inst(16, "MiB")},
		{"NUMA node(s):", "1"},
		{"NUMA node0 CPU(s):", cpuList(n)},
	}
	if s.sys.Distro == "centos7" {
		// util-linux 2.23 prints fewer rows in a fixed-width column.
		old := [][2]string{rows[0], rows[1], rows[3], rows[4], rows[5], rows[10], rows[11], rows[12], rows[22], rows[6],
			rows[8], rows[9], rows[7], rows[13], {"CPU MHz:", m.mhz}, rows[14], rows[16], rows[17],
			{"L1d cache:", "32K"}, {"L1i cache:", "32K"}, {"L2 cache:", "4096K"}, {"L3 cache:", "16384K"}, rows[23], rows[15]}
		for _, r := range old {
			c.printf("%-23s%s\n", r[0], r[1])
		}
		return 0
	}
	vulns := []string{"Gather data sampling:Not affected", "Itlb multihit:Not affected",
		"L1tf:Mitigation; PTE Inversion", "Mds:Vulnerable: Clear CPU buffers attempted, no microcode; SMT Host state unknown",
		"Meltdown:Mitigation; PTI", "Mmio stale data:Vulnerable: Clear CPU buffers attempted, no microcode; SMT Host state unknown",
		"Retbleed:Not affected", "Spec rstack overflow:Not affected", "Spec store bypass:Vulnerable",
		"Spectre v1:Mitigation; usercopy/swapgs barriers and __user pointer sanitization",
		"Spectre v2:Mitigation; Retpolines, STIBP disabled, RSB filling, PBRSB-eIBRS Not affected",
		"Srbds:Not affected", "Tsx async abort:Not affected"}
	if s.sys.Distro == "ubuntu20" {
		// util-linux 2.34: sockets before the model, the MHz, caches
		// without instance counts, flags last; kernel 5.4 knows fewer flaws.
		rows = [][2]string{rows[0], rows[1], rows[3], rows[2], rows[4], rows[5], rows[10], rows[11], rows[12], rows[22],
			rows[6], rows[8], rows[9], rows[7], rows[13], {"CPU MHz:", m.mhz}, rows[14], rows[16], rows[17],
			{"L1d cache:", fmt.Sprintf("%d KiB", 32*n)}, {"L1i cache:", fmt.Sprintf("%d KiB", 32*n)},
			{"L2 cache:", fmt.Sprintf("%d MiB", 4*n)}, {"L3 cache:", fmt.Sprintf("%d MiB", 16*n)}, rows[23]}
		vulns = slices.Concat(vulns[1:6], vulns[8:])
	}
	for _, v := range vulns {
		k, val, _ := strings.Cut(v, ":")
		rows = append(rows, [2]string{"Vulnerability " + k + ":", val})
	}
	if s.sys.Distro == "ubuntu20" {
		rows = append(rows, [2]string{"Flags:", s.cpuinfoField("flags")})
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		c.printf("%-*s%s\n", width+1, r[0], r[1])
	}
	return 0
}

// --- getconf ---

func (d *distro) glibc() string {
	return map[string]string{"5.2.15(1)-release": "2.36", "5.1.16(1)-release": "2.35", "5.0.17(1)-release": "2.31",
		"5.1.8(1)-release": "2.34", "4.2.46(2)-release": "2.17", "5.2.26(1)-release": "2.38"}[d.bash]
}

func cmdGetconf(c *call) int {
	args := c.args
	if len(args) == 0 || len(args) > 2 || strings.HasPrefix(args[0], "-") && args[0] != "-a" {
		c.errorf("Usage: getconf [-v specification] variable_name [pathname]\n       getconf -a [pathname]\n")
		return 2
	}
	cores := strconv.Itoa(c.s.sys.machine().cores)
	vals := map[string]string{"LONG_BIT": "64", "WORD_BIT": "32", "_NPROCESSORS_ONLN": cores, "_NPROCESSORS_CONF": cores,
		"NPROCESSORS_ONLN": cores, "NPROCESSORS_CONF": cores, "PAGESIZE": "4096", "PAGE_SIZE": "4096", "_SC_PAGESIZE": "4096",
		"CLK_TCK": "100", "ARG_MAX": "2097152", "OPEN_MAX": "1024", "CHILD_MAX": strconv.Itoa(int(c.s.sys.machine().memKB / 256)),
		"PATH": "/bin:/usr/bin", "HOST_NAME_MAX": "64", "LOGIN_NAME_MAX": "256", "LEVEL1_DCACHE_LINESIZE": "64"}
	if v := c.s.d.glibc(); v != "" {
		vals["GNU_LIBC_VERSION"] = "glibc " + v
		vals["GNU_LIBPTHREAD_VERSION"] = "NPTL " + v
	}
	if args[0] == "-a" {
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.printf("%-35s%s\n", k, vals[k])
		}
		return 0
	}
	v, ok := vals[args[0]]
	if !ok {
		if c.s.d.ash {
			c.errorf("getconf: %s: unknown variable\n", args[0])
			return 1
		}
		c.errorf("getconf: Unrecognized variable `%s'\n", args[0])
		return 2
	}
	c.printf("%s\n", v)
	return 0
}

// --- lsblk ---

// lsblkSize is util-linux's size: binary units, one decimal unless whole.
func lsblkSize(b int64) string {
	v := float64(b)
	units := "BKMGTP"
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	r := float64(int64(v*10+0.5)) / 10
	if r == float64(int64(r)) {
		return strconv.FormatInt(int64(r), 10) + string(units[i])
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + string(units[i])
}

func cmdLsblk(c *call) int {
	s := c.s
	m := s.sys.machine()
	const gib = 1 << 30
	disk := (m.diskKB*1024*103/100 + gib - 1) / gib * gib
	type dev struct {
		name       string
		maj, min   int
		rm         string
		size       string
		typ, mount string
	}
	devs := []dev{{"sr0", 11, 0, "1", "1024M", "rom", ""}, {"vda", 254, 0, "0", lsblkSize(disk), "disk", ""}}
	if s.d.rhel {
		devs[1].maj = 252
		devs = append(devs, dev{"├─vda1", 252, 1, "0", "1G", "part", "/boot"},
			dev{"└─vda2", 252, 2, "0", lsblkSize(disk - gib), "part", ""},
			dev{"  └─rl-root", 253, 0, "0", lsblkSize(disk - gib), "lvm", "/"})
		if s.sys.Distro == "centos7" {
			devs[len(devs)-1].name = "  └─centos-root"
		}
	} else {
		devs = append(devs, dev{"├─vda1", 254, 1, "0", lsblkSize(disk - 127<<20), "part", "/"},
			dev{"├─vda14", 254, 14, "0", "3M", "part", ""},
			dev{"└─vda15", 254, 15, "0", "124M", "part", "/boot/efi"})
	}
	mountHead := "MOUNTPOINTS"
	if s.sys.Distro == "centos7" || s.sys.Distro == "ubuntu20" {
		mountHead = "MOUNTPOINT"
	}
	wName := 4
	for _, d := range devs {
		wName = max(wName, len([]rune(d.name)))
	}
	pad := func(str string, w int) string { return str + strings.Repeat(" ", max(0, w-len([]rune(str)))) }
	c.printf("%s MAJ:MIN RM  SIZE RO TYPE %s\n", pad("NAME", wName), mountHead)
	for _, d := range devs {
		c.printf("%s %3d:%-3d %2s %5s  0 %-4s %s\n", pad(d.name, wName), d.maj, d.min, d.rm, d.size, d.typ, d.mount)
	}
	return 0
}

// --- dmidecode ---

// dmiStrings are dmidecode -s keywords, as a QEMU/KVM guest answers them.
func (s *Session) dmiStrings() [][2]string {
	h := s.sys.Hostname
	uuid := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hashN(h+"u1", 1<<30)*4, hashN(h+"u2", 1<<16), 0x4000|hashN(h+"u3", 1<<12),
		0x8000|hashN(h+"u4", 1<<14), int64(hashN(h+"u5", 1<<30))<<16|int64(hashN(h+"u6", 1<<16)))
	machine := "pc-i440fx-7.2"
	if s.d.rhel {
		machine = "pc-q35-rhel9.4.0"
	}
	product := "Standard PC (i440FX + PIIX, 1996)"
	if s.d.rhel {
		product = "Standard PC (Q35 + ICH9, 2009)"
	}
	return [][2]string{{"bios-vendor", "SeaBIOS"}, {"bios-version", "1.16.2-debian-1.16.2-1"}, {"bios-release-date", "04/01/2014"},
		{"bios-revision", "0.0"}, {"firmware-revision", ""}, {"system-manufacturer", "QEMU"}, {"system-product-name", product},
		{"system-version", machine}, {"system-serial-number", "Not Specified"}, {"system-uuid", uuid},
		{"system-sku-number", "Not Specified"}, {"system-family", "Not Specified"}, {"baseboard-manufacturer", ""},
		{"baseboard-product-name", ""}, {"baseboard-version", ""}, {"baseboard-serial-number", ""}, {"baseboard-asset-tag", ""},
		{"chassis-manufacturer", "QEMU"}, {"chassis-type", "Other"}, {"chassis-version", machine},
		{"chassis-serial-number", "Not Specified"}, {"chassis-asset-tag", "Not Specified"}, {"processor-family", "Other"},
		{"processor-manufacturer", "QEMU"}, {"processor-version", machine}, {"processor-frequency", "2000 MHz"}}
}

func cmdDmidecode(c *call) int {
	s := c.s
	args := c.args
	var keyword, typ string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-s" || a == "--string" || a == "-t" || a == "--type":
			if i+1 >= len(args) {
				c.errorf("dmidecode: option requires an argument -- '%c'\n", a[len(a)-1:][0])
				return 2
			}
			i++
			if a[1] == 's' || a == "--string" {
				keyword = args[i]
			} else {
				typ = args[i]
			}
		case a == "-q" || a == "--quiet":
		case a == "--version" || a == "-V":
			c.printf("3.4\n")
			return 0
		default:
			c.errorf("dmidecode: invalid option -- '%s'\n", strings.TrimLeft(a, "-"))
			return 2
		}
	}
	table := s.dmiStrings()
	if keyword != "" {
		found := false
		for _, kv := range table {
			found = found || kv[0] == keyword
		}
		if !found {
			c.errorf("Invalid string keyword: %s\nValid string keywords are:\n", keyword)
			for _, kv := range table {
				c.errorf("  %s\n", kv[0])
			}
			return 2
		}
	}
	if s.cred.uid != 0 {
		if keyword == "" {
			c.printf("# dmidecode 3.4\n")
		}
		c.errorf("/sys/firmware/dmi/tables/smbios_entry_point: Permission denied\n")
		if keyword == "" {
			c.printf("Scanning /dev/mem for entry point.\n")
		}
		c.errorf("/dev/mem: Permission denied\n")
		return 1
	}
	if keyword != "" {
		for _, kv := range table {
			if kv[0] == keyword && kv[1] != "" {
				c.printf("%s\n", kv[1])
			}
		}
		return 0
	}
	get := func(k string) string {
		for _, kv := range table {
			if kv[0] == k {
				return kv[1]
			}
		}
		return ""
	}
	memGB := (s.sys.machine().memKB + 1<<20 - 1) >> 20
	sections := map[string]string{
		"bios": "Handle 0x0000, DMI type 0, 24 bytes\nBIOS Information\n\tVendor: SeaBIOS\n\tVersion: " + get("bios-version") +
			"\n\tRelease Date: 04/01/2014\n\tAddress: 0xE8000\n\tRuntime Size: 96 kB\n\tROM Size: 64 kB\n\tCharacteristics:\n" +
			"\t\tBIOS characteristics not supported\n\t\tTargeted content distribution is supported\n\tBIOS Revision: 0.0\n\n",
		"system": "Handle 0x0100, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: QEMU\n\tProduct Name: " + get("system-product-name") +
			"\n\tVersion: " + get("system-version") + "\n\tSerial Number: Not Specified\n\tUUID: " + get("system-uuid") +
			"\n\tWake-up Type: Power Switch\n\tSKU Number: Not Specified\n\tFamily: Not Specified\n\n",
		"chassis": "Handle 0x0300, DMI type 3, 22 bytes\nChassis Information\n\tManufacturer: QEMU\n\tType: Other\n\tLock: Not Present\n" +
			"\tVersion: " + get("chassis-version") + "\n\tSerial Number: Not Specified\n\tAsset Tag: Not Specified\n\tBoot-up State: Safe\n" +
			"\tPower Supply State: Safe\n\tThermal State: Safe\n\tSecurity Status: Unknown\n\tOEM Information: 0x00000000\n" +
			"\tHeight: Unspecified\n\tNumber Of Power Cords: Unspecified\n\tContained Elements: 0\n\tSKU Number: Not Specified\n\n",
		"memory": fmt.Sprintf("Handle 0x1000, DMI type 16, 23 bytes\nPhysical Memory Array\n\tLocation: Other\n\tUse: System Memory\n"+
			"\tError Correction Type: Multi-bit ECC\n\tMaximum Capacity: %d GB\n\tError Information Handle: Not Provided\n\tNumber Of Devices: 1\n\n"+
			"Handle 0x1100, DMI type 17, 40 bytes\nMemory Device\n\tArray Handle: 0x1000\n\tError Information Handle: Not Provided\n"+
			"\tTotal Width: Unknown\n\tData Width: Unknown\n\tSize: %d GB\n\tForm Factor: DIMM\n\tSet: None\n\tLocator: DIMM 0\n"+
			"\tBank Locator: Not Specified\n\tType: RAM\n\tType Detail: Other\n\tSpeed: Unknown\n\tManufacturer: QEMU\n"+
			"\tSerial Number: Not Specified\n\tAsset Tag: Not Specified\n\tPart Number: Not Specified\n\tRank: Unknown\n"+
			"\tConfigured Memory Speed: Unknown\n\tMinimum Voltage: Unknown\n\tMaximum Voltage: Unknown\n\tConfigured Voltage: Unknown\n\n", memGB, memGB),
	}
	var proc strings.Builder
	for i := 0; i < s.sys.machine().cores; i++ {
		fmt.Fprintf(&proc, "Handle 0x04%02X, DMI type 4, 42 bytes\nProcessor Information\n\tSocket Designation: CPU %d\n"+
			"\tType: Central Processor\n\tFamily: Other\n\tManufacturer: QEMU\n\tID: F1 06 04 00 FF FB 8B 0F\n\tVersion: %s\n"+
			"\tVoltage: Unknown\n\tExternal Clock: Unknown\n\tMax Speed: 2000 MHz\n\tCurrent Speed: 2000 MHz\n\tStatus: Populated, Enabled\n"+
			"\tUpgrade: Other\n\tL1 Cache Handle: Not Provided\n\tL2 Cache Handle: Not Provided\n\tL3 Cache Handle: Not Provided\n"+
			"\tSerial Number: Not Specified\n\tAsset Tag: Not Specified\n\tPart Number: Not Specified\n\tCore Count: 1\n"+
			"\tCore Enabled: 1\n\tThread Count: 1\n\tCharacteristics: None\n\n", i, i, get("processor-version"))
	}
	sections["processor"] = proc.String()
	order := []string{"bios", "system", "chassis", "processor", "memory"}
	if typ != "" {
		names := map[string]string{"0": "bios", "1": "system", "3": "chassis", "4": "processor", "16": "memory", "17": "memory"}
		if n, ok := names[typ]; ok {
			typ = n
		}
		if _, ok := sections[typ]; !ok {
			if _, err := strconv.Atoi(typ); err == nil {
				c.printf("# dmidecode 3.4\nGetting SMBIOS data from sysfs.\nSMBIOS 2.8 present.\n\n")
				return 0
			}
			c.errorf("Invalid type keyword: %s\nValid type keywords are:\n  bios\n  system\n  baseboard\n  chassis\n  processor\n  memory\n  cache\n  connector\n  slot\n", typ)
			return 2
		}
		order = []string{typ}
	}
	c.printf("# dmidecode 3.4\nGetting SMBIOS data from sysfs.\nSMBIOS 2.8 present.\n")
	if typ == "" {
		c.printf("%d structures occupying %d bytes.\nTable at 0x000F5A90.\n", 8+s.sys.machine().cores, 400+46*s.sys.machine().cores)
	}
	c.printf("\n")
	for _, k := range order {
		c.printf("%s", sections[k])
	}
	if typ == "" {
		c.printf("Handle 0x2000, DMI type 32, 11 bytes\nSystem Boot Information\n\tStatus: No errors detected\n\n" +
			"Handle 0x7F00, DMI type 127, 4 bytes\nEnd Of Table\n\n")
	}
	return 0
}

// --- top ---

// comm is a process's short name, as top and pkill see it.
func (p proc) comm() string {
	f := strings.Fields(p.cmd)
	if len(f) == 0 {
		return ""
	}
	if strings.HasPrefix(p.cmd, "[") {
		return strings.Trim(p.cmd, "[]")
	}
	name := strings.TrimPrefix(path.Base(strings.TrimRight(f[0], ":")), "-")
	if name == "init" && p.pid == 1 {
		return "systemd"
	}
	return name
}

func cmdTop(c *call) int {
	s := c.s
	// Every frame is alike, so -n and -d change nothing: one is printed.
	batch := false
	for _, a := range c.args {
		batch = batch || strings.HasPrefix(a, "-") && strings.Contains(a, "b")
	}
	if !batch && s.tty == "" {
		c.errorf("top: failed tty get\n")
		return 1
	}
	frame := s.topFrame(batch)
	if batch {
		c.printf("%s", frame)
		return 0
	}
	// Interactive top repaints until q; a command here cannot read the
	// terminal, so one screen is drawn and left as top leaves it on exit,
	// and a q typed next is top's, not the shell's.
	c.printf("\x1b[H\x1b[2J%s", frame)
	s.vars[topKey] = strconv.Itoa(len(s.history))
	return 0
}

// topKey marks the history line of the last interactive top, under a name
// no shell variable can have.
const topKey = "\x00top"

// bQuitTop takes the q that quits an interactive top when it is the line
// right after it; any other q is looked up as bash would, and not being a
// real builtin, type does not list it.
func bQuitTop(c *call) int {
	s := c.s
	if mark, ok := s.vars[topKey]; ok && mark == strconv.Itoa(len(s.history)-1) && len(c.args) == 0 {
		delete(s.vars, topKey)
		s.history = s.history[:len(s.history)-1] // bash never saw it
		return 0
	}
	return s.runFound(c)
}

// topFrame is one screen of top; an interactive one fits a terminal.
func (s *Session) topFrame(batch bool) string {
	var b strings.Builder
	all := s.procs("top")
	m := s.sys.machine()
	running := 1
	if s.d.ash {
		used := m.memKB / 3
		fmt.Fprintf(&b, "Mem: %dK used, %dK free, %dK shrd, %dK buff, %dK cached\n", used, m.memKB-used, 1100, m.memKB/40, m.memKB/5)
		b.WriteString("CPU:   0% usr   0% sys   0% nic 100% idle   0% io   0% irq   0% sirq\n")
		l := s.loadavg()
		fmt.Fprintf(&b, "Load average: %.2f %.2f %.2f 1/%d %d\n", l[0], l[1], l[2], len(all), all[len(all)-1].pid)
		b.WriteString("  PID  PPID USER     STAT   VSZ %VSZ CPU %CPU COMMAND\n")
		for i := len(all) - 1; i >= 0; i-- {
			p := all[i]
			fmt.Fprintf(&b, "%5d %5d %-8.8s %-4.4s %5d %3d%% %3d %3d%% %s\n", p.pid, p.ppid, p.user, p.stat, p.vsz, p.vsz*100/int(m.memKB), 0, 0, p.cmd)
		}
		return b.String()
	}
	up := strings.TrimPrefix(s.uptimeLine(), " "+s.now().Format("15:04:05")+" ")
	fmt.Fprintf(&b, "top - %s %s\n", s.now().Format("15:04:05"), up)
	fmt.Fprintf(&b, "Tasks: %3d total, %3d running, %3d sleeping,   0 stopped,   0 zombie\n", len(all), running, len(all)-running)
	l := s.loadavg()
	us := l[0] * 100 / float64(m.cores) / 4
	trail := ""
	if s.d.procps4 {
		trail = " "
	}
	fmt.Fprintf(&b, "%%Cpu(s): %4.1f us, %4.1f sy,  0.0 ni,%5.1f id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st%s\n", us, us/2, 100-us*1.5, trail)
	total := m.memKB
	used := total/7 + int64(hashN(s.sys.Hostname+"u", int(total/20)))
	cache := total/4 + int64(hashN(s.sys.Hostname+"c", int(total/10)))
	free := total - used - cache
	avail := free + cache*9/10
	if s.sys.Distro == "centos7" {
		fmt.Fprintf(&b, "KiB Mem : %8d total, %8d free, %8d used, %8d buff/cache\n", total, free, used, cache)
		fmt.Fprintf(&b, "KiB Swap:        0 total,        0 free,        0 used. %8d avail Mem \n", avail)
	} else {
		mib := func(kb int64) float64 { return float64(kb) / 1024 }
		pad := ""
		if s.d.procps4 {
			pad = "     "
		}
		fmt.Fprintf(&b, "MiB Mem : %8.1f total, %8.1f free, %8.1f used, %8.1f buff/cache%s\n", mib(total), mib(free), mib(used), mib(cache), pad)
		fmt.Fprintf(&b, "MiB Swap: %8.1f total, %8.1f free, %8.1f used. %8.1f avail Mem \n", 0.0, 0.0, 0.0, mib(avail))
	}
	b.WriteString("\n")
	w := 7
	if s.sys.Distro == "centos7" {
		w = 5
	}
	fmt.Fprintf(&b, "%*s USER      PR  NI    VIRT    RES    SHR S  %%CPU  %%MEM     TIME+ COMMAND\n", w, "PID")
	rows := 0
	limit := len(all)
	if !batch {
		limit = 17
	}
	// top sorts by %CPU: itself first, then by PID.
	order := append([]proc{all[len(all)-1]}, all[:len(all)-1]...)
	for _, p := range order {
		if rows >= limit {
			break
		}
		rows++
		pr, ni := "20", "0"
		if strings.HasPrefix(p.cmd, "[") && strings.HasSuffix(p.stat, "<") {
			pr, ni = "0", "-20"
		}
		shr := p.rss * 6 / 10
		cpu := 0.0
		if p.pid == order[0].pid {
			cpu = 6.2
		}
		st := p.stat[:1]
		if st == "I" && !s.d.procps4 && s.sys.Distro != "ubuntu22" {
			st = "S"
		}
		cs := int(p.cpu / (10 * time.Millisecond))
		// The kernel keeps 15 bytes of a program's name; its own threads
		// (kworker/0:2-events) show in full.
		name := p.comm()
		if len(name) > 15 && !strings.HasPrefix(p.cmd, "[") {
			name = name[:15]
		}
		fmt.Fprintf(&b, "%*d %-8.8s  %2s %3s %7d %6d %6d %s %5.1f %5.1f %3d:%02d.%02d %s\n", w, p.pid, p.user, pr, ni, p.vsz, p.rss, shr, st,
			cpu, float64(p.rss)*100/float64(m.memKB), cs/6000, cs/100%60, cs%100, name)
	}
	return b.String()
}
