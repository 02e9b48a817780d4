package fleet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// Options describe a fleet built from command-line flags (decnet up/deploy).
type Options struct {
	// Deckies is how many deckies to build, 1..MaxDeckies, named decky-01..NN.
	Deckies int
	// Services, when set, is every decky's service list.
	Services []string
	// Archetype sets the OS family and preferred distros, and the services
	// when Services is empty.
	Archetype string
	// Distros, when set, are cycled across the deckies.
	Distros []string
	// RandomizeServices gives each decky 1–3 random registered services
	// when neither Services nor Archetype is set.
	RandomizeServices bool
	// RandomizeDistros picks each decky's distro at random unless Distros
	// is set.
	RandomizeDistros bool
	// MutateInterval is the fleet's default mutation interval in minutes
	// (0: no mutation).
	MutateInterval int
	// Seed seeds every random choice (hostnames, random services and
	// distros): the same options and seed give the same fleet.
	Seed int64
	// Alloc gives the deckies their addresses; nil means the local runtime's
	// loopback range from DefaultIPBase.
	Alloc *Allocator
}

// ErrNotImplemented is wrapped when an archetype needs services that are
// not registered (not written yet).
var ErrNotImplemented = errors.New("needs services not implemented yet")

// Build returns the fleet the options describe, with addresses assigned.
// Precedence follows the original: services explicit > archetype > random;
// distros explicit (cycled) > random > archetype's preferred (cycled) > all
// (cycled); OS family from the archetype, else linux.
func Build(opts Options) (Fleet, error) {
	if opts.Deckies < 1 || opts.Deckies > MaxDeckies {
		return Fleet{}, fmt.Errorf("decky count %d: want 1 to %d", opts.Deckies, MaxDeckies)
	}
	if opts.MutateInterval < 0 {
		return Fleet{}, fmt.Errorf("mutate interval %d: want minutes >= 0", opts.MutateInterval)
	}
	var arch *archetype.Archetype
	if opts.Archetype != "" {
		a, err := archetype.Lookup(strings.ToLower(strings.TrimSpace(opts.Archetype)))
		if err != nil {
			return Fleet{}, err
		}
		arch = &a
	}
	var fixed []string
	switch {
	case len(opts.Services) > 0:
		s, err := checkServices(opts.Services)
		if err != nil {
			return Fleet{}, err
		}
		fixed = s
	case arch != nil:
		s, err := archetypeServices(*arch, isRegistered)
		if err != nil {
			return Fleet{}, err
		}
		fixed = s
	case !opts.RandomizeServices:
		return Fleet{}, errors.New("no services chosen: name services, an archetype, or ask for random services")
	}
	distros := make([]string, 0, len(opts.Distros))
	for _, d := range opts.Distros {
		d = strings.ToLower(strings.TrimSpace(d))
		if _, err := archetype.LookupDistro(d); err != nil {
			return Fleet{}, err
		}
		distros = append(distros, d)
	}

	rng := newRand(opts.Seed)
	pool := registeredSlugs()
	names := newHostnames(rng)
	f := Fleet{General: General{MutateInterval: opts.MutateInterval}}
	var combos [][]string
	for i := range opts.Deckies {
		d := Decky{Name: fmt.Sprintf("decky-%02d", i+1), OS: archetype.OSLinux, Services: slices.Clone(fixed)}
		if fixed == nil {
			d.Services = RandomServices(rng, pool, combos...)
			combos = append(combos, d.Services)
		}
		switch {
		case len(distros) > 0:
			d.Distro = distros[i%len(distros)]
		case opts.RandomizeDistros:
			all := archetype.AllDistros()
			d.Distro = all[rng.IntN(len(all))].Slug
		default:
			d.Distro = cycledDistro(arch, i)
		}
		if arch != nil {
			d.Archetype, d.OS = arch.Slug, arch.OS
		}
		d.Hostname = names.next(d.Distro)
		f.Deckies = append(f.Deckies, d)
	}
	return finish(f, opts.Alloc)
}

// maxDefaultDeckies keeps the no-flags fleet small as the catalogue grows:
// room for the twelve archetypes that each bring a service of their own
// and for the services none of them runs.
const maxDefaultDeckies = 16

// DefaultFleet is the fleet `decnet up` brings up without flags: one decky
// per archetype whose services are all implemented and not all shown by an
// archetype before it (in catalogue order), plus
// deckies running the implemented services no chosen archetype covers (with
// ssh beside them, as an administered box would have), so every service is
// on show and the fleet grows by itself as services land. Addresses come
// from alloc (nil: loopback from DefaultIPBase); seed seeds hostnames.
func DefaultFleet(alloc *Allocator, seed int64) (Fleet, error) {
	f, err := defaultFleet(seed, registeredSlugs())
	if err != nil {
		return Fleet{}, err
	}
	return finish(f, alloc)
}

// defaultFleet builds the default fleet's deckies from the implemented
// services (sorted slugs).
func defaultFleet(seed int64, implemented []string) (Fleet, error) {
	registered := func(s string) bool { return slices.Contains(implemented, s) }
	rng := newRand(seed)
	names := newHostnames(rng)
	var f Fleet
	add := func(d Decky) {
		d.Name = fmt.Sprintf("decky-%02d", len(f.Deckies)+1)
		d.Hostname = names.next(d.Distro)
		f.Deckies = append(f.Deckies, d)
	}
	covered := map[string]bool{}
	for _, a := range archetype.All() {
		if len(f.Deckies) == maxDefaultDeckies {
			break
		}
		if _, err := archetypeServices(a, registered); err != nil {
			continue
		}
		if !slices.ContainsFunc(a.Services, func(s string) bool { return !covered[s] }) {
			continue // nothing new on show
		}
		for _, s := range a.Services {
			covered[s] = true
		}
		add(Decky{Archetype: a.Slug, OS: a.OS, Services: a.Services,
			Distro: a.PreferredDistros[len(f.Deckies)%len(a.PreferredDistros)]})
	}
	var rest []string
	for _, s := range implemented {
		if !covered[s] && s != "ssh" {
			rest = append(rest, s)
		}
	}
	all := archetype.AllDistros()
	for len(rest) > 0 && len(f.Deckies) < maxDefaultDeckies {
		n := min(3, len(rest))
		services := slices.Clone(rest[:n])
		rest = rest[n:]
		if registered("ssh") {
			services = append(services, "ssh")
		}
		add(Decky{OS: archetype.OSLinux, Services: services, Distro: all[len(f.Deckies)%len(all)].Slug})
	}
	if len(f.Deckies) == 0 {
		return Fleet{}, errors.New("no services are implemented: nothing to deploy")
	}
	return f, nil
}

// finish assigns addresses and checks the result.
func finish(f Fleet, alloc *Allocator) (Fleet, error) {
	if alloc == nil {
		a, err := LocalAllocator(netip.Addr{})
		if err != nil {
			return Fleet{}, err
		}
		alloc = a
	}
	if err := AssignIPs(&f, alloc); err != nil {
		return Fleet{}, err
	}
	if err := f.Validate(); err != nil {
		return Fleet{}, err
	}
	return f, nil
}

// RandomServices returns 1–3 distinct services drawn from pool, in pool
// order, retrying up to 20 times to avoid a combination listed in avoid
// (the original's rule, shared by fleet building and mutation). A drawn
// service that would listen on a port an earlier one holds is left out.
func RandomServices(rng *rand.Rand, pool []string, avoid ...[]string) []string {
	if len(pool) == 0 {
		return nil
	}
	var pick []string
	for range 20 {
		n := 1 + rng.IntN(min(3, len(pool)))
		idx := rng.Perm(len(pool))[:n]
		slices.Sort(idx)
		pick = pick[:0]
		for _, i := range idx {
			if _, _, clash := portClash(pick, pool[i], nil); !clash {
				pick = append(pick, pool[i])
			}
		}
		if !slices.ContainsFunc(avoid, func(a []string) bool { return sameSet(a, pick) }) {
			break
		}
	}
	return slices.Clone(pick)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// archetypeServices returns a's services, or an error naming the ones that
// registered does not know.
func archetypeServices(a archetype.Archetype, registered func(string) bool) ([]string, error) {
	var missing []string
	for _, s := range a.Services {
		if !registered(s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("archetype %q %w: %s", a.Slug, ErrNotImplemented, strings.Join(missing, ", "))
	}
	return slices.Clone(a.Services), nil
}

// checkServices normalises a service list and checks every slug is
// registered, listing the known ones otherwise.
func checkServices(list []string) ([]string, error) {
	var out, unknown []string
	for _, s := range list {
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "":
		case isSingleton(s):
			return nil, fmt.Errorf("service %q %w", s, service.ErrFleetSingleton)
		case !isRegistered(s):
			unknown = append(unknown, fmt.Sprintf("%q", s))
		case slices.Contains(out, s):
			return nil, fmt.Errorf("service %q listed twice", s)
		default:
			out = append(out, s)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w %s; known services: %s", service.ErrUnknown,
			strings.Join(unknown, ", "), strings.Join(registeredSlugs(), ", "))
	}
	if len(out) == 0 {
		return nil, errors.New("empty service list")
	}
	return out, nil
}

// isSingleton reports whether slug is a service that runs once for the
// fleet: naming it for a decky gets that said rather than "unknown".
func isSingleton(slug string) bool {
	_, err := service.LookupDecky(slug)
	return errors.Is(err, service.ErrFleetSingleton)
}

func isRegistered(slug string) bool {
	_, err := service.LookupDecky(slug)
	return err == nil
}

// registeredSlugs lists the registered services a decky may run, sorted.
func registeredSlugs() []string {
	all := service.AllDecky()
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.Info().Slug
	}
	return out
}

// cycledDistro is the i-th decky's distro: the archetype's preferred ones
// cycled, else all distros cycled.
func cycledDistro(arch *archetype.Archetype, i int) string {
	if arch != nil && len(arch.PreferredDistros) > 0 {
		return arch.PreferredDistros[i%len(arch.PreferredDistros)]
	}
	all := archetype.AllDistros()
	return all[i%len(all)].Slug
}

func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
}

// hostnames draws hostnames in each distro's style, avoiding repeats within
// a fleet while the style still has unused names.
type hostnames struct {
	rng  *rand.Rand
	used map[string]bool
}

func newHostnames(rng *rand.Rand) *hostnames {
	return &hostnames{rng: rng, used: map[string]bool{}}
}

// take records a hostname set explicitly, so drawn ones avoid it.
func (h *hostnames) take(name string) { h.used[strings.ToLower(name)] = true }

func (h *hostnames) next(distro string) string {
	style := archetype.StyleGeneric
	if d, err := archetype.LookupDistro(distro); err == nil {
		style = d.HostnameStyle
	}
	var name string
	for range 50 {
		if name = archetype.Hostname(style, h.rng); !h.used[strings.ToLower(name)] {
			break
		}
	}
	h.take(name)
	return name
}
