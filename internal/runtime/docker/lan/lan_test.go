package lan

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/vishvananda/netlink"
	"pgregory.net/rapid"
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func TestCovering(t *testing.T) {
	tests := []struct {
		name    string
		ips     []netip.Addr
		want    string
		wantErr string
	}{
		{"one", addrs("192.168.1.7"), "192.168.1.7/32", ""},
		{"after gateway and host", addrs("192.168.1.3", "192.168.1.4", "192.168.1.5"), "192.168.1.0/29", ""},
		{"aligned block", addrs("192.168.1.8", "192.168.1.15"), "192.168.1.8/29", ""},
		{"unordered", addrs("10.0.0.12", "10.0.0.10", "10.0.0.11"), "10.0.0.8/29", ""},
		{"whole /24", addrs("10.0.0.0", "10.0.0.255"), "10.0.0.0/24", ""},
		{"across a /24 border", addrs("10.0.0.255", "10.0.1.0"), "10.0.0.0/23", ""},
		{"duplicates", addrs("10.0.0.5", "10.0.0.5"), "10.0.0.5/32", ""},
		{"everything", addrs("0.0.0.0", "255.255.255.255"), "0.0.0.0/0", ""},
		{"mapped IPv4 counts as IPv4", addrs("::ffff:10.0.0.1", "10.0.0.2"), "10.0.0.0/30", ""},
		{"ipv6", addrs("fd00::1", "fd00::2"), "fd00::/126", ""},
		{"empty", nil, "", "no addresses"},
		{"mixed families", addrs("10.0.0.1", "fd00::1"), "", "mixed IPv4 and IPv6"},
		{"invalid first", []netip.Addr{{}}, "", "invalid address"},
		{"invalid later", []netip.Addr{netip.MustParseAddr("10.0.0.1"), {}}, "", "invalid address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Covering(tt.ips)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Covering(%v) = %v, %v; want error containing %q", tt.ips, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("Covering(%v) = %v, %v; want %s", tt.ips, got, err, tt.want)
			}
		})
	}
}

// TestCoveringTightest checks the defining property on random fleets: the
// prefix holds every address, and neither of its halves does.
func TestCoveringTightest(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		raw := rapid.SliceOfN(rapid.Uint32(), 1, 20).Draw(t, "ips")
		ips := make([]netip.Addr, len(raw))
		for i, v := range raw {
			ips[i] = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		}
		p, err := Covering(ips)
		if err != nil {
			t.Fatal(err)
		}
		for _, ip := range ips {
			if !p.Contains(ip) {
				t.Fatalf("%v does not contain %v", p, ip)
			}
		}
		if p.Bits() == 32 {
			return
		}
		lower := netip.PrefixFrom(p.Addr(), p.Bits()+1)
		upper := netip.PrefixFrom(lastAddr(lower).Next(), p.Bits()+1)
		for _, half := range []netip.Prefix{lower, upper} {
			all := true
			for _, ip := range ips {
				all = all && half.Contains(ip)
			}
			if all {
				t.Fatalf("%v is not tightest: %v holds all of %v", p, half, ips)
			}
		}
	})
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.168.1.0/24": "192.168.1.255",
		"10.0.0.8/29":    "10.0.0.15",
		"10.0.0.7/32":    "10.0.0.7",
		"10.1.2.3/16":    "10.1.255.255",
		"0.0.0.0/0":      "255.255.255.255",
	} {
		if got := lastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("lastAddr(%s) = %v, want %s", in, got, want)
		}
	}
}

func goodConfig() Config {
	return Config{
		Name:    "decnet_lan",
		Parent:  "br0",
		Subnet:  netip.MustParsePrefix("192.168.1.0/24"),
		Gateway: netip.MustParseAddr("192.168.1.1"),
		IPRange: netip.MustParsePrefix("192.168.1.0/29"),
		HostIP:  netip.MustParseAddr("192.168.1.2"),
		Hairpin: HairpinMacvlan,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none = valid
	}{
		{"good", func(*Config) {}, nil},
		{"host is the gateway", func(c *Config) { c.HostIP = c.Gateway }, nil},
		{"range is the whole subnet", func(c *Config) { c.IPRange = c.Subnet }, nil},
		{"ipvlan hairpin name", func(c *Config) { c.IPVLAN, c.Hairpin = true, HairpinIPVLAN }, nil},
		{"empty name", func(c *Config) { c.Name = "" }, []string{"docker network name"}},
		{"bad name", func(c *Config) { c.Name = "-lan" }, []string{"docker network name"}},
		{"no parent", func(c *Config) { c.Parent = "" }, []string{"parent interface (--interface): no name"}},
		{"long parent", func(c *Config) { c.Parent = "sixteen-chars-xx" }, []string{"15 bytes"}},
		{"slash in hairpin", func(c *Config) { c.Hairpin = "a/b" }, []string{"hairpin interface \"a/b\": not a valid"}},
		{"colon in parent", func(c *Config) { c.Parent = "eth0:1" }, []string{"not a valid interface name"}},
		{"dot hairpin", func(c *Config) { c.Hairpin = ".." }, []string{"not a valid interface name"}},
		{"hairpin is parent", func(c *Config) { c.Hairpin = c.Parent }, []string{"cannot be the parent"}},
		{"no subnet", func(c *Config) { c.Subnet = netip.Prefix{} }, []string{"--subnet"}},
		{"ipv6 subnet", func(c *Config) { c.Subnet = netip.MustParsePrefix("fd00::/64") }, []string{"IPv4 CIDR"}},
		{"host bits", func(c *Config) { c.Subnet = netip.MustParsePrefix("192.168.1.5/24") }, []string{"use 192.168.1.0/24"}},
		{"tiny subnet", func(c *Config) { c.Subnet = netip.MustParsePrefix("192.168.1.0/31") }, []string{"no room"}},
		{"gateway outside", func(c *Config) { c.Gateway = netip.MustParseAddr("10.0.0.1") }, []string{"gateway (--gateway) 10.0.0.1 is outside"}},
		{"gateway missing", func(c *Config) { c.Gateway = netip.Addr{} }, []string{"no gateway"}},
		{"gateway broadcast", func(c *Config) { c.Gateway = netip.MustParseAddr("192.168.1.255") }, []string{"broadcast"}},
		{"host network address", func(c *Config) { c.HostIP = netip.MustParseAddr("192.168.1.0") }, []string{"host address 192.168.1.0 is the network"}},
		{"host outside", func(c *Config) { c.HostIP = netip.MustParseAddr("192.168.2.2") }, []string{"host address 192.168.2.2 is outside"}},
		{"no range", func(c *Config) { c.IPRange = netip.Prefix{} }, []string{"no IP range"}},
		{"range host bits", func(c *Config) { c.IPRange = netip.MustParsePrefix("192.168.1.3/29") }, []string{"use 192.168.1.0/29"}},
		{"range outside", func(c *Config) { c.IPRange = netip.MustParsePrefix("192.168.2.0/29") }, []string{"not inside subnet"}},
		{"range wider", func(c *Config) { c.IPRange = netip.MustParsePrefix("192.168.0.0/23") }, []string{"not inside subnet"}},
		{"several at once", func(c *Config) { c.Name, c.Gateway = "", netip.MustParseAddr("10.0.0.1") }, []string{"docker network name", "gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodConfig()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestHairpinRoutes(t *testing.T) {
	c := goodConfig()
	if got := fmt.Sprint(hairpinRoutes(c)); got != "[192.168.1.0/29]" {
		t.Errorf("range routes = %s", got)
	}
	c.IPRange = c.Subnet
	if got := fmt.Sprint(hairpinRoutes(c)); got != "[192.168.1.0/25 192.168.1.128/25]" {
		t.Errorf("whole-subnet routes = %s", got)
	}
}

func TestWireless(t *testing.T) {
	root := t.TempDir()
	mk := func(name, index string, markers ...string) {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "ifindex"), []byte(index+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, m := range markers {
			if err := os.Mkdir(filepath.Join(dir, m), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("wlan0", "3", "wireless")
	mk("wlp2s0", "4", "phy80211")
	mk("eth0", "2")
	tests := []struct {
		name  string
		index int
		want  bool
	}{
		{"wlan0", 3, true},
		{"wlp2s0", 4, true},
		{"eth0", 2, false},
		{"wlan0", 9, false}, // same name in another namespace
		{"absent", 5, false},
	}
	for _, tt := range tests {
		l := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: tt.name, Index: tt.index}}
		if got := wireless(root, l); got != tt.want {
			t.Errorf("wireless(%s, index %d) = %v, want %v", tt.name, tt.index, got, tt.want)
		}
	}
}

// fakeEngine is an in-memory NetworkClient that stores networks the way
// the engine reports them.
type fakeEngine struct {
	nets       map[string]network.Inspect
	creates    []client.NetworkCreateOptions
	inspectErr error
	createErr  error
	// raceWith is created by a concurrent deployer when NetworkCreate is
	// called: the create fails and the network is there afterwards.
	raceWith *network.Inspect
}

func (f *fakeEngine) NetworkInspect(_ context.Context, name string, _ client.NetworkInspectOptions) (client.NetworkInspectResult, error) {
	if f.inspectErr != nil {
		return client.NetworkInspectResult{}, f.inspectErr
	}
	n, ok := f.nets[name]
	if !ok {
		return client.NetworkInspectResult{}, fmt.Errorf("network %s: %w", name, cerrdefs.ErrNotFound)
	}
	return client.NetworkInspectResult{Network: n}, nil
}

func (f *fakeEngine) NetworkCreate(_ context.Context, name string, o client.NetworkCreateOptions) (client.NetworkCreateResult, error) {
	f.creates = append(f.creates, o)
	if f.raceWith != nil {
		f.nets[name] = *f.raceWith
		return client.NetworkCreateResult{}, fmt.Errorf("network with name %s already exists: %w", name, cerrdefs.ErrConflict)
	}
	if f.createErr != nil {
		return client.NetworkCreateResult{}, f.createErr
	}
	f.nets[name] = network.Inspect{Network: network.Network{Name: name, Driver: o.Driver, Options: maps.Clone(o.Options), IPAM: *o.IPAM}}
	return client.NetworkCreateResult{ID: "id-" + name}, nil
}

func (f *fakeEngine) NetworkRemove(_ context.Context, name string, _ client.NetworkRemoveOptions) (client.NetworkRemoveResult, error) {
	if _, ok := f.nets[name]; !ok {
		return client.NetworkRemoveResult{}, fmt.Errorf("network %s: %w", name, cerrdefs.ErrNotFound)
	}
	delete(f.nets, name)
	return client.NetworkRemoveResult{}, nil
}

// asEngineShows is c's network as an engine that stored no defaults shows it.
func asEngineShows(c Config, edit func(*network.Inspect)) *network.Inspect {
	n := network.Inspect{Network: network.Network{
		Name:    c.Name,
		Driver:  c.Driver(),
		Options: map[string]string{"parent": c.Parent},
		IPAM: network.IPAM{Driver: "default", Config: []network.IPAMConfig{
			{Subnet: c.Subnet, Gateway: c.Gateway, IPRange: c.IPRange, AuxAddress: auxAddresses(c)},
			{Subnet: netip.MustParsePrefix("fd00::/64")}, // IPv6 settings are not ours to judge
		}},
	}}
	if edit != nil {
		edit(&n)
	}
	return &n
}

func TestEnsureNetwork(t *testing.T) {
	mac := goodConfig()
	ipv := goodConfig()
	ipv.IPVLAN, ipv.Hairpin = true, HairpinIPVLAN
	boom := errors.New("engine unreachable")
	tests := []struct {
		name        string
		c           Config
		existing    *network.Inspect
		race        *network.Inspect
		inspectErr  error
		createErr   error
		wantCreate  bool
		wantErr     []string
		wantOptions map[string]string
	}{
		{name: "create macvlan", c: mac, wantCreate: true,
			wantOptions: map[string]string{"parent": "br0", "macvlan_mode": "bridge"}},
		{name: "create ipvlan", c: ipv, wantCreate: true,
			wantOptions: map[string]string{"parent": "br0", "ipvlan_mode": "l2"}},
		{name: "same settings, defaults unset", c: mac, existing: asEngineShows(mac, nil)},
		{name: "same ipvlan", c: ipv, existing: asEngineShows(ipv, nil)},
		{name: "other driver", c: mac, existing: asEngineShows(ipv, nil),
			wantErr: []string{`"decnet_lan" already exists`, "driver ipvlan (want macvlan)", "docker network rm decnet_lan"}},
		{name: "other parent and mode", c: mac, existing: asEngineShows(mac, func(n *network.Inspect) {
			n.Options = map[string]string{"parent": "eth1", "macvlan_mode": "private"}
		}), wantErr: []string{"parent eth1 (want br0)", "macvlan_mode private (want bridge)"}},
		{name: "other range and gateway", c: mac, existing: asEngineShows(mac, func(n *network.Inspect) {
			n.IPAM.Config[0].IPRange = netip.MustParsePrefix("192.168.1.64/26")
			n.IPAM.Config[0].Gateway = netip.MustParseAddr("192.168.1.254")
		}), wantErr: []string{"ip range 192.168.1.64/26 (want 192.168.1.0/29)", "gateway 192.168.1.254 (want 192.168.1.1)"}},
		{name: "no range", c: mac, existing: asEngineShows(mac, func(n *network.Inspect) {
			n.IPAM.Config[0].IPRange = netip.Prefix{}
			n.IPAM.Config[0].AuxAddress = nil
		}), wantErr: []string{"ip range none (want 192.168.1.0/29)", "auxiliary addresses [] (want [host=192.168.1.2])"}},
		{name: "other subnet", c: mac, existing: asEngineShows(mac, func(n *network.Inspect) {
			n.IPAM.Config[0].Subnet = netip.MustParsePrefix("10.0.0.0/8")
		}), wantErr: []string{"subnet 10.0.0.0/8 (want 192.168.1.0/24)"}},
		{name: "two subnets", c: mac, existing: asEngineShows(mac, func(n *network.Inspect) {
			n.IPAM.Config = append(n.IPAM.Config, network.IPAMConfig{Subnet: netip.MustParsePrefix("10.0.0.0/8")})
		}), wantErr: []string{"IPv4 subnets [192.168.1.0/24 10.0.0.0/8] (want [192.168.1.0/24])"}},
		{name: "created concurrently alike", c: mac, race: asEngineShows(mac, nil), wantCreate: true},
		{name: "created concurrently otherwise", c: mac, race: asEngineShows(ipv, nil), wantCreate: true,
			wantErr: []string{"driver ipvlan (want macvlan)"}},
		{name: "create fails", c: mac, createErr: boom, wantCreate: true,
			wantErr: []string{`create docker network "decnet_lan"`, "engine unreachable"}},
		{name: "inspect fails", c: mac, inspectErr: boom, wantErr: []string{"inspect docker network", "engine unreachable"}},
		{name: "invalid config", c: Config{}, wantErr: []string{"invalid LAN settings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEngine{nets: map[string]network.Inspect{}, inspectErr: tt.inspectErr, createErr: tt.createErr, raceWith: tt.race}
			if tt.existing != nil {
				f.nets[tt.c.Name] = *tt.existing
			}
			err := EnsureNetwork(context.Background(), f, tt.c)
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("EnsureNetwork: %v", err)
			}
			if len(tt.wantErr) > 0 && err == nil {
				t.Fatal("EnsureNetwork succeeded")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := len(f.creates) > 0; got != tt.wantCreate {
				t.Fatalf("created: %v, want %v", got, tt.wantCreate)
			}
			if tt.wantOptions == nil {
				return
			}
			o := f.creates[0]
			if o.Driver != tt.c.Driver() || !maps.Equal(o.Options, tt.wantOptions) {
				t.Errorf("created driver %s options %v, want %s %v", o.Driver, o.Options, tt.c.Driver(), tt.wantOptions)
			}
			want := network.IPAMConfig{Subnet: tt.c.Subnet, Gateway: tt.c.Gateway, IPRange: tt.c.IPRange}
			got := o.IPAM.Config
			if len(got) != 1 || got[0].Subnet != want.Subnet || got[0].Gateway != want.Gateway || got[0].IPRange != want.IPRange ||
				!maps.Equal(got[0].AuxAddress, map[string]netip.Addr{"host": tt.c.HostIP}) {
				t.Errorf("created IPAM %+v, want %+v with aux host=%v", got, want, tt.c.HostIP)
			}
			// What was created must satisfy a second run.
			if err := EnsureNetwork(context.Background(), f, tt.c); err != nil || len(f.creates) != 1 {
				t.Errorf("second EnsureNetwork: %v, %d creates", err, len(f.creates))
			}
		})
	}
}

func TestAuxAddressesSkipGateway(t *testing.T) {
	c := goodConfig()
	c.HostIP = c.Gateway
	if aux := auxAddresses(c); aux != nil {
		t.Errorf("host = gateway: aux %v, want none", aux)
	}
}

func TestRemoveNetwork(t *testing.T) {
	f := &fakeEngine{nets: map[string]network.Inspect{"decnet_lan": {}}}
	for range 2 { // the second finds nothing to remove
		if err := RemoveNetwork(context.Background(), f, "decnet_lan"); err != nil {
			t.Fatalf("RemoveNetwork: %v", err)
		}
	}
	if len(f.nets) != 0 {
		t.Errorf("left %v", f.nets)
	}
}

func TestNetErrSaysRootIsNeeded(t *testing.T) {
	tests := []struct {
		err      error
		wantRoot bool
	}{
		{syscall.EPERM, true},
		{fmt.Errorf("wrapped: %w", syscall.EACCES), true},
		{syscall.EEXIST, false},
	}
	for _, tt := range tests {
		err := netErr("create hairpin", tt.err)
		if got := strings.Contains(err.Error(), "run decnet as root"); got != tt.wantRoot {
			t.Errorf("netErr(%v) = %q; mentions root: %v, want %v", tt.err, err, got, tt.wantRoot)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("netErr(%v) does not wrap it", tt.err)
		}
	}
}
