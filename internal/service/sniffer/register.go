// Package sniffer registers the fleet's passive sniffer: one per fleet, on
// the host, watching the LAN every decky is on (TLS and TCP fingerprints of
// the attackers' own stacks), as the original's host-side sniffer did. It
// is listed with the services but is never deployed on a decky; the
// capture itself is a later piece of work, so today the slot holds the
// name, its place in the catalogue and the rule that keeps it off deckies.
package sniffer

import (
	"fmt"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "sniffer"

// Service is the sniffer slot.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares no ports: the sniffer listens on nothing.
func (Service) Info() service.Info {
	return service.Info{
		Slug:           Slug,
		Description:    "passive LAN sniffer (TLS/TCP fingerprints), one per fleet on the host; never on a decky",
		FleetSingleton: true,
	}
}

// New refuses: no decky runs the sniffer.
func (Service) New(cfg service.Config) (service.Server, error) {
	return nil, fmt.Errorf("decky %s: service %q %w", cfg.Host.Name, Slug, service.ErrFleetSingleton)
}

var _ service.Service = Service{}
