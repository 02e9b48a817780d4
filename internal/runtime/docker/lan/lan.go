// Package lan puts the docker runtime's deckies on the real LAN: the docker
// network they attach to (macvlan, or ipvlan L2 where extra MAC addresses
// are not allowed), the host-side "hairpin" interface through which the host
// itself reaches them, and the detection of the LAN's settings from a host
// interface.
//
// Macvlan and ipvlan children cannot talk to their parent interface, so
// without the hairpin the host's own workers (collector, prober,
// sniffer) could not reach the deckies they watch.
//
// Order of use: Detect (unless the settings are given), CheckParent,
// EnsureNetwork, then EnsureHairpin; on teardown, once the containers are
// gone, RemoveHairpin and RemoveNetwork.
package lan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Names the docker runtime uses by default; they match the original's.
const (
	NetworkName    = "decnet_lan"
	HairpinMacvlan = "decnet_macvlan0"
	HairpinIPVLAN  = "decnet_ipvlan0"
)

// Config describes the deckies' LAN: the docker network and the host's
// hairpin interface on it.
//
// HostIP is the hairpin's address. With macvlan the host's own address is
// right (the original's choice). With ipvlan, whose children share the
// parent's MAC, the kernel hands frames for an address to the child that
// holds it, so the hairpin had better have an unused address of its own.
type Config struct {
	Name    string            // docker network name, e.g. NetworkName
	IPVLAN  bool              // ipvlan L2 instead of macvlan bridge mode (Wi-Fi parents)
	Parent  string            // host interface the network and the hairpin sit on
	Subnet  netip.Prefix      // the LAN's IPv4 subnet
	Gateway netip.Addr        // the deckies' default gateway
	IPRange netip.Prefix      // docker IPAM ip_range: Covering of the decky addresses
	HostIP  netip.Addr        // the host's address on the LAN, given to the hairpin
	Hairpin string            // host-side interface name (at most 15 bytes), e.g. HairpinMacvlan
	Labels  map[string]string // set on the docker network when it is created; never compared
}

// dockerName is the pattern Docker applies to object names; checking it here
// gives a clearer message than the engine's.
var dockerName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Validate reports every inconsistency of c at once, each saying which
// setting to change. The host address and the gateway may lie inside
// IPRange: decky addresses are allocated right after them, so the covering
// prefix normally contains both, and neither harms (local addresses win over
// the hairpin route, and docker reserves the gateway and the host address).
func (c Config) Validate() error {
	var errs []error
	if !dockerName.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("docker network name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit", c.Name))
	}
	errs = append(errs, checkIfName("parent interface (--interface)", c.Parent), checkIfName("hairpin interface", c.Hairpin))
	if c.Parent != "" && c.Parent == c.Hairpin {
		errs = append(errs, fmt.Errorf("the hairpin interface cannot be the parent interface %q", c.Parent))
	}
	if err := checkSubnet(c.Subnet); err != nil {
		errs = append(errs, err)
		return fmt.Errorf("invalid LAN settings: %w", errors.Join(errs...))
	}
	errs = append(errs,
		checkHost("gateway (--gateway)", c.Gateway, c.Subnet),
		checkHost("host address", c.HostIP, c.Subnet))
	switch {
	case !c.IPRange.IsValid():
		errs = append(errs, errors.New("no IP range for the deckies: use Covering of their addresses"))
	case c.IPRange != c.IPRange.Masked():
		errs = append(errs, fmt.Errorf("IP range %v has host bits set: use %v", c.IPRange, c.IPRange.Masked()))
	case c.IPRange.Bits() < c.Subnet.Bits() || !c.Subnet.Contains(c.IPRange.Addr()):
		errs = append(errs, fmt.Errorf("the deckies' range %v is not inside subnet %v: choose decky addresses (--ip-start, ip=) inside it", c.IPRange, c.Subnet))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid LAN settings: %w", err)
	}
	return nil
}

// checkIfName applies the kernel's rules for interface names (dev_valid_name).
func checkIfName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s: no name given", what)
	case len(name) > 15:
		return fmt.Errorf("%s %q: longer than the kernel's 15 bytes", what, name)
	case name == "." || name == ".." || strings.ContainsAny(name, "/: \t\n\v\f\r"):
		return fmt.Errorf("%s %q: not a valid interface name", what, name)
	}
	return nil
}

func checkSubnet(p netip.Prefix) error {
	switch {
	case !p.IsValid() || !p.Addr().Is4():
		return fmt.Errorf("subnet %v: an IPv4 CIDR such as 192.168.1.0/24 is needed (--subnet, or net= in [general])", p)
	case p != p.Masked():
		return fmt.Errorf("subnet %v has host bits set: use %v", p, p.Masked())
	case p.Bits() > 30:
		return fmt.Errorf("subnet %v has no room for deckies: pass a larger one with --subnet", p)
	}
	return nil
}

// checkHost requires a unicast address of subnet: not its network or
// broadcast address.
func checkHost(what string, a netip.Addr, subnet netip.Prefix) error {
	switch {
	case !a.IsValid():
		return fmt.Errorf("no %s given", what)
	case !subnet.Contains(a):
		return fmt.Errorf("%s %v is outside subnet %v", what, a, subnet)
	case a == subnet.Addr() || a == lastAddr(subnet):
		return fmt.Errorf("%s %v is the network or broadcast address of %v", what, a, subnet)
	}
	return nil
}

// lastAddr is the highest address of p (the broadcast address for IPv4).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Covering returns the tightest prefix holding every address of ips: the
// docker ip_range and the hairpin route of a fleet.
func Covering(ips []netip.Addr) (netip.Prefix, error) {
	if len(ips) == 0 {
		return netip.Prefix{}, errors.New("no addresses to cover")
	}
	first := ips[0].WithZone("").Unmap()
	if !first.IsValid() {
		return netip.Prefix{}, errors.New("invalid address in the list to cover")
	}
	bits := first.BitLen()
	for _, ip := range ips[1:] {
		ip = ip.WithZone("").Unmap()
		if !ip.IsValid() {
			return netip.Prefix{}, errors.New("invalid address in the list to cover")
		}
		if ip.BitLen() != first.BitLen() {
			return netip.Prefix{}, fmt.Errorf("cannot cover %v and %v: mixed IPv4 and IPv6", first, ip)
		}
		for !netip.PrefixFrom(first, bits).Masked().Contains(ip) {
			bits--
		}
	}
	return netip.PrefixFrom(first, bits).Masked(), nil
}

// NetworkClient is the part of the Docker client this package uses;
// *client.Client implements it.
type NetworkClient interface {
	NetworkInspect(ctx context.Context, network string, options client.NetworkInspectOptions) (client.NetworkInspectResult, error)
	NetworkCreate(ctx context.Context, name string, options client.NetworkCreateOptions) (client.NetworkCreateResult, error)
	NetworkRemove(ctx context.Context, network string, options client.NetworkRemoveOptions) (client.NetworkRemoveResult, error)
}

// EnsureNetwork creates the docker network c describes, or accepts an
// existing one with exactly these settings. One with other settings is an
// error naming the differences: deckies on a wrong network would be
// unreachable or collide with real hosts.
func EnsureNetwork(ctx context.Context, cli NetworkClient, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	existing, found, err := inspect(ctx, cli, c.Name)
	if err != nil {
		return err
	}
	if !found {
		res, cerr := cli.NetworkCreate(ctx, c.Name, createOptions(c))
		if cerr == nil {
			if len(res.Warning) > 0 {
				slog.WarnContext(ctx, "docker network created with warnings", "network", c.Name, "warnings", res.Warning)
			}
			return nil
		}
		// Another deployment may have created it since the inspection; then
		// its settings decide, as if it had been there before.
		if existing, found, err = inspect(ctx, cli, c.Name); err != nil || !found {
			return fmt.Errorf("create docker network %q: %w", c.Name, cerr)
		}
	}
	if d := differences(existing, c); len(d) > 0 {
		return fmt.Errorf("docker network %q already exists with other settings: %s; remove it (decnet teardown --all, or docker network rm %s) and deploy again",
			c.Name, strings.Join(d, ", "), c.Name)
	}
	return nil
}

// RemoveNetwork removes the docker network name; an absent one is no error.
func RemoveNetwork(ctx context.Context, cli NetworkClient, name string) error {
	if _, err := cli.NetworkRemove(ctx, name, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove docker network %q: %w", name, err)
	}
	return nil
}

func inspect(ctx context.Context, cli NetworkClient, name string) (network.Inspect, bool, error) {
	res, err := cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	switch {
	case cerrdefs.IsNotFound(err):
		return network.Inspect{}, false, nil
	case err != nil:
		return network.Inspect{}, false, fmt.Errorf("inspect docker network %q: %w", name, err)
	}
	// The engine also resolves ID prefixes; only the name itself counts.
	return res.Network, res.Network.Name == name, nil
}

// Driver is the docker network driver of c: "macvlan" or "ipvlan".
func (c Config) Driver() string {
	if c.IPVLAN {
		return "ipvlan"
	}
	return "macvlan"
}

type option struct{ key, value string }

// driverOptions are the options EnsureNetwork sets, in the order differences
// reports them. The modes are the drivers' defaults, set anyway so that
// `docker network inspect` shows them.
func driverOptions(c Config) []option {
	if c.IPVLAN {
		return []option{{"parent", c.Parent}, {"ipvlan_mode", "l2"}}
	}
	return []option{{"parent", c.Parent}, {"macvlan_mode", "bridge"}}
}

// optionDefault is what the driver uses for an option left unset.
func optionDefault(key string) string {
	switch key {
	case "macvlan_mode":
		return "bridge"
	case "ipvlan_mode":
		return "l2"
	}
	return ""
}

// auxAddresses reserves the host's address so that docker never hands it to
// a container attached without a fixed address.
func auxAddresses(c Config) map[string]netip.Addr {
	if c.HostIP == c.Gateway {
		return nil // the gateway is reserved already; reserving it twice fails
	}
	return map[string]netip.Addr{"host": c.HostIP}
}

func createOptions(c Config) client.NetworkCreateOptions {
	opts := make(map[string]string)
	for _, o := range driverOptions(c) {
		opts[o.key] = o.value
	}
	return client.NetworkCreateOptions{
		Driver:  c.Driver(),
		Options: opts,
		IPAM: &network.IPAM{
			Driver: "default",
			Config: []network.IPAMConfig{{Subnet: c.Subnet, IPRange: c.IPRange, Gateway: c.Gateway, AuxAddress: auxAddresses(c)}},
		},
		Labels: c.Labels,
	}
}

// differences lists, for humans, how n differs from what c asks for.
func differences(n network.Inspect, c Config) []string {
	var d []string
	diff := func(what string, got, want any) {
		if g, w := show(got), show(want); g != w {
			d = append(d, fmt.Sprintf("%s %s (want %s)", what, g, w))
		}
	}
	diff("driver", n.Driver, c.Driver())
	if n.Driver == c.Driver() {
		for _, o := range driverOptions(c) {
			got := n.Options[o.key]
			if got == "" {
				got = optionDefault(o.key)
			}
			diff(o.key, got, o.value)
		}
	}
	var v4 []network.IPAMConfig
	for _, cfg := range n.IPAM.Config {
		if cfg.Subnet.Addr().Is4() {
			v4 = append(v4, cfg)
		}
	}
	if len(v4) != 1 {
		subnets := make([]string, len(v4))
		for i, cfg := range v4 {
			subnets[i] = cfg.Subnet.String()
		}
		diff("IPv4 subnets", "["+strings.Join(subnets, " ")+"]", "["+c.Subnet.String()+"]")
		return d
	}
	got := v4[0]
	diff("subnet", got.Subnet, c.Subnet)
	diff("gateway", got.Gateway, c.Gateway)
	diff("ip range", got.IPRange, c.IPRange)
	diff("auxiliary addresses", sortedAux(got.AuxAddress), sortedAux(auxAddresses(c)))
	return d
}

// show renders a setting, unset ones as "none" rather than Go's "invalid IP".
func show(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return "none"
		}
	case netip.Addr:
		if !v.IsValid() {
			return "none"
		}
	case netip.Prefix:
		if !v.IsValid() {
			return "none"
		}
	}
	return fmt.Sprint(v)
}

// sortedAux renders aux addresses in a stable order for comparison.
func sortedAux(m map[string]netip.Addr) string {
	s := make([]string, 0, len(m))
	for k, v := range m {
		s = append(s, k+"="+v.String())
	}
	slices.Sort(s)
	return "[" + strings.Join(s, " ") + "]"
}
