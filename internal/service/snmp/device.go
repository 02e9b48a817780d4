package snmp

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"
)

// ticks is a duration in TimeTicks (hundredths of a second), wrapped.
func ticks(d time.Duration) uint32 { return uint32(max(d, 0) / (10 * time.Millisecond)) }

// systemGroup is the system group (1.3.6.1.2.1.1) of dev.
func systemGroup(dev Device) []Var {
	boot := dev.Boot
	if dev.ObjectID == "" {
		dev.ObjectID = "0.0" // zeroDotZero: no vendor identification
	}
	return []Var{
		{"1.3.6.1.2.1.1.1.0", gosnmp.OctetString, dev.Descr},
		{"1.3.6.1.2.1.1.2.0", gosnmp.ObjectIdentifier, dev.ObjectID},
		{"1.3.6.1.2.1.1.3.0", gosnmp.TimeTicks, Dynamic(func(now time.Time) any { return ticks(now.Sub(boot)) })},
		{"1.3.6.1.2.1.1.4.0", gosnmp.OctetString, dev.Contact},
		{"1.3.6.1.2.1.1.5.0", gosnmp.OctetString, dev.Name},
		{"1.3.6.1.2.1.1.6.0", gosnmp.OctetString, dev.Location},
		{"1.3.6.1.2.1.1.7.0", gosnmp.Integer, dev.Services},
	}
}

// seedOf is a number derived from a decky and a purpose, so each decky's
// counters, serials and IDs differ and stay the same across restarts.
func seedOf(key, purpose string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key + "|snmp|" + purpose))
	return h.Sum64()
}

// counter is a traffic counter that grows at rate per second since boot.
func counter(boot time.Time, rate float64) Dynamic {
	return func(now time.Time) any { return uint32(uint64(now.Sub(boot).Seconds() * rate)) }
}

func counter64(boot time.Time, rate float64) Dynamic {
	return func(now time.Time) any { return uint64(now.Sub(boot).Seconds() * rate) }
}

// interfaceTables are ifNumber, ifTable, ifXTable and ipAddrTable of
// dev's interfaces, with counters that grow from its boot.
func interfaceTables(dev Device) []Var {
	if len(dev.Interfaces) == 0 {
		return nil
	}
	vars := []Var{{"1.3.6.1.2.1.2.1.0", gosnmp.Integer, len(dev.Interfaces)}}
	col := func(table string, c, idx int, t gosnmp.Asn1BER, v any) {
		vars = append(vars, Var{fmt.Sprintf("%s.%d.%d", table, c, idx), t, v})
	}
	const ifEntry, ifXEntry = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
	for i, ifc := range dev.Interfaces {
		idx := i + 1
		seed := seedOf(dev.Name+ifc.Descr, "if")
		// Bytes a second, mostly in: a server's link is busy, a
		// loopback less so.
		in := float64(2000 + seed%40000)
		out := in * (0.3 + float64(seed>>20%50)/100)
		pkt := 600.0
		col(ifEntry, 1, idx, gosnmp.Integer, idx)
		col(ifEntry, 2, idx, gosnmp.OctetString, ifc.Descr)
		col(ifEntry, 3, idx, gosnmp.Integer, ifc.Type)
		col(ifEntry, 4, idx, gosnmp.Integer, ifc.MTU)
		col(ifEntry, 5, idx, gosnmp.Gauge32, ifc.Speed)
		col(ifEntry, 6, idx, gosnmp.OctetString, hwString(ifc.MAC))
		col(ifEntry, 7, idx, gosnmp.Integer, 1)
		col(ifEntry, 8, idx, gosnmp.Integer, 1)
		col(ifEntry, 9, idx, gosnmp.TimeTicks, uint32(0))
		col(ifEntry, 10, idx, gosnmp.Counter32, counter(dev.Boot, in))
		col(ifEntry, 11, idx, gosnmp.Counter32, counter(dev.Boot, in/pkt))
		col(ifEntry, 12, idx, gosnmp.Counter32, counter(dev.Boot, in/pkt/50))
		col(ifEntry, 13, idx, gosnmp.Counter32, uint32(seed%7))
		col(ifEntry, 14, idx, gosnmp.Counter32, uint32(0))
		col(ifEntry, 15, idx, gosnmp.Counter32, uint32(0))
		col(ifEntry, 16, idx, gosnmp.Counter32, counter(dev.Boot, out))
		col(ifEntry, 17, idx, gosnmp.Counter32, counter(dev.Boot, out/pkt))
		col(ifEntry, 18, idx, gosnmp.Counter32, uint32(0))
		col(ifEntry, 19, idx, gosnmp.Counter32, uint32(0))
		col(ifEntry, 20, idx, gosnmp.Counter32, uint32(0))
		col(ifEntry, 21, idx, gosnmp.Gauge32, uint32(0))
		col(ifEntry, 22, idx, gosnmp.ObjectIdentifier, "0.0")
		col(ifXEntry, 1, idx, gosnmp.OctetString, ifc.Descr)
		col(ifXEntry, 2, idx, gosnmp.Counter32, counter(dev.Boot, in/pkt/200))
		col(ifXEntry, 3, idx, gosnmp.Counter32, uint32(0))
		col(ifXEntry, 4, idx, gosnmp.Counter32, uint32(0))
		col(ifXEntry, 5, idx, gosnmp.Counter32, uint32(0))
		col(ifXEntry, 6, idx, gosnmp.Counter64, counter64(dev.Boot, in))
		col(ifXEntry, 7, idx, gosnmp.Counter64, counter64(dev.Boot, in/pkt))
		col(ifXEntry, 8, idx, gosnmp.Counter64, counter64(dev.Boot, in/pkt/200))
		col(ifXEntry, 9, idx, gosnmp.Counter64, uint64(0))
		col(ifXEntry, 10, idx, gosnmp.Counter64, counter64(dev.Boot, out))
		col(ifXEntry, 11, idx, gosnmp.Counter64, counter64(dev.Boot, out/pkt))
		col(ifXEntry, 12, idx, gosnmp.Counter64, uint64(0))
		col(ifXEntry, 13, idx, gosnmp.Counter64, uint64(0))
		col(ifXEntry, 14, idx, gosnmp.Integer, 2-btoi(ifc.Type != 24))
		col(ifXEntry, 15, idx, gosnmp.Gauge32, ifc.Speed/1000000)
		col(ifXEntry, 16, idx, gosnmp.Integer, 2)
		col(ifXEntry, 17, idx, gosnmp.Integer, 2-btoi(ifc.Type != 24))
		col(ifXEntry, 18, idx, gosnmp.OctetString, "")
		col(ifXEntry, 19, idx, gosnmp.TimeTicks, uint32(0))
	}
	for i, ifc := range dev.Interfaces {
		if !ifc.Addr.IsValid() || !ifc.Addr.Addr().Is4() {
			continue
		}
		a := ifc.Addr.Addr().String()
		mask := netip.AddrFrom4(maskBytes(ifc.Addr.Bits())).String()
		const e = "1.3.6.1.2.1.4.20.1"
		vars = append(vars,
			Var{e + ".1." + a, gosnmp.IPAddress, a},
			Var{e + ".2." + a, gosnmp.Integer, i + 1},
			Var{e + ".3." + a, gosnmp.IPAddress, mask},
			Var{e + ".4." + a, gosnmp.Integer, btoi(ifc.Type != 24)},
		)
	}
	return vars
}

func maskBytes(bits int) [4]byte {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return [4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
