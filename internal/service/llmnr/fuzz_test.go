package llmnr

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// sink is a PacketConn that keeps what is written to it.
type sink struct {
	net.PacketConn
	mu  sync.Mutex
	out [][]byte
}

func (s *sink) WriteTo(b []byte, _ net.Addr) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = append(s.out, bytes.Clone(b))
	return len(b), nil
}

func (s *sink) LocalAddr() net.Addr { return &net.UDPAddr{} }

// fuzzServers are a Windows and a Linux decky (the answers differ).
func fuzzServers(t testing.TB) []*Server {
	var out []*Server
	for _, h := range []service.Host{winHost("127.0.118.90"), linuxHost("127.0.118.91")} {
		id, err := newIdentity(h, defaultPersona().(*Persona))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, newServer(service.Config{Host: h, Emit: &testutil.Events{}}, defaultPersona().(*Persona), id))
	}
	return out
}

// fuzzDetector is a detector that has asked for FILSRV02, for answers to
// be checked against, without sockets.
func fuzzDetector(s *Server) *detector {
	return &detector{s: s, asked: map[string]time.Time{"FILSRV02": time.Now()}, reported: map[string]bool{}, warned: map[string]bool{}}
}

// FuzzNBNS: NetBIOS name service datagrams, decoded and answered by both
// responders; an answer is never larger than a node status reply and
// always decodes.
func FuzzNBNS(f *testing.F) {
	f.Add(nbQuery(1, newNBName("WS-ACCT-07", 0x20), true))
	f.Add(nbQuery(2, wildcard(), false))
	f.Add(nbPositive(3, nbRD, newNBName("FILSRV02", 0x20), 300000, 0, netip.MustParseAddr("10.0.0.66")))
	f.Add(nbNodeStatus(4, wildcard(), fuzzServers(f)[0].id.nbTable(), []byte{0, 1, 2, 3, 4, 5}))
	srvs := fuzzServers(f)
	det := fuzzDetector(srvs[0])
	f.Fuzz(func(t *testing.T, pkt []byte) {
		det.observe(protoNBNS, netip.MustParseAddrPort("10.0.0.66:137"), pkt)
		p, err := parseNBNS(pkt)
		if err != nil {
			return
		}
		if p.question != nil {
			again, err := parseNBNS(append(appendHeader(nil, 0, 0, 1, 0), append(appendName(nil, p.question.name), 0, 0x20, 0, 1)...))
			if err != nil || again.question.name != p.question.name {
				t.Fatalf("name %q does not survive encoding: %v", p.question.name, err)
			}
		}
		for _, s := range srvs {
			reply := s.id.answerNBNS(p)
			if reply == nil {
				continue
			}
			if len(reply) > 512 {
				t.Fatalf("reply of %d bytes", len(reply))
			}
			if _, err := parseNBNS(reply); err != nil {
				t.Fatalf("reply %x does not decode: %v", reply, err)
			}
		}
	})
}

// FuzzDNS: LLMNR and mDNS datagrams through miekg/dns and the server's
// handling (recording, answering, coalescing), from a multicast-port
// and a legacy source; answers stay within the request plus a DNS
// datagram.
func FuzzDNS(f *testing.F) {
	srvs := fuzzServers(f)
	det := fuzzDetector(srvs[1])
	f.Fuzz(func(t *testing.T, pkt []byte) {
		det.observe(protoLLMNR, netip.MustParseAddrPort("10.0.0.66:5355"), pkt)
		det.observe(protoMDNS, netip.MustParseAddrPort("10.0.0.66:5353"), pkt)
		for _, s := range srvs {
			for _, proto := range []string{protoLLMNR, protoMDNS} {
				for _, port := range []int{PortMDNS, 40000} {
					out := &sink{}
					ep := endpoint{proto: proto, via: viaMulticast, reply: out}
					s.datagram(ep, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, pkt, nil)
					for _, r := range out.out {
						if len(r) > len(pkt)+512 {
							t.Fatalf("%s answer of %d bytes to %d", proto, len(r), len(pkt))
						}
					}
				}
			}
			// Forget the sources, so the rate limit does not end the
			// fuzzing's coverage.
			s.lim = newLimiter()
			s.co.flush(time.Now().Add(coalesceWindow), true)
		}
	})
}
