package service

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// ErrUnknown is wrapped when a slug names no registered service.
var ErrUnknown = errors.New("unknown service")

// ErrFleetSingleton is wrapped when a decky is given a service that runs
// once for the whole fleet (Info.FleetSingleton).
var ErrFleetSingleton = errors.New("runs once for the whole fleet, not on a decky")

// registry is the one package-level mutable state: the registered services.
var registry = struct {
	sync.RWMutex
	m map[string]Service
}{m: map[string]Service{}}

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Register adds a built-in service. It is called from init and panics on a
// bad or duplicate slug, which is a programming error.
func Register(s Service) {
	if err := add(s); err != nil {
		panic(err)
	}
}

// RegisterCustom adds a service at run time (the seed's
// register_custom_service); unlike Register it reports errors.
func RegisterCustom(s Service) error { return add(s) }

func add(s Service) error {
	info := s.Info()
	if !slugRE.MatchString(info.Slug) {
		return fmt.Errorf("service slug %q: want lower-case letters, digits, _ or -", info.Slug)
	}
	for _, p := range info.Ports {
		if p.Number < 1 || p.Number > 65535 || (p.Proto != TCP && p.Proto != UDP) {
			return fmt.Errorf("service %q: bad port %d/%s", info.Slug, p.Number, p.Proto)
		}
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[info.Slug]; dup {
		return fmt.Errorf("service %q is already registered", info.Slug)
	}
	registry.m[info.Slug] = s
	return nil
}

// Lookup returns the service with that slug.
func Lookup(slug string) (Service, error) {
	registry.RLock()
	defer registry.RUnlock()
	if s, ok := registry.m[slug]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknown, slug)
}

// LookupDecky returns the service with that slug if a decky may run it.
func LookupDecky(slug string) (Service, error) {
	s, err := Lookup(slug)
	if err != nil {
		return nil, err
	}
	if s.Info().FleetSingleton {
		return nil, fmt.Errorf("service %q %w", slug, ErrFleetSingleton)
	}
	return s, nil
}

// AllDecky returns every registered service a decky may run, sorted by
// slug: All without the fleet singletons.
func AllDecky() []Service {
	var out []Service
	for _, s := range All() {
		if !s.Info().FleetSingleton {
			out = append(out, s)
		}
	}
	return out
}

// All returns every registered service, sorted by slug.
func All() []Service {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Service, 0, len(registry.m))
	for _, s := range registry.m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info().Slug < out[j].Info().Slug })
	return out
}
