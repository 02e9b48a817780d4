package fleet

import (
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// MaxINISize bounds a fleet configuration file (the API takes 512 KB).
const MaxINISize = 1 << 20

// maxAmount bounds one group's "amount", as in the original.
const maxAmount = 100

// maxMutateInterval is ten years in minutes: anything longer is a typo.
const maxMutateInterval = 10 * 525600

const customPrefix = "custom-"

// Keys each kind of section takes, after lower-casing and turning - into _.
var (
	generalKeys = []string{"net", "gw", "interface", "mutate_interval"}
	deckyKeys   = []string{"ip", "services", "archetype", "nmap_os", "mutate_interval", "amount", "distro", "hostname"}
	customKeys  = []string{"binary", "exec", "ports"}
)

var (
	hostnameRE  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	interfaceRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)
)

// LoadINI reads a fleet from an INI file; name is the file name used in
// error messages. Every problem found is reported (up to 20), each located
// by line, section and key. seed seeds the random choices (hostnames, and
// services of deckies that name neither services nor an archetype);
// addresses are left to AssignIPs except those set with "ip". The format is
// described in this package's README.md.
func LoadINI(r io.Reader, name string, seed int64) (Fleet, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxINISize+1))
	if err != nil {
		return Fleet{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxINISize {
		return Fleet{}, fmt.Errorf("%s: larger than %d bytes", name, MaxINISize)
	}
	l := &loader{errs: &errList{file: name}, rng: newRand(seed)}
	l.load(parseINI(data, l.errs))
	if err := l.errs.err(); err != nil {
		return Fleet{}, err
	}
	if err := l.fleet.Validate(); err != nil {
		return Fleet{}, fmt.Errorf("%s: %w", name, err)
	}
	return l.fleet, nil
}

// loader holds one load's state.
type loader struct {
	errs  *errList
	rng   *rand.Rand
	fleet Fleet
	// customs maps custom service names to their sections.
	customs map[string]*iniSection
	// groups maps a decky section's id (lower-cased name) to the indices of
	// the deckies it made; members maps each decky's id to its index.
	groups, members map[string][]int
	// origin is, per decky index, the section that made it.
	origin []*iniSection
	// failed holds the ids of decky sections (and their members) already
	// reported, whose service sections are then skipped: their errors
	// would only repeat the first one.
	failed map[string]bool
}

func (l *loader) load(sections []*iniSection) {
	l.customs = map[string]*iniSection{}
	l.groups, l.members = map[string][]int{}, map[string][]int{}
	l.failed = map[string]bool{}
	var deckies, services []*iniSection
	for _, s := range sections {
		if strings.EqualFold(s.name, "general") {
			l.general(s)
		} else if len(s.name) > len(customPrefix) && strings.EqualFold(s.name[:len(customPrefix)], customPrefix) {
			l.custom(s)
		} else {
			deckies = append(deckies, s)
		}
	}
	// A dotted section is a service section when what follows the last dot
	// names a service or what precedes it names a decky or group; any other
	// is a decky whose name has a dot.
	ids := map[string]bool{}
	for _, s := range deckies {
		for _, n := range expandNames(s.name, lenientAmount(s)) {
			ids[sectionID(n)] = true
		}
		ids[sectionID(s.name)] = true
	}
	deckies = slices.DeleteFunc(deckies, func(s *iniSection) bool {
		dot := strings.LastIndexByte(s.name, '.')
		if dot < 0 {
			return false
		}
		if ids[sectionID(s.name[:dot])] || l.knownService(strings.ToLower(s.name[dot+1:])) {
			services = append(services, s)
			return true
		}
		return false
	})
	hosts := newHostnames(l.rng)
	for _, s := range deckies { // drawn hostnames avoid every explicit one
		for _, e := range s.entries {
			if e.key == "hostname" {
				hosts.take(e.value)
			}
		}
	}
	for _, s := range deckies {
		l.decky(s, hosts)
	}
	if len(l.fleet.Deckies) == 0 && len(l.errs.errs) == 0 {
		l.errs.addf(0, "", "", "no decky sections: nothing to deploy")
	}
	l.serviceSections(services)
	l.checkIPs()
}

func (l *loader) knownService(slug string) bool {
	_, custom := l.customs[slug]
	return custom || isRegistered(slug)
}

// entries returns a section's entries keyed by normalised key, reporting
// unknown and duplicate keys and empty values.
func (l *loader) entries(s *iniSection, known []string, normalise bool) map[string]iniEntry {
	out := map[string]iniEntry{}
	for _, e := range s.entries {
		k := e.key
		if normalise {
			k = strings.ReplaceAll(k, "-", "_")
		}
		if first, dup := out[k]; dup {
			l.errs.addf(e.line, s.name, e.rawKey, "duplicate key (first set on line %d)", first.line)
			continue
		}
		if known != nil && !slices.Contains(known, k) {
			l.errs.addf(e.line, s.name, e.rawKey, "unknown key%s", suggest(k, known))
			continue
		}
		if normalise && e.value == "" {
			l.errs.addf(e.line, s.name, e.rawKey, "empty value")
			continue
		}
		out[k] = e
	}
	return out
}

func (l *loader) general(s *iniSection) {
	g := &l.fleet.General
	kv := l.entries(s, generalKeys, true)
	if e, ok := kv["net"]; ok {
		p, err := netip.ParsePrefix(e.value)
		switch {
		case err != nil || !p.Addr().Is4():
			l.errs.addf(e.line, s.name, e.rawKey, "%q is not an IPv4 subnet like 192.168.1.0/24", e.value)
		case p != p.Masked():
			l.errs.addf(e.line, s.name, e.rawKey, "%s has host bits set (did you mean %s?)", p, p.Masked())
		default:
			g.Net = p
		}
	}
	if e, ok := kv["gw"]; ok {
		if ip, err := parseIPv4(e.value); err != nil {
			l.errs.add(e.line, s.name, e.rawKey, err)
		} else if g.Net.IsValid() && !g.Net.Contains(ip) {
			l.errs.addf(e.line, s.name, e.rawKey, "gateway %s is outside net %s", ip, g.Net)
		} else {
			g.Gateway = ip
		}
	}
	if e, ok := kv["interface"]; ok {
		if !interfaceRE.MatchString(e.value) || e.value == "." || e.value == ".." {
			l.errs.addf(e.line, s.name, e.rawKey, "%q is not a network interface name", e.value)
		} else {
			g.Interface = e.value
		}
	}
	if e, ok := kv["mutate_interval"]; ok {
		g.MutateInterval = l.minutes(s, e)
	}
}

func (l *loader) custom(s *iniSection) {
	c := Custom{Name: strings.ToLower(s.name[len(customPrefix):])}
	kv := l.entries(s, customKeys, true)
	c.Binary, c.Exec = kv["binary"].value, kv["exec"].value
	if e, ok := kv["ports"]; ok {
		ports, err := parsePorts(e.value)
		if err != nil {
			l.errs.add(e.line, s.name, e.rawKey, err)
			return
		}
		c.Ports = ports
	}
	if err := checkCustom(c); err != nil {
		l.errs.add(s.line, s.name, "", err)
		return
	}
	l.customs[c.Name] = s
	l.fleet.Customs = append(l.fleet.Customs, c)
}

// decky turns one decky section into one decky, or amount of them.
func (l *loader) decky(s *iniSection, hosts *hostnames) {
	errsBefore := len(l.errs.errs) + l.errs.more
	defer func() {
		if len(l.errs.errs)+l.errs.more > errsBefore {
			for _, n := range expandNames(s.name, lenientAmount(s)) {
				l.failed[sectionID(n)] = true
			}
			l.failed[sectionID(s.name)] = true
		}
	}()
	if !NamePattern.MatchString(s.name) {
		l.errs.addf(s.line, s.name, "", "invalid decky name: want 1-63 letters, digits, '.', '-' or '_', starting with a letter or digit")
		return
	}
	kv := l.entries(s, deckyKeys, true)
	tmpl := Decky{OS: archetype.OSLinux}
	var arch *archetype.Archetype
	if e, ok := kv["archetype"]; ok {
		a, err := archetype.Lookup(strings.ToLower(e.value))
		if err != nil {
			l.errs.addf(e.line, s.name, e.rawKey, "unknown archetype %q%s", e.value, suggest(e.value, archetypeSlugs()))
		} else {
			arch, tmpl.Archetype, tmpl.OS = &a, a.Slug, a.OS
		}
	}
	if e, ok := kv["services"]; ok {
		tmpl.Services = l.serviceList(s, e)
	} else if arch != nil {
		svc, err := archetypeServices(*arch, isRegistered)
		if err != nil {
			l.errs.add(kv["archetype"].line, s.name, kv["archetype"].rawKey, err)
		}
		tmpl.Services = svc
	}
	if e, ok := kv["nmap_os"]; ok {
		if _, err := archetype.LookupOS(strings.ToLower(e.value)); err != nil {
			l.errs.addf(e.line, s.name, e.rawKey, "unknown OS family %q%s", e.value, suggest(e.value, osSlugs()))
		} else {
			tmpl.OS = strings.ToLower(e.value)
		}
	}
	if e, ok := kv["mutate_interval"]; ok {
		tmpl.MutateInterval = l.minutes(s, e)
	}
	if e, ok := kv["distro"]; ok {
		if _, err := archetype.LookupDistro(strings.ToLower(e.value)); err != nil {
			l.errs.addf(e.line, s.name, e.rawKey, "unknown distro %q%s", e.value, suggest(e.value, distroSlugs()))
		} else {
			tmpl.Distro = strings.ToLower(e.value)
		}
	}
	amount := 1
	if e, ok := kv["amount"]; ok {
		n, err := strconv.Atoi(e.value)
		if err != nil || n < 1 || n > maxAmount {
			l.errs.addf(e.line, s.name, e.rawKey, "%q: want a whole number from 1 to %d", e.value, maxAmount)
		} else {
			amount = n
		}
	}
	if e, ok := kv["ip"]; ok {
		ip, err := parseIPv4(e.value)
		switch {
		case err != nil:
			l.errs.add(e.line, s.name, e.rawKey, err)
		case amount > 1:
			l.errs.addf(e.line, s.name, e.rawKey, "cannot be combined with amount = %d: a group's addresses are assigned automatically", amount)
		default:
			tmpl.IP = ip
		}
	}
	if e, ok := kv["hostname"]; ok {
		switch {
		case len(e.value) > 253 || !hostnameRE.MatchString(e.value):
			l.errs.addf(e.line, s.name, e.rawKey, "%q is not a valid hostname", e.value)
		case amount > 1:
			l.errs.addf(e.line, s.name, e.rawKey, "cannot be combined with amount = %d: each decky needs its own hostname", amount)
		default:
			tmpl.Hostname = e.value
		}
	}
	if len(l.errs.errs)+l.errs.more > errsBefore {
		return // a half-built decky would only cause follow-on errors
	}
	for _, name := range expandNames(s.name, amount) {
		id := sectionID(name)
		if !NamePattern.MatchString(name) {
			l.errs.addf(s.line, s.name, "", "decky name %q (from amount) is longer than 63 characters", name)
			return
		}
		if prev, dup := l.members[id]; dup {
			l.errs.addf(s.line, s.name, "", "decky %q is also defined by [%s] on line %d", name, l.origin[prev[0]].name, l.origin[prev[0]].line)
			return
		}
	}
	var group []int
	for _, name := range expandNames(s.name, amount) {
		d := tmpl
		d.Name = name
		if d.Services == nil {
			// The original's rule for a decky that names neither services
			// nor an archetype.
			d.Services = RandomServices(l.rng, registeredSlugs())
		}
		d.Services = slices.Clone(d.Services)
		if d.Distro == "" {
			d.Distro = cycledDistro(arch, len(l.fleet.Deckies))
		}
		if d.Hostname == "" {
			d.Hostname = hosts.next(d.Distro)
		}
		idx := len(l.fleet.Deckies)
		if idx == MaxDeckies {
			l.errs.addf(s.line, s.name, "", "more than %d deckies", MaxDeckies)
			return
		}
		l.fleet.Deckies = append(l.fleet.Deckies, d)
		l.origin = append(l.origin, s)
		l.members[sectionID(name)] = []int{idx}
		group = append(group, idx)
	}
	l.groups[sectionID(s.name)] = group
}

// serviceList reads a "services" value.
func (l *loader) serviceList(s *iniSection, e iniEntry) []string {
	var out, known []string
	for _, slug := range splitList(e.value) {
		slug = strings.ToLower(slug)
		switch {
		case isSingleton(slug):
			l.errs.addf(e.line, s.name, e.rawKey, "service %q %v", slug, service.ErrFleetSingleton)
		case !l.knownService(slug):
			if known == nil {
				known = l.serviceSlugs()
			}
			l.errs.addf(e.line, s.name, e.rawKey, "unknown service %q%s; known services: %s", slug,
				suggest(slug, known), strings.Join(known, ", "))
		case slices.Contains(out, slug):
			l.errs.addf(e.line, s.name, e.rawKey, "service %q listed twice", slug)
		default:
			out = append(out, slug)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// serviceSlugs lists registered and custom services.
func (l *loader) serviceSlugs() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for _, s := range registeredSlugs() {
			if !yield(s) {
				return
			}
		}
		for k := range l.customs {
			if !yield(k) {
				return
			}
		}
	})
}

// serviceSections applies [<decky-or-group>.<service>] sections: a group's
// keys first, then a single decky's, which override them.
func (l *loader) serviceSections(sections []*iniSection) {
	type layer struct {
		s    *iniSection
		kv   map[string]iniEntry
		slug string
		idx  []int
	}
	var groupLayers, deckyLayers []layer
	for _, s := range sections {
		dot := strings.LastIndexByte(s.name, '.')
		target, slug := s.name[:dot], strings.ToLower(s.name[dot+1:])
		if !l.knownService(slug) {
			l.errs.addf(s.line, s.name, "", "unknown service %q%s", slug, suggest(slug, l.serviceSlugs()))
			continue
		}
		if l.failed[sectionID(target)] {
			continue
		}
		idx, group := l.groups[sectionID(target)]
		if !group {
			idx = l.members[sectionID(target)]
		}
		if idx == nil {
			l.errs.addf(s.line, s.name, "", "no decky or group named %q", target)
			continue
		}
		ok := true
		for _, i := range idx {
			d := l.fleet.Deckies[i]
			if !slices.Contains(d.Services, slug) {
				l.errs.addf(s.line, s.name, "", "decky %q does not run service %q (its services: %s)", d.Name, slug, strings.Join(d.Services, ", "))
				ok = false
				break
			}
		}
		kv := l.personaEntries(s, slug)
		if !ok || kv == nil {
			continue
		}
		ly := layer{s, kv, slug, idx}
		if group {
			groupLayers = append(groupLayers, ly)
		} else {
			deckyLayers = append(deckyLayers, ly)
		}
	}
	type at struct {
		decky int
		slug  string
	}
	last := map[at]*iniSection{} // the section that set a decky's service keys last
	for _, ly := range append(groupLayers, deckyLayers...) {
		if len(ly.kv) == 0 {
			continue
		}
		for _, i := range ly.idx {
			d := &l.fleet.Deckies[i]
			if d.ServiceConfig == nil {
				d.ServiceConfig = map[string]map[string]string{}
			}
			cfg := d.ServiceConfig[ly.slug]
			if cfg == nil {
				cfg = map[string]string{}
				d.ServiceConfig[ly.slug] = cfg
			}
			for k, e := range ly.kv {
				cfg[k] = e.value
			}
			last[at{i, ly.slug}] = ly.s
		}
	}
	// Keys valid one by one may still clash as a whole (a persona's Validate).
	for i, d := range l.fleet.Deckies {
		for _, slug := range slices.Sorted(maps.Keys(d.ServiceConfig)) {
			_, custom := l.customs[slug]
			if _, err := personaOf(slug, custom, d.ServiceConfig[slug]); err != nil {
				s := last[at{i, slug}]
				l.errs.addf(s.line, s.name, "", "decky %q: %v", d.Name, err)
			}
		}
	}
}

// personaEntries checks a service section's keys against the service's
// persona, each error naming its line; nil after an error. Keys are decoded
// one by one only to locate an error the whole section has, because a
// persona's Validate may need keys that only make sense together.
func (l *loader) personaEntries(s *iniSection, slug string) map[string]iniEntry {
	kv := l.entries(s, nil, false)
	ok := len(kv) == len(s.entries) // else a duplicate was reported
	_, custom := l.customs[slug]
	var known []string
	if svc, err := service.Lookup(slug); err == nil && svc.Info().Persona != nil {
		known = service.PersonaKeys(svc.Info().Persona())
	}
	keys := map[string]string{}
	for _, e := range s.entries {
		if kv[e.key].line != e.line {
			continue
		}
		keys[e.key] = e.value
		if !slices.Contains(known, e.key) {
			what := "service " + slug + " takes no persona keys"
			if len(known) > 0 {
				what = fmt.Sprintf("unknown key for service %s%s; known keys: %s", slug, suggest(e.key, known), strings.Join(known, ", "))
			}
			l.errs.addf(e.line, s.name, e.rawKey, "%s", what)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	if _, err := personaOf(slug, custom, keys); err != nil {
		for _, e := range s.entries {
			if _, err := personaOf(slug, custom, map[string]string{e.key: e.value}); err != nil {
				l.errs.add(e.line, s.name, e.rawKey, err)
				return nil
			}
		}
		l.errs.add(s.line, s.name, "", err)
		return nil
	}
	return kv
}

// checkIPs checks explicit addresses against [general] and each other.
func (l *loader) checkIPs() {
	g := l.fleet.General
	seen := map[netip.Addr]string{}
	for i, d := range l.fleet.Deckies {
		if !d.IP.IsValid() {
			continue
		}
		s := l.origin[i]
		line, key := s.line, ""
		for _, e := range s.entries {
			if strings.ReplaceAll(e.key, "-", "_") == "ip" {
				line, key = e.line, e.rawKey
			}
		}
		switch {
		case g.Net.IsValid() && !g.Net.Contains(d.IP):
			l.errs.addf(line, s.name, key, "%s is outside net %s", d.IP, g.Net)
		case g.Net.IsValid() && g.Net.Bits() < 31 && (d.IP == g.Net.Addr() || d.IP == broadcast(g.Net)):
			l.errs.addf(line, s.name, key, "%s is the network or broadcast address of %s", d.IP, g.Net)
		case d.IP == g.Gateway:
			l.errs.addf(line, s.name, key, "%s is the gateway", d.IP)
		case seen[d.IP] != "":
			l.errs.addf(line, s.name, key, "%s is already used by decky %q", d.IP, seen[d.IP])
		default:
			seen[d.IP] = d.Name
		}
	}
}

// minutes reads a mutate interval.
func (l *loader) minutes(s *iniSection, e iniEntry) int {
	n, err := strconv.Atoi(e.value)
	if err != nil || n < 1 || n > maxMutateInterval {
		l.errs.addf(e.line, s.name, e.rawKey, "%q: want whole minutes from 1 to %d", e.value, maxMutateInterval)
		return 0
	}
	return n
}

// expandNames is a group's decky names: the section name itself, or
// <name>-01..NN for an amount above one.
func expandNames(name string, amount int) []string {
	if amount <= 1 {
		return []string{name}
	}
	out := make([]string, amount)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", name, i+1)
	}
	return out
}

// lenientAmount reads a section's amount for classification only; bad
// values are reported later.
func lenientAmount(s *iniSection) int {
	for _, e := range s.entries {
		if e.key == "amount" {
			if n, err := strconv.Atoi(e.value); err == nil && n <= maxAmount {
				return n
			}
		}
	}
	return 1
}

func parseIPv4(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Unmap().Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	return ip.Unmap(), nil
}

func archetypeSlugs() []string {
	var out []string
	for _, a := range archetype.All() {
		out = append(out, a.Slug)
	}
	return out
}

func distroSlugs() []string {
	var out []string
	for _, d := range archetype.AllDistros() {
		out = append(out, d.Slug)
	}
	return out
}

func osSlugs() []string {
	var out []string
	for _, f := range archetype.AllOS() {
		out = append(out, f.Slug)
	}
	return out
}
