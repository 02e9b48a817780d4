package sniffer

import (
	"errors"
	"testing"

	"decnet/internal/service"
)

func TestRegisteredAsAFleetSingleton(t *testing.T) {
	s, err := service.Lookup(Slug)
	if err != nil {
		t.Fatal(err)
	}
	if info := s.Info(); !info.FleetSingleton || len(info.Ports) != 0 {
		t.Errorf("Info = %+v, want a fleet singleton with no ports", info)
	}
	if _, err := service.LookupDecky(Slug); !errors.Is(err, service.ErrFleetSingleton) {
		t.Errorf("LookupDecky err = %v", err)
	}
	for _, d := range service.AllDecky() {
		if d.Info().Slug == Slug {
			t.Error("the sniffer is offered to deckies")
		}
	}
	if _, err := (Service{}).New(service.Config{Host: service.Host{Name: "decky-01"}}); !errors.Is(err, service.ErrFleetSingleton) {
		t.Errorf("New err = %v", err)
	}
}
