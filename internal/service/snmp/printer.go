package snmp

import (
	"fmt"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// laserJet is one HP LaserJet model: its name, its Jetdirect card and
// firmware date, and its toner cartridge.
type laserJet struct {
	model, jd, cidate, eeprom, toner string
}

var laserJets = []laserJet{
	{"HP LaserJet Pro M404dn", "JD153", "07/15/2019", "JSI23900XX", "Black Cartridge HP CF258A"},
	{"HP LaserJet MFP M428fdw", "JD153", "04/12/2021", "JSI23900XX", "Black Cartridge HP CF259A"},
	{"HP LaserJet Enterprise M607", "JD149", "09/20/2017", "JSI23700005", "Black Cartridge HP CF237A"},
	{"HP Color LaserJet Pro M479fdw", "JD153", "11/03/2020", "JSI23900XX", "Black Cartridge HP W2020A"},
}

// hpOUIs are prefixes of HP's network cards.
var hpOUIs = [][3]byte{{0x3c, 0xd9, 0x2b}, {0xa0, 0xd3, 0xc1}, {0x10, 0x60, 0x4b}, {0x00, 0x21, 0x5a}}

// printerDevice is an HP LaserJet with its Jetdirect card: HP's system
// group, Printer-MIB basics, hrDevice and HP's enterprise 11 objects.
func printerDevice(d decky) Device {
	d.mac = d.vendorMAC(hpOUIs)
	lj := laserJets[seedOf(d.key, "printer")%uint64(len(laserJets))]
	serial := fmt.Sprintf("PHB%c%06d", 'A'+byte(seedOf(d.key, "ser1")%26), seedOf(d.key, "serial")%1000000)
	macHex := strings.ToUpper(fmt.Sprintf("%02x%02x%02x", d.mac[3], d.mac[4], d.mac[5]))
	boot := d.boot
	pages := 3000 + float64(seedOf(d.key, "pages")%40000)
	pageCount := Dynamic(func(now time.Time) any { return uint32(pages + now.Sub(boot).Hours()*1.5) })
	dev := Device{
		Descr:      fmt.Sprintf("HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,%s,EEPROM %s,CIDATE %s", lj.jd, lj.eeprom, lj.cidate),
		ObjectID:   "1.3.6.1.4.1.11.2.3.9.1",
		Contact:    "",
		Name:       "NPI" + macHex,
		Location:   "",
		Services:   72,
		Boot:       boot,
		Interfaces: []Interface{{Descr: "HP ETHERNET MULTI-ENVIRONMENT", Type: 6, MTU: 1500, Speed: 1000000000, MAC: d.mac, Addr: prefix24(d)}},
	}
	deviceID := fmt.Sprintf("MFG:HP;MDL:%s;CMD:PJL,PCL,PCLXL,URF,PDF,POSTSCRIPT,PWGRaster,AppleRaster;CLS:PRINTER;DES:%s;CID:HPLJPDLV1;LEDMDIS:USB#FF#CC#00,USB#07#01#02,USB#FF#04#01;SN:%s;", lj.model, lj.model, serial)
	level := 5 + int(seedOf(d.key, "toner")%90)
	dev.Extra = []Var{
		{"1.3.6.1.2.1.25.3.2.1.1.1", gosnmp.Integer, 1},
		{"1.3.6.1.2.1.25.3.2.1.2.1", gosnmp.ObjectIdentifier, "1.3.6.1.2.1.25.3.1.5"},
		{"1.3.6.1.2.1.25.3.2.1.3.1", gosnmp.OctetString, lj.model},
		{"1.3.6.1.2.1.25.3.2.1.4.1", gosnmp.ObjectIdentifier, "0.0"},
		{"1.3.6.1.2.1.25.3.2.1.5.1", gosnmp.Integer, 2},
		{"1.3.6.1.2.1.25.3.2.1.6.1", gosnmp.Counter32, uint32(0)},
		{"1.3.6.1.2.1.25.3.5.1.1.1", gosnmp.Integer, 3},
		{"1.3.6.1.2.1.25.3.5.1.2.1", gosnmp.OctetString, []byte{0}},
		{"1.3.6.1.2.1.43.5.1.1.16.1", gosnmp.OctetString, lj.model},
		{"1.3.6.1.2.1.43.5.1.1.17.1", gosnmp.OctetString, serial},
		{"1.3.6.1.2.1.43.10.2.1.4.1.1", gosnmp.Counter32, pageCount},
		{"1.3.6.1.2.1.43.11.1.1.6.1.1", gosnmp.OctetString, lj.toner},
		{"1.3.6.1.2.1.43.11.1.1.8.1.1", gosnmp.Integer, 100},
		{"1.3.6.1.2.1.43.11.1.1.9.1.1", gosnmp.Integer, level},
		{"1.3.6.1.4.1.11.2.3.9.1.1.7.0", gosnmp.OctetString, deviceID},
		{"1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.3.0", gosnmp.OctetString, serial},
		{"1.3.6.1.4.1.11.2.3.9.4.2.1.1.3.2.0", gosnmp.OctetString, lj.model},
	}
	return dev
}
