package smb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
)

// Bounds of one connection's state. Windows and Samba allow more, but a
// client that needs more is not someone listing shares, and each entry
// costs memory.
const (
	maxSessions = 8
	maxTrees    = 16
	maxOpens    = 32
	maxCompound = 32
	maxCredits  = 512
)

// conn is one client connection: its negotiation and the sessions, tree
// connects and open pipes on it.
type conn struct {
	srv    *Server
	pr     *profile
	fields map[string]string
	port   int

	nbss     bool        // a NetBIOS session was requested (required on 139)
	wildcard bool        // an SMB1 negotiate was answered with dialect 0x02FF
	dialect  uint16      // the negotiated dialect, 0 before
	neg      negotiation // what the NEGOTIATE response said

	sessions map[uint64]*session
	trees    map[uint32]*tree
	opens    map[uint64]*open // by volatile FileId
	nextTree uint32
	nextFile uint64
}

// session is an SMB2 session: in progress until its SESSION_SETUP
// exchange succeeds as a guest or null session.
type session struct {
	id        uint64
	challenge *ntlmssp.Challenge
	negotiate ntlmssp.Negotiate
	valid     bool   // logged on
	flags     uint16 // SessionFlags of the logon
}

// SessionFlags (MS-SMB2 2.2.6).
const (
	sessionGuest = 0x0001
	sessionNull  = 0x0002
)

// tree is a tree connect; only IPC$ ever connects.
type tree struct {
	id      uint32
	session uint64
	share   share
}

// open is an open named pipe.
type open struct {
	id      [16]byte // persistent, volatile
	session uint64
	tree    uint32
	pipe    *rpcPipe
	broken  bool // the client wrote what is not DCE/RPC
}

func (s *Server) newConn(port int, fields map[string]string) *conn {
	return &conn{srv: s, pr: &s.pr, fields: fields, port: port,
		sessions: map[uint64]*session{}, trees: map[uint32]*tree{}, opens: map[uint64]*open{},
		nextTree: 1, nextFile: 1}
}

// serveConn runs one connection, whose event fields are fields, on rw
// until the client leaves or breaks the protocol.
func (s *Server) serveConn(rw io.ReadWriter, port int, fields map[string]string) {
	c := s.newConn(port, fields)
	for {
		typ, msg, err := readFrame(rw, c.lengthMask())
		if err != nil {
			if errors.Is(err, errTooLarge) {
				c.emit("protocol_error", event.Notice, "error", err.Error())
			}
			return
		}
		var out []byte
		keep := true
		switch {
		case c.pr.samba && c.smb2Started() && typ != nbssMessage:
			// Samba's SMB2 engine skips every other NetBIOS packet.
			if typ != nbssKeepAlive {
				c.emit("nbss_packet", event.Notice, "packet_type", fmt.Sprintf("0x%02x", typ), "result", "ignored")
			}
			continue
		case typ == nbssKeepAlive && !c.pr.samba:
			continue
		case typ == nbssSessionRequest:
			out, keep = c.sessionRequest(msg)
		case typ != nbssMessage:
			// Before SMB2 starts Samba takes nothing but a session request
			// or message, not even a keepalive; Windows drops other types
			// (not measured).
			c.emit("protocol_error", event.Notice, "error", fmt.Sprintf("NetBIOS session packet type 0x%02x", typ))
			return
		case port == PortNetBIOS && !c.nbss && !c.pr.samba:
			// Windows wants the session request first (RFC 1002 5.3);
			// Samba does not check.
			c.emit("nbss_session", event.Notice, "result", negativeResult(nbssUnspecified),
				"error", "session message before the session request", "data", hex.EncodeToString(msg[:min(len(msg), 32)]))
			out, keep = negativeResponse(nbssUnspecified), false
		default:
			out, keep = c.message(msg)
		}
		if len(out) > 0 {
			if _, err := rw.Write(out); err != nil {
				return
			}
		}
		if !keep {
			return
		}
	}
}

// smb2Started reports whether the connection has left the NetBIOS
// preliminaries: an SMB1 negotiate was answered with an SMB2 dialect, or
// SMB2 was negotiated.
func (c *conn) smb2Started() bool { return c.dialect != 0 || c.wildcard }

// lengthMask is how much of an NBSS header's length field counts.
func (c *conn) lengthMask() int {
	if c.pr.samba && !c.smb2Started() {
		return lengthMaskNBT
	}
	return lengthMaskTCP
}

// emit records an event with the connection's peer fields.
func (c *conn) emit(typ string, sev event.Severity, kv ...string) {
	f := make(map[string]string, len(c.fields)+len(kv)/2)
	for k, v := range c.fields {
		f[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f[kv[i]] = kv[i+1]
	}
	c.srv.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: f})
}

// sessionRequest answers an NBSS SESSION REQUEST: Samba accepts any
// called name (sambaRefusal); Windows its own NetBIOS name, *SMBSERVER
// and an IPv4 address (what clients call a server they know by address),
// answering "called name not present" otherwise. Both end the connection
// after a negative response.
func (c *conn) sessionRequest(msg []byte) ([]byte, bool) {
	if c.nbss || c.smb2Started() {
		c.emit("protocol_error", event.Notice, "error", "second NetBIOS session request")
		return nil, false
	}
	sr, err := parseSessionRequest(msg)
	kv := []string{"called_name", sr.called, "calling_name", sr.calling}
	if err != nil {
		kv = []string{"error", err.Error(), "data", hex.EncodeToString(msg[:min(len(msg), 32)])}
	}
	var code byte // 0: positive
	switch {
	case c.pr.samba:
		if why := sambaRefusal(msg); why != "" {
			code, kv = nbssCalledNotThere, append(kv, "error", why)
		}
	case err != nil:
		code = nbssUnspecified
	case !c.windowsAnswers(sr.called):
		code = nbssCalledNotThere
	}
	if code != 0 {
		c.emit("nbss_session", event.Notice, append(kv, "result", negativeResult(code))...)
		return negativeResponse(code), false
	}
	c.emit("nbss_session", event.Info, append(kv, "result", "positive")...)
	c.nbss = true
	return []byte{nbssPositive, 0, 0, 0}, true
}

// windowsAnswers reports whether Windows answers to a called name.
func (c *conn) windowsAnswers(called string) bool {
	if ip, err := netip.ParseAddr(called); err == nil && ip.Is4() {
		return true
	}
	return strings.EqualFold(called, c.pr.ntlm.NetBIOSComputer) || called == smbServerName
}

// message answers one SMB message; keep is false when the connection must
// close after out is sent.
func (c *conn) message(msg []byte) (out []byte, keep bool) {
	switch {
	case bytes.HasPrefix(msg, []byte(magicSMB1)):
		return c.smb1(msg)
	case bytes.HasPrefix(msg, []byte(magicSMB2)):
		return c.smb2(msg)
	}
	what := "not SMB"
	if bytes.HasPrefix(msg, []byte(magicTransform)) || bytes.HasPrefix(msg, []byte(magicCompress)) {
		what = "SMB3 transform without a session key"
	}
	c.emit("protocol_error", event.Notice, "error", what, "data", hex.EncodeToString(msg[:min(len(msg), 32)]))
	return nil, false
}

// smb1 answers SMB1: only SMB_COM_NEGOTIATE, and only before SMB2 is
// negotiated, since both products have SMB1 off.
func (c *conn) smb1(msg []byte) ([]byte, bool) {
	req, err := parseSMB1(msg)
	if err != nil || req.command != smb1Negotiate || c.dialect != 0 || c.wildcard {
		why := "SMB1 command"
		if err != nil {
			why = err.Error()
		}
		c.emit("protocol_error", event.Notice, "error", why, "data", hex.EncodeToString(msg[:min(len(msg), 32)]))
		return nil, false
	}
	kv := []string{"smb_version", "1", "dialects", jsonList(req.dialects)}
	up := smb2Upgrade(req.dialects)
	if up == 0 {
		c.emit("negotiate", event.Info, append(kv, "result", "no common dialect")...)
		if c.pr.samba {
			return frame(smb1NoDialect(req)), false
		}
		return nil, false
	}
	n, _ := c.pr.negotiate(negotiateRequest{}, nil, up, c.port, c.srv.random)
	out := header{Command: cmdNegotiate, Credits: 1, Flags: flagResponse}.appendTo(nil)
	out = append(out, c.pr.negotiateBody(n, c.srv.now())...)
	if up == dialectWildcard {
		c.wildcard = true
	} else {
		c.dialect, c.neg = up, n
	}
	c.emit("negotiate", event.Info, append(kv, "dialect", dialectName(up))...)
	return frame(out), true
}

// chain is what related operations of a compound request take from the
// one before.
type chain struct {
	session uint64
	tree    uint32
	file    [16]byte
	status  ntStatus
}

// call is one SMB2 request being answered.
type call struct {
	h   header
	msg []byte // from the request's header to its end
	ch  *chain
	// sessionID and treeID go into the response's header.
	sessionID uint64
	treeID    uint32
	// typ and kv are the request's event; status is added at the end.
	typ string
	sev event.Severity
	kv  []string
}

func (r *call) note(kv ...string) { r.kv = append(r.kv, kv...) }

// smb2 answers an SMB2 message, which may be a compound of requests: the
// responses go back compounded in one frame, each 8-byte aligned.
func (c *conn) smb2(msg []byte) ([]byte, bool) {
	var out []byte
	last := 0
	// A first request marked related has nothing to relate to.
	ch := &chain{status: statusInvalidParameter}
	for i := 0; len(msg) > 0; i++ {
		h, err := parseHeader(msg)
		n := len(msg)
		if err == nil && h.NextCommand != 0 {
			n = int(h.NextCommand)
			if n%8 != 0 || n < headerSize || n > len(msg) {
				err = fmt.Errorf("NextCommand %d: %w", h.NextCommand, errMalformed)
			}
		}
		if err == nil && (i == maxCompound || h.Flags&flagResponse != 0) {
			err = fmt.Errorf("compound of %d, flags 0x%x: %w", i, h.Flags, errMalformed)
		}
		if err != nil {
			c.emit("protocol_error", event.Notice, "error", err.Error())
			return nil, false
		}
		resp, keep := c.request(h, msg[:n], ch)
		if !keep {
			return nil, false
		}
		msg = msg[n:]
		if h.NextCommand == 0 {
			msg = nil
		}
		if resp == nil {
			continue
		}
		if len(out) > 0 {
			for len(out)%8 != 0 {
				out = append(out, 0)
			}
			binary.LittleEndian.PutUint32(out[last+20:], uint32(len(out)-last))
		}
		last = len(out)
		out = append(out, resp...)
	}
	if out == nil {
		return nil, true
	}
	return frame(out), true
}

// request answers one request of a message. It returns nil for requests
// that get no response (CANCEL) and keep=false when the connection must
// drop, as Windows drops it for requests out of sequence.
func (c *conn) request(h header, msg []byte, ch *chain) ([]byte, bool) {
	if c.dialect == 0 && h.Command != cmdNegotiate || c.dialect != 0 && h.Command == cmdNegotiate {
		c.emit("protocol_error", event.Notice, "error", h.Command.String()+" out of sequence")
		return nil, false
	}
	related := h.Flags&flagRelated != 0
	if related {
		h.SessionID, h.TreeID = ch.session, ch.tree
	}
	r := &call{h: h, msg: msg, ch: ch, sessionID: h.SessionID, treeID: h.TreeID,
		typ: event.TypeRequest, sev: event.Info, kv: []string{"command", h.Command.String()}}
	var st ntStatus
	var body []byte
	keep := true
	switch {
	case related && ch.status.failed():
		st = ch.status
	case h.Command == cmdNegotiate:
		st, body, keep = c.negotiate(r)
	case h.Command == cmdSessionSetup:
		st, body = c.sessionSetup(r)
	case h.Command == cmdEcho:
		st, body = statusSuccess, []byte{4, 0, 0, 0}
	case h.Command == cmdCancel:
		c.emitCall(r, statusSuccess)
		return nil, true
	default:
		st, body, keep = c.sessionCommand(r)
	}
	if !keep {
		c.emitCall(r, st)
		return nil, false
	}
	if st.failed() && !(st == statusMoreProcessingRequired && h.Command == cmdSessionSetup) {
		body = errorBody
	}
	c.emitCall(r, st)
	*ch = chain{session: r.sessionID, tree: r.treeID, file: ch.file, status: st}
	credits := uint16(1)
	if h.Command != cmdNegotiate {
		credits = min(max(h.Credits, 1), maxCredits)
	}
	rh := header{CreditCharge: h.CreditCharge, Status: st, Command: h.Command, Credits: credits,
		Flags: flagResponse | h.Flags&flagRelated, MessageID: h.MessageID, ProcessID: h.ProcessID,
		TreeID: r.treeID, SessionID: r.sessionID}
	return append(rh.appendTo(make([]byte, 0, headerSize+len(body))), body...), true
}

func (c *conn) emitCall(r *call, st ntStatus) {
	c.emit(r.typ, r.sev, append(r.kv, "status", st.String())...)
}

// sessionCommand answers the commands that need a logged-on session.
func (c *conn) sessionCommand(r *call) (ntStatus, []byte, bool) {
	s := c.sessions[r.sessionID]
	if s == nil || !s.valid {
		return statusUserSessionDeleted, nil, true
	}
	switch r.h.Command {
	case cmdLogoff:
		c.dropSession(s)
		return statusSuccess, []byte{4, 0, 0, 0}, true
	case cmdTreeConnect:
		st, body := c.treeConnect(r, s)
		return st, body, true
	}
	t := c.trees[r.treeID]
	if t == nil || t.session != s.id {
		return statusNetworkNameDeleted, nil, true
	}
	r.note("share", t.share.name)
	switch r.h.Command {
	case cmdTreeDisconnect:
		c.dropTree(t)
		return statusSuccess, []byte{4, 0, 0, 0}, true
	case cmdCreate:
		st, body := c.create(r, s, t)
		return st, body, true
	case cmdIoctl:
		return c.ioctl(r)
	case cmdClose, cmdFlush, cmdRead, cmdWrite:
		st, body := c.fileCommand(r)
		return st, body, true
	}
	if r.h.Command > cmdOplockBreak {
		return statusInvalidParameter, nil, true
	}
	return statusNotSupported, nil, true
}

// dropSession ends a session with its tree connects and opens.
func (c *conn) dropSession(s *session) {
	delete(c.sessions, s.id)
	for _, t := range c.trees {
		if t.session == s.id {
			c.dropTree(t)
		}
	}
}

func (c *conn) dropTree(t *tree) {
	delete(c.trees, t.id)
	for v, o := range c.opens {
		if o.tree == t.id && o.session == t.session {
			delete(c.opens, v)
		}
	}
}

// randomUint64 draws a non-zero id.
func (c *conn) randomUint64() uint64 {
	var b [8]byte
	for {
		if _, err := io.ReadFull(c.srv.random, b[:]); err != nil {
			return 1
		}
		if v := binary.LittleEndian.Uint64(b[:]) & 0x0000ffffffffffff; v != 0 {
			return v
		}
	}
}
