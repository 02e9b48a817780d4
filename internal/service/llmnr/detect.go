package llmnr

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"decnet/internal/event"
	"decnet/internal/pause"
)

// Detector bounds: how long a name asked stays a bait (answers may come
// late), and how many poisoner reports are remembered for de-duplication
// (beyond it, further reports are dropped).
const (
	baitKeep    = 10 * time.Minute
	maxReported = 1024
	// firstRound caps the wait before the first round.
	firstRound = 30 * time.Second
)

// detector is the poisoning detector: it asks the LAN for names that do
// not exist and reports whoever answers. Poisoners answer every name
// (Responder, Inveigh); honest hosts answer only their own.
type detector struct {
	s     *Server
	lan   lan
	conns map[string]*net.UDPConn // the questions' sockets, by protocol
	rng   *mrand.Rand

	mu       sync.Mutex
	round    int
	asked    map[string]time.Time // upper-case name → when last asked
	reported map[string]bool      // responder, protocol and name reported
	warned   map[string]bool      // protocols whose send failure was logged
}

// newDetector opens the detector's sockets, one a protocol, on the
// decky's address: answers come back to them.
func newDetector(s *Server, l lan) (*detector, error) {
	var seed [32]byte
	rand.Read(seed[:])
	d := &detector{s: s, lan: l, conns: map[string]*net.UDPConn{}, rng: mrand.New(mrand.NewChaCha8(seed)),
		asked: map[string]time.Time{}, reported: map[string]bool{}, warned: map[string]bool{}}
	for _, proto := range []string{protoLLMNR, protoMDNS, protoNBNS} {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.id.ip, 0)))
		if err != nil {
			d.close()
			return nil, fmt.Errorf("detector socket: %w", err)
		}
		d.conns[proto] = c
		switch proto {
		case protoLLMNR:
			err = multicastFrom(c, s.id.ip, 1) // link-local, as Windows sends it
		case protoMDNS:
			err = multicastFrom(c, s.id.ip, 255) // RFC 6762 §11
		default:
			err = allowBroadcast(c)
		}
		if err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

func (d *detector) close() {
	for _, c := range d.conns {
		c.Close()
	}
}

// run asks a round of questions every interval, jittered, and reads the
// answers, until ctx is done.
func (d *detector) run(ctx context.Context) {
	var wg sync.WaitGroup
	for proto, c := range d.conns {
		wg.Go(func() { d.read(ctx, proto, c) })
	}
	defer wg.Wait()
	defer d.close()
	interval := time.Duration(d.s.p.DetectInterval)
	wait := time.Duration(d.rng.Int64N(int64(min(interval, firstRound))))
	for pause.For(ctx, wait) {
		d.ask()
		wait = time.Duration(float64(interval) * (0.8 + 0.4*d.rng.Float64()))
	}
}

// read hands the answers that reach c to observe.
func (d *detector) read(ctx context.Context, proto string, c *net.UDPConn) {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, maxDatagram)
	for {
		n, ap, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			if !pause.For(ctx, 10*time.Millisecond) {
				return
			}
			continue
		}
		d.observe(proto, ap, buf[:n])
	}
}

// nextName is the round's name: the persona's in turn, or a new one.
func (d *detector) nextName() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.round++
	if names := d.s.p.DetectNames; len(names) > 0 {
		return strings.ToUpper(names[(d.round-1)%len(names)])
	}
	for {
		if n := baitName(d.rng); !strings.EqualFold(n, d.s.id.netbios) && !strings.EqualFold(n, d.s.id.label) {
			return n
		}
	}
}

// ask sends one round: the same name over LLMNR, NBNS and mDNS.
func (d *detector) ask() {
	name := d.nextName()
	now := d.s.now()
	d.mu.Lock()
	for n, t := range d.asked {
		if now.Sub(t) > max(baitKeep, 3*time.Duration(d.s.p.DetectInterval)) {
			delete(d.asked, n)
		}
	}
	d.asked[name] = now
	d.mu.Unlock()
	var idb [2]byte
	rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	llmnr := &dns.Msg{MsgHdr: dns.MsgHdr{Id: id}, Question: []dns.Question{{Name: dns.Fqdn(strings.ToLower(name)), Qtype: dns.TypeA, Qclass: dns.ClassINET}}}
	mdns := &dns.Msg{Question: []dns.Question{{Name: dns.Fqdn(strings.ToLower(name) + ".local"), Qtype: dns.TypeA, Qclass: dns.ClassINET}}}
	d.send(protoLLMNR, pack(llmnr), netip.AddrPortFrom(groupLLMNR, PortLLMNR))
	d.send(protoNBNS, nbQuery(id, newNBName(name, 0x20), true), netip.AddrPortFrom(d.lan.bcast, PortNBNS))
	d.send(protoMDNS, pack(mdns), netip.AddrPortFrom(groupMDNS, PortMDNS))
}

func pack(m *dns.Msg) []byte {
	b, _ := m.Pack() // a question of a valid name always packs
	return b
}

// send sends a question; a failure is logged once per protocol, not per
// round.
func (d *detector) send(proto string, b []byte, to netip.AddrPort) {
	_, err := d.conns[proto].WriteToUDPAddrPort(b, to)
	if err == nil {
		return
	}
	d.mu.Lock()
	first := !d.warned[proto]
	d.warned[proto] = true
	d.mu.Unlock()
	if first {
		d.s.cfg.Log.Warn("llmnr: poisoning detector cannot send", "proto", proto, "to", to, "err", err)
	}
}

// isBait reports whether name was asked by the detector.
func (d *detector) isBait(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.asked[strings.ToUpper(name)]
	return ok
}

// observe reports a poisoner when pkt answers for a bait name, and says
// whether pkt was such an answer.
func (d *detector) observe(proto string, from netip.AddrPort, pkt []byte) bool {
	if from.Addr().Unmap() == d.s.id.ip {
		return false
	}
	var name string
	var claims []string
	if proto == protoNBNS {
		p, err := parseNBNS(pkt)
		if err != nil || p.flags&nbResponse == 0 || p.answer == nil || p.answer.rtype != nbTypeNB {
			return false
		}
		name = p.answer.name.base()
		for r := p.answer.rdata; len(r) >= 6 && len(claims) < 4; r = r[6:] {
			claims = append(claims, netip.AddrFrom4([4]byte(r[2:6])).String())
		}
	} else {
		m := new(dns.Msg)
		if m.Unpack(pkt) != nil || !m.Response {
			return false
		}
		for _, rr := range m.Answer[:min(len(m.Answer), maxQuestions)] {
			n := strings.TrimSuffix(rr.Header().Name, ".")
			if proto == protoMDNS {
				n = strings.TrimSuffix(strings.ToLower(n), ".local")
			}
			if !d.isBait(n) {
				continue
			}
			name = n
			switch a := rr.(type) {
			case *dns.A:
				claims = append(claims, a.A.String())
			case *dns.AAAA:
				claims = append(claims, a.AAAA.String())
			}
		}
	}
	if name == "" || !d.isBait(name) {
		return false
	}
	d.report(proto, from, strings.ToUpper(name), claims)
	return true
}

// report emits a poisoner event, once per responder, protocol and name.
func (d *detector) report(proto string, from netip.AddrPort, name string, claims []string) {
	key := from.Addr().String() + "\x00" + proto + "\x00" + name
	d.mu.Lock()
	if d.reported[key] || len(d.reported) >= maxReported {
		d.mu.Unlock()
		return
	}
	d.reported[key] = true
	d.mu.Unlock()
	f := event.Peer(net.UDPAddrFromAddrPort(from))
	f[fieldProto] = proto
	f[fieldName] = name
	f[fieldAnswer] = strings.Join(claims, ",")
	if mac := arpLookup(from.Addr()); mac != "" {
		f[fieldMAC] = mac
	}
	d.s.emit(typePoisoner, event.Critical, f, fmt.Sprintf("%s poisoner: %s answered for %s, a name that does not exist, claiming %s",
		strings.ToUpper(proto), from.Addr(), name, f[fieldAnswer]))
}

// arpLookup is the hardware address the kernel's neighbour table holds
// for ip, or "".
func arpLookup(ip netip.Addr) string {
	f, err := os.Open("/proc/net/arp")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// IP address, HW type, Flags, HW address, Mask, Device
		cols := strings.Fields(sc.Text())
		if len(cols) >= 4 && cols[0] == ip.String() && cols[2] != "0x0" && cols[3] != "00:00:00:00:00:00" {
			return cols[3]
		}
	}
	return ""
}
