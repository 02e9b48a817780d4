package conpot

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/gosnmp/gosnmp"

	"decnet/internal/event"
	"decnet/internal/service/snmp"
)

// Vendor enterprise numbers: Schneider Electric (groupe Schneider) and
// Siemens AG.
const (
	enterpriseSchneider = "1.3.6.1.4.1.3833"
	enterpriseSiemens   = "1.3.6.1.4.1.4196"
)

// snmpDevice is the PLC's SNMP view: the Ethernet module's system group,
// its port, and the vendor's identification subtree.
func (s *Server) snmpDevice() snmp.Device {
	id := s.id
	port := snmp.Interface{Type: 6, MTU: 1500, Speed: 100_000_000, MAC: id.mac}
	if a, err := netip.ParseAddr(s.cfg.Host.IP); err == nil && a.Is4() {
		port.Addr = netip.PrefixFrom(a, 24)
	}
	dev := snmp.Device{Services: 78, Boot: s.boot, Location: id.plant, Name: id.hostname}
	if dev.Name == "" {
		dev.Name = id.station
	}
	switch id.device {
	case DeviceM340:
		dev.Descr = fmt.Sprintf("Schneider Electric %s Ethernet TCP/IP module, %s", id.netModule, id.netFirmware)
		dev.ObjectID = enterpriseSchneider + ".1.7.255.4"
		port.Descr = id.netModule + " Ethernet port"
		p := enterpriseSchneider + ".1.7."
		dev.Extra = []snmp.Var{
			{OID: p + "1.0", Type: gosnmp.OctetString, Value: id.netModule},   // profileProductName
			{OID: p + "2.0", Type: gosnmp.OctetString, Value: id.netFirmware}, // profileVersion
			{OID: p + "3.0", Type: gosnmp.OctetString, Value: "Port502 Messaging, I/O Scanning, Global Data, Web, SNMP, FDR, Time Sync"},
			{OID: p + "4.0", Type: gosnmp.Integer, Value: 2}, // profileGlobalStatus: ok
			{OID: p + "5.0", Type: gosnmp.OctetString, Value: "Transparent Ready Class B30"},
			{OID: p + "6.0", Type: gosnmp.OctetString, Value: "PLC"},
			{OID: p + "7.0", Type: gosnmp.OctetString, Value: id.product + " " + id.firmware},
			{OID: p + "8.0", Type: gosnmp.OctetString, Value: id.serial},
			{OID: p + "9.0", Type: gosnmp.OctetString, Value: id.station},
		}
	default:
		dev.Descr = fmt.Sprintf("Siemens, SIMATIC S7, %s, %s, HW: Version 1, FW: Version %s, %s", id.model, id.product, id.firmware, id.serial)
		dev.ObjectID = enterpriseSiemens + ".1.1.5.2.22"
		port.Descr = "Siemens, SIMATIC S7, " + id.model + ", PROFINET interface_1, Port 1"
		p := enterpriseSiemens + ".1.1.5.2.22.1."
		dev.Extra = []snmp.Var{
			{OID: p + "1.0", Type: gosnmp.OctetString, Value: id.product},
			{OID: p + "2.0", Type: gosnmp.OctetString, Value: id.firmware},
			{OID: p + "3.0", Type: gosnmp.OctetString, Value: id.serial},
			{OID: p + "4.0", Type: gosnmp.OctetString, Value: id.station},
			{OID: p + "5.0", Type: gosnmp.OctetString, Value: id.moduleName},
			{OID: p + "6.0", Type: gosnmp.OctetString, Value: id.plant},
		}
	}
	dev.Interfaces = []snmp.Interface{port}
	return dev
}

// snmpEvents renames the agent's event types for this service: its
// requests are "snmp" events (sets "snmp_set", errors "snmp_error"), so
// they do not mix with the web server's; auth stays auth.
func snmpEvents(inner event.Emitter) event.Emitter {
	return event.EmitterFunc(func(e event.Event) {
		switch e.Type {
		case event.TypeRequest:
			e.Type = typeSNMP
		case event.TypeAuth:
		default:
			e.Type = typeSNMP + "_" + e.Type
		}
		inner.Emit(e)
	})
}

// serveSNMP runs the snmp package's agent for the PLC on pc; its events
// say service conpot.
func (s *Server) serveSNMP(ctx context.Context, pc net.PacketConn) error {
	return s.agent.ServePacket(ctx, pc)
}
