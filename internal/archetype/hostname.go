package archetype

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// HostnameStyle is how a distro's machines tend to be named.
type HostnameStyle string

// The hostname styles of the distros.
const (
	StyleGeneric HostnameStyle = "generic" // SRV-PROXY-42 (Debian, Ubuntu)
	StyleRHEL    HostnameStyle = "rhel"    // db17.localdomain (Rocky, CentOS, Fedora)
	StyleMinimal HostnameStyle = "minimal" // mail-33 (Alpine)
	StyleRolling HostnameStyle = "rolling" // nova-files (Kali, Arch)
)

// hostWords is the original's word list.
var hostWords = []string{
	"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
	"india", "juliet", "kilo", "lima", "mike", "nova", "oscar", "prod", "web",
	"db", "mail", "proxy", "dev", "stage", "backup", "monitor", "files",
}

// Hostname returns a random hostname in the given style, drawn from rng, so
// a seeded rng gives the same names every time. An unknown style is treated
// as generic.
func Hostname(style HostnameStyle, rng *rand.Rand) string {
	word := hostWords[rng.IntN(len(hostWords))]
	switch style {
	case StyleRHEL:
		return fmt.Sprintf("%s%d.localdomain", word, number(rng))
	case StyleMinimal:
		return fmt.Sprintf("%s-%d", word, number(rng))
	case StyleRolling:
		return word + "-" + hostWords[rng.IntN(len(hostWords))]
	default:
		return fmt.Sprintf("SRV-%s-%d", strings.ToUpper(word), number(rng))
	}
}

// number is the two-digit suffix, 10–99.
func number(rng *rand.Rand) int { return 10 + rng.IntN(90) }

// fallbackMailDomain is the organisation's domain when a decky's hostname
// carries none (most styles are bare names).
const fallbackMailDomain = "corp-internal.com"

// MailDomain is the e-mail domain of the organisation a decky belongs to:
// its hostname's domain when it has a real one, else one shared by the
// whole fleet, as the machines of one company share theirs. Every service
// that shows an address (bait mail, keys in a cache) uses it, so they agree.
func MailDomain(hostname string) string {
	if _, dom, ok := strings.Cut(hostname, "."); ok && dom != "localdomain" && strings.Contains(dom, ".") {
		return strings.ToLower(dom)
	}
	return fallbackMailDomain
}
