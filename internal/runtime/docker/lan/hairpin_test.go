package lan

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// testLAN is a host namespace whose LAN is the bridge lan0
// (10.77.0.2/24, default gateway 10.77.0.1), and the Config for it.
func testLAN(t *testing.T, ipvlan bool) (netns.NsHandle, *netlink.Handle, Config) {
	ns, h, c, _ := testLANOn(t, ipvlan)
	return ns, h, c
}

// testLANOn is testLAN that also reports whether the kernel can run the
// asked driver (ipvlan may be missing; see ipvlanWorks).
func testLANOn(t *testing.T, ipvlan bool) (netns.NsHandle, *netlink.Handle, Config, bool) {
	t.Helper()
	ns, h := newNS(t)
	br := addBridge(t, h, "lan0", netip.MustParsePrefix("10.77.0.2/24"))
	addDefaultRoute(t, h, br, "10.77.0.1")
	c := Config{
		Name:    NetworkName,
		IPVLAN:  ipvlan,
		Parent:  "lan0",
		Subnet:  netip.MustParsePrefix("10.77.0.0/24"),
		Gateway: netip.MustParseAddr("10.77.0.1"),
		IPRange: netip.MustParsePrefix("10.77.0.8/29"),
		HostIP:  netip.MustParseAddr("10.77.0.2"),
		Hairpin: HairpinMacvlan,
	}
	if ipvlan {
		c.Hairpin = HairpinIPVLAN
		return ns, h, c, ipvlanWorks(t, h, br, c)
	}
	return ns, h, c, true
}

// ipvlanWorks reports whether the kernel has ipvlan. Where it was built
// without (the machine's kernel, which no installation step can change)
// it first checks what a user gets there: an error that names the missing
// support, and no half-made interface. The caller then ends the test,
// which passes on what could be checked rather than skipping, so CI never
// passes over it silently.
func ipvlanWorks(t *testing.T, h *netlink.Handle, parent netlink.Link, c Config) bool {
	t.Helper()
	probe := &netlink.IPVlan{LinkAttrs: netlink.LinkAttrs{Name: "ivprobe", ParentIndex: parent.Attrs().Index}, Mode: netlink.IPVLAN_MODE_L2}
	err := h.LinkAdd(probe)
	if errors.Is(err, unix.EOPNOTSUPP) {
		err := EnsureHairpin(h, c)
		if err == nil || !strings.Contains(err.Error(), "this kernel has no ipvlan support") {
			t.Fatalf("EnsureHairpin on a kernel without ipvlan: %v, want an error naming the missing support", err)
		}
		if _, lerr := h.LinkByName(c.Hairpin); lerr == nil {
			t.Fatal("a failed EnsureHairpin left an interface behind")
		}
		t.Log("this kernel has no ipvlan: only the error path was checked")
		return false
	}
	must(t, "probe ipvlan", err)
	must(t, "remove ipvlan probe", h.LinkDel(probe))
	return true
}

// checkHairpin verifies the whole state EnsureHairpin promises.
func checkHairpin(t *testing.T, h *netlink.Handle, c Config) netlink.Link {
	t.Helper()
	l, err := h.LinkByName(c.Hairpin)
	must(t, "look up hairpin", err)
	parent, err := h.LinkByName(c.Parent)
	must(t, "look up parent", err)
	switch v := l.(type) {
	case *netlink.Macvlan:
		if c.IPVLAN || v.Mode != netlink.MACVLAN_MODE_BRIDGE {
			t.Errorf("hairpin is a macvlan in mode %v; want ipvlan=%v, bridge mode", v.Mode, c.IPVLAN)
		}
	case *netlink.IPVlan:
		if !c.IPVLAN || v.Mode != netlink.IPVLAN_MODE_L2 || v.Flag != netlink.IPVLAN_FLAG_BRIDGE {
			t.Errorf("hairpin is an ipvlan in mode %v flag %v; want ipvlan=%v, l2 bridge", v.Mode, v.Flag, c.IPVLAN)
		}
	default:
		t.Errorf("hairpin is a %s", l.Type())
	}
	if l.Attrs().ParentIndex != parent.Attrs().Index {
		t.Errorf("hairpin parent index %d, want %d (%s)", l.Attrs().ParentIndex, parent.Attrs().Index, c.Parent)
	}
	if l.Attrs().Flags&net.FlagUp == 0 {
		t.Error("hairpin is down")
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	must(t, "list hairpin addresses", err)
	var got []string
	for _, a := range addrs {
		got = append(got, a.IPNet.String())
	}
	if want := []string{c.HostIP.String() + "/32"}; !slices.Equal(got, want) {
		t.Errorf("hairpin addresses %v, want %v", got, want)
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{LinkIndex: l.Attrs().Index}, netlink.RT_FILTER_OIF)
	must(t, "list hairpin routes", err)
	got = got[:0]
	for _, r := range routes {
		got = append(got, fmt.Sprintf("%v src %v scope %v", routeDst(r), r.Src, r.Scope))
	}
	var want []string
	for _, dst := range hairpinRoutes(c) {
		want = append(want, fmt.Sprintf("%v src %v scope %v", dst, c.HostIP, netlink.SCOPE_LINK))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("hairpin routes %v, want %v", got, want)
	}
	return l
}

func checkNoHairpin(t *testing.T, h *netlink.Handle, c Config) {
	t.Helper()
	if _, err := h.LinkByName(c.Hairpin); !isNotFound(err) {
		t.Errorf("hairpin %s still there (lookup error %v)", c.Hairpin, err)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	must(t, "list routes", err)
	for _, r := range routes {
		if dst := routeDst(r); dst.Bits() > 0 && c.IPRange.Overlaps(dst) && dst != c.Subnet {
			t.Errorf("route %v left behind", r)
		}
	}
}

// TestHairpinReachesDeckies shows what the hairpin is for: a process on the
// host reaches a decky on a macvlan/ipvlan child of the LAN interface only
// through it.
func TestHairpinReachesDeckies(t *testing.T) {
	for _, ipvlan := range []bool{false, true} {
		t.Run(Config{IPVLAN: ipvlan}.Driver(), func(t *testing.T) {
			host, h, c, works := testLANOn(t, ipvlan)
			if !works {
				return
			}
			parent, err := h.LinkByName(c.Parent)
			must(t, "look up parent", err)
			decky := addDecky(t, h, parent, ipvlan, netip.MustParsePrefix("10.77.0.10/24"))
			serve(t, decky, "10.77.0.10:2222")
			if err := reach(host, "10.77.0.10:2222", 300*time.Millisecond); err == nil {
				t.Fatal("the host reached the decky without a hairpin: the test LAN is not like a real one")
			}

			must(t, "EnsureHairpin", EnsureHairpin(h, c))
			first := checkHairpin(t, h, c)
			if err := reach(host, "10.77.0.10:2222", 3*time.Second); err != nil {
				t.Fatalf("the host cannot reach the decky through the hairpin: %v", err)
			}

			must(t, "EnsureHairpin again", EnsureHairpin(h, c))
			if again := checkHairpin(t, h, c); again.Attrs().Index != first.Attrs().Index {
				t.Error("a second EnsureHairpin recreated the interface")
			}
			if err := reach(host, "10.77.0.10:2222", 3*time.Second); err != nil {
				t.Fatalf("after the second EnsureHairpin: %v", err)
			}

			must(t, "RemoveHairpin", RemoveHairpin(h, c.Hairpin))
			checkNoHairpin(t, h, c)
			must(t, "RemoveHairpin again", RemoveHairpin(h, c.Hairpin))
			if _, err := h.LinkByName(c.Parent); err != nil {
				t.Errorf("the parent went with the hairpin: %v", err)
			}
		})
	}
}

// TestEnsureHairpinConverges starts from the states an earlier deployment,
// a crash or a hand can leave, and checks that EnsureHairpin ends in the
// wanted one.
func TestEnsureHairpinConverges(t *testing.T) {
	_, h, c := testLAN(t, false)
	must(t, "EnsureHairpin", EnsureHairpin(h, c))
	first := checkHairpin(t, h, c)

	moved := c
	moved.IPRange, moved.HostIP = netip.MustParsePrefix("10.77.0.16/29"), netip.MustParseAddr("10.77.0.3")
	must(t, "EnsureHairpin with new range and host address", EnsureHairpin(h, moved))
	if l := checkHairpin(t, h, moved); l.Attrs().Index != first.Attrs().Index {
		t.Error("a new range recreated the interface")
	}

	l, err := h.LinkByName(c.Hairpin)
	must(t, "look up hairpin", err)
	must(t, "stray address", h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("10.77.0.99/32"))}))
	must(t, "stray route", h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(netip.MustParsePrefix("10.99.0.0/16")), Scope: netlink.SCOPE_LINK}))
	must(t, "EnsureHairpin over strays", EnsureHairpin(h, c))
	checkHairpin(t, h, c)

	whole := c
	whole.IPRange = c.Subnet
	must(t, "EnsureHairpin for the whole subnet", EnsureHairpin(h, whole))
	checkHairpin(t, h, whole)
	routes, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: ipNet(c.Subnet)}, netlink.RT_FILTER_DST)
	must(t, "list subnet routes", err)
	parent, err := h.LinkByName(c.Parent)
	must(t, "look up parent", err)
	if len(routes) != 1 || routes[0].LinkIndex != parent.Attrs().Index {
		t.Errorf("the parent's connected route changed: %v", routes)
	}

	other := addBridge(t, h, "lan1", netip.Prefix{})
	elsewhere := c
	elsewhere.Parent = "lan1"
	must(t, "EnsureHairpin on another parent", EnsureHairpin(h, elsewhere))
	if l := checkHairpin(t, h, elsewhere); l.Attrs().ParentIndex != other.Attrs().Index {
		t.Error("the hairpin did not move to the new parent")
	}

	must(t, "RemoveHairpin", RemoveHairpin(h, c.Hairpin))
	checkNoHairpin(t, h, c)
}

func TestEnsureHairpinErrors(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, h *netlink.Handle, c *Config)
		wantErr []string
	}{
		{"unknown parent", func(_ *testing.T, _ *netlink.Handle, c *Config) { c.Parent = "eth9" },
			[]string{`interface "eth9" not found`, "--interface", "lan0, lan0p, lan0q"}},
		{"parent down", func(t *testing.T, h *netlink.Handle, c *Config) {
			l, err := h.LinkByName(c.Parent)
			must(t, "look up parent", err)
			must(t, "parent down", h.LinkSetDown(l))
		}, []string{`"lan0" is down`, "ip link set lan0 up"}},
		{"loopback parent", func(t *testing.T, h *netlink.Handle, c *Config) {
			l, err := h.LinkByName("lo")
			must(t, "look up lo", err)
			must(t, "lo up", h.LinkSetUp(l))
			c.Parent = "lo"
		}, []string{"loopback"}},
		{"name taken by another kind", func(t *testing.T, h *netlink.Handle, c *Config) {
			must(t, "add bridge", h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: c.Hairpin}}))
		}, []string{"is a bridge, not a hairpin", "ip link del"}},
		{"route taken", func(t *testing.T, h *netlink.Handle, c *Config) {
			l, err := h.LinkByName(c.Parent)
			must(t, "look up parent", err)
			must(t, "conflicting route", h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(c.IPRange), Scope: netlink.SCOPE_LINK}))
		}, []string{"another route for it exists", "ip route show 10.77.0.8/29"}},
		{"invalid config", func(_ *testing.T, _ *netlink.Handle, c *Config) { c.HostIP = netip.Addr{} },
			[]string{"no host address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h, c := testLAN(t, false)
			before, err := h.LinkByName(c.Hairpin)
			if !isNotFound(err) {
				t.Fatalf("hairpin exists before the test: %v", before)
			}
			tt.prepare(t, h, &c)
			existing, _ := h.LinkByName(c.Hairpin)
			err = EnsureHairpin(h, c)
			if err == nil {
				t.Fatal("EnsureHairpin succeeded")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			after, _ := h.LinkByName(c.Hairpin)
			if (existing == nil) != (after == nil) {
				t.Errorf("a failed EnsureHairpin changed whether %s exists: before %v, after %v", c.Hairpin, existing, after)
			}
		})
	}
}

func TestRemoveHairpinRefusesOtherKinds(t *testing.T) {
	_, h, c := testLAN(t, false)
	if err := RemoveHairpin(h, c.Parent); err == nil || !strings.Contains(err.Error(), "not a hairpin") {
		t.Fatalf("RemoveHairpin(bridge) = %v, want a refusal", err)
	}
	if _, err := h.LinkByName(c.Parent); err != nil {
		t.Fatalf("the bridge is gone: %v", err)
	}
}

// TestHairpinQuietARP checks that a hairpin made in the current namespace
// answers ARP only for hosts routed through it (arp_filter), so the LAN
// never sees two MACs for this host's address.
func TestHairpinQuietARP(t *testing.T) {
	ns, _, c := testLAN(t, false)
	var got []byte
	err := onThreadIn(ns, func() error {
		if err := EnsureHairpin(nil, c); err != nil {
			return err
		}
		var err error
		got, err = os.ReadFile("/proc/sys/net/ipv4/conf/" + c.Hairpin + "/arp_filter")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != "1" {
		t.Fatalf("arp_filter of the hairpin is %q, want 1", got)
	}
}
