// Package conpot is the ICS honeypot: a programmable logic controller of a
// water plant, a factory or a substation, as the real device answers on
// the wire. Two devices are imitated: a Schneider Electric Modicon M340
// (Modbus TCP with Read Device Identification and UMAS, SNMP, the
// Schneider-WEB server; no S7 on 102) and a Siemens SIMATIC S7-1200 CPU
// 1214C (S7comm on 102, SNMP, the S7 web server, Modbus TCP through the
// MB_SERVER instruction). Every decky has its own serial numbers, MAC
// addresses, module names and firmware, drawn from its name: never the
// famous default template of the upstream conpot.
package conpot

import (
	"fmt"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "conpot"

// The ports a PLC answers on.
const (
	PortHTTP   = 80
	PortS7     = 102
	PortSNMP   = 161
	PortModbus = 502
)

// The devices imitated (persona key device).
const (
	DeviceM340   = "modicon-m340"
	DeviceS71200 = "s7-1200"
)

// The sites whose process the PLC runs (persona key site).
const (
	SiteWater      = "water_plant"
	SiteFactory    = "factory"
	SiteSubstation = "substation"
)

// Persona is the device a decky's PLC imitates and the process it runs.
type Persona struct {
	// Device is the PLC: "modicon-m340" (Schneider Electric Modicon M340
	// with a BMX NOE 0100/0110 Ethernet module: Modbus TCP, SNMP, web
	// server; 102 closed) or "s7-1200" (Siemens SIMATIC S7-1200 CPU
	// 1214C: S7comm on 102, SNMP, web server, Modbus TCP by MB_SERVER).
	Device string `ini:"device"`
	// Site is the process the tags and registers describe: "water_plant",
	// "factory" or "substation".
	Site string `ini:"site"`
}

func defaultPersona() any { return &Persona{Device: DeviceM340, Site: SiteWater} }

// Validate checks the device and site names.
func (p *Persona) Validate() error {
	switch p.Device {
	case DeviceM340, DeviceS71200:
	default:
		return fmt.Errorf("device %q: want %s or %s", p.Device, DeviceM340, DeviceS71200)
	}
	switch p.Site {
	case SiteWater, SiteFactory, SiteSubstation:
	default:
		return fmt.Errorf("site %q: want %s, %s or %s", p.Site, SiteWater, SiteFactory, SiteSubstation)
	}
	return nil
}

// Service is the conpot honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares Modbus, S7, SNMP and HTTP ports and the persona. The
// M340 persona does not answer on 102: its listener is closed at once,
// so the port is refused as on the real module.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "PLC look-alike (Modicon M340 or SIMATIC S7-1200): Modbus TCP, S7comm, SNMP and web HMI of a plant",
		Ports: []service.Port{
			{Number: PortModbus, Proto: service.TCP},
			{Number: PortS7, Proto: service.TCP},
			{Number: PortSNMP, Proto: service.UDP},
			{Number: PortHTTP, Proto: service.TCP},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's PLC.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
