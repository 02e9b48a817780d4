package lan

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"decnet/internal/testutil"
)

func requireRoot(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t, "to create network namespaces and interfaces")
}

// onThreadIn runs f on a thread switched into ns. The thread is locked and
// left to die with its goroutine if switching back fails, so no other
// goroutine ever runs in the wrong namespace.
func onThreadIn(ns netns.NsHandle, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			done <- err
			return
		}
		ferr := f()
		if err := netns.Set(orig); err != nil {
			done <- errors.Join(ferr, err)
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}

// newNS creates an empty network namespace, removed with the test, and a
// netlink handle into it.
func newNS(t *testing.T) (netns.NsHandle, *netlink.Handle) {
	t.Helper()
	requireRoot(t)
	cur, err := netns.Get()
	must(t, "current network namespace", err)
	defer cur.Close()
	var ns netns.NsHandle
	// netns.New switches the thread into the new namespace; onThreadIn
	// switches it back.
	must(t, "new network namespace", onThreadIn(cur, func() (err error) {
		ns, err = netns.New()
		return err
	}))
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		t.Fatalf("netlink handle: %v", err)
	}
	t.Cleanup(func() {
		h.Close()
		ns.Close()
	})
	return ns, h
}

// must fails the test on err, naming the step.
func must(t *testing.T, step string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// addBridge makes a LAN bridge named name in h's namespace, up and with
// carrier (a veth port whose peer is up too), holding addr when it is valid.
func addBridge(t *testing.T, h *netlink.Handle, name string, addr netip.Prefix) netlink.Link {
	t.Helper()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	must(t, "add bridge", h.LinkAdd(br))
	port := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name + "p", MasterIndex: br.Index}, PeerName: name + "q"}
	must(t, "add bridge port", h.LinkAdd(port))
	peer, err := h.LinkByName(name + "q")
	must(t, "look up port peer", err)
	must(t, "port up", h.LinkSetUp(port))
	must(t, "port peer up", h.LinkSetUp(peer))
	must(t, "bridge up", h.LinkSetUp(br))
	if addr.IsValid() {
		must(t, "bridge address", h.AddrAdd(br, &netlink.Addr{IPNet: ipNet(addr)}))
	}
	l, err := h.LinkByName(name)
	must(t, "look up bridge", err)
	return l
}

func addDefaultRoute(t *testing.T, h *netlink.Handle, link netlink.Link, gw string) {
	t.Helper()
	must(t, "default route", h.RouteAdd(&netlink.Route{LinkIndex: link.Attrs().Index, Gw: net.ParseIP(gw)}))
}

// addDecky puts a decky in a namespace of its own: a macvlan (bridge mode)
// or ipvlan (L2) child of parent, as docker makes them, holding addr.
func addDecky(t *testing.T, h *netlink.Handle, parent netlink.Link, ipvlan bool, addr netip.Prefix) netns.NsHandle {
	t.Helper()
	ns, hd := newNS(t)
	attrs := netlink.LinkAttrs{Name: "decky0", ParentIndex: parent.Attrs().Index}
	var l netlink.Link = &netlink.Macvlan{LinkAttrs: attrs, Mode: netlink.MACVLAN_MODE_BRIDGE}
	if ipvlan {
		l = &netlink.IPVlan{LinkAttrs: attrs, Mode: netlink.IPVLAN_MODE_L2}
	}
	must(t, "add decky link", h.LinkAdd(l))
	must(t, "move decky link", h.LinkSetNsFd(l, int(ns)))
	dl, err := hd.LinkByName("decky0")
	must(t, "look up decky link", err)
	must(t, "decky address", hd.AddrAdd(dl, &netlink.Addr{IPNet: ipNet(addr)}))
	must(t, "decky up", hd.LinkSetUp(dl))
	return ns
}

// serve listens on addr inside ns and answers every connection with "ok".
func serve(t *testing.T, ns netns.NsHandle, addr string) {
	t.Helper()
	var ln net.Listener
	must(t, "listen in decky", onThreadIn(ns, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ok"))
			c.Close()
		}
	}()
}

// reach dials addr from inside ns and reads the server's answer.
func reach(ns netns.NsHandle, addr string, timeout time.Duration) error {
	var conn net.Conn
	err := onThreadIn(ns, func() (err error) {
		d := net.Dialer{Timeout: timeout}
		conn, err = d.Dial("tcp", addr)
		return err
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	buf := make([]byte, 2)
	if _, err := conn.Read(buf); err != nil {
		return err
	}
	if string(buf) != "ok" {
		return fmt.Errorf("answer %q", buf)
	}
	return nil
}
