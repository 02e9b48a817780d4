package lan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/vishvananda/netlink"

	"decnet/internal/testutil"
)

// TestNetworkOnEngine drives EnsureNetwork and RemoveNetwork against the
// real engine, on a bridge of the test's own as parent and under names and
// a subnet of its own, so that it never meets a real deployment.
func TestNetworkOnEngine(t *testing.T) {
	requireRoot(t)
	cli := testutil.DockerEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Random names and subnet, so that concurrent runs never meet.
	random := make([]byte, 4)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	suffix := hex.EncodeToString(random[:3])
	parent := "dnt" + suffix
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: parent}}
	must(t, "add parent bridge", netlink.LinkAdd(br))
	t.Cleanup(func() {
		if err := netlink.LinkDel(br); err != nil {
			t.Errorf("remove bridge %s: %v", parent, err)
		}
	})
	must(t, "parent up", netlink.LinkSetUp(br))

	subnet := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, random[3], 0}), 24)
	c := Config{
		Name:    "dnt" + suffix,
		Parent:  parent,
		Subnet:  subnet,
		Gateway: subnet.Addr().Next(),
		HostIP:  subnet.Addr().Next().Next(),
		Hairpin: HairpinMacvlan,
	}
	var err error
	c.IPRange, err = Covering([]netip.Addr{c.HostIP.Next(), c.HostIP.Next().Next(), c.HostIP.Next().Next().Next()})
	must(t, "covering", err)
	t.Cleanup(func() {
		// Whatever failed above, leave no network behind.
		if err := RemoveNetwork(context.Background(), cli, c.Name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	must(t, "CheckParent", CheckParent(nil, c))

	for _, ipvlan := range []bool{false, true} {
		c := c
		c.IPVLAN = ipvlan
		t.Run(c.Driver(), func(t *testing.T) {
			must(t, "EnsureNetwork", EnsureNetwork(ctx, cli, c))
			first, err := cli.NetworkInspect(ctx, c.Name, client.NetworkInspectOptions{})
			must(t, "inspect", err)
			n := first.Network
			mode, wantMode := n.Options["macvlan_mode"], "bridge"
			if ipvlan {
				mode, wantMode = n.Options["ipvlan_mode"], "l2"
			}
			if n.Driver != c.Driver() || n.Options["parent"] != parent || mode != wantMode {
				t.Errorf("network driver %s options %v; want %s on %s, mode %s", n.Driver, n.Options, c.Driver(), parent, wantMode)
			}
			if len(n.IPAM.Config) != 1 {
				t.Fatalf("IPAM %+v", n.IPAM)
			}
			got := n.IPAM.Config[0]
			if got.Subnet != c.Subnet || got.Gateway != c.Gateway || got.IPRange != c.IPRange || got.AuxAddress["host"] != c.HostIP {
				t.Errorf("IPAM %+v; want subnet %v gateway %v range %v aux host=%v", got, c.Subnet, c.Gateway, c.IPRange, c.HostIP)
			}

			must(t, "EnsureNetwork again", EnsureNetwork(ctx, cli, c))
			again, err := cli.NetworkInspect(ctx, c.Name, client.NetworkInspectOptions{})
			must(t, "inspect again", err)
			if again.Network.ID != n.ID {
				t.Errorf("the second EnsureNetwork replaced the network: %s, was %s", again.Network.ID, n.ID)
			}

			wrong := c
			wrong.IPVLAN = !c.IPVLAN
			wrong.IPRange = netip.PrefixFrom(c.Subnet.Addr(), 26)
			err = EnsureNetwork(ctx, cli, wrong)
			if err == nil {
				t.Fatal("EnsureNetwork accepted a network with other settings")
			}
			for _, w := range []string{"driver " + c.Driver() + " (want " + wrong.Driver() + ")", "ip range " + c.IPRange.String()} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			kept, err := cli.NetworkInspect(ctx, c.Name, client.NetworkInspectOptions{})
			if err != nil || kept.Network.ID != n.ID {
				t.Errorf("the refused EnsureNetwork touched the network: %v", err)
			}

			must(t, "RemoveNetwork", RemoveNetwork(ctx, cli, c.Name))
			if _, err := cli.NetworkInspect(ctx, c.Name, client.NetworkInspectOptions{}); err == nil {
				t.Error("the network is still there")
			}
			must(t, "RemoveNetwork again", RemoveNetwork(ctx, cli, c.Name))
		})
	}
}
