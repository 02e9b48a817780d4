package snmp

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// profileOf is the profile a persona asks for, or the one of the decky's
// archetype or OS family.
func profileOf(p *Persona, h service.Host) string {
	if p.Profile != profileAuto {
		return p.Profile
	}
	if h.Archetype == "printer" {
		return profilePrinter
	}
	switch h.OS {
	case archetype.OSCisco:
		return profileSwitch
	case archetype.OSEmbedded:
		return profileIoT
	}
	return profileLinux
}

// profileDevice is the device a decky's agent describes: its profile's,
// with the persona's system values over it.
func profileDevice(p *Persona, h service.Host, now time.Time) Device {
	d := deckyOf(h, now)
	var dev Device
	switch profileOf(p, h) {
	case profilePrinter:
		dev = printerDevice(d)
	case profileSwitch:
		dev = switchDevice(d)
	case profileIoT:
		dev = netsnmpDevice(d, false)
	default:
		dev = netsnmpDevice(d, true)
	}
	if p.SysContact != "" {
		dev.Contact = p.SysContact
	}
	if p.SysLocation != "" {
		dev.Location = p.SysLocation
	}
	if p.SysName != "" {
		dev.Name = p.SysName
	}
	return dev
}

// decky is what the profiles derive their values from.
type decky struct {
	key      string // the decky name: the seed of everything derived
	hostname string
	ip       netip.Addr
	mac      net.HardwareAddr
	kernel   archetype.Kernel
	boot     time.Time // the machine's boot
}

func deckyOf(h service.Host, now time.Time) decky {
	key := h.Name
	if key == "" {
		key = h.Hostname
	}
	host := h.Hostname
	if host == "" {
		host = "localhost"
	}
	ip, err := netip.ParseAddr(h.IP)
	if err != nil || !ip.Is4() {
		ip = netip.AddrFrom4([4]byte{192, 168, 1, byte(10 + seedOf(key, "ip")%200)})
	}
	mac, err := net.ParseMAC(archetype.MAC(h.OS, key))
	if err != nil {
		mac = net.HardwareAddr{0x00, 0x50, 0x56, 1, 2, 3}
	}
	return decky{key: key, hostname: host, ip: ip, mac: mac, kernel: archetype.KernelOf(h.Distro), boot: archetype.Boot(key, now)}
}

// vendorMAC is the decky's MAC with a prefix of the vendor's (ouis,
// three bytes each) unless it already has one: the SNMP engine ID and
// ifPhysAddress name the vendor to a remote scanner, which an ARP table
// on the decky's LAN would not.
func (d decky) vendorMAC(ouis [][3]byte) net.HardwareAddr {
	for _, o := range ouis {
		if [3]byte(d.mac[:3]) == o {
			return d.mac
		}
	}
	o := ouis[seedOf(d.key, "oui")%uint64(len(ouis))]
	return net.HardwareAddr{o[0], o[1], o[2], d.mac[3], d.mac[4], d.mac[5]}
}

// pick chooses one of list for the decky.
func (d decky) pick(purpose string, list []string) string {
	return list[seedOf(d.key, purpose)%uint64(len(list))]
}

// agentStart is when snmpd started, a few seconds after the boot:
// sysUpTime is the agent's uptime, hrSystemUptime the machine's.
func (d decky) agentStart() time.Time {
	return d.boot.Add(time.Duration(4+seedOf(d.key, "start")%12) * time.Second)
}

var (
	contacts  = []string{"Me <me@example.org>", "root", "sysadmin", "noc@%s", "IT Operations <it@%s>", "root@%s"}
	locations = []string{"Sitting on the Dock of the Bay", "Server Room", "DC1 Rack 4", "Data Center, Row B", "Main Office Comms Room", "Rack A3"}
	nicNames  = []string{"ens18", "ens192", "eno1", "enp3s0", "eth0", "enp1s0"}
)

// domainOf is a mail domain for contacts: the hostname's domain if it
// has one.
func (d decky) domain() string {
	if _, dom, ok := strings.Cut(d.hostname, "."); ok && dom != "localdomain" {
		return dom
	}
	return d.pick("domain", []string{"corp.local", "example.com", "internal.lan"})
}

func (d decky) contact() string {
	c := d.pick("contact", contacts)
	if strings.Contains(c, "%s") {
		c = fmt.Sprintf(c, d.domain())
	}
	return c
}

// netsnmpDevice is net-snmp's snmpd on the decky's Linux: a server
// (linux) or an embedded box (iot).
func netsnmpDevice(d decky, server bool) Device {
	start := d.agentStart()
	lo := Interface{Descr: "lo", Type: 24, MTU: 65536, Speed: 10000000, Addr: netip.MustParsePrefix("127.0.0.1/8")}
	nic := d.pick("nic", nicNames)
	if !server {
		nic = "eth0"
	}
	eth := Interface{Descr: nic, Type: 6, MTU: 1500, Speed: 1000000000, MAC: d.mac, Addr: netip.PrefixFrom(d.ip, 24)}
	dev := Device{
		Descr:      fmt.Sprintf("Linux %s %s %s x86_64", d.hostname, d.kernel.Release, d.kernel.Version),
		ObjectID:   "1.3.6.1.4.1.8072.3.2.10",
		Contact:    d.contact(),
		Name:       d.hostname,
		Location:   d.pick("location", locations),
		Services:   72,
		Boot:       start,
		Interfaces: []Interface{lo, eth},
	}
	dev.Extra = append(dev.Extra, sysORTable()...)
	dev.Extra = append(dev.Extra, hrSystem(d, server)...)
	if server {
		dev.Extra = append(dev.Extra, ucdSnmp(d)...)
	}
	return dev
}

// sysORTable is snmpd 5.9.3's (real-products.md §10), registered as the
// agent started.
func sysORTable() []Var {
	rows := []struct{ id, descr string }{
		{"1.3.6.1.6.3.10.3.1.1", "The SNMP Management Architecture MIB."},
		{"1.3.6.1.6.3.11.3.1.1", "The MIB for Message Processing and Dispatching."},
		{"1.3.6.1.6.3.15.2.1.1", "The management information definitions for the SNMP User-based Security Model."},
		{"1.3.6.1.6.3.1", "The MIB module for SNMPv2 entities"},
		{"1.3.6.1.6.3.16.2.2.1", "View-based Access Control Model for SNMP."},
		{"1.3.6.1.2.1.49", "The MIB module for managing TCP implementations"},
		{"1.3.6.1.2.1.50", "The MIB module for managing UDP implementations"},
		{"1.3.6.1.2.1.4", "The MIB module for managing IP and ICMP implementations"},
		{"1.3.6.1.6.3.13.3.1.3", "The MIB modules for managing SNMP Notification, plus filtering."},
		{"1.3.6.1.2.1.92", "The MIB module for logging SNMP Notifications."},
	}
	vars := []Var{{"1.3.6.1.2.1.1.8.0", gosnmp.TimeTicks, uint32(0)}}
	for i, r := range rows {
		vars = append(vars, Var{fmt.Sprintf("1.3.6.1.2.1.1.9.1.2.%d", i+1), gosnmp.ObjectIdentifier, r.id})
	}
	for i, r := range rows {
		vars = append(vars, Var{fmt.Sprintf("1.3.6.1.2.1.1.9.1.3.%d", i+1), gosnmp.OctetString, r.descr})
	}
	for i := range rows {
		vars = append(vars, Var{fmt.Sprintf("1.3.6.1.2.1.1.9.1.4.%d", i+1), gosnmp.TimeTicks, uint32(0)})
	}
	return vars
}

// hrSystem is HOST-RESOURCES-MIB's hrSystem group and memory size.
func hrSystem(d decky, server bool) []Var {
	boot := d.boot
	memKB := 2097152 << (seedOf(d.key, "mem") % 4)
	if !server {
		memKB = 1048576
	}
	users := int(seedOf(d.key, "users") % 3)
	procs := 90 + int(seedOf(d.key, "procs")%80)
	return []Var{
		{"1.3.6.1.2.1.25.1.1.0", gosnmp.TimeTicks, Dynamic(func(now time.Time) any { return ticks(now.Sub(boot)) })},
		{"1.3.6.1.2.1.25.1.2.0", gosnmp.OctetString, Dynamic(func(now time.Time) any { return dateAndTime(now) })},
		{"1.3.6.1.2.1.25.1.3.0", gosnmp.Integer, 393216},
		{"1.3.6.1.2.1.25.1.4.0", gosnmp.OctetString, fmt.Sprintf("BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=%s ro quiet\n", d.kernel.Release, uuidOf(d.key))},
		{"1.3.6.1.2.1.25.1.5.0", gosnmp.Gauge32, uint32(users)},
		{"1.3.6.1.2.1.25.1.6.0", gosnmp.Gauge32, Dynamic(func(now time.Time) any { return uint32(procs + now.Second()%5) })},
		{"1.3.6.1.2.1.25.1.7.0", gosnmp.Integer, 0},
		{"1.3.6.1.2.1.25.2.2.0", gosnmp.Integer, memKB},
	}
}

// dateAndTime is SNMPv2-TC's DateAndTime of t in UTC.
func dateAndTime(t time.Time) []byte {
	t = t.UTC()
	return []byte{byte(t.Year() >> 8), byte(t.Year()), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()), 0, '+', 0, 0}
}

func uuidOf(key string) string {
	a, b := seedOf(key, "uuid1"), seedOf(key, "uuid2")
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(a), uint16(a>>32), uint16(a>>48)&0xfff, uint16(b)&0xfff, b>>16)
}

// ucdSnmp is UCD-SNMP-MIB's memory and load objects as snmpd on Debian
// shows them (the stock snmpd.conf's "load 12 10 5").
func ucdSnmp(d decky) []Var {
	total := 2097152 << (seedOf(d.key, "mem") % 4)
	swap := 999420
	free := func(now time.Time) int {
		return total/4 + int(seedOf(d.key, "free")%uint64(total/8)) + now.Minute()*97
	}
	const mem, la = "1.3.6.1.4.1.2021.4", "1.3.6.1.4.1.2021.10.1"
	vars := []Var{
		{mem + ".1.0", gosnmp.Integer, 0},
		{mem + ".2.0", gosnmp.OctetString, "swap"},
		{mem + ".3.0", gosnmp.Integer, swap},
		{mem + ".4.0", gosnmp.Integer, swap - int(seedOf(d.key, "swap")%20000)},
		{mem + ".5.0", gosnmp.Integer, total - 120000},
		{mem + ".6.0", gosnmp.Integer, Dynamic(func(now time.Time) any { return free(now) })},
		{mem + ".11.0", gosnmp.Integer, Dynamic(func(now time.Time) any { return free(now) + swap })},
		{mem + ".12.0", gosnmp.Integer, 16000},
		{mem + ".13.0", gosnmp.Integer, 18000 + int(seedOf(d.key, "shm")%9000)},
		{mem + ".14.0", gosnmp.Integer, 60000 + int(seedOf(d.key, "buf")%90000)},
		{mem + ".15.0", gosnmp.Integer, total / 3},
		{mem + ".100.0", gosnmp.Integer, 0},
		{mem + ".101.0", gosnmp.OctetString, ""},
	}
	names, limits := []string{"Load-1", "Load-5", "Load-15"}, []string{"12.00", "10.00", "5.00"}
	base := int(seedOf(d.key, "load") % 60)
	load := func(i int, now time.Time) int { return max(0, base+(now.Minute()*7+i*13)%40-20+i*3) }
	for i := range 3 {
		n := i + 1
		vars = append(vars,
			Var{fmt.Sprintf("%s.1.%d", la, n), gosnmp.Integer, n},
			Var{fmt.Sprintf("%s.2.%d", la, n), gosnmp.OctetString, names[i]},
			Var{fmt.Sprintf("%s.3.%d", la, n), gosnmp.OctetString, Dynamic(func(now time.Time) any {
				l := load(i, now)
				return fmt.Sprintf("%d.%02d", l/100, l%100)
			})},
			Var{fmt.Sprintf("%s.4.%d", la, n), gosnmp.OctetString, limits[i]},
			Var{fmt.Sprintf("%s.5.%d", la, n), gosnmp.Integer, Dynamic(func(now time.Time) any { return load(i, now) })},
			Var{fmt.Sprintf("%s.100.%d", la, n), gosnmp.Integer, 0},
			Var{fmt.Sprintf("%s.101.%d", la, n), gosnmp.OctetString, ""},
		)
	}
	return vars
}
