package conpot

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
)

// identity is what one decky's PLC says about itself: the same on every
// protocol (Modbus device identification, S7 SZL, SNMP, web pages), and
// different on every decky, drawn from its name.
type identity struct {
	device string
	vendor string
	// product is the CPU's commercial reference ("BMX P34 2020", the
	// S7 order number "6ES7 214-1AG40-0XB0").
	product string
	// productName and model are the device identification's regular
	// objects (M340), or the module type name (S7).
	productName string
	model       string
	// firmware is the CPU's version in the device's own notation
	// ("v2.8" for the M340's device identification, "V4.2.1" for S7).
	firmware string
	fwMajor  int
	fwMinor  int
	fwPatch  int
	// netModule is the Ethernet module (M340: BMX NOE 0100 or 0110).
	netModule   string
	netFirmware string
	// webServer is the web server's banner version (M340 Schneider-WEB).
	webServer string
	serial    string
	mac       net.HardwareAddr
	// station, moduleName, plant: the S7 project's names (SZL 0x001C),
	// and the M340 application name.
	station    string
	moduleName string
	plant      string
	hostname   string
}

// draw is a deterministic source of choices for one decky.
type draw struct {
	seed []byte
	n    uint32
}

func newDraw(name string) *draw {
	s := sha256.Sum256([]byte("plc-identity\x00" + name))
	return &draw{seed: s[:]}
}

// next returns 8 fresh pseudo-random bytes as a number.
func (d *draw) next() uint64 {
	d.n++
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], d.n)
	h := sha256.Sum256(append(append([]byte{}, d.seed...), b[:]...))
	return binary.BigEndian.Uint64(h[:8])
}

func (d *draw) intn(n int) int { return int(d.next() % uint64(n)) }

func pick[T any](d *draw, list []T) T { return list[d.intn(len(list))] }

// chars draws n characters of set.
func (d *draw) chars(n int, set string) string {
	var b strings.Builder
	for range n {
		b.WriteByte(set[d.intn(len(set))])
	}
	return b.String()
}

// m340Firmware are released Modicon M340 CPU firmware versions (the
// device identification writes them "v2.8", "v3.10").
var m340Firmware = []struct {
	text         string
	major, minor int
}{{"v2.7", 2, 7}, {"v2.8", 2, 8}, {"v2.9", 2, 9}, {"v3.01", 3, 1}, {"v3.10", 3, 10}, {"v3.20", 3, 20}, {"v3.30", 3, 30}}

// s71200Firmware are released S7-1200 V4 firmware versions for the
// -0XB0 (hardware generation 4) CPUs.
var s71200Firmware = [][3]int{{4, 1, 3}, {4, 2, 0}, {4, 2, 1}, {4, 2, 3}, {4, 3, 1}, {4, 4, 0}, {4, 4, 1}}

// The CPU 1214C variants by supply and outputs.
var s71200Orders = []struct{ order, typ string }{
	{"6ES7 214-1AG40-0XB0", "CPU 1214C DC/DC/DC"},
	{"6ES7 214-1BG40-0XB0", "CPU 1214C AC/DC/Rly"},
	{"6ES7 214-1HG40-0XB0", "CPU 1214C DC/DC/Rly"},
}

// newIdentity draws the identity of the decky called name (its log
// identity, stable across restarts) for device p.Device.
func newIdentity(name, hostname string, p *Persona) identity {
	d := newDraw(name + "\x00" + p.Device)
	id := identity{device: p.Device, hostname: hostname}
	switch p.Device {
	case DeviceM340:
		fw := pick(d, m340Firmware)
		id.vendor = "Schneider Electric"
		id.product = pick(d, []string{"BMX P34 2020", "BMX P34 2030"})
		id.productName = "Modicon M340"
		id.model = id.product
		id.firmware, id.fwMajor, id.fwMinor = fw.text, fw.major, fw.minor
		id.netModule = pick(d, []string{"BMX NOE 0100", "BMX NOE 0110"})
		id.netFirmware = pick(d, []string{"V2.70", "V2.80", "V3.10", "V3.30"})
		id.webServer = pick(d, []string{"V2.1.3", "V2.1.4"})
		// Schneider serials: plant, year, week and a running number.
		id.serial = fmt.Sprintf("%s%02d%02d%05d", pick(d, []string{"20", "21", "23"}), 12+d.intn(9), 1+d.intn(52), d.intn(100000))
		id.mac = mac(d, 0x00, 0x80, 0xf4) // Telemecanique (Schneider)
		id.station = strings.ToUpper(siteStations[p.Site][d.intn(len(siteStations[p.Site]))])
		id.moduleName = id.netModule
	case DeviceS71200:
		o := pick(d, s71200Orders)
		fw := pick(d, s71200Firmware)
		id.vendor = "Siemens"
		id.product = o.order
		id.productName = "SIMATIC S7-1200"
		id.model = o.typ
		id.fwMajor, id.fwMinor, id.fwPatch = fw[0], fw[1], fw[2]
		id.firmware = fmt.Sprintf("V%d.%d.%d", fw[0], fw[1], fw[2])
		id.netModule = "PROFINET interface_1"
		// S7-1200 serials: "S C-" and twelve letters and digits.
		id.serial = "S C-" + d.chars(1, "BCDEFGHJKLMNPRSTUVWXYZ") + d.chars(1, "0123456789ABCDEFGHJKLMNPRSTUVWXYZ") + d.chars(10, "0123456789ABCDEFGHJKLMNPRSTUVWXYZ")
		id.mac = mac(d, 0x00, 0x1c, 0x06) // Siemens
		id.station = pick(d, []string{"S71200/ET200MP station_1", "S71200/ET200MP station_1", "PLC_Station_1"})
		if d.intn(2) == 0 {
			id.station = siteStations[p.Site][d.intn(len(siteStations[p.Site]))]
		}
		id.moduleName = pick(d, []string{"PLC_1", "PLC_1", "CPU_1214C", "PLC_" + fmt.Sprint(1+d.intn(4))})
	}
	id.plant = siteStations[p.Site][d.intn(len(siteStations[p.Site]))]
	return id
}

// siteStations are the station and plant names an integrator gives.
var siteStations = map[string][]string{
	SiteWater:      {"WTP_Filtration", "Pumpstation_North", "Reservoir_2", "Intake_Works", "Booster_Station_3"},
	SiteFactory:    {"Line_2_Packaging", "Press_Shop", "Assembly_Cell_4", "Paint_Line", "Conveyor_Hall_B"},
	SiteSubstation: {"Sub_11kV_Feeder", "Substation_East", "Bay_Control_3", "Switchyard_A", "Transformer_T2"},
}

// mac is a MAC under the vendor's OUI.
func mac(d *draw, o0, o1, o2 byte) net.HardwareAddr {
	v := d.next()
	return net.HardwareAddr{o0, o1, o2, byte(v >> 16), byte(v >> 8), byte(v)}
}
