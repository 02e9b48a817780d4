package snmp

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"
)

// switchPorts is the front-panel port count of the Catalyst.
const switchPorts = 48

// ciscoOUIs are prefixes of Cisco's switches (archetype's cisco family's).
var ciscoOUIs = [][3]byte{{0x00, 0x1a, 0xa1}, {0x00, 0x1b, 0x54}}

// switchDevice is a Cisco Catalyst 2960-X on IOS 15.2: Cisco's
// sysDescr, sysObjectID, a VLAN interface and 48 gigabit ports, and a
// few objects of Cisco's enterprise 9 subtree.
func switchDevice(d decky) Device {
	base := d.vendorMAC(ciscoOUIs)
	ifs := []Interface{{Descr: "Vlan1", Type: 53, MTU: 1500, Speed: 1000000000, MAC: base, Addr: prefix24(d)}}
	for i := 1; i <= switchPorts; i++ {
		mac := append(net.HardwareAddr{}, base...)
		mac[5] += byte(i)
		ifs = append(ifs, Interface{Descr: fmt.Sprintf("GigabitEthernet1/0/%d", i), Type: 6, MTU: 1500, Speed: 1000000000, MAC: mac})
	}
	ifs = append(ifs, Interface{Descr: "Null0", Type: 1, MTU: 1500, Speed: 4294967295})
	serial := fmt.Sprintf("FOC%04d%c%03X", 2000+seedOf(d.key, "week")%400, 'A'+byte(seedOf(d.key, "s1")%26), seedOf(d.key, "s2")%0xfff)
	cpu := func(off int) Dynamic {
		return func(now time.Time) any { return uint32(3 + (now.Minute()+off)%9) }
	}
	dev := Device{
		Descr: "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, RELEASE SOFTWARE (fc1)\r\n" +
			"Technical Support: http://www.cisco.com/techsupport\r\n" +
			"Copyright (c) 1986-2023 by Cisco Systems, Inc.\r\n" +
			"Compiled Tue 28-Feb-23 04:07 by mcpre",
		ObjectID:   "1.3.6.1.4.1.9.1.1208",
		Contact:    "",
		Name:       d.hostname,
		Location:   d.pick("location", locations),
		Services:   6,
		Boot:       d.boot,
		Interfaces: ifs,
	}
	dev.Extra = []Var{
		{"1.3.6.1.2.1.47.1.1.1.1.2.1001", gosnmp.OctetString, "WS-C2960X-48TS-L"},
		{"1.3.6.1.2.1.47.1.1.1.1.11.1001", gosnmp.OctetString, serial},
		{"1.3.6.1.2.1.47.1.1.1.1.13.1001", gosnmp.OctetString, "WS-C2960X-48TS-L"},
		{"1.3.6.1.4.1.9.2.1.1.0", gosnmp.OctetString, "Bootstrap program is C2960X boot loader"},
		{"1.3.6.1.4.1.9.2.1.2.0", gosnmp.OctetString, "power-on"},
		{"1.3.6.1.4.1.9.2.1.3.0", gosnmp.OctetString, d.hostname},
		{"1.3.6.1.4.1.9.2.1.57.0", gosnmp.Integer, Dynamic(func(now time.Time) any { return 3 + now.Minute()%9 })},
		{"1.3.6.1.4.1.9.9.109.1.1.1.1.6.1", gosnmp.Gauge32, cpu(0)},
		{"1.3.6.1.4.1.9.9.109.1.1.1.1.7.1", gosnmp.Gauge32, cpu(2)},
		{"1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", gosnmp.Gauge32, cpu(4)},
		{"1.3.6.1.4.1.9.9.13.1.3.1.3.1006", gosnmp.Gauge32, uint32(30 + seedOf(d.key, "temp")%12)},
	}
	return dev
}

// prefix24 is the decky's address on its /24.
func prefix24(d decky) netip.Prefix { return netip.PrefixFrom(d.ip, 24) }
