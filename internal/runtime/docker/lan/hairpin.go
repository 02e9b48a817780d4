package lan

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// sysClassNet is where the kernel tells which interfaces are wireless.
const sysClassNet = "/sys/class/net"

// dumpAttempts bounds the retries of a netlink dump the kernel interrupted
// because the table changed meanwhile.
const dumpAttempts = 5

// orCurrent returns h, or for nil a handle on the caller's network namespace
// (the zero Handle is what netlink's package-level functions use).
func orCurrent(h *netlink.Handle) *netlink.Handle {
	if h == nil {
		return &netlink.Handle{}
	}
	return h
}

// dump runs a netlink listing again when the kernel interrupted it, since an
// interrupted dump may miss entries.
func dump[T any](list func() ([]T, error)) ([]T, error) {
	var err error
	for range dumpAttempts {
		var out []T
		if out, err = list(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

// netErr wraps a failed netlink operation, saying what to do when it failed
// for lack of privilege.
func netErr(op string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%s: %w (this needs root, or CAP_NET_ADMIN: run decnet as root)", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

// linkByName looks up an interface the user named; when it does not exist
// the error lists the ones that do.
func linkByName(h *netlink.Handle, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	if err == nil {
		return l, nil
	}
	if !isNotFound(err) {
		return nil, netErr(fmt.Sprintf("look up interface %q", name), err)
	}
	links, lerr := dump(h.LinkList)
	if lerr != nil {
		return nil, fmt.Errorf("interface %q not found: pass an existing one with --interface (ip link lists them)", name)
	}
	names := make([]string, 0, len(links))
	for _, l := range links {
		if l.Attrs().Flags&net.FlagLoopback == 0 {
			names = append(names, l.Attrs().Name)
		}
	}
	slices.Sort(names)
	return nil, fmt.Errorf("interface %q not found: pass one of this host's interfaces with --interface: %s", name, strings.Join(names, ", "))
}

// CheckParent checks, before anything is created, that c.Parent can carry
// the deckies: it exists, is up, is not the loopback, and is not Wi-Fi
// unless c asks for ipvlan. h nil means the current network namespace.
func CheckParent(h *netlink.Handle, c Config) error {
	_, err := parentLink(orCurrent(h), c)
	return err
}

func parentLink(h *netlink.Handle, c Config) (netlink.Link, error) {
	l, err := linkByName(h, c.Parent)
	if err != nil {
		return nil, err
	}
	a := l.Attrs()
	switch {
	case a.Flags&net.FlagLoopback != 0:
		return nil, fmt.Errorf("interface %q is the loopback: pass the LAN interface with --interface", c.Parent)
	case a.Flags&net.FlagUp == 0:
		return nil, fmt.Errorf("interface %q is down: bring it up first (ip link set %s up)", c.Parent, c.Parent)
	case !c.IPVLAN && wireless(sysClassNet, l):
		return nil, fmt.Errorf("interface %q is Wi-Fi, and access points drop frames from the extra MAC addresses macvlan gives each decky: deploy with --ipvlan", c.Parent)
	}
	return l, nil
}

// wireless reports whether sysfs (mounted at root) marks l as a wireless
// interface. The index must match too, since l may live in another network
// namespace than the one sysfs shows.
func wireless(root string, l netlink.Link) bool {
	dir := filepath.Join(root, l.Attrs().Name)
	idx, err := os.ReadFile(filepath.Join(dir, "ifindex"))
	if err != nil || strings.TrimSpace(string(idx)) != strconv.Itoa(l.Attrs().Index) {
		return false
	}
	for _, marker := range []string{"wireless", "phy80211"} {
		if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
			return true
		}
	}
	return false
}

// EnsureHairpin gives the host its path to the deckies: a macvlan (bridge
// mode) or ipvlan (L2) interface c.Hairpin on c.Parent, holding c.HostIP/32,
// up, with the route to the deckies' range through it. It converges from any
// earlier state: a hairpin of the wrong kind or parent is recreated, stray
// addresses and routes on it are removed. h nil means the current network
// namespace; only then does the hairpin also answer ARP for the deckies
// alone (see quietARP).
func EnsureHairpin(h *netlink.Handle, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	current := h == nil
	h = orCurrent(h)
	parent, err := parentLink(h, c)
	if err != nil {
		return err
	}
	link, err := reusableHairpin(h, c, parent.Attrs().Index)
	if err != nil {
		return err
	}
	created := link == nil
	if created {
		if link, err = addHairpin(h, c, parent.Attrs().Index); err != nil {
			return err
		}
	}
	err = configureHairpin(h, link, c)
	if err == nil && current {
		err = quietARP(c.Hairpin)
	}
	if err != nil {
		if created {
			// A half-configured hairpin would hide the failure on the next run.
			if derr := h.LinkDel(link); derr != nil {
				err = errors.Join(err, netErr("remove half-configured hairpin "+c.Hairpin, derr))
			}
		}
		return err
	}
	return nil
}

// quietARP makes the hairpin answer ARP requests only from hosts routed
// through it, the deckies (arp_filter). The hairpin holds this host's
// address, and macvlan children hear the LAN's broadcasts: without it,
// both the parent and the hairpin answer the LAN's requests for this
// host, two MACs for one address, which an ARP scan shows. It is a sysctl
// of the current network namespace, so EnsureHairpin sets it only when
// given no handle (another namespace's caller sets it there).
func quietARP(name string) error {
	path := filepath.Join("/proc/sys/net/ipv4/conf", name, "arp_filter")
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("hairpin %q: answer ARP for the deckies only: %w", name, err)
	}
	return nil
}

// RemoveHairpin deletes the hairpin interface name, and with it its route;
// an absent one is no error. It refuses to delete an interface of another
// kind, which cannot be one EnsureHairpin made.
func RemoveHairpin(h *netlink.Handle, name string) error {
	h = orCurrent(h)
	l, err := h.LinkByName(name)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return netErr(fmt.Sprintf("look up hairpin %q", name), err)
	case !hairpinKind(l):
		return fmt.Errorf("interface %q is a %s, not a hairpin: leaving it in place", name, l.Type())
	}
	if err := h.LinkDel(l); err != nil {
		return netErr(fmt.Sprintf("remove hairpin %q", name), err)
	}
	return nil
}

func hairpinKind(l netlink.Link) bool {
	switch l.(type) {
	case *netlink.Macvlan, *netlink.IPVlan:
		return true
	}
	return false
}

// reusableHairpin returns the existing hairpin when it already has the
// right kind, mode and parent, and nil when there is none (any leftover of
// an earlier deployment on another parent or driver is deleted).
func reusableHairpin(h *netlink.Handle, c Config, parentIndex int) (netlink.Link, error) {
	l, err := h.LinkByName(c.Hairpin)
	switch {
	case isNotFound(err):
		return nil, nil
	case err != nil:
		return nil, netErr(fmt.Sprintf("look up hairpin %q", c.Hairpin), err)
	case !hairpinKind(l):
		return nil, fmt.Errorf("interface %q exists and is a %s, not a hairpin: remove it (ip link del %s) or rename it", c.Hairpin, l.Type(), c.Hairpin)
	}
	ok := l.Attrs().ParentIndex == parentIndex
	switch v := l.(type) {
	case *netlink.Macvlan:
		ok = ok && !c.IPVLAN && v.Mode == netlink.MACVLAN_MODE_BRIDGE
	case *netlink.IPVlan:
		ok = ok && c.IPVLAN && v.Mode == netlink.IPVLAN_MODE_L2 && v.Flag == netlink.IPVLAN_FLAG_BRIDGE
	}
	if ok {
		return l, nil
	}
	if err := h.LinkDel(l); err != nil {
		return nil, netErr(fmt.Sprintf("replace hairpin %q", c.Hairpin), err)
	}
	return nil, nil
}

func addHairpin(h *netlink.Handle, c Config, parentIndex int) (netlink.Link, error) {
	attrs := netlink.LinkAttrs{Name: c.Hairpin, ParentIndex: parentIndex}
	var l netlink.Link = &netlink.Macvlan{LinkAttrs: attrs, Mode: netlink.MACVLAN_MODE_BRIDGE}
	if c.IPVLAN {
		l = &netlink.IPVlan{LinkAttrs: attrs, Mode: netlink.IPVLAN_MODE_L2, Flag: netlink.IPVLAN_FLAG_BRIDGE}
	}
	err := h.LinkAdd(l)
	if errors.Is(err, unix.EOPNOTSUPP) {
		return nil, fmt.Errorf("create hairpin %q: this kernel has no %s support (load it: modprobe %s): %w", c.Hairpin, l.Type(), l.Type(), err)
	}
	if err != nil {
		return nil, netErr(fmt.Sprintf("create hairpin %q (%s on %s)", c.Hairpin, l.Type(), c.Parent), err)
	}
	created, err := h.LinkByName(c.Hairpin)
	if err != nil {
		return nil, netErr(fmt.Sprintf("look up new hairpin %q", c.Hairpin), err)
	}
	return created, nil
}

// configureHairpin leaves link with exactly HostIP/32, up, and exactly the
// routes of hairpinRoutes.
func configureHairpin(h *netlink.Handle, link netlink.Link, c Config) error {
	want := &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(c.HostIP, 32))}
	if err := h.AddrReplace(link, want); err != nil {
		return netErr(fmt.Sprintf("add %v to hairpin %q", c.HostIP, c.Hairpin), err)
	}
	addrs, err := dump(func() ([]netlink.Addr, error) { return h.AddrList(link, netlink.FAMILY_V4) })
	if err != nil {
		return netErr(fmt.Sprintf("list addresses of hairpin %q", c.Hairpin), err)
	}
	for _, a := range addrs {
		if a.IPNet.String() != want.IPNet.String() {
			if err := h.AddrDel(link, &a); err != nil {
				return netErr(fmt.Sprintf("remove stale %v from hairpin %q", a.IPNet, c.Hairpin), err)
			}
		}
	}
	if err := h.LinkSetUp(link); err != nil {
		return netErr(fmt.Sprintf("bring hairpin %q up", c.Hairpin), err)
	}
	return ensureRoutes(h, link, c)
}

// hairpinRoutes are the destinations routed through the hairpin: the
// deckies' range, or, when it is the whole subnet, its two halves, which
// beat the parent's connected route without replacing it.
func hairpinRoutes(c Config) []netip.Prefix {
	if c.IPRange != c.Subnet {
		return []netip.Prefix{c.IPRange}
	}
	lower := netip.PrefixFrom(c.Subnet.Addr(), c.Subnet.Bits()+1)
	return []netip.Prefix{lower, netip.PrefixFrom(lastAddr(lower).Next(), lower.Bits())}
}

func ensureRoutes(h *netlink.Handle, link netlink.Link, c Config) error {
	idx := link.Attrs().Index
	routes, err := dump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: idx}, netlink.RT_FILTER_OIF)
	})
	if err != nil {
		return netErr(fmt.Sprintf("list routes of hairpin %q", c.Hairpin), err)
	}
	want := hairpinRoutes(c)
	var have []netip.Prefix
	for _, r := range routes {
		dst := routeDst(r)
		src, _ := netip.AddrFromSlice(r.Src)
		if slices.Contains(want, dst) && src.Unmap() == c.HostIP {
			have = append(have, dst)
			continue
		}
		if err := h.RouteDel(&r); err != nil {
			return netErr(fmt.Sprintf("remove stale route %v from hairpin %q", dst, c.Hairpin), err)
		}
	}
	for _, dst := range want {
		if slices.Contains(have, dst) {
			continue
		}
		r := &netlink.Route{LinkIndex: idx, Dst: ipNet(dst), Src: c.HostIP.AsSlice(), Scope: netlink.SCOPE_LINK}
		err := h.RouteAdd(r)
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("route the deckies' range %v through hairpin %q: another route for it exists (ip route show %v): remove it or choose other decky addresses", dst, c.Hairpin, dst)
		}
		if err != nil {
			return netErr(fmt.Sprintf("route the deckies' range %v through hairpin %q", dst, c.Hairpin), err)
		}
	}
	return nil
}

// routeDst is r's destination; the zero-length prefix for a default route.
func routeDst(r netlink.Route) netip.Prefix {
	if r.Dst == nil {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	a, _ := netip.AddrFromSlice(r.Dst.IP)
	ones, _ := r.Dst.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
