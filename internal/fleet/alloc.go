package fleet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// DefaultIPBase is where the local runtime starts numbering deckies: an
// unused corner of the loopback range, clear of 127.0.0.1.
var DefaultIPBase = netip.MustParseAddr("127.77.0.10")

// Loopback is the range the local runtime's deckies live in.
var Loopback = netip.MustParsePrefix("127.0.0.0/8")

// Allocator hands out IPv4 addresses of a subnet in ascending order from a
// start address, skipping the network and broadcast addresses and anything
// reserved (gateway, the host's own address, explicitly configured deckies).
// Every runtime uses it: the local one over Loopback, netns and docker over
// the LAN subnet.
type Allocator struct {
	subnet   netip.Prefix
	next     netip.Addr // zero once the range is exhausted
	reserved map[netip.Addr]bool
}

// NewAllocator returns an allocator over subnet starting at start (the first
// host address when start is zero), never handing out reserved.
func NewAllocator(subnet netip.Prefix, start netip.Addr, reserved ...netip.Addr) (*Allocator, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return nil, fmt.Errorf("subnet %s: want an IPv4 prefix", subnet)
	}
	subnet = subnet.Masked()
	if !start.IsValid() {
		start = subnet.Addr()
	}
	start = start.Unmap()
	if !subnet.Contains(start) {
		return nil, fmt.Errorf("start address %s is outside %s", start, subnet)
	}
	a := &Allocator{subnet: subnet, next: start, reserved: map[netip.Addr]bool{}}
	if subnet.Bits() < 31 { // /31 and /32 have no network or broadcast address
		a.reserved[subnet.Addr()] = true
		a.reserved[broadcast(subnet)] = true
	}
	for _, ip := range reserved {
		if ip.IsValid() {
			a.reserved[ip.Unmap()] = true
		}
	}
	return a, nil
}

// LocalAllocator is the local runtime's allocator: loopback addresses from
// base (DefaultIPBase when zero) up to 127.255.255.254.
func LocalAllocator(base netip.Addr) (*Allocator, error) {
	if !base.IsValid() {
		base = DefaultIPBase
	}
	return NewAllocator(Loopback, base)
}

// Subnet is the range the allocator works in.
func (a *Allocator) Subnet() netip.Prefix { return a.subnet }

// Reserve takes ip out of the pool: it must lie in the subnet and be a host
// address that is not already reserved.
func (a *Allocator) Reserve(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case !a.subnet.Contains(ip):
		return fmt.Errorf("ip %s is outside %s", ip, a.subnet)
	case a.reserved[ip]:
		return fmt.Errorf("ip %s is reserved (network, broadcast, gateway or taken)", ip)
	}
	a.reserved[ip] = true
	return nil
}

// ErrExhausted is wrapped when an allocator has no address left.
var ErrExhausted = errors.New("no free address left")

// Next returns the next free address.
func (a *Allocator) Next() (netip.Addr, error) {
	for a.next.IsValid() && a.subnet.Contains(a.next) {
		ip := a.next
		a.next = ip.Next()
		if !a.reserved[ip] {
			a.reserved[ip] = true
			return ip, nil
		}
	}
	a.next = netip.Addr{}
	return netip.Addr{}, fmt.Errorf("%w in %s", ErrExhausted, a.subnet)
}

// AssignIPs gives every decky without an address the next free one from a,
// after reserving the fleet's gateway and every address set explicitly, so
// automatic ones never collide with them.
func AssignIPs(f *Fleet, a *Allocator) error {
	if gw := f.General.Gateway; gw.IsValid() && a.subnet.Contains(gw) {
		a.reserved[gw.Unmap()] = true
	}
	for _, d := range f.Deckies {
		if d.IP.IsValid() {
			if err := a.Reserve(d.IP); err != nil {
				return fmt.Errorf("decky %q: %w", d.Name, err)
			}
		}
	}
	for i := range f.Deckies {
		if f.Deckies[i].IP.IsValid() {
			continue
		}
		ip, err := a.Next()
		if err != nil {
			return fmt.Errorf("decky %q: %w", f.Deckies[i].Name, err)
		}
		f.Deckies[i].IP = ip
	}
	return nil
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	n := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b)
}
