package llmnr

import (
	"errors"
	"net"
	"net/netip"
	"strings"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// identity is who the decky is on the LAN: the names it answers for and
// the addresses it gives.
type identity struct {
	label   string     // host name's first label, as the decky spells it
	fqdn    string     // full host name, lower case, or empty
	netbios string     // NetBIOS name: upper case, at most 15 bytes
	group   string     // NetBIOS workgroup, upper case
	ip      netip.Addr // the decky's IPv4 address (invalid when it has none)
	mac     net.HardwareAddr
	nbns    string // styleWindows, styleSamba or styleNone
	mdns    string // styleHost, styleAvahi or styleNone
}

var errNoHost = errors.New("the decky has no name")

func newIdentity(h service.Host, p *Persona) (identity, error) {
	host := h.Hostname
	if host == "" {
		host = h.Name
	}
	if host == "" {
		return identity{}, errNoHost
	}
	label, _, _ := strings.Cut(host, ".")
	id := identity{label: label, netbios: netbiosName(label), group: strings.ToUpper(p.Workgroup)}
	if strings.Contains(host, ".") {
		id.fqdn = strings.ToLower(host)
	}
	if a, err := netip.ParseAddr(h.IP); err == nil && a.Unmap().Is4() {
		id.ip = a.Unmap()
	}
	mac := p.MAC
	if mac == "" {
		mac = archetype.MAC(h.OS, h.Name)
	}
	id.mac, _ = net.ParseMAC(mac) // Validate checked the persona's; archetype's parse
	windows := h.OS == archetype.OSWindows
	id.nbns = p.NetBIOS
	if id.nbns == styleAuto {
		id.nbns = styleSamba
		if windows {
			id.nbns = styleWindows
		}
	}
	id.mdns = p.MDNS
	if id.mdns == styleAuto {
		switch h.OS {
		case archetype.OSWindows:
			id.mdns = styleHost
		case archetype.OSLinux, archetype.OSBSD, "":
			id.mdns = styleAvahi
		default:
			id.mdns = styleNone
		}
	}
	return id, nil
}

// netbiosName is a host label as Windows makes it a NetBIOS name: upper
// case, cut to 15 bytes.
func netbiosName(label string) string {
	nb := strings.ToUpper(label)
	return nb[:min(len(nb), 15)]
}

// ownsDNS reports whether a DNS name (without its trailing dot) is the
// decky's: its label or full host name, any case.
func (id identity) ownsDNS(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	return name == strings.ToLower(id.label) || id.fqdn != "" && name == id.fqdn
}

// ownsLocal reports whether an mDNS name is the decky's <label>.local.
func (id identity) ownsLocal(name string) bool {
	return strings.EqualFold(strings.TrimSuffix(name, "."), id.label+".local")
}
