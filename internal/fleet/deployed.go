package fleet

import (
	"errors"
	"maps"
	"net"
	"slices"
	"strconv"

	"decnet/internal/service"
)

// Deployed is a decky as a runtime runs it: its definition, whether
// scheduled mutation is off for it alone, and where its services listen.
// Every runtime reports its deckies as Deployed, so the mutator and the
// API treat them alike.
type Deployed struct {
	Decky
	// MutateOff is set when mutation is switched off for this decky alone;
	// its MutateInterval is then 0.
	MutateOff bool      `json:"mutate_off,omitempty"`
	Bindings  []Binding `json:"bindings"`
}

// Binding is one declared port of a service and the address serving it.
type Binding struct {
	Service string       `json:"service"`
	Port    service.Port `json:"port"`
	Addr    string       `json:"addr"` // ip:port actually bound
}

// BoundPort is the port actually bound: the declared one, or another when
// the runtime shifted it (the local runtime's port offset).
func (b Binding) BoundPort() int {
	_, p, _ := net.SplitHostPort(b.Addr)
	n, _ := strconv.Atoi(p) // Addr is always written by net.JoinHostPort
	return n
}

// Shifted reports whether the bound port differs from the declared one.
func (b Binding) Shifted() bool { return b.BoundPort() != b.Port.Number }

// DeclaredBindings are the bindings of a decky whose services listen on
// their declared ports at the decky's address, as in the docker runtime.
func DeclaredBindings(d Decky, customs []Custom) []Binding {
	var out []Binding
	for _, slug := range d.Services {
		for _, p := range PortsOf(slug, customs) {
			out = append(out, Binding{Service: slug, Port: p, Addr: net.JoinHostPort(d.IP.String(), strconv.Itoa(p.Number))})
		}
	}
	return out
}

// PortsOf returns the ports service slug declares: a registered service's,
// or a custom one's (TCP); nil for neither.
func PortsOf(slug string, customs []Custom) []service.Port {
	for _, c := range customs {
		if c.Name == slug {
			ports := make([]service.Port, len(c.Ports))
			for i, p := range c.Ports {
				ports[i] = service.Port{Number: p, Proto: service.TCP}
			}
			return ports
		}
	}
	if s, err := service.Lookup(slug); err == nil {
		return s.Info().Ports
	}
	return nil
}

// TCPPorts maps each service of d that listens on TCP to the port it is
// bound to: its first declared TCP port, after any shift. Services that
// listen on UDP only are left out.
func (d Deployed) TCPPorts() map[string]int {
	out := map[string]int{}
	for _, b := range d.Bindings {
		if _, seen := out[b.Service]; !seen && b.Port.Proto == service.TCP {
			out[b.Service] = b.BoundPort()
		}
	}
	return out
}

// EffectiveMutateInterval is the interval in force for d, in minutes,
// given the fleet default global: 0 means it is never mutated on schedule.
func (d Deployed) EffectiveMutateInterval(global int) int {
	switch {
	case d.MutateOff:
		return 0
	case d.MutateInterval > 0:
		return d.MutateInterval
	}
	return global
}

// Clone copies everything a caller could change, so that snapshots handed
// out never share memory with a running fleet.
func (d Deployed) Clone() Deployed {
	d.Decky = d.Decky.Clone()
	d.Bindings = slices.Clone(d.Bindings)
	return d
}

// Clone returns a copy of d that shares no memory with it.
func (d Decky) Clone() Decky {
	d.Services = slices.Clone(d.Services)
	if d.ServiceConfig != nil {
		cfg := make(map[string]map[string]string, len(d.ServiceConfig))
		for s, keys := range d.ServiceConfig {
			cfg[s] = maps.Clone(keys)
		}
		d.ServiceConfig = cfg
	}
	return d
}

// ErrNoDecky is wrapped by every runtime call naming a decky the fleet
// does not have.
var ErrNoDecky = errors.New("no such decky")

// NeverMutate, given to a runtime's SetMutateInterval, switches mutation
// off for one decky whatever the fleet default.
const NeverMutate = -1
