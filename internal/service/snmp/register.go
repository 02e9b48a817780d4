// Package snmp is the SNMP honeypot: an agent on 161/udp that answers v1,
// v2c and v3 as net-snmp's snmpd 5.9.3 does (Debian 12), for a device
// profile that suits the decky (a Debian server, an HP LaserJet, a Cisco
// Catalyst, an embedded Linux box). Every community string and v3 user is
// recorded; SETs are recorded in full; authenticated v3 requests yield a
// hashcat line for the user's password. The BER codec is written here (see
// ber.go for why gosnmp's is not used); gosnmp's type tags name the values.
package snmp

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "snmp"

// Port is the SNMP agent port.
const Port = 161

// Persona is what a decky's SNMP agent accepts and shows.
type Persona struct {
	// Community is the read-only community list (default "public"), as
	// snmpd's rocommunity lines.
	Community []string `ini:"community"`
	// RWCommunity is the read-write community list (default "private"):
	// SETs with it are answered notWritable as snmpd does for read-only
	// objects, and recorded as attacks.
	RWCommunity []string `ini:"rw_community"`
	// Profile is the device: "linux" (net-snmp on Debian), "printer" (an
	// HP LaserJet), "switch" (a Cisco Catalyst), "iot" (net-snmp on an
	// embedded ARM Linux), or empty for the decky's OS family (switch
	// for cisco, iot for embedded, linux for the others).
	Profile string `ini:"profile"`
	// SysContact, SysLocation and SysName replace the profile's system
	// group values (sysName defaults to the decky's hostname).
	SysContact  string `ini:"sysContact"`
	SysLocation string `ini:"sysLocation"`
	SysName     string `ini:"sysName"`
	// V3Users are the SNMPv3 users that log in, each
	// "name:auth:authpass" or "name:auth:authpass:priv:privpass" with
	// auth MD5 or SHA and priv DES or AES (passwords of 8 characters or
	// more, as net-snmp requires). Others get usmStatsUnknownUserNames.
	V3Users []string `ini:"v3_users"`
	// EngineID is the snmpEngineID in hex (5 to 32 bytes), replacing the
	// one derived from the decky in the profile vendor's format. hashcat
	// reads the lines of engine IDs of 13 to 17 bytes only (net-snmp's
	// are 17; Cisco's and HP's MAC-format ones are 11).
	EngineID string `ini:"engine_id"`
}

// engineID is the persona's engine ID, nil for the derived one.
func (p *Persona) engineID() []byte {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(p.EngineID), "0x"))
	if err != nil || len(b) == 0 {
		return nil
	}
	return b
}

func defaultPersona() any {
	return &Persona{Community: []string{"public"}, RWCommunity: []string{"private"}}
}

// Device profiles.
const (
	profileAuto    = ""
	profileLinux   = "linux"
	profilePrinter = "printer"
	profileSwitch  = "switch"
	profileIoT     = "iot"
)

// Validate checks the profile, the communities and the v3 users.
func (p *Persona) Validate() error {
	switch p.Profile {
	case profileAuto, profileLinux, profilePrinter, profileSwitch, profileIoT:
	default:
		return fmt.Errorf("profile %q: want linux, printer, switch, iot or empty", p.Profile)
	}
	for _, c := range append(append([]string(nil), p.Community...), p.RWCommunity...) {
		if len(c) > 255 {
			return fmt.Errorf("community %q: over 255 bytes", c[:32])
		}
	}
	for _, c := range p.RWCommunity {
		for _, r := range p.Community {
			if c == r {
				return fmt.Errorf("community %q is both read-only and read-write", c)
			}
		}
	}
	for _, s := range []string{p.SysContact, p.SysLocation, p.SysName} {
		if len(s) > 255 || strings.ContainsRune(s, 0) {
			return fmt.Errorf("system value %q: want at most 255 bytes and no NUL", s)
		}
	}
	if p.EngineID != "" {
		if id := p.engineID(); len(id) < 5 || len(id) > 32 {
			return fmt.Errorf("engine_id %q: want 5 to 32 bytes in hex", p.EngineID)
		}
	}
	_, err := p.users()
	return err
}

// Service is the snmp honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares UDP port 161 and the persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "net-snmp snmpd look-alike (v1/v2c/v3) recording communities, v3 users and SETs",
		Ports:       []service.Port{{Number: Port, Proto: service.UDP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's agent for its profile.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	a, err := NewAgent(cfg, p, profileDevice(p, cfg.Host, time.Now()))
	if err != nil {
		return nil, err
	}
	return &Server{agent: a}, nil
}

var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
