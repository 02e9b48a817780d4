package tftp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"decnet/internal/artifact"
	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/udplimit"
)

// Upload bounds: one upload keeps at most maxUpload bytes (the rest is
// acknowledged and dropped, as tftp-hpa does when its disk is full, since
// its writes never report failure); uploads under way and those kept for
// reading back share uploadBudget bytes of memory; an upload that goes on
// past discardLimit bytes is abandoned.
const (
	maxUpload    = 16 << 20
	uploadBudget = 32 << 20
	discardLimit = 256 << 20
)

// The server's own event types; requests use event.TypeRequest and uploads
// event.TypeFileCaptured.
const (
	// typeTransfer ends every transfer that was started: how far it got.
	typeTransfer = "transfer"
	// typeError is a datagram that is not a request, or requests dropped
	// unanswered by the limits (the first of a run).
	typeError = "error"
)

// Event field names of this service.
const (
	fieldFilename  = "filename"
	fieldMode      = "mode"
	fieldOptions   = "options"
	fieldErrorCode = "error_code"
	fieldError     = "error"
	fieldDropped   = "dropped"
	fieldResult    = "result"
)

// maxFieldBytes bounds the attacker's text in one event field.
const maxFieldBytes = 1024

// Server is one decky's TFTP server.
type Server struct {
	cfg    service.Config
	p      *Persona
	files  *tree
	art    *artifact.Store
	lim    *udplimit.Limiter
	limits limits
	now    func() time.Time
	// second is the length of a second in the protocol's timers (the
	// timeout option and the 1 s default); tests shorten it.
	second time.Duration
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	if cfg.Host.DataDir == "" {
		return nil, errors.New("tftp: no data directory")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	art, err := artifact.Open(filepath.Join(cfg.Host.DataDir, "artifacts"))
	if err != nil {
		return nil, fmt.Errorf("tftp: %w", err)
	}
	now := time.Now
	bait := baitFiles(baitSet(p.Bait, cfg.Host.OS), cfg.Host, now())
	for name, content := range p.Files {
		c, err := cleanPath(name)
		if err != nil {
			return nil, fmt.Errorf("tftp: files: %w", err)
		}
		// A persona file replaces generated ones it clashes with, as a
		// file or as a directory.
		for g := range bait {
			if g == c || isUnder(g, c) || isUnder(c, g) {
				delete(bait, g)
			}
		}
		bait[c] = []byte(content)
	}
	lim := defaultLimits()
	return &Server{cfg: cfg, p: p, files: newTree(bait, uploadBudget), art: art,
		lim: udplimit.New(lim.Limits), limits: lim, now: now, second: time.Second}, nil
}

// isUnder reports whether p lies inside directory dir.
func isUnder(p, dir string) bool {
	return len(p) > len(dir) && p[len(dir)] == '/' && p[:len(dir)] == dir
}

// Serve answers requests on every UDP listener until ctx is done, then
// waits for the transfers under way, which it stops.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	var wg sync.WaitGroup
	for _, pc := range ls.UDP {
		wg.Go(func() { s.serve(ctx, pc, &wg) })
	}
	wg.Wait()
	return nil
}

// serve reads requests from pc; transfers join wg.
func (s *Server) serve(ctx context.Context, pc net.PacketConn, wg *sync.WaitGroup) {
	// tftp-hpa reads a request into a buffer of PKTSIZE bytes; the rest
	// of a longer datagram is cut off.
	service.ServeUDP(ctx, pc, maxPacket, func(peer *net.UDPAddr, b []byte) {
		s.datagram(ctx, pc.LocalAddr(), peer, b, wg)
	})
}

// datagram handles one datagram to the server's port.
func (s *Server) datagram(ctx context.Context, local net.Addr, peer *net.UDPAddr, pkt []byte, wg *sync.WaitGroup) {
	fields := event.Peer(peer)
	if la, ok := local.(*net.UDPAddr); ok {
		fields["dst_port"] = strconv.Itoa(la.Port)
	}
	if reason, report := s.lim.Admit(fields[event.FieldSrcIP], s.now()); reason != "" {
		if report {
			fields[fieldDropped] = string(reason)
			s.emit(typeError, event.Warning, fields)
		}
		return
	}
	var op uint16
	if len(pkt) >= 2 {
		op = binary.BigEndian.Uint16(pkt)
	}
	if op != opRRQ && op != opWRQ {
		// tftp-hpa answers nothing but requests on its port.
		fields["opcode"] = strconv.Itoa(int(op))
		fields["data"] = hex.EncodeToString(pkt[:min(len(pkt), 64)])
		fields["size"] = strconv.Itoa(len(pkt))
		fields[fieldError] = "not a request"
		s.emit(typeError, event.Info, fields)
		return
	}
	fields[event.FieldSession] = newSessionID()
	s.request(ctx, local, peer, parseRequest(op, pkt[2:]), fields, wg)
}

// request answers an RRQ or WRQ: an ERROR, nothing, or a transfer.
func (s *Server) request(ctx context.Context, local net.Addr, peer *net.UDPAddr, req request, fields map[string]string, wg *sync.WaitGroup) {
	f := copyFields(fields)
	f[event.FieldMethod] = "RRQ"
	sev := event.Info
	if req.op == opWRQ {
		f[event.FieldMethod] = "WRQ"
		sev = event.Warning
	}
	f[fieldFilename] = fieldText(req.filename)
	if req.mode != "" {
		f[fieldMode] = fieldText(req.mode)
	}
	if len(req.options) > 0 {
		f[fieldOptions] = optionsJSON(req.options)
	}
	x, tftpErr, ignored := s.plan(req)
	switch {
	case ignored:
		f[fieldResult] = "ignored: file locked by a transfer under way"
		s.emit(event.TypeRequest, sev, f)
		return
	case tftpErr != nil:
		f[fieldErrorCode] = strconv.Itoa(int(tftpErr.code))
		f[fieldError] = tftpErr.msg
	default:
		if reason := s.lim.Start(fields[event.FieldSrcIP], s.now()); reason != "" {
			if x.write {
				s.files.unlock(x.path)
			}
			f[fieldDropped] = dropText(reason)
			s.emit(event.TypeRequest, sev, f)
			return
		}
		if !x.write && !x.dir {
			f["size"] = strconv.Itoa(len(x.data))
			sev = event.Warning
		}
	}
	s.emit(event.TypeRequest, sev, f)
	conn, err := s.dial(local, peer)
	if err != nil {
		s.cfg.Log.Warn("tftp: no socket for a reply", "err", err)
		if tftpErr == nil {
			s.abandon(x, fields)
		}
		return
	}
	if tftpErr != nil {
		conn.Write(errorPacket(*tftpErr))
		conn.Close()
		return
	}
	x.conn, x.fields, x.filename = conn, fields, req.filename
	wg.Go(func() {
		defer s.lim.Done(fields[event.FieldSrcIP])
		s.run(ctx, x)
	})
}

// abandon gives back what a planned transfer holds when it cannot start.
func (s *Server) abandon(x *xfer, fields map[string]string) {
	s.lim.Done(fields[event.FieldSrcIP])
	if x.write {
		s.files.unlock(x.path)
	}
}

// dial opens the transfer's own socket, on a new ephemeral port (its TID),
// connected to the client, as tftp-hpa's child does: the kernel then drops
// datagrams from anyone else, and nothing can be sent anywhere but to the
// requester.
func (s *Server) dial(local net.Addr, peer *net.UDPAddr) (*net.UDPConn, error) {
	var laddr *net.UDPAddr
	if la, ok := local.(*net.UDPAddr); ok && !la.IP.IsUnspecified() {
		laddr = &net.UDPAddr{IP: la.IP, Zone: la.Zone}
	}
	c, err := net.DialUDP("udp", laddr, peer)
	if err != nil {
		return nil, fmt.Errorf("tftp: %w", err)
	}
	return c, nil
}

// plan decides a request's answer in tftp-hpa's order: the errors of
// parsing up to the mode, the mode, opening the file, the errors of
// parsing after it, then the options. ignored is true when the file is
// locked by an upload (tftp-hpa's child exits without a word).
func (s *Server) plan(req request) (x *xfer, tftpErr *tftpError, ignored bool) {
	if req.headErr != nil {
		return nil, req.headErr, false
	}
	if e := modeError(req.mode); e != nil {
		return nil, e, false
	}
	l := s.files.resolve(req.filename)
	if l.err != nil {
		return nil, l.err, false
	}
	x = &xfer{path: l.path, netascii: req.mode == modeNetascii, write: req.op == opWRQ}
	n := negotiation{maxBlksize: s.p.MaxBlksize, second: s.second, tsizeOK: true}
	if x.write {
		switch {
		case l.kind == directory:
			return nil, &tftpError{errUndef, msgIsDir}, false
		case l.kind == regular && s.files.isBait(l.path):
			return nil, &tftpError{errUndef, msgDenied}, false
		case l.kind == missing && !s.p.Create:
			return nil, &tftpError{errNotFound, msgNotFound}, false
		case l.kind == missing && l.slash:
			return nil, &tftpError{errUndef, msgIsDir}, false
		}
		if !s.files.lock(l.path) {
			return nil, nil, true
		}
	} else {
		switch l.kind {
		case missing:
			return nil, &tftpError{errNotFound, msgNotFound}, false
		case directory:
			x.dir = true
			n.tsize = dirSize
		default:
			if s.files.locked(l.path) {
				return nil, nil, true
			}
			x.data, _ = s.files.read(l.path)
			n.tsize = int64(len(x.data))
		}
		// tftp-hpa cannot tell the size of a netascii read.
		n.tsizeOK = !x.netascii
	}
	tail := req.tailErr
	if tail == nil {
		x.oack, x.params, tail = negotiate(req.options, n)
	}
	if tail != nil {
		if x.write {
			s.files.unlock(x.path)
		}
		return nil, tail, false
	}
	if x.dir && x.oack == nil {
		// The read of the directory fails at once; with options it
		// fails after the OACK is acknowledged (see send).
		return nil, &tftpError{errUndef, msgIsDir}, false
	}
	return x, nil, false
}

// emit sends an event of the service.
func (s *Server) emit(typ string, sev event.Severity, fields map[string]string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: fields})
}

func copyFields(f map[string]string) map[string]string {
	out := make(map[string]string, len(f)+8)
	for k, v := range f {
		out[k] = v
	}
	return out
}

// fieldText is attacker text for an event field: at most maxFieldBytes,
// and quoted (Go syntax) when it is not printable UTF-8, so control bytes
// and invalid sequences stay visible and unambiguous.
func fieldText(s string) string {
	cut := len(s) > maxFieldBytes
	if cut {
		s = s[:maxFieldBytes]
	}
	printable := utf8.ValidString(s)
	for _, r := range s {
		if !printable || !unicode.IsPrint(r) && r != ' ' {
			printable = false
			break
		}
	}
	if !printable {
		s = strconv.Quote(s)
	}
	if cut {
		s += "..."
	}
	return s
}

// optionsJSON is a request's options as a JSON object (a repeated option
// keeps its last value), at most 32 of them.
func optionsJSON(opts []option) string {
	m := map[string]string{}
	for _, o := range opts[:min(len(opts), 32)] {
		m[fieldText(o.name)] = fieldText(o.value)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func newSessionID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
