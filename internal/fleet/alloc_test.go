package fleet

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func addrs(t *testing.T, a *Allocator, n int) string {
	t.Helper()
	var out []string
	for range n {
		ip, err := a.Next()
		if err != nil {
			out = append(out, "err: "+err.Error())
			break
		}
		out = append(out, ip.String())
	}
	return strings.Join(out, " ")
}

func TestAllocator(t *testing.T) {
	p := netip.MustParsePrefix
	ip := netip.MustParseAddr
	tests := []struct {
		name     string
		subnet   netip.Prefix
		start    netip.Addr
		reserved []netip.Addr
		n        int
		want     string
	}{
		{"subnet from first host, skipping gateway", p("192.168.1.0/29"), netip.Addr{}, []netip.Addr{ip("192.168.1.1")}, 7,
			"192.168.1.2 192.168.1.3 192.168.1.4 192.168.1.5 192.168.1.6 err: no free address left in 192.168.1.0/29"},
		{"start and reserved", p("10.0.0.0/24"), ip("10.0.0.250"), []netip.Addr{ip("10.0.0.252"), ip("10.9.9.9")}, 6,
			"10.0.0.250 10.0.0.251 10.0.0.253 10.0.0.254 err: no free address left in 10.0.0.0/24"},
		{"host bits in subnet", p("10.0.0.77/30"), netip.Addr{}, nil, 3, "10.0.0.77 10.0.0.78 err: no free address left in 10.0.0.76/30"},
		{"/31 has no broadcast", p("10.0.0.0/31"), netip.Addr{}, nil, 3, "10.0.0.0 10.0.0.1 err: no free address left in 10.0.0.0/31"},
		{"mapped start", p("10.0.0.0/30"), ip("::ffff:10.0.0.2"), nil, 2, "10.0.0.2 err: no free address left in 10.0.0.0/30"},
		{"loopback end", Loopback, ip("127.255.255.253"), nil, 3, "127.255.255.253 127.255.255.254 err: no free address left in 127.0.0.0/8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAllocator(tt.subnet, tt.start, tt.reserved...)
			if err != nil {
				t.Fatal(err)
			}
			if got := addrs(t, a, tt.n); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if _, err := a.Next(); !errors.Is(err, ErrExhausted) {
				t.Fatalf("after exhaustion: %v", err)
			}
		})
	}
}

func TestNewAllocatorErrors(t *testing.T) {
	tests := []struct {
		name   string
		subnet string
		start  string
		want   string
	}{
		{"ipv6", "fd00::/64", "", "subnet fd00::/64: want an IPv4 prefix"},
		{"start outside", "10.0.0.0/24", "10.0.1.1", "start address 10.0.1.1 is outside 10.0.0.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var start netip.Addr
			if tt.start != "" {
				start = netip.MustParseAddr(tt.start)
			}
			_, err := NewAllocator(netip.MustParsePrefix(tt.subnet), start)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
	if _, err := NewAllocator(netip.Prefix{}, netip.Addr{}); err == nil {
		t.Fatal("zero prefix accepted")
	}
	if _, err := LocalAllocator(netip.MustParseAddr("10.0.0.1")); err == nil || err.Error() != "start address 10.0.0.1 is outside 127.0.0.0/8" {
		t.Fatalf("local allocator outside loopback: %v", err)
	}
}

func TestLocalAllocatorDefault(t *testing.T) {
	a, err := LocalAllocator(netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(t, a, 3); got != "127.77.0.10 127.77.0.11 127.77.0.12" {
		t.Fatal(got)
	}
	if a.Subnet() != Loopback {
		t.Fatal(a.Subnet())
	}
}

func TestAssignIPs(t *testing.T) {
	ip := netip.MustParseAddr
	f := Fleet{
		General: General{Gateway: ip("127.77.0.11")},
		Deckies: []Decky{{Name: "a"}, {Name: "b", IP: ip("127.77.0.12")}, {Name: "c"}, {Name: "d", IP: ip("127.77.0.10")}, {Name: "e"}},
	}
	a, _ := LocalAllocator(netip.Addr{})
	if err := AssignIPs(&f, a); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range f.Deckies {
		got = append(got, d.Name+"="+d.IP.String())
	}
	// 10 and 12 are taken explicitly, 11 is the gateway.
	if want := "a=127.77.0.13 b=127.77.0.12 c=127.77.0.14 d=127.77.0.10 e=127.77.0.15"; strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestAssignIPsErrors(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		name    string
		deckies []Decky
		start   string
		want    string
	}{
		{"explicit outside loopback", []Decky{{Name: "a", IP: ip("192.168.1.5")}}, "", `decky "a": ip 192.168.1.5 is outside 127.0.0.0/8`},
		{"explicit twice", []Decky{{Name: "a", IP: ip("127.1.0.1")}, {Name: "b", IP: ip("127.1.0.1")}}, "", `decky "b": ip 127.1.0.1 is reserved (network, broadcast, gateway or taken)`},
		{"range leaves loopback", []Decky{{Name: "a"}, {Name: "b"}, {Name: "c"}}, "127.255.255.253", `decky "c": no free address left in 127.0.0.0/8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var start netip.Addr
			if tt.start != "" {
				start = ip(tt.start)
			}
			a, err := LocalAllocator(start)
			if err != nil {
				t.Fatal(err)
			}
			f := Fleet{Deckies: tt.deckies}
			if err := AssignIPs(&f, a); err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
}
