package lan

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name    string
		addr    string // on the bridge "lan0"; "" = none
		gw      string // default route through lan0; "" = none
		iface   string
		want    [3]string // subnet, gateway, host
		wantErr []string
	}{
		{name: "default route", addr: "10.77.0.2/24", gw: "10.77.0.1", iface: "lan0",
			want: [3]string{"10.77.0.0/24", "10.77.0.1", "10.77.0.2"}},
		{name: "gateway high", addr: "172.20.5.9/16", gw: "172.20.255.254", iface: "lan0",
			want: [3]string{"172.20.0.0/16", "172.20.255.254", "172.20.5.9"}},
		{name: "no default route", addr: "10.77.0.9/24", iface: "lan0",
			want: [3]string{"10.77.0.0/24", "10.77.0.1", "10.77.0.9"}},
		{name: "host is the first host", addr: "10.77.0.1/24", iface: "lan0",
			want: [3]string{"10.77.0.0/24", "10.77.0.1", "10.77.0.1"}},
		{name: "no address", iface: "lan0", wantErr: []string{`"lan0" has no IPv4 address`, "--subnet and --gateway"}},
		{name: "point to point", addr: "10.77.0.1/31", iface: "lan0", wantErr: []string{"no room"}},
		{name: "unknown interface", addr: "10.77.0.2/24", iface: "nosuch0",
			wantErr: []string{`"nosuch0" not found`, "lan0, lan0p, lan0q"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, h := newNS(t)
			var addr netip.Prefix
			if tt.addr != "" {
				addr = netip.MustParsePrefix(tt.addr)
			}
			br := addBridge(t, h, "lan0", addr)
			if tt.gw != "" {
				addDefaultRoute(t, h, br, tt.gw)
			}
			subnet, gw, host, err := Detect(h, tt.iface)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Detect = %v %v %v, want an error", subnet, gw, host)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if got := [3]string{subnet.String(), gw.String(), host.String()}; got != tt.want {
				t.Errorf("Detect = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDetectOtherInterfaceRoute checks that a default route through another
// interface does not lend its gateway.
func TestDetectOtherInterfaceRoute(t *testing.T) {
	_, h := newNS(t)
	addBridge(t, h, "lan0", netip.MustParsePrefix("10.77.0.5/24"))
	wan := addBridge(t, h, "wan0", netip.MustParsePrefix("10.88.0.5/24"))
	addDefaultRoute(t, h, wan, "10.88.0.1")
	_, gw, _, err := Detect(h, "lan0")
	if err != nil || gw != netip.MustParseAddr("10.77.0.1") {
		t.Fatalf("Detect(lan0) gateway = %v, %v; want the fallback 10.77.0.1", gw, err)
	}
	_, gw, _, err = Detect(h, "wan0")
	if err != nil || gw != netip.MustParseAddr("10.88.0.1") {
		t.Fatalf("Detect(wan0) gateway = %v, %v; want 10.88.0.1", gw, err)
	}
}

// TestDetectSkipsLinkLocal checks that an APIPA address is not taken for
// the LAN's.
func TestDetectSkipsLinkLocal(t *testing.T) {
	_, h := newNS(t)
	br := addBridge(t, h, "lan0", netip.MustParsePrefix("169.254.3.4/16"))
	must(t, "second address", h.AddrAdd(br, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("10.77.0.5/24"))}))
	subnet, _, host, err := Detect(h, "lan0")
	if err != nil || subnet.String() != "10.77.0.0/24" || host.String() != "10.77.0.5" {
		t.Fatalf("Detect = %v %v, %v; want 10.77.0.0/24 10.77.0.5", subnet, host, err)
	}
}
