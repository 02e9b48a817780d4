package smb

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// DCE/RPC connection-oriented PDU types (C706 12.6, MS-RPCE 2.2.2).
const (
	ptypeRequest      = 0
	ptypeResponse     = 2
	ptypeFault        = 3
	ptypeBind         = 11
	ptypeBindAck      = 12
	ptypeBindNak      = 13
	ptypeAlterContext = 14
	ptypeAlterResp    = 15
)

// PDU flags.
const (
	pfcFirstFrag   = 0x01
	pfcLastFrag    = 0x02
	pfcHeaderSign  = 0x04
	pfcDidNotExec  = 0x20
	pfcObjectUUID  = 0x80
	rpcHeaderSize  = 16
	rpcRespHdrSize = 24
	maxRPCFrag     = 4280 // what Windows and Samba accept and send
	minRPCFrag     = 1432 // MS-RPCE 3.3.1.5.2: the least a peer must take
	maxRPCStub     = 64 << 10
	maxRPCContexts = 32
	maxRPCSyntaxes = 16
	maxPipeOut     = 1 << 20 // answers waiting to be read
)

// Fault statuses (C706 appendix E, MS-RPCE 2.2.2.12).
const (
	faultAccessDenied  uint32 = 0x00000005
	faultBadStubData   uint32 = 0x000006f7
	faultOpRangeError  uint32 = 0x1c010002
	faultUnknownIf     uint32 = 0x1c010003
	faultProtocolError uint32 = 0x1c01000b
)

// syntax is a presentation syntax: an interface or transfer syntax UUID
// (in wire order) and its version (major in the low 16 bits).
type syntax struct {
	uuid    [16]byte
	version uint32
}

// mustUUID reads a UUID literal into wire order (the first three fields
// little-endian).
func mustUUID(s string) [16]byte {
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("bad UUID literal " + s)
	}
	u := [16]byte(raw)
	slices.Reverse(u[0:4])
	slices.Reverse(u[4:6])
	slices.Reverse(u[6:8])
	return u
}

func (s syntax) String() string {
	return fmt.Sprintf("%s v%d.%d", formatGUID(s.uuid), s.version&0xffff, s.version>>16)
}

var (
	// ndr20 is the NDR 2.0 transfer syntax, the only one served.
	ndr20 = syntax{mustUUID("8a885d04-1ceb-11c9-9fe8-08002b104860"), 2}
	// btfnPrefix opens the bind time feature negotiation "syntax", whose
	// last 8 bytes are the client's feature bits (MS-RPCE 3.3.1.5.3).
	btfnPrefix = mustUUID("6cb71c2c-9812-4540-0000-000000000000")
	srvsvcIf   = syntax{mustUUID("4b324fc8-1670-01d3-1278-5a47bf6ee188"), 3}
)

// interfaceNames name the interfaces attackers' tools bind, for events.
var interfaceNames = map[[16]byte]string{
	srvsvcIf.uuid: "srvsvc",
	mustUUID("6bffd098-a112-3610-9833-46c3f87e345a"): "wkssvc",
	mustUUID("12345778-1234-abcd-ef00-0123456789ab"): "lsarpc",
	mustUUID("12345778-1234-abcd-ef00-0123456789ac"): "samr",
	mustUUID("12345678-1234-abcd-ef00-01234567cffb"): "netlogon",
	mustUUID("338cd001-2244-31f1-aaaa-900038001003"): "winreg",
	mustUUID("367abb81-9844-35f1-ad32-98f038001003"): "svcctl",
	mustUUID("1ff70682-0a51-30e8-076d-740be8cee98b"): "atsvc",
	mustUUID("86d35949-83c9-4044-b424-db363231fd0c"): "tsch",
	mustUUID("12345678-1234-abcd-ef00-0123456789ab"): "spoolss",
	mustUUID("82273fdc-e32a-18c3-3f78-827929dc23ea"): "eventlog",
	mustUUID("e3514235-4b06-11d1-ab04-00c04fc2dcd2"): "drsuapi",
	mustUUID("e1af8308-5d1f-11c9-91a4-08002b14a0fa"): "epmapper",
}

func interfaceName(s syntax) string {
	if n, ok := interfaceNames[s.uuid]; ok {
		return n
	}
	return s.String()
}

// pipeEndpoints are the named pipes that open on IPC$, with the endpoint
// a BIND_ACK names (lsass serves lsarpc, samr and netlogon). Only srvsvc's
// interface answers; binding another is refused.
var pipeEndpoints = map[string]string{
	"srvsvc": `\PIPE\srvsvc`, "wkssvc": `\PIPE\wkssvc`, "lsarpc": `\PIPE\lsass`, "lsass": `\PIPE\lsass`,
	"samr": `\PIPE\lsass`, "netlogon": `\PIPE\lsass`, "winreg": `\PIPE\winreg`, "svcctl": `\PIPE\svcctl`,
	"atsvc": `\PIPE\atsvc`, "spoolss": `\PIPE\spoolss`, "eventlog": `\PIPE\eventlog`, "ntsvcs": `\PIPE\ntsvcs`,
}

// rpcHeader is the common header of every PDU.
type rpcHeader struct {
	ptype   byte
	flags   byte
	fragLen int
	authLen int
	callID  uint32
}

// parseRPCHeader reads a PDU's header; it accepts only version 5.0/5.1
// little-endian ASCII IEEE data, as every client sends.
func parseRPCHeader(b []byte) (rpcHeader, error) {
	if len(b) < rpcHeaderSize || b[0] != 5 || b[1] > 1 || b[4]&0xf0 != 0x10 || b[5] != 0 {
		return rpcHeader{}, fmt.Errorf("DCE/RPC header: %w", errMalformed)
	}
	h := rpcHeader{
		ptype:   b[2],
		flags:   b[3],
		fragLen: int(binary.LittleEndian.Uint16(b[8:])),
		authLen: int(binary.LittleEndian.Uint16(b[10:])),
		callID:  binary.LittleEndian.Uint32(b[12:]),
	}
	if h.fragLen < rpcHeaderSize {
		return rpcHeader{}, fmt.Errorf("DCE/RPC frag length %d: %w", h.fragLen, errMalformed)
	}
	return h, nil
}

// appendRPCHeader appends a server PDU's common header; the fragment
// length is patched by finishPDU.
func appendRPCHeader(b []byte, ptype, flags byte, callID uint32) []byte {
	b = append(b, 5, 0, ptype, flags, 0x10, 0, 0, 0, 0, 0, 0, 0)
	return binary.LittleEndian.AppendUint32(b, callID)
}

func finishPDU(b []byte) []byte {
	binary.LittleEndian.PutUint16(b[8:], uint16(len(b)))
	return b
}

// presContext is one presentation context of a BIND or ALTER_CONTEXT.
type presContext struct {
	id        uint16
	abstract  syntax
	transfers []syntax
}

// bindRequest is a BIND or ALTER_CONTEXT body.
type bindRequest struct {
	maxXmit, maxRecv int
	assocGroup       uint32
	contexts         []presContext
}

func parseBind(pdu []byte) (bindRequest, error) {
	b := pdu[rpcHeaderSize:]
	if len(b) < 12 {
		return bindRequest{}, fmt.Errorf("BIND: %w", errMalformed)
	}
	le := binary.LittleEndian
	req := bindRequest{maxXmit: int(le.Uint16(b)), maxRecv: int(le.Uint16(b[2:])), assocGroup: le.Uint32(b[4:])}
	n := int(b[8])
	if n > maxRPCContexts {
		return bindRequest{}, fmt.Errorf("BIND with %d contexts: %w", n, errMalformed)
	}
	b = b[12:]
	for range n {
		if len(b) < 24 {
			return bindRequest{}, fmt.Errorf("BIND context: %w", errMalformed)
		}
		pc := presContext{id: le.Uint16(b)}
		nts := int(b[2])
		copy(pc.abstract.uuid[:], b[4:20])
		pc.abstract.version = le.Uint32(b[20:])
		b = b[24:]
		if nts > maxRPCSyntaxes || len(b) < 20*nts {
			return bindRequest{}, fmt.Errorf("BIND transfer syntaxes: %w", errMalformed)
		}
		for range nts {
			var ts syntax
			copy(ts.uuid[:], b[:16])
			ts.version = le.Uint32(b[16:])
			pc.transfers = append(pc.transfers, ts)
			b = b[20:]
		}
		req.contexts = append(req.contexts, pc)
	}
	return req, nil
}

// Presentation context results (C706 12.6.3.1, MS-RPCE 2.2.2.4).
const (
	resultAcceptance   = 0
	resultProviderRej  = 2
	resultNegotiateAck = 3

	reasonAbstractNotSupported = 1
	reasonTransferNotSupported = 2
)

// rpcPipe is an open named pipe: the DCE/RPC association on it and the
// messages waiting for the client to read (a message-mode pipe: each
// PDU is one message).
type rpcPipe struct {
	name       string
	in         []byte // an incomplete PDU
	out        [][]byte
	outBytes   int
	bound      map[uint16]bool // accepted srvsvc contexts
	maxXmit    int
	assocGroup uint32
	call       *rpcCall // a fragmented request being reassembled
}

// rpcCall is a request whose fragments are still arriving.
type rpcCall struct {
	callID uint32
	ctx    uint16
	opnum  uint16
	stub   []byte
}

// rpcEvent is what a PDU did, for the connection to log.
type rpcEvent struct {
	typ string
	kv  []string
}

// rpcServer answers the operations of the interfaces served.
type rpcServer interface {
	// call runs an operation of srvsvc and returns its stub, or a fault.
	call(opnum uint16, stub []byte) (out []byte, fault uint32, ev rpcEvent)
}

func newPipe(name string) *rpcPipe {
	return &rpcPipe{name: name, bound: map[uint16]bool{}, maxXmit: maxRPCFrag}
}

// write takes bytes the client wrote to the pipe: complete PDUs are
// answered, a partial one waits for the rest. It fails when the bytes are
// not DCE/RPC or exceed what the pipe buffers.
func (p *rpcPipe) write(data []byte, srv rpcServer, assoc func() uint32) ([]rpcEvent, error) {
	if len(p.in)+len(data) > maxRPCStub+maxRPCFrag {
		p.in = nil
		return nil, fmt.Errorf("pipe write of %d bytes: %w", len(data), errTooLarge)
	}
	p.in = append(p.in, data...)
	var evs []rpcEvent
	for len(p.in) >= rpcHeaderSize {
		h, err := parseRPCHeader(p.in)
		if err != nil {
			p.in = nil
			return evs, err
		}
		if len(p.in) < h.fragLen {
			break
		}
		pdu := p.in[:h.fragLen]
		if ev, ok := p.pdu(h, pdu, srv, assoc); ok {
			evs = append(evs, ev)
		}
		p.in = p.in[h.fragLen:]
	}
	if len(p.in) == 0 {
		p.in = nil
	}
	return evs, nil
}

// read returns the next message, or its first n bytes with more=true
// and the rest kept for the next read.
func (p *rpcPipe) read(n int) (data []byte, more bool) {
	if len(p.out) == 0 {
		return nil, false
	}
	m := p.out[0]
	if len(m) > n {
		p.out[0] = m[n:]
		p.outBytes -= n
		return m[:n], true
	}
	p.out = p.out[1:]
	p.outBytes -= len(m)
	return m, false
}

// send queues an answer; a client that writes without ever reading gets
// no more once a megabyte waits.
func (p *rpcPipe) send(pdu []byte) {
	if p.outBytes+len(pdu) <= maxPipeOut {
		p.out = append(p.out, pdu)
		p.outBytes += len(pdu)
	}
}

// pdu answers one PDU; ok is false for PDUs that say nothing worth an
// event (fragments before the last).
func (p *rpcPipe) pdu(h rpcHeader, pdu []byte, srv rpcServer, assoc func() uint32) (rpcEvent, bool) {
	switch h.ptype {
	case ptypeBind, ptypeAlterContext:
		return p.bind(h, pdu, assoc), true
	case ptypeRequest:
		return p.request(h, pdu, srv)
	}
	return rpcEvent{typ: "rpc", kv: []string{"ptype", fmt.Sprint(h.ptype), "error", "unexpected PDU"}}, true
}

func (p *rpcPipe) bind(h rpcHeader, pdu []byte, assoc func() uint32) rpcEvent {
	alter := h.ptype == ptypeAlterContext
	op := "bind"
	if alter {
		op = "alter_context"
	}
	req, err := parseBind(pdu)
	if err != nil || h.authLen > 0 {
		reason := "malformed"
		if err == nil {
			reason = "authentication not supported"
		}
		if alter {
			p.fault(h.callID, 0, faultProtocolError)
		} else {
			// BIND_NAK, reason "authentication type not recognized" (8) or
			// "not specified" (0), listing protocol 5.0.
			code := byte(0)
			if err == nil {
				code = 8
			}
			b := appendRPCHeader(nil, ptypeBindNak, pfcFirstFrag|pfcLastFrag, h.callID)
			p.send(finishPDU(append(b, code, 0, 1, 5, 0, 0, 0, 0)))
		}
		return rpcEvent{typ: "rpc_" + op, kv: []string{"pipe", p.name, "error", reason}}
	}
	if !alter {
		p.maxXmit = min(max(req.maxRecv, minRPCFrag), maxRPCFrag)
		p.assocGroup = req.assocGroup
		if p.assocGroup == 0 {
			p.assocGroup = assoc()
		}
	}
	ptype := byte(ptypeBindAck)
	secAddr := pipeEndpoints[p.name]
	if alter {
		ptype, secAddr = ptypeAlterResp, ""
	}
	b := appendRPCHeader(nil, ptype, pfcFirstFrag|pfcLastFrag|h.flags&pfcHeaderSign, h.callID)
	b = binary.LittleEndian.AppendUint16(b, uint16(p.maxXmit))
	b = binary.LittleEndian.AppendUint16(b, uint16(p.maxXmit))
	b = binary.LittleEndian.AppendUint32(b, p.assocGroup)
	if secAddr == "" {
		b = append(b, 0, 0)
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(secAddr)+1))
		b = append(append(b, secAddr...), 0)
	}
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, byte(len(req.contexts)), 0, 0, 0)
	var offered []string
	for _, pc := range req.contexts {
		result, reason, ts := p.negotiateContext(pc)
		b = binary.LittleEndian.AppendUint16(b, result)
		b = binary.LittleEndian.AppendUint16(b, reason)
		b = append(b, ts.uuid[:]...)
		b = binary.LittleEndian.AppendUint32(b, ts.version)
		if !isBTFN(pc) {
			offered = append(offered, interfaceName(pc.abstract))
		}
	}
	p.send(finishPDU(b))
	return rpcEvent{typ: "rpc_" + op, kv: []string{"pipe", p.name, "interfaces", jsonList(offered)}}
}

func isBTFN(pc presContext) bool {
	return len(pc.transfers) == 1 && [8]byte(pc.transfers[0].uuid[:8]) == [8]byte(btfnPrefix[:8])
}

// negotiateContext accepts srvsvc over NDR 2.0, answers bind time feature
// negotiation with the features Windows and Samba support (security
// context multiplexing, keep connection on orphan) and refuses the rest.
func (p *rpcPipe) negotiateContext(pc presContext) (result, reason uint16, ts syntax) {
	if isBTFN(pc) {
		return resultNegotiateAck, uint16(pc.transfers[0].uuid[8]) & 0x03, syntax{}
	}
	if pc.abstract != srvsvcIf {
		return resultProviderRej, reasonAbstractNotSupported, syntax{}
	}
	for _, t := range pc.transfers {
		if t == ndr20 {
			p.bound[pc.id] = true
			return resultAcceptance, 0, ndr20
		}
	}
	return resultProviderRej, reasonTransferNotSupported, syntax{}
}

func (p *rpcPipe) request(h rpcHeader, pdu []byte, srv rpcServer) (rpcEvent, bool) {
	b := pdu[rpcHeaderSize:]
	stubEnd := len(b) - h.authLen
	if h.authLen > 0 {
		stubEnd -= 8 // the auth verifier's header
	}
	start := 8
	if h.flags&pfcObjectUUID != 0 {
		start += 16
	}
	if len(b) < 8 || stubEnd < start {
		p.call = nil
		p.fault(h.callID, 0, faultProtocolError)
		return rpcEvent{typ: "rpc", kv: []string{"pipe", p.name, "error", "malformed request"}}, true
	}
	ctx := binary.LittleEndian.Uint16(b[4:])
	opnum := binary.LittleEndian.Uint16(b[6:])
	stub := b[start:stubEnd]
	if h.authLen > 0 {
		p.call = nil
		p.fault(h.callID, ctx, faultAccessDenied)
		return rpcEvent{typ: "rpc", kv: []string{"pipe", p.name, "opnum", fmt.Sprint(opnum), "error", "authenticated request"}}, true
	}
	if h.flags&pfcFirstFrag != 0 {
		p.call = &rpcCall{callID: h.callID, ctx: ctx, opnum: opnum}
	}
	if p.call == nil || p.call.callID != h.callID || len(p.call.stub)+len(stub) > maxRPCStub {
		p.call = nil
		p.fault(h.callID, ctx, faultProtocolError)
		return rpcEvent{typ: "rpc", kv: []string{"pipe", p.name, "error", "bad fragment"}}, true
	}
	p.call.stub = append(p.call.stub, stub...)
	if h.flags&pfcLastFrag == 0 {
		return rpcEvent{}, false
	}
	call := p.call
	p.call = nil
	if !p.bound[call.ctx] {
		p.fault(h.callID, call.ctx, faultUnknownIf)
		return rpcEvent{typ: "rpc", kv: []string{"pipe", p.name, "opnum", fmt.Sprint(call.opnum), "error", "context not bound"}}, true
	}
	out, fault, ev := srv.call(call.opnum, call.stub)
	ev.kv = append([]string{"pipe", p.name, "interface", "srvsvc", "opnum", fmt.Sprint(call.opnum)}, ev.kv...)
	if ev.typ == "" {
		ev.typ = "rpc"
	}
	if fault != 0 {
		p.fault(h.callID, call.ctx, fault)
		ev.kv = append(ev.kv, "fault", fmt.Sprintf("0x%08x", fault))
		return ev, true
	}
	p.respond(h.callID, call.ctx, out)
	return ev, true
}

// respond sends a stub as RESPONSE fragments of at most maxXmit bytes;
// every fragment but the last carries a multiple of 8 stub bytes, so NDR
// alignment holds across them.
func (p *rpcPipe) respond(callID uint32, ctx uint16, stub []byte) {
	chunk := (p.maxXmit - rpcRespHdrSize) &^ 7
	flags := byte(pfcFirstFrag)
	for {
		n := min(len(stub), chunk)
		if n == len(stub) {
			flags |= pfcLastFrag
		}
		b := appendRPCHeader(nil, ptypeResponse, flags, callID)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(stub))) // alloc hint
		b = binary.LittleEndian.AppendUint16(b, ctx)
		b = append(b, 0, 0) // cancel count, reserved
		p.send(finishPDU(append(b, stub[:n]...)))
		stub = stub[n:]
		if flags&pfcLastFrag != 0 {
			return
		}
		flags = 0
	}
}

// fault sends a FAULT PDU; the call did not execute.
func (p *rpcPipe) fault(callID uint32, ctx uint16, status uint32) {
	b := appendRPCHeader(nil, ptypeFault, pfcFirstFrag|pfcLastFrag|pfcDidNotExec, callID)
	b = binary.LittleEndian.AppendUint32(b, 32) // alloc hint: the PDU's size, as Windows sets it
	b = binary.LittleEndian.AppendUint16(b, ctx)
	b = append(b, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, status)
	p.send(finishPDU(binary.LittleEndian.AppendUint32(b, 0)))
}

// jsonList renders strings as a JSON array (event fields hold lists as
// JSON).
func jsonList(items []string) string {
	if items == nil {
		items = []string{}
	}
	b, _ := json.Marshal(items)
	return string(b)
}
