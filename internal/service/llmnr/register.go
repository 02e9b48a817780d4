// Package llmnr is the name-resolution honeypot: it records every LLMNR
// (5355/udp), mDNS (5353/udp) and NetBIOS name service (137/udp) query a
// decky sees, the names hosts look for being the intelligence (WPAD,
// ISATAP, a mistyped file server), and answers only for the decky's own
// name, as a Windows host or a Linux host with Samba and Avahi does. It
// also runs a poisoning detector: it asks the LAN for names that do not
// exist, and whoever answers is a Responder-style poisoner.
package llmnr

import (
	"fmt"
	"net"
	"strings"
	"time"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "llmnr"

// The ports of the three protocols.
const (
	PortLLMNR = 5355
	PortMDNS  = 5353
	PortNBNS  = 137
)

// Duration is a persona duration written as Go writes one ("5m", "90s").
type Duration time.Duration

// UnmarshalText parses a duration such as "5m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 5m", b)
	}
	*d = Duration(v)
	return nil
}

// Persona is how a decky answers name queries and hunts for poisoners.
type Persona struct {
	// Detect turns the poisoning detector on: the decky asks the LAN
	// over LLMNR, NBNS and mDNS for names that do not exist, and reports
	// whoever answers (default true).
	Detect bool `ini:"detect"`
	// DetectInterval is the mean time between the detector's rounds
	// (default 5m; each wait is jittered by up to a fifth either way).
	DetectInterval Duration `ini:"detect_interval"`
	// DetectNames are the names the detector asks for, in turn; empty
	// means plausible names made up for each round (a mistyped file
	// server, an old print server). Never list a name that exists.
	DetectNames []string `ini:"detect_names"`
	// Workgroup is the NetBIOS workgroup (or domain) the node status
	// reply lists (default WORKGROUP).
	Workgroup string `ini:"workgroup"`
	// MAC is the adapter address the node status reply of a Windows
	// decky shows; empty derives the decky's own from its name, as the
	// runtime gives it.
	MAC string `ini:"mac"`
	// NetBIOS picks the NBNS responder: "windows", "samba" (nmbd: its
	// names, B-node flags and a zero MAC), "none" (record only), or
	// empty for the decky's OS family (windows for windows, samba for
	// the others).
	NetBIOS string `ini:"netbios"`
	// MDNS picks the mDNS responder: "host" (its own <name>.local only,
	// as Windows 10 and later), "avahi" (also the DNS-SD services of a
	// Linux desktop: workstation and ssh), "none" (record only), or
	// empty for the decky's OS family (host for windows, avahi for
	// linux and bsd, none for the others).
	MDNS string `ini:"mdns"`
}

// Responder styles.
const (
	styleAuto    = ""
	styleWindows = "windows"
	styleSamba   = "samba"
	styleHost    = "host"
	styleAvahi   = "avahi"
	styleNone    = "none"
)

// defaultInterval is the detector's default mean interval.
const defaultInterval = 5 * time.Minute

func defaultPersona() any {
	return &Persona{Detect: true, DetectInterval: Duration(defaultInterval), Workgroup: "WORKGROUP"}
}

// Validate checks the styles, the workgroup, the MAC and the detector's
// names and interval.
func (p *Persona) Validate() error {
	switch p.NetBIOS {
	case styleAuto, styleWindows, styleSamba, styleNone:
	default:
		return fmt.Errorf("netbios %q: want windows, samba, none or empty", p.NetBIOS)
	}
	switch p.MDNS {
	case styleAuto, styleHost, styleAvahi, styleNone:
	default:
		return fmt.Errorf("mdns %q: want host, avahi, none or empty", p.MDNS)
	}
	if err := checkNetBIOSName(p.Workgroup); err != nil {
		return fmt.Errorf("workgroup: %w", err)
	}
	if p.MAC != "" {
		if hw, err := net.ParseMAC(p.MAC); err != nil || len(hw) != 6 {
			return fmt.Errorf("mac %q: want six bytes such as 00:50:56:12:34:56", p.MAC)
		}
	}
	if time.Duration(p.DetectInterval) < time.Second || time.Duration(p.DetectInterval) > 24*time.Hour {
		return fmt.Errorf("detect_interval %s: want 1s to 24h", time.Duration(p.DetectInterval))
	}
	for _, n := range p.DetectNames {
		if err := checkNetBIOSName(n); err != nil {
			return fmt.Errorf("detect_names: %w", err)
		}
	}
	return nil
}

// checkNetBIOSName accepts a name that fits NetBIOS (1 to 15 bytes) and
// DNS (a single label of letters, digits and hyphens).
func checkNetBIOSName(n string) error {
	if n == "" || len(n) > 15 {
		return fmt.Errorf("%q: want 1 to 15 characters", n)
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%q: want letters, digits and hyphens", n)
		}
	}
	return nil
}

// Service is the llmnr honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares the three UDP ports and the persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "LLMNR, mDNS and NetBIOS name service listener that records name queries and detects LAN poisoners",
		Ports: []service.Port{
			{Number: PortLLMNR, Proto: service.UDP},
			{Number: PortMDNS, Proto: service.UDP},
			{Number: PortNBNS, Proto: service.UDP},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's name service.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	id, err := newIdentity(cfg.Host, p)
	if err != nil {
		return nil, fmt.Errorf("llmnr: %w", err)
	}
	return newServer(cfg, p, id), nil
}

var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
