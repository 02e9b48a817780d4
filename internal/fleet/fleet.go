// Package fleet is the deployment model: which deckies exist, where, what
// they claim to be and which services they run with which persona keys. A
// Fleet is built from command-line flags (Build), from the default catalogue
// (DefaultFleet) or from an INI file (LoadINI), given addresses (AssignIPs)
// and then persisted by a runtime as JSON: it is the one source of truth for
// what is deployed.
package fleet

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// Decky is one decoy host.
type Decky struct {
	// Name is the decky's log identity (RFC 5424 HOSTNAME, the "decky"
	// column); see NamePattern.
	Name string `json:"name"`
	// IP is zero until AssignIPs gives it an address.
	IP netip.Addr `json:"ip,omitzero"`
	// Hostname is what the decky shows attackers (shell prompt, banners).
	Hostname  string `json:"hostname"`
	Distro    string `json:"distro"`
	Archetype string `json:"archetype,omitempty"`
	// OS is the OS family slug (archetype.LookupOS).
	OS       string   `json:"os"`
	Services []string `json:"services"`
	// ServiceConfig holds persona keys per service slug, lower-cased keys
	// and values as written; service.NewPersona turns them into personas.
	ServiceConfig map[string]map[string]string `json:"service_config,omitempty"`
	// MutateInterval is in minutes; 0 means the fleet's default.
	MutateInterval int `json:"mutate_interval,omitempty"`
	// LastMutated is set by the runtime when it deploys or mutates the decky.
	LastMutated time.Time `json:"last_mutated,omitzero"`
	// MAC is the decky's hardware address where the runtime gives it one
	// (docker on macvlan): set at deploy, kept across mutations.
	MAC string `json:"mac,omitempty"`
}

// Custom is a bring-your-own service from a [custom-<name>] section: a
// program or image the fleet runs as-is, with no persona keys.
type Custom struct {
	Name   string `json:"name"`
	Binary string `json:"binary"` // image (docker runtime) or program path
	Exec   string `json:"exec,omitempty"`
	Ports  []int  `json:"ports"`
}

// General holds fleet-wide settings ([general] in the INI).
type General struct {
	Net       netip.Prefix `json:"net,omitzero"`
	Gateway   netip.Addr   `json:"gw,omitzero"`
	Interface string       `json:"interface,omitempty"`
	// MutateInterval is the default for deckies that set none, in minutes;
	// 0 disables mutation.
	MutateInterval int `json:"mutate_interval,omitempty"`
}

// Fleet is a whole deployment.
type Fleet struct {
	General General  `json:"general"`
	Deckies []Decky  `json:"deckies"`
	Customs []Custom `json:"customs,omitempty"`
}

// MaxDeckies bounds a fleet, so a typo in a count cannot exhaust the host.
const MaxDeckies = 1000

// NamePattern is what a decky name must match: it becomes a container name,
// a directory name and often a DNS label, hence letters, digits, dot, dash
// and underscore, starting with a letter or digit, at most 63 characters
// (the original allowed 128 and a leading dot or dash).
var NamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// MutateInterval returns the interval that applies to d, in minutes: its
// own, else the fleet's default; 0 means never.
func (f *Fleet) MutateInterval(d Decky) int {
	if d.MutateInterval > 0 {
		return d.MutateInterval
	}
	return f.General.MutateInterval
}

// Validate checks the invariants every builder guarantees, so a runtime can
// trust a fleet it reads back from disk: unique valid names and addresses,
// known distros, OS families and archetypes, registered (or custom)
// services, and persona keys each service accepts.
func (f *Fleet) Validate() error {
	var errs []error
	bad := func(d Decky, format string, args ...any) {
		errs = append(errs, fmt.Errorf("decky %q: %s", d.Name, fmt.Sprintf(format, args...)))
	}
	if len(f.Deckies) == 0 {
		errs = append(errs, errors.New("the fleet has no deckies"))
	}
	if len(f.Deckies) > MaxDeckies {
		errs = append(errs, fmt.Errorf("%d deckies, at most %d", len(f.Deckies), MaxDeckies))
	}
	customs := map[string]bool{}
	for _, c := range f.Customs {
		if err := checkCustom(c); err != nil {
			errs = append(errs, fmt.Errorf("custom service %q: %w", c.Name, err))
		}
		if customs[c.Name] {
			errs = append(errs, fmt.Errorf("custom service %q defined twice", c.Name))
		}
		customs[c.Name] = true
	}
	names, ips := map[string]bool{}, map[netip.Addr]string{}
	for _, d := range f.Deckies {
		if !NamePattern.MatchString(d.Name) {
			bad(d, "invalid name (want %s)", NamePattern)
		}
		if names[strings.ToLower(d.Name)] {
			bad(d, "name used twice")
		}
		names[strings.ToLower(d.Name)] = true
		if d.IP.IsValid() {
			if other, dup := ips[d.IP]; dup {
				bad(d, "ip %s already used by %q", d.IP, other)
			}
			ips[d.IP] = d.Name
		}
		if d.Hostname == "" {
			bad(d, "no hostname")
		}
		if _, err := archetype.LookupDistro(d.Distro); err != nil {
			bad(d, "%v", err)
		}
		if _, err := archetype.LookupOS(d.OS); err != nil {
			bad(d, "%v", err)
		}
		if d.Archetype != "" {
			if _, err := archetype.Lookup(d.Archetype); err != nil {
				bad(d, "%v", err)
			}
		}
		if d.MutateInterval < 0 {
			bad(d, "negative mutate interval")
		}
		if len(d.Services) == 0 {
			bad(d, "no services")
		}
		for i, s := range d.Services {
			if slices.Contains(d.Services[:i], s) {
				bad(d, "service %q listed twice", s)
			} else if other, p, ok := portClash(d.Services[:i], s, f.Customs); ok {
				bad(d, "services %q and %q both listen on %d/%s", other, s, p.Number, p.Proto)
			}
			if customs[s] {
				continue
			}
			if _, err := service.LookupDecky(s); err != nil {
				bad(d, "%v", err)
			}
		}
		// Keys of a service the decky does not run (any more) stay valid:
		// a mutation that brings the service back applies them. The INI
		// loader refuses such keys in a file, where they are a mistake.
		for s, keys := range d.ServiceConfig {
			if _, err := personaOf(s, customs[s], keys); err != nil {
				bad(d, "%v", err)
			}
		}
	}
	return errors.Join(errs...)
}

// portClash names a service of have that declares a port s declares too:
// two services of one decky cannot both listen on it (conpot's HMI on 80
// beside http, its SNMP agent beside snmp).
func portClash(have []string, s string, customs []Custom) (other string, port service.Port, ok bool) {
	for _, p := range PortsOf(s, customs) {
		for _, o := range have {
			for _, q := range PortsOf(o, customs) {
				if o != s && p.Number == q.Number && p.Proto == q.Proto {
					return o, p, true
				}
			}
		}
	}
	return "", service.Port{}, false
}

// personaOf validates keys for service slug (a custom one takes none).
func personaOf(slug string, custom bool, keys map[string]string) (any, error) {
	if custom {
		for k := range keys {
			return nil, fmt.Errorf("%w %q: custom service %s takes no persona keys", service.ErrPersonaKey, k, slug)
		}
		return nil, nil
	}
	s, err := service.Lookup(slug)
	if err != nil {
		return nil, err
	}
	return service.NewPersona(s.Info(), keys)
}

// customNameRE is the service registry's slug rule: a custom service may be
// registered under its name.
var customNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

func checkCustom(c Custom) error {
	switch {
	case !customNameRE.MatchString(c.Name):
		return fmt.Errorf("invalid name (want %s)", customNameRE)
	case c.Binary == "":
		return errors.New("no binary")
	case len(c.Ports) == 0:
		return errors.New("no ports")
	}
	if _, err := service.Lookup(c.Name); err == nil {
		return errors.New("name taken by a built-in service")
	}
	for i, p := range c.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("port %d out of range 1-65535", p)
		}
		if slices.Contains(c.Ports[:i], p) {
			return fmt.Errorf("port %d listed twice", p)
		}
	}
	return nil
}

// parsePorts reads a comma list of port numbers.
func parsePorts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a port number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// splitList splits a comma (or newline) separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
