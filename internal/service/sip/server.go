package sip

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/udplimit"
)

// tcpLimits bound TCP connections: kamailio closes idle TCP connections
// after tcp_connection_lifetime (120 s).
var tcpLimits = service.Limits{MaxConns: 256, MaxPerSource: 16, Idle: 2 * time.Minute, Lifetime: 30 * time.Minute}

// Server is one decky's SIP server.
type Server struct {
	cfg service.Config
	h   handler
	lim *udplimit.Limiter
	now func() time.Time

	mu      sync.Mutex
	pending map[string]context.CancelFunc // repeated INVITE replies by ACK key
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	var h handler
	switch p.Product {
	case productKamailio:
		h = newKamailio(p, cfg.Host.Name, cfg.Host.Hostname, cfg.Host.IP)
	default:
		h = newAsterisk(p, cfg.Host.Name)
	}
	return &Server{cfg: cfg, h: h, lim: udplimit.New(defaultLimits()), now: time.Now,
		pending: map[string]context.CancelFunc{}}, nil
}

// Serve answers on every UDP and TCP listener until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	var wg sync.WaitGroup
	for _, pc := range ls.UDP {
		wg.Go(func() { s.serveUDP(ctx, pc, &wg) })
	}
	for _, ln := range ls.TCP {
		wg.Go(func() { service.ServeTCP(ctx, ln, s.cfg.Emit, tcpLimits, s.serveConn) })
	}
	wg.Wait()
	return nil
}

func (s *Server) serveUDP(ctx context.Context, pc net.PacketConn, wg *sync.WaitGroup) {
	service.ServeUDP(ctx, pc, maxDatagram, func(peer *net.UDPAddr, b []byte) {
		fields := event.Peer(peer)
		fields["dst_port"] = portOf(pc.LocalAddr())
		now := s.now()
		if reason, report := s.lim.Admit(fields[event.FieldSrcIP], now); reason != "" {
			if report {
				fields[fieldDropped] = string(reason)
				s.emit(typeError, event.Warning, fields)
			}
			return
		}
		m, err := parseDatagram(b)
		if err != nil {
			s.parseError(fields, b, err)
			return
		}
		r := &request{msg: m, transport: "UDP", srcIP: peer.IP.String(), srcPort: peer.Port,
			localIP: s.localIP(pc.LocalAddr()), now: now, fields: fields}
		for _, rep := range s.answer(r) {
			pc.WriteTo(rep.data, peer)
			if len(rep.retransmit) > 0 {
				s.retransmit(ctx, wg, pc, peer, r, rep)
			}
		}
	})
}

// serveConn reads requests from one TCP connection, framed by
// Content-Length, each within the connection's idle deadline.
func (s *Server) serveConn(ctx context.Context, c *service.Conn) {
	br := bufio.NewReaderSize(c, 4096)
	peer, _ := c.RemoteAddr().(*net.TCPAddr)
	if peer == nil {
		return
	}
	for ctx.Err() == nil {
		raw, m, err := readTCPMessage(br)
		if err != nil {
			if len(raw) > 0 {
				s.parseError(c.Fields(), raw, err)
			}
			return
		}
		r := &request{msg: m, transport: "TCP", srcIP: peer.IP.String(), srcPort: peer.Port,
			localIP: s.localIP(c.LocalAddr()), now: s.now(), fields: c.Fields()}
		for _, rep := range s.answer(r) {
			if _, err := c.Write(rep.data); err != nil {
				return
			}
		}
	}
}

// readTCPMessage reads one message: the header section (bounded), then
// Content-Length bytes of body (none without the header). raw is what
// was read, for the error event.
func readTCPMessage(br *bufio.Reader) (raw []byte, m *message, err error) {
	var head bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		head.Write(line)
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return head.Bytes(), nil, errTooLong
			}
			if errors.Is(err, io.EOF) && head.Len() == 0 {
				return nil, nil, err
			}
			return head.Bytes(), nil, err
		}
		if head.Len() > maxHeaderBytes {
			return head.Bytes(), nil, errHeaderTooBig
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			if len(bytes.TrimLeft(head.Bytes(), "\r\n")) == 0 {
				head.Reset() // CRLF keep-alives between messages
				continue
			}
			break
		}
	}
	m, err = parseHead(head.Bytes())
	if err != nil {
		return head.Bytes(), nil, err
	}
	n, err := m.contentLength()
	if err != nil {
		return head.Bytes(), nil, err
	}
	if n > 0 {
		m.body = make([]byte, n)
		if _, err := io.ReadFull(br, m.body); err != nil {
			return head.Bytes(), nil, err
		}
	}
	return head.Bytes(), m, nil
}

// answer runs the product's handler on r, emits r's events and returns
// the replies. An ACK stops the repeats of the reply it acknowledges.
func (s *Server) answer(r *request) []reply {
	r.fields = requestFields(r.fields, r)
	if r.msg.method == "ACK" {
		s.acked(r)
	}
	if cred, ok := credentialsOf(r.msg); ok {
		r.cred = &cred
		r.auth = authFields(event.With(r.fields, nil), r, cred)
	}
	replies := s.h.handle(r)
	if _, ok := r.fields[fieldStatus]; !ok {
		r.fields[fieldStatus] = "no reply"
	}
	sev := event.Info
	if r.fields[fieldScanner] != "" {
		sev = event.Warning
	}
	s.emit(event.TypeRequest, sev, r.fields)
	if r.auth != nil {
		r.auth[fieldStatus] = r.fields[fieldStatus]
		s.emit(event.TypeAuth, event.Warning, r.auth)
	}
	if r.call != nil {
		sev := event.Warning
		if r.call[fieldIntent] == "toll_fraud" {
			sev = event.Critical
		}
		s.emit(typeCall, sev, event.With(r.fields, r.call))
	}
	return replies
}

// parseError records a message that could not be parsed: both products
// drop it without a reply.
func (s *Server) parseError(fields map[string]string, raw []byte, err error) {
	f := event.With(fields, map[string]string{
		fieldError: err.Error(),
		"size":     strconv.Itoa(len(raw)),
		"data":     hex.EncodeToString(raw[:min(len(raw), 64)]),
	})
	s.emit(typeError, event.Info, f)
}

// retransmit repeats rep to peer on the handler's schedule until the ACK,
// within the limits; past them the reply has been sent once.
func (s *Server) retransmit(ctx context.Context, wg *sync.WaitGroup, pc net.PacketConn, peer *net.UDPAddr, r *request, rep reply) {
	ip := peer.IP.String()
	if s.lim.Start(ip, r.now) != "" {
		return
	}
	key := ackKey(r)
	rctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	if old := s.pending[key]; old != nil {
		old()
	}
	s.pending[key] = cancel
	s.mu.Unlock()
	wg.Go(func() {
		defer s.lim.Done(ip)
		defer func() {
			s.mu.Lock()
			if s.pending[key] != nil {
				delete(s.pending, key)
			}
			s.mu.Unlock()
			cancel()
		}()
		for _, gap := range rep.retransmit {
			t := time.NewTimer(gap)
			select {
			case <-rctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			pc.WriteTo(rep.data, peer)
		}
	})
}

// acked stops the repeats an ACK answers.
func (s *Server) acked(r *request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cancel := s.pending[ackKey(r)]; cancel != nil {
		cancel()
		delete(s.pending, ackKey(r))
	}
}

// ackKey matches an INVITE with its ACK: source, Call-ID and CSeq number.
func ackKey(r *request) string {
	num, _, _ := r.msg.cseq()
	return r.srcIP + "\x00" + r.msg.get("call-id") + "\x00" + strconv.FormatUint(uint64(num), 10)
}

// localIP is the address a request came to, or the decky's when the
// listener is bound to the wildcard address.
func (s *Server) localIP(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil || net.ParseIP(host).IsUnspecified() {
		return s.cfg.Host.IP
	}
	return host
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}

func (s *Server) emit(typ string, sev event.Severity, fields map[string]string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: fields})
}
