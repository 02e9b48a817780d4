package llmnr

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/miekg/dns"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/udplimit"
)

// Event types of the service.
const (
	// typeQuery is a name query or node status request (repeats of one
	// within a minute are summed up in a later one with a count).
	typeQuery = "query"
	// typeError is a datagram that does not parse, or the first of a
	// source's datagrams dropped by the rate limit.
	typeError = "error"
	// typePoisoner is a host that answered the detector's question for a
	// name that does not exist: a poisoner.
	typePoisoner = "poisoner"
)

// Event field names of this service.
const (
	fieldProto    = "proto"
	fieldName     = "name"
	fieldQtype    = "qtype"
	fieldSuffix   = "suffix"
	fieldVia      = "via"
	fieldAnswered = "answered"
	fieldCount    = "count"
	fieldRepeated = "repeated"
	fieldData     = "data"
	fieldSize     = "size"
	fieldError    = "error"
	fieldDropped  = "dropped"
	fieldAnswer   = "answer"
	fieldMAC      = "mac"
)

// Protocols, as the proto field names them.
const (
	protoLLMNR = "llmnr"
	protoMDNS  = "mdns"
	protoNBNS  = "nbns"
)

// How a query reached the decky.
const (
	viaUnicast   = "unicast"
	viaMulticast = "multicast"
	viaBroadcast = "broadcast"
)

// Sizes: a datagram read is cut at maxDatagram (mDNS's 9000-byte
// limit); malformed ones are shown by their first hexBytes bytes; names
// in events are cut at maxFieldBytes.
const (
	maxDatagram   = 9000
	hexBytes      = 64
	maxFieldBytes = 256
)

// Server is one decky's name service.
type Server struct {
	cfg service.Config
	p   *Persona
	id  identity
	lim *udplimit.Limiter
	co  *coalescer
	now func() time.Time
}

func newServer(cfg service.Config, p *Persona, id identity) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, p: p, id: id, lim: newLimiter(), co: newCoalescer(), now: time.Now}
}

// endpoint is a socket the server reads, and the socket its answers go
// out of (the runtime's, on the decky's own address).
type endpoint struct {
	pc    net.PacketConn
	proto string
	via   string
	reply net.PacketConn
}

// protoOf is the protocol of a declared port.
func protoOf(port int) string {
	switch port {
	case PortLLMNR:
		return protoLLMNR
	case PortMDNS:
		return protoMDNS
	case PortNBNS:
		return protoNBNS
	}
	return ""
}

// Serve answers on the runtime's sockets and on the LAN's multicast
// groups and broadcast address, and runs the poisoning detector, until
// ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	var eps []endpoint
	uni := map[string]net.PacketConn{}
	for port, pc := range ls.UDP {
		if proto := protoOf(port); proto != "" {
			uni[proto] = pc
			eps = append(eps, endpoint{pc: pc, proto: proto, via: viaUnicast, reply: pc})
		}
	}
	var det *detector
	l, lanErr := findLAN(s.id.ip)
	if lanErr != nil {
		s.cfg.Log.Info("llmnr: the LAN's multicast and broadcast are out of reach; serving unicast queries only", "err", lanErr)
	} else {
		lanEps, closeAll := s.openLAN(l, uni)
		defer closeAll()
		eps = append(eps, lanEps...)
	}
	if s.p.Detect {
		if lanErr != nil {
			s.cfg.Log.Info("llmnr: poisoning detector off: it needs the LAN's multicast and broadcast", "err", lanErr)
		} else if d, err := newDetector(s, l); err != nil {
			s.cfg.Log.Warn("llmnr: poisoning detector off", "err", err)
		} else {
			det = d
			defer det.close()
		}
	}
	var wg sync.WaitGroup
	for _, ep := range eps {
		wg.Go(func() { s.serve(ctx, ep, det) })
	}
	if det != nil {
		wg.Go(func() { det.run(ctx) })
	}
	wg.Go(func() { s.flushLoop(ctx) })
	wg.Wait()
	for _, f := range s.co.flush(s.now(), true) {
		s.emitQuery(f)
	}
	return nil
}

// openLAN opens the sockets that hear the LAN: the LLMNR and mDNS groups
// and the subnet's broadcast to port 137. What fails is logged and left
// out. closeAll closes what was opened.
func (s *Server) openLAN(l lan, uni map[string]net.PacketConn) (eps []endpoint, closeAll func()) {
	var opened []net.PacketConn
	add := func(pc net.PacketConn, err error, proto, via string) {
		if err != nil {
			s.cfg.Log.Warn("llmnr: cannot hear the LAN", "proto", proto, "err", err)
			return
		}
		opened = append(opened, pc)
		reply := uni[proto]
		if reply == nil {
			reply = pc
		}
		eps = append(eps, endpoint{pc: pc, proto: proto, via: via, reply: reply})
	}
	c, err := l.listenGroup(groupLLMNR, PortLLMNR, s.id.ip)
	add(c, err, protoLLMNR, viaMulticast)
	c, err = l.listenGroup(groupMDNS, PortMDNS, s.id.ip)
	add(c, err, protoMDNS, viaMulticast)
	if sc, ok := uni[protoMDNS].(*net.UDPConn); ok {
		// mDNS answers to the group go out of the decky's own socket.
		if err := multicastFrom(sc, s.id.ip, 255); err != nil {
			s.cfg.Log.Warn("llmnr: mDNS answers to the group will fail", "err", err)
		}
	}
	b, err := l.listenBroadcast(PortNBNS)
	add(b, err, protoNBNS, viaBroadcast)
	return eps, func() {
		for _, pc := range opened {
			pc.Close()
		}
	}
}

// flushLoop records the counts of repeated queries as their windows end.
func (s *Server) flushLoop(ctx context.Context) {
	t := time.NewTicker(coalesceWindow / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, f := range s.co.flush(s.now(), false) {
				s.emitQuery(f)
			}
		}
	}
}

// serve reads ep until ctx is done or its socket is closed.
func (s *Server) serve(ctx context.Context, ep endpoint, det *detector) {
	service.ServeUDP(ctx, ep.pc, maxDatagram, func(peer *net.UDPAddr, b []byte) { s.datagram(ep, peer, b, det) })
}

// datagram handles one datagram from peer.
func (s *Server) datagram(ep endpoint, peer *net.UDPAddr, pkt []byte, det *detector) {
	ap := peer.AddrPort()
	if ap.Addr().Unmap() == s.id.ip {
		return // the decky's own detector, heard back
	}
	if det != nil && det.observe(ep.proto, ap, pkt) {
		return
	}
	fields := event.Peer(peer)
	fields[fieldProto] = ep.proto
	fields[fieldVia] = ep.via
	// A full table of sources drops unrecorded: the event names a source
	// over its rate.
	if reason, report := s.lim.Admit(fields[event.FieldSrcIP], s.now()); reason != "" {
		if report && reason == udplimit.Rate {
			fields[fieldDropped] = "rate limit"
			s.emit(typeError, event.Warning, fields, fmt.Sprintf("%s datagrams from %s over the rate limit are dropped", strings.ToUpper(ep.proto), fields[event.FieldSrcIP]))
		}
		return
	}
	switch ep.proto {
	case protoNBNS:
		s.nbns(ep, peer, pkt, fields)
	default:
		s.dns(ep, peer, pkt, fields)
	}
}

// dns handles an LLMNR or mDNS datagram.
func (s *Server) dns(ep endpoint, peer *net.UDPAddr, pkt []byte, fields map[string]string) {
	m := new(dns.Msg)
	if err := m.Unpack(pkt); err != nil {
		s.malformed(pkt, fields, err)
		return
	}
	if m.Response {
		return // the LAN's answers to others are not queries
	}
	var reply *dns.Msg
	to := peer
	if ep.proto == protoLLMNR {
		reply = s.id.answerLLMNR(m)
	} else {
		legacy := peer.Port != PortMDNS
		reply = s.id.answerMDNS(m, legacy)
		if reply != nil && !legacy && ep.via == viaMulticast && !askedUnicast(m) {
			to = net.UDPAddrFromAddrPort(netip.AddrPortFrom(groupMDNS, PortMDNS))
		}
	}
	answered := false
	if reply != nil {
		if b, err := reply.Pack(); err == nil {
			_, err = ep.reply.WriteTo(b, to)
			answered = err == nil
			if err != nil {
				s.cfg.Log.Debug("llmnr: answer not sent", "proto", ep.proto, "to", to, "err", err)
			}
		}
	}
	for i, q := range m.Question[:min(len(m.Question), maxQuestions)] {
		if i > 0 && !s.lim.Spend(fields[event.FieldSrcIP]) {
			break // each further question costs the source as a datagram does
		}
		f := event.With(fields, map[string]string{
			fieldName:     fieldText(strings.TrimSuffix(q.Name, ".")),
			fieldQtype:    qtypeName(q.Qtype),
			fieldAnswered: strconv.FormatBool(answered && s.owns(ep.proto, q.Name)),
		})
		s.record(f)
	}
}

// askedUnicast reports whether an mDNS query's questions all ask for a
// unicast answer (the QU bit).
func askedUnicast(m *dns.Msg) bool {
	for _, q := range m.Question {
		if q.Qclass&mdnsQU == 0 {
			return false
		}
	}
	return len(m.Question) > 0
}

// owns reports whether a question's name got an answer of the decky's.
func (s *Server) owns(proto, name string) bool {
	if proto == protoLLMNR {
		return s.id.ownsDNS(name)
	}
	return len(s.id.mdnsRecords(name, dns.TypeANY)) > 0
}

// nbns handles a NetBIOS name service datagram.
func (s *Server) nbns(ep endpoint, peer *net.UDPAddr, pkt []byte, fields map[string]string) {
	p, err := parseNBNS(pkt)
	if err != nil {
		s.malformed(pkt, fields, err)
		return
	}
	if p.flags&nbResponse != 0 || p.opcode() != 0 || p.question == nil {
		return // answers, registrations and releases are the LAN's chatter
	}
	answered := false
	if reply := s.id.answerNBNS(p); reply != nil {
		_, err := ep.reply.WriteTo(reply, peer)
		answered = err == nil
		if err != nil {
			s.cfg.Log.Debug("llmnr: answer not sent", "proto", ep.proto, "to", peer, "err", err)
		}
	}
	q := p.question
	qtype := fmt.Sprintf("TYPE%d", q.qtype)
	switch q.qtype {
	case nbTypeNB:
		qtype = "NB"
	case nbTypeNBSTAT:
		qtype = "NBSTAT"
	}
	name := fieldText(q.name.base())
	if q.name.scope != "" {
		name += "." + fieldText(q.name.scope)
	}
	s.record(event.With(fields, map[string]string{
		fieldName:     name,
		fieldSuffix:   fmt.Sprintf("%02x", q.name.suffix()),
		fieldQtype:    qtype,
		fieldAnswered: strconv.FormatBool(answered),
	}))
}

// record emits a query event, or counts it when it repeats one.
func (s *Server) record(f map[string]string) {
	key := strings.Join([]string{f[event.FieldSrcIP], f[fieldProto], strings.ToLower(f[fieldName]), f[fieldSuffix], f[fieldQtype]}, "\x00")
	summaries, fresh := s.co.see(key, f, s.now())
	for _, sf := range summaries {
		s.emitQuery(sf)
	}
	if fresh {
		s.emitQuery(event.With(f, nil))
	}
}

// emitQuery emits a query event.
func (s *Server) emitQuery(f map[string]string) {
	what := f[fieldName]
	if f[fieldSuffix] != "" {
		what += "<" + f[fieldSuffix] + ">"
	}
	msg := fmt.Sprintf("%s %s query for %s from %s", strings.ToUpper(f[fieldProto]), f[fieldQtype], what, f[event.FieldSrcIP])
	if f[fieldCount] != "" {
		msg += fmt.Sprintf(" repeated %s times", f[fieldCount])
	}
	s.emit(typeQuery, event.Info, f, msg)
}

// malformed records a datagram that does not parse.
func (s *Server) malformed(pkt []byte, fields map[string]string, err error) {
	fields[fieldData] = hex.EncodeToString(pkt[:min(len(pkt), hexBytes)])
	fields[fieldSize] = strconv.Itoa(len(pkt))
	fields[fieldError] = event.Clip(err.Error(), maxFieldBytes)
	s.emit(typeError, event.Warning, fields, fmt.Sprintf("malformed %s datagram from %s", strings.ToUpper(fields[fieldProto]), fields[event.FieldSrcIP]))
}

func (s *Server) emit(typ string, sev event.Severity, fields map[string]string, msg string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: fields, Msg: msg})
}

// fieldText is attacker text for an event field: at most maxFieldBytes,
// and quoted (Go syntax) when it is not printable UTF-8, so control bytes
// stay visible and unambiguous.
func fieldText(s string) string {
	s = event.Clip(s, maxFieldBytes)
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}
