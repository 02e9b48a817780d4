package archetype

import (
	"maps"
	"slices"
	"strconv"
)

// OS family slugs.
const (
	OSLinux    = "linux"
	OSWindows  = "windows"
	OSBSD      = "bsd"
	OSEmbedded = "embedded"
	OSCisco    = "cisco"
)

// OSFamily is a set of kernel network settings that make a decky's TCP/IP
// stack answer like the claimed OS (initial TTL, SYN retries, TCP options,
// ECN, ICMP rate limits). The netns and docker runtimes apply Sysctls per
// decky; the local runtime shares the host's stack and cannot.
type OSFamily struct {
	Slug string `json:"slug"`
	// TTL is the initial IP TTL, also found in Sysctls.
	TTL int `json:"ttl"`
	// Sysctls maps full sysctl names to values.
	Sysctls map[string]string `json:"sysctls"`
}

// Sysctl is one kernel setting.
type Sysctl struct {
	Key, Value string
}

// sysctlOrder is the order settings are shown and applied in: TTL first,
// because it is the one every fingerprint reads.
var sysctlOrder = []string{
	"net.ipv4.ip_default_ttl",
	"net.ipv4.tcp_syn_retries",
	"net.ipv4.tcp_timestamps",
	"net.ipv4.tcp_window_scaling",
	"net.ipv4.tcp_sack",
	"net.ipv4.tcp_ecn",
	"net.ipv4.ip_no_pmtu_disc",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.icmp_ratelimit",
	"net.ipv4.icmp_ratemask",
}

// osFamilies are the original's five, values in sysctlOrder. The original's
// later windows_server family (windows with tcp_ecn=1) is left out until a
// fingerprint test against a real Windows Server shows which ECN answer is
// right; Windows archetypes all use windows, as at the reference commit.
var osFamilies = []struct {
	slug   string
	values [10]int
}{
	{OSLinux, [10]int{64, 6, 1, 1, 1, 2, 0, 60, 1000, 6168}},
	{OSWindows, [10]int{128, 2, 0, 1, 1, 0, 0, 30, 0, 0}},
	{OSBSD, [10]int{64, 6, 1, 1, 1, 0, 0, 60, 250, 6168}},
	{OSEmbedded, [10]int{255, 3, 0, 0, 0, 0, 1, 15, 0, 0}},
	{OSCisco, [10]int{255, 2, 0, 0, 0, 0, 1, 15, 0, 0}},
}

func buildOS(i int) OSFamily {
	e := osFamilies[i]
	f := OSFamily{Slug: e.slug, TTL: e.values[0], Sysctls: make(map[string]string, len(sysctlOrder))}
	for j, k := range sysctlOrder {
		f.Sysctls[k] = strconv.Itoa(e.values[j])
	}
	return f
}

// AllOS returns every OS family, linux first.
func AllOS() []OSFamily {
	out := make([]OSFamily, len(osFamilies))
	for i := range osFamilies {
		out[i] = buildOS(i)
	}
	return out
}

// LookupOS returns the OS family with that slug; the error lists the valid
// ones. Configuration loading uses it, so a typo is an error.
func LookupOS(slug string) (OSFamily, error) {
	slugs := make([]string, len(osFamilies))
	for i, e := range osFamilies {
		if e.slug == slug {
			return buildOS(i), nil
		}
		slugs[i] = e.slug
	}
	return OSFamily{}, unknown("OS family", slug, slugs)
}

// OSOrLinux returns the OS family with that slug, or linux for an unknown
// or empty slug, as the original did when applying a stored deployment.
func OSOrLinux(slug string) OSFamily {
	if f, err := LookupOS(slug); err == nil {
		return f
	}
	return buildOS(0)
}

// SortedSysctls returns the settings in display order: the known ones in
// their canonical order, then any others by name.
func (f OSFamily) SortedSysctls() []Sysctl {
	out := make([]Sysctl, 0, len(f.Sysctls))
	seen := make(map[string]bool, len(sysctlOrder))
	for _, k := range sysctlOrder {
		if v, ok := f.Sysctls[k]; ok {
			out = append(out, Sysctl{k, v})
			seen[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(f.Sysctls)) {
		if !seen[k] {
			out = append(out, Sysctl{k, f.Sysctls[k]})
		}
	}
	return out
}
