package llmnr

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// The link-local groups of LLMNR and mDNS.
var (
	groupLLMNR = netip.MustParseAddr("224.0.0.252")
	groupMDNS  = netip.MustParseAddr("224.0.0.251")
)

// lan is the decky's interface and the address that reaches every host
// on its subnet.
type lan struct {
	ifi   *net.Interface
	bcast netip.Addr
}

// findLAN is the interface that holds ip, when it can reach the LAN by
// multicast and broadcast (a loopback decky cannot).
func findLAN(ip netip.Addr) (lan, error) {
	if !ip.IsValid() {
		return lan{}, errors.New("the decky has no IPv4 address")
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return lan{}, fmt.Errorf("interfaces: %w", err)
	}
	for i := range ifs {
		ifi := &ifs[i]
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			if got, ok := netip.AddrFromSlice(n.IP); !ok || got.Unmap() != ip {
				continue
			}
			const need = net.FlagUp | net.FlagMulticast | net.FlagBroadcast
			if ifi.Flags&need != need || ifi.Flags&net.FlagLoopback != 0 {
				return lan{}, fmt.Errorf("interface %s cannot multicast and broadcast", ifi.Name)
			}
			m := n.Mask
			if len(m) == net.IPv6len {
				m = m[12:]
			}
			if len(m) != net.IPv4len {
				return lan{}, fmt.Errorf("interface %s: no IPv4 netmask", ifi.Name)
			}
			b := ip.As4()
			for j := range b {
				b[j] |= ^m[j]
			}
			return lan{ifi: ifi, bcast: netip.AddrFrom4(b)}, nil
		}
	}
	return lan{}, fmt.Errorf("no interface holds %s", ip)
}

// listenGroup receives a multicast group's datagrams to port on the
// LAN's interface. The socket is bound to the group's address, not to
// the wildcard as net.ListenMulticastUDP binds it: the wildcard would
// clash with the runtime's socket on the decky's own address and port.
func (l lan) listenGroup(group netip.Addr, port int, local netip.Addr) (net.PacketConn, error) {
	pc, err := groupSocket(group, port, local)
	if err != nil {
		return nil, fmt.Errorf("joining %s:%d: %w", group, port, err)
	}
	return pc, nil
}

// groupSocket opens a UDP socket bound to group:port that has joined
// group on the interface holding local.
func groupSocket(group netip.Addr, port int, local netip.Addr) (net.PacketConn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "udp4 "+group.String())
	defer f.Close() // FilePacketConn holds its own descriptor
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return nil, fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: group.As4()}); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	mreq := &syscall.IPMreq{Multiaddr: group.As4(), Interface: local.As4()}
	if err := syscall.SetsockoptIPMreq(fd, syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq); err != nil {
		return nil, fmt.Errorf("IP_ADD_MEMBERSHIP: %w", err)
	}
	return net.FilePacketConn(f)
}

// listenBroadcast receives the subnet's broadcasts to port: a socket
// bound to the broadcast address, beside the runtime's on the decky's.
func (l lan) listenBroadcast(port int) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(l.bcast, uint16(port))))
	if err != nil {
		return nil, fmt.Errorf("binding %s:%d: %w", l.bcast, port, err)
	}
	return c, nil
}

// multicastFrom makes c send multicast out of the interface that holds
// ip, with the given TTL, and broadcast when asked; its own multicast is
// not looped back to the decky's listeners.
func multicastFrom(c syscall.Conn, ip netip.Addr, ttl int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		s := int(fd)
		if serr = syscall.SetsockoptInet4Addr(s, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, ip.As4()); serr != nil {
			return
		}
		if serr = syscall.SetsockoptInt(s, syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, ttl); serr != nil {
			return
		}
		serr = syscall.SetsockoptInt(s, syscall.IPPROTO_IP, syscall.IP_MULTICAST_LOOP, 0)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("multicast options: %w", err)
	}
	return nil
}

// allowBroadcast lets c send to a broadcast address.
func allowBroadcast(c syscall.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("SO_BROADCAST: %w", serr)
	}
	return nil
}
