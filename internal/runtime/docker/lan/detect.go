package lan

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// Detect reads the LAN's settings from host interface iface: its first
// IPv4 address gives the host's address and the subnet, and the default
// route through iface the gateway. Without such a route (or when its
// gateway lies outside the subnet) the gateway is the subnet's first host,
// which may be this host itself. h nil means the current network namespace.
func Detect(h *netlink.Handle, iface string) (subnet netip.Prefix, gateway, hostIP netip.Addr, err error) {
	h = orCurrent(h)
	link, err := linkByName(h, iface)
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, netip.Addr{}, err
	}
	addrs, err := dump(func() ([]netlink.Addr, error) { return h.AddrList(link, netlink.FAMILY_V4) })
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, netip.Addr{}, netErr(fmt.Sprintf("list addresses of %q", iface), err)
	}
	var own netip.Prefix
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		if ip = ip.Unmap(); ip.Is4() && ip.IsGlobalUnicast() {
			own = netip.PrefixFrom(ip, ones)
			break
		}
	}
	if !own.IsValid() {
		return netip.Prefix{}, netip.Addr{}, netip.Addr{}, fmt.Errorf("interface %q has no IPv4 address to learn the LAN from: pass --subnet and --gateway (or net= and gw= in [general])", iface)
	}
	hostIP, subnet = own.Addr(), own.Masked()
	if err := checkSubnet(subnet); err != nil {
		return netip.Prefix{}, netip.Addr{}, netip.Addr{}, fmt.Errorf("interface %q has %v: %w", iface, own, err)
	}
	routes, err := dump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: link.Attrs().Index}, netlink.RT_FILTER_OIF)
	})
	if err != nil {
		return netip.Prefix{}, netip.Addr{}, netip.Addr{}, netErr(fmt.Sprintf("list routes of %q", iface), err)
	}
	for _, r := range routes {
		gw, _ := netip.AddrFromSlice(r.Gw)
		if routeDst(r).Bits() == 0 && subnet.Contains(gw.Unmap()) {
			return subnet, gw.Unmap(), hostIP, nil
		}
	}
	// The first host is the usual gateway; when that is this host (a
	// bridge it routes for), this host is the gateway.
	return subnet, subnet.Addr().Next(), hostIP, nil
}
