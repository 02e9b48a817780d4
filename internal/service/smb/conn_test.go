package smb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"decnet/internal/testutil"
)

var le = binary.LittleEndian

// client drives a conn with hand-made SMB2 requests.
type client struct {
	t       *testing.T
	c       *conn
	msgID   uint64
	session uint64
	tree    uint32
	closed  bool
}

func newClient(t *testing.T, os string, p *Persona) (*client, *testutil.Events) {
	t.Helper()
	s, ev := testServer(t, os, p)
	return &client{t: t, c: s.newConn(PortDirect, map[string]string{})}, ev
}

// reply is one response of a message.
type reply struct {
	h    header
	body []byte
}

func (r reply) status() ntStatus { return r.h.Status }

// request is one request of a (maybe compound) message.
type request struct {
	cmd     command
	body    []byte
	related bool
}

// send sends requests as one message and returns the responses.
func (cl *client) send(reqs ...request) []reply {
	cl.t.Helper()
	var msg []byte
	last := 0
	for i, r := range reqs {
		if i > 0 {
			for len(msg)%8 != 0 {
				msg = append(msg, 0)
			}
			le.PutUint32(msg[last+20:], uint32(len(msg)-last))
		}
		last = len(msg)
		h := header{Command: r.cmd, Credits: 1, MessageID: cl.msgID, SessionID: cl.session, TreeID: cl.tree}
		if r.related {
			h.Flags |= flagRelated
		}
		cl.msgID++
		msg = append(h.appendTo(msg), r.body...)
	}
	out, keep := cl.c.message(msg)
	cl.closed = !keep
	var replies []reply
	if len(out) == 0 {
		return nil
	}
	if n := int(out[1])<<16 | int(out[2])<<8 | int(out[3]); n != len(out)-4 {
		cl.t.Fatalf("frame length %d for %d bytes", n, len(out)-4)
	}
	out = out[4:]
	for len(out) > 0 {
		h, err := parseHeader(out)
		if err != nil {
			cl.t.Fatal(err)
		}
		end := len(out)
		if h.NextCommand != 0 {
			end = int(h.NextCommand)
			if end%8 != 0 {
				cl.t.Errorf("NextCommand %d not 8-byte aligned", end)
			}
		}
		replies = append(replies, reply{h: h, body: out[headerSize:end]})
		out = out[end:]
	}
	return replies
}

// one sends one request and returns its response.
func (cl *client) one(cmd command, body []byte) reply {
	cl.t.Helper()
	rs := cl.send(request{cmd: cmd, body: body})
	if len(rs) != 1 {
		cl.t.Fatalf("%s: %d responses (closed %v)", cmd, len(rs), cl.closed)
	}
	return rs[0]
}

// negotiateBody builds an SMB2 NEGOTIATE request body; contexts are
// (type, data) pairs appended after the dialects.
func negotiateReq(caps uint32, dialects []uint16, contexts ...negContext) []byte {
	b := le.AppendUint16(nil, 36)
	b = le.AppendUint16(b, uint16(len(dialects)))
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, caps)
	b = append(b, bytes.Repeat([]byte{0xab}, 16)...)
	off := (headerSize + 36 + 2*len(dialects) + 7) &^ 7
	if len(contexts) == 0 {
		off = 0
	}
	b = le.AppendUint32(b, uint32(off))
	b = le.AppendUint16(b, uint16(len(contexts)))
	b = le.AppendUint16(b, 0)
	for _, d := range dialects {
		b = le.AppendUint16(b, d)
	}
	for i, c := range contexts {
		for (headerSize+len(b))%8 != 0 || i == 0 && headerSize+len(b) < off {
			b = append(b, 0)
		}
		b = le.AppendUint16(b, c.typ)
		b = le.AppendUint16(b, uint16(len(c.data)))
		b = le.AppendUint32(b, 0)
		b = append(b, c.data...)
	}
	return b
}

func preauthCtx(hashes ...uint16) negContext {
	d := le.AppendUint16(nil, uint16(len(hashes)))
	d = le.AppendUint16(d, 4)
	for _, h := range hashes {
		d = le.AppendUint16(d, h)
	}
	return negContext{ctxPreauth, append(d, 1, 2, 3, 4)}
}

func listCtx(typ uint16, ids ...uint16) negContext {
	d := le.AppendUint16(nil, uint16(len(ids)))
	for _, id := range ids {
		d = le.AppendUint16(d, id)
	}
	return negContext{typ, d}
}

// ntlmNegotiate is a raw NTLMSSP NEGOTIATE (the 16-byte form).
func ntlmNegotiate() []byte {
	return le.AppendUint32(le.AppendUint32([]byte("NTLMSSP\x00"), 1), 0xe2088297)
}

// ntlmAuthenticate is a raw AUTHENTICATE for user with an NTLMv2-shaped
// NT response, or a null session's when user is empty.
func ntlmAuthenticate(user string) []byte {
	var nt []byte
	var name []byte
	if user != "" {
		nt = append(bytes.Repeat([]byte{0x11}, 16), 1, 1, 0, 0, 0, 0, 0, 0)
		nt = append(nt, bytes.Repeat([]byte{0x22}, 24)...)
		for _, u := range utf16.Encode([]rune(user)) {
			name = le.AppendUint16(name, u)
		}
	}
	const hdr = 64
	b := le.AppendUint32([]byte("NTLMSSP\x00"), 3)
	fields := [][]byte{nil, nt, nil, name, nil, nil} // LM, NT, domain, user, workstation, session key
	off := hdr
	for _, f := range fields {
		b = le.AppendUint16(b, uint16(len(f)))
		b = le.AppendUint16(b, uint16(len(f)))
		b = le.AppendUint32(b, uint32(off))
		off += len(f)
	}
	b = le.AppendUint32(b, 0xe2088215)
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

func sessionSetupReq(token []byte) []byte {
	b := le.AppendUint16(nil, 25)
	b = append(b, 0, 1)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, headerSize+24)
	b = le.AppendUint16(b, uint16(len(token)))
	b = le.AppendUint64(b, 0)
	return append(b, token...)
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = le.AppendUint16(b, u)
	}
	return b
}

func treeConnectReq(path string) []byte {
	p := utf16le(path)
	b := le.AppendUint16(nil, 9)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, headerSize+8)
	b = le.AppendUint16(b, uint16(len(p)))
	return append(b, p...)
}

func createReq(name string) []byte {
	n := utf16le(name)
	b := le.AppendUint16(nil, 57)
	b = append(b, make([]byte, 42)...)
	b = le.AppendUint16(b, headerSize+56)
	b = le.AppendUint16(b, uint16(len(n)))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	return append(b, n...)
}

var allOnes = bytes.Repeat([]byte{0xff}, 16)

func ioctlReq(code uint32, fid, input []byte, maxOut uint32) []byte {
	b := le.AppendUint16(nil, 57)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, code)
	b = append(b, fid...)
	b = le.AppendUint32(b, headerSize+56)
	b = le.AppendUint32(b, uint32(len(input)))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, maxOut)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 0)
	return append(b, input...)
}

func readReq(fid []byte, length uint32) []byte {
	b := le.AppendUint16(nil, 49)
	b = append(b, 0x50, 0)
	b = le.AppendUint32(b, length)
	b = le.AppendUint64(b, 0)
	b = append(b, fid...)
	return append(b, make([]byte, 17)...)
}

func writeReq(fid, data []byte) []byte {
	b := le.AppendUint16(nil, 49)
	b = le.AppendUint16(b, headerSize+48)
	b = le.AppendUint32(b, uint32(len(data)))
	b = le.AppendUint64(b, 0)
	b = append(b, fid...)
	b = append(b, make([]byte, 16)...)
	return append(b, data...)
}

func closeReq(fid []byte) []byte {
	b := le.AppendUint16(nil, 24)
	b = append(b, make([]byte, 6)...)
	return append(b, fid...)
}

// srvsvcBind is a BIND of srvsvc over NDR 2.0, plus NDR64 and bind time
// feature negotiation as Windows clients offer them.
func srvsvcBind(abstract syntax) []byte {
	b := appendRPCHeader(nil, ptypeBind, pfcFirstFrag|pfcLastFrag, 1)
	b = le.AppendUint16(b, 4280)
	b = le.AppendUint16(b, 4280)
	b = le.AppendUint32(b, 0)
	b = append(b, 3, 0, 0, 0)
	for i, ts := range []syntax{ndr20, {mustUUID("71710533-beba-4937-8319-b5dbef9ccc36"), 1}, {mustUUID("6cb71c2c-9812-4540-0300-000000000000"), 1}} {
		b = le.AppendUint16(b, uint16(i))
		b = append(b, 1, 0)
		b = append(b, abstract.uuid[:]...)
		b = le.AppendUint32(b, abstract.version)
		b = append(b, ts.uuid[:]...)
		b = le.AppendUint32(b, ts.version)
	}
	return finishPDU(b)
}

// rpcRequest is a REQUEST PDU (one fragment unless flags say otherwise).
func rpcRequest(callID uint32, flags byte, opnum uint16, stub []byte) []byte {
	b := appendRPCHeader(nil, ptypeRequest, flags, callID)
	b = le.AppendUint32(b, uint32(len(stub)))
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, opnum)
	return finishPDU(append(b, stub...))
}

// shareEnumStub is NetrShareEnum's request stub as smbclient sends it.
func shareEnumStub(level uint32) []byte {
	w := &ndrWriter{}
	w.ptr()
	w.str(`\\127.0.0.1`)
	w.u32(level)
	w.u32(level)
	w.ptr()
	w.u32(0)
	w.u32(0)
	w.u32(0xffffffff)
	w.ptr()
	w.u32(0)
	return w.b
}

// logon negotiates SMB 3.0 and logs on as user ("" for a null session).
func (cl *client) logon(user string) reply {
	cl.t.Helper()
	if r := cl.one(cmdNegotiate, negotiateReq(capEncryption, []uint16{dialect202, dialect210, dialect300})); r.status() != statusSuccess {
		cl.t.Fatalf("NEGOTIATE: %v", r.status())
	}
	r := cl.one(cmdSessionSetup, sessionSetupReq(ntlmNegotiate()))
	if r.status() != statusMoreProcessingRequired || !bytes.HasPrefix(r.body[8:], []byte("NTLMSSP\x00\x02")) {
		cl.t.Fatalf("SESSION_SETUP 1: %v %x", r.status(), r.body)
	}
	cl.session = r.h.SessionID
	return cl.one(cmdSessionSetup, sessionSetupReq(ntlmAuthenticate(user)))
}

// openPipe connects IPC$ and opens a pipe, returning its FileId.
func (cl *client) openPipe(name string) []byte {
	cl.t.Helper()
	r := cl.one(cmdTreeConnect, treeConnectReq(`\\filesrv01\IPC$`))
	if r.status() != statusSuccess {
		cl.t.Fatalf("TREE_CONNECT IPC$: %v", r.status())
	}
	cl.tree = r.h.TreeID
	r = cl.one(cmdCreate, createReq(name))
	if r.status() != statusSuccess {
		cl.t.Fatalf("CREATE %s: %v", name, r.status())
	}
	return r.body[64:80]
}

// TestSequence: what the server does with requests out of order, on
// sessions and trees it does not know, and with bad lengths.
func TestSequence(t *testing.T) {
	cl, _ := newClient(t, "windows", nil)
	if rs := cl.send(request{cmd: cmdSessionSetup, body: sessionSetupReq(ntlmNegotiate())}); rs != nil || !cl.closed {
		t.Errorf("SESSION_SETUP before NEGOTIATE: %v, closed %v", rs, cl.closed)
	}

	cl, _ = newClient(t, "windows", nil)
	for _, tc := range []struct {
		body []byte
		want ntStatus
	}{
		{negotiateReq(0, nil), statusInvalidParameter},
		{negotiateReq(0, []uint16{0x0999, dialect202})[:38], statusInvalidParameter},
		{negotiateReq(0, []uint16{0x0999, dialectWildcard}), statusNotSupported},
		{negotiateReq(0, []uint16{dialect311}), statusInvalidParameter},                            // no contexts
		{negotiateReq(0, []uint16{dialect311}, listCtx(ctxEncryption, 1)), statusInvalidParameter}, // no preauth
		{negotiateReq(0, []uint16{dialect311}, preauthCtx(2)), statusNoPreauthOverlap},
		{negotiateReq(0, []uint16{dialect311}, preauthCtx(1), listCtx(ctxEncryption)), statusInvalidParameter},
	} {
		if r := cl.one(cmdNegotiate, tc.body); r.status() != tc.want || cl.closed {
			t.Errorf("NEGOTIATE %x: %v, want %v", tc.body, r.status(), tc.want)
		}
	}
	if r := cl.one(cmdNegotiate, negotiateReq(0, []uint16{dialect202})); r.status() != statusSuccess {
		t.Fatalf("NEGOTIATE 2.0.2: %v", r.status())
	}
	for _, tc := range []struct {
		name string
		cmd  command
		body []byte
		want ntStatus
	}{
		{"echo without session", cmdEcho, []byte{4, 0, 0, 0}, statusSuccess},
		{"tree connect without session", cmdTreeConnect, treeConnectReq(`\\x\IPC$`), statusUserSessionDeleted},
		{"second session setup of an unknown session", cmdSessionSetup, sessionSetupReq(ntlmAuthenticate("bob")), statusUserSessionDeleted},
	} {
		if tc.cmd == cmdSessionSetup {
			cl.session = 42
		}
		if r := cl.one(tc.cmd, tc.body); r.status() != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, r.status(), tc.want)
		}
	}
	if rs := cl.send(request{cmd: cmdNegotiate, body: negotiateReq(0, []uint16{dialect202})}); rs != nil || !cl.closed {
		t.Errorf("second NEGOTIATE: %v, closed %v", rs, cl.closed)
	}
}

// TestNegotiateContexts: the ciphers and signing algorithms each product
// picks from a client's lists.
func TestNegotiateContexts(t *testing.T) {
	for _, tc := range []struct {
		name, os string
		caps     uint32
		contexts []negContext
		want     string // the answer's contexts after the preauth one
	}{
		{"windows takes the client's first cipher", "windows", capEncryption,
			[]negContext{preauthCtx(1), listCtx(ctxEncryption, cipherAES128CCM, cipherAES128GCM)}, "0200 01000100"},
		{"samba imposes its order", "linux", capEncryption,
			[]negContext{preauthCtx(1), listCtx(ctxEncryption, cipherAES256CCM, cipherAES128CCM, cipherAES128GCM)}, "0200 01000200"},
		{"windows has no AES-256", "windows", capEncryption,
			[]negContext{preauthCtx(1), listCtx(ctxEncryption, cipherAES256GCM)}, "0200 01000000"},
		{"samba wants the encryption capability", "linux", 0,
			[]negContext{preauthCtx(1), listCtx(ctxEncryption, cipherAES128GCM)}, ""},
		{"windows ignores signing contexts", "windows", 0,
			[]negContext{preauthCtx(2, 1), listCtx(ctxSigning, signAESCMAC, signAESGMAC), listCtx(ctxNetname, 0x41)}, ""},
		{"samba picks GMAC", "linux", 0,
			[]negContext{preauthCtx(1), listCtx(ctxSigning, signHMACSHA256, signAESCMAC, signAESGMAC)}, "0800 01000200"},
		{"samba keeps quiet without a common signing algorithm", "linux", 0,
			[]negContext{preauthCtx(1), listCtx(ctxSigning, 7)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, _ := newClient(t, tc.os, nil)
			r := cl.one(cmdNegotiate, negotiateReq(tc.caps, []uint16{dialect202, dialect311}, tc.contexts...))
			if r.status() != statusSuccess {
				t.Fatalf("NEGOTIATE: %v", r.status())
			}
			msg := append(r.h.appendTo(nil), r.body...)
			n := int(le.Uint16(r.body[6:]))
			req := negotiateRequest{contextOffset: int(le.Uint32(r.body[60:])), contextCount: n}
			req.dialects = make([]uint16, (req.contextOffset-headerSize-36)/2)
			cs, err := req.contexts(msg)
			if err != nil || cs[0].typ != ctxPreauth || len(cs[0].data) != 38 {
				t.Fatalf("contexts %v: %v", cs, err)
			}
			var got []string
			for _, c := range cs[1:] {
				got = append(got, hex.EncodeToString(le.AppendUint16(nil, c.typ))+" "+hex.EncodeToString(c.data))
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("contexts %q, want %q", got, tc.want)
			}
			if caps := le.Uint32(r.body[24:]); caps&capEncryption != 0 {
				t.Errorf("3.1.1 answer with the encryption capability %#x", caps)
			}
		})
	}
}

// TestLogons: null sessions are accepted; other logons fail, unless the
// persona maps unknown users to guest.
func TestLogons(t *testing.T) {
	for _, tc := range []struct {
		name, os, user string
		p              *Persona
		want           ntStatus
		flags          uint16
	}{
		{"windows null session", "windows", "", nil, statusSuccess, sessionNull},
		{"windows user", "windows", "bob", nil, statusLogonFailure, 0},
		{"windows guest", "windows", "bob", &Persona{Guest: yes}, statusSuccess, sessionGuest},
		{"samba guest", "linux", "bob", nil, statusSuccess, sessionGuest},
		{"samba known user", "linux", "BOB", &Persona{Users: []string{"bob"}}, statusLogonFailure, 0},
		{"samba without guest", "linux", "bob", &Persona{Guest: no}, statusLogonFailure, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, ev := newClient(t, tc.os, tc.p)
			r := cl.logon(tc.user)
			if r.status() != tc.want {
				t.Fatalf("logon: %v, want %v", r.status(), tc.want)
			}
			auth := fieldsOf(ev, "auth")
			if len(auth) != 1 || auth[0]["username"] != tc.user || auth[0]["status"] != tc.want.String() {
				t.Fatalf("auth events %v", auth)
			}
			if tc.user != "" && (auth[0]["hash_format"] != "netntlmv2 (hashcat 5600)" || !strings.HasPrefix(auth[0]["hash"], tc.user+"::")) {
				t.Errorf("auth event without the hash: %v", auth[0])
			}
			if tc.want != statusSuccess {
				if r := cl.one(cmdTreeConnect, treeConnectReq(`\\filesrv01\IPC$`)); r.status() != statusUserSessionDeleted {
					t.Errorf("tree connect after a failed logon: %v", r.status())
				}
				return
			}
			if got := le.Uint16(r.body[2:]); got != tc.flags {
				t.Errorf("session flags %#x, want %#x", got, tc.flags)
			}
			if r := cl.one(cmdLogoff, []byte{4, 0, 0, 0}); r.status() != statusSuccess {
				t.Errorf("LOGOFF: %v", r.status())
			}
			if r := cl.one(cmdEcho, []byte{4, 0, 0, 0}); r.status() != statusSuccess {
				t.Errorf("ECHO after LOGOFF: %v", r.status())
			}
			if r := cl.one(cmdTreeConnect, treeConnectReq(`\\filesrv01\IPC$`)); r.status() != statusUserSessionDeleted {
				t.Errorf("tree connect after LOGOFF: %v", r.status())
			}
		})
	}
}

// TestTreesAndPipes: which shares connect and which pipes open, by
// product and session.
func TestTreesAndPipes(t *testing.T) {
	cl, ev := newClient(t, "windows", nil)
	cl.logon("")
	for share, want := range map[string]ntStatus{
		`\\filesrv01\ADMIN$`: statusAccessDenied, `\\filesrv01\finance`: statusAccessDenied,
		`\\filesrv01\nope`: statusBadNetworkName, `\\filesrv01\ipc$`: statusSuccess,
	} {
		if r := cl.one(cmdTreeConnect, treeConnectReq(share)); r.status() != want {
			t.Errorf("TREE_CONNECT %s: %v, want %v", share, r.status(), want)
		} else if want == statusSuccess {
			cl.tree = r.h.TreeID
		}
	}
	if r := cl.one(cmdCreate, createReq("srvsvc")); r.status() != statusAccessDenied {
		t.Errorf("null session CREATE srvsvc on Windows: %v", r.status())
	}
	if r := cl.one(cmdCreate, createReq("nosuchpipe")); r.status() != statusObjectNameNotFound {
		t.Errorf("CREATE nosuchpipe: %v", r.status())
	}
	found := 0
	for _, f := range fieldsOf(ev, "tree_connect") {
		if f["share"] == `\\filesrv01\finance` && f["status"] == "STATUS_ACCESS_DENIED" && f["session_type"] == "anonymous" {
			found++
		}
	}
	if found != 1 {
		t.Errorf("tree_connect events %v", fieldsOf(ev, "tree_connect"))
	}
	if r := cl.one(cmdTreeDisconnect, []byte{4, 0, 0, 0}); r.status() != statusSuccess {
		t.Errorf("TREE_DISCONNECT: %v", r.status())
	}
	if r := cl.one(cmdCreate, createReq("srvsvc")); r.status() != statusNetworkNameDeleted {
		t.Errorf("CREATE after TREE_DISCONNECT: %v", r.status())
	}

	cl, _ = newClient(t, "linux", nil)
	cl.logon("")
	fid := cl.openPipe(`\lsarpc`)
	// lsarpc opens but its interface is not served: the bind is refused.
	r := cl.one(cmdIoctl, ioctlReq(fsctlPipeTransceive, fid, srvsvcBind(syntax{mustUUID("12345778-1234-abcd-ef00-0123456789ab"), 0}), 4280))
	if r.status() != statusSuccess || len(r.body) < 48+60 || r.body[48+2] != ptypeBindAck {
		t.Fatalf("bind lsarpc: %v %x", r.status(), r.body)
	}
	if ack := r.body[48:]; !bytes.Contains(ack, []byte(`\PIPE\lsass`)) || le.Uint16(ack[len(ack)-3*24:]) != resultProviderRej {
		t.Errorf("bind ack %x", ack)
	}
	for _, c := range []struct {
		name string
		body []byte
		want ntStatus
	}{
		{"read of an unknown file", readReq(bytes.Repeat([]byte{7}, 16), 100), statusFileClosed},
		{"read of an empty pipe", readReq(fid, 100), statusPipeEmpty},
		{"close", closeReq(fid), statusSuccess},
		{"read after close", readReq(fid, 100), statusFileClosed},
	} {
		if r := cl.one(map[bool]command{true: cmdClose, false: cmdRead}[c.name == "close"], c.body); r.status() != c.want {
			t.Errorf("%s: %v, want %v", c.name, r.status(), c.want)
		}
	}
}

// TestCompound: smbclient-style compounds of CREATE, IOCTL and CLOSE on
// the created FileId, answered as one compound; when the CREATE fails,
// the related requests fail with its status.
func TestCompound(t *testing.T) {
	cl, ev := newClient(t, "linux", nil)
	cl.logon("bob")
	r := cl.one(cmdTreeConnect, treeConnectReq(`\\filesrv01\IPC$`))
	cl.tree = r.h.TreeID
	rs := cl.send(
		request{cmd: cmdCreate, body: createReq("srvsvc")},
		request{cmd: cmdIoctl, body: ioctlReq(fsctlPipeTransceive, allOnes, srvsvcBind(srvsvcIf), 4280), related: true},
		request{cmd: cmdIoctl, body: ioctlReq(fsctlPipeTransceive, allOnes, rpcRequest(2, pfcFirstFrag|pfcLastFrag, opNetrShareEnum, shareEnumStub(1)), 4280), related: true},
		request{cmd: cmdClose, body: closeReq(allOnes), related: true},
	)
	if len(rs) != 4 {
		t.Fatalf("%d responses", len(rs))
	}
	for i, r := range rs {
		if r.status() != statusSuccess || (i > 0) != (r.h.Flags&flagRelated != 0) || r.h.SessionID != cl.session || r.h.TreeID != cl.tree {
			t.Errorf("response %d: %v flags %#x session %x tree %d", i, r.status(), r.h.Flags, r.h.SessionID, r.h.TreeID)
		}
	}
	resp := rs[2].body[48:]
	if resp[2] != ptypeResponse || !bytes.Contains(resp, utf16le("backup")) || !bytes.Contains(resp, utf16le("IPC Service (Samba 4.17.12-Debian)")) {
		t.Errorf("NetrShareEnum response %x", resp)
	}
	if len(cl.c.opens) != 0 {
		t.Errorf("%d opens left after CLOSE", len(cl.c.opens))
	}
	if rpc := fieldsOf(ev, "rpc"); len(rpc) != 1 || rpc[0]["server_name"] != `\\127.0.0.1` || rpc[0]["result"] != "WERR_OK" {
		t.Errorf("rpc events %v", rpc)
	}

	if rs := cl.send(request{cmd: cmdEcho, body: []byte{4, 0, 0, 0}, related: true}); len(rs) != 1 || rs[0].status() != statusInvalidParameter {
		t.Errorf("a first request marked related: %v", rs)
	}
	rs = cl.send(
		request{cmd: cmdCreate, body: createReq("nosuch")},
		request{cmd: cmdRead, body: readReq(allOnes, 10), related: true},
		request{cmd: cmdClose, body: closeReq(allOnes), related: true},
	)
	for i, r := range rs {
		if r.status() != statusObjectNameNotFound || !bytes.HasPrefix(r.body, errorBody) {
			t.Errorf("failed compound, response %d: %v %x", i, r.status(), r.body)
		}
	}
}

// TestPipeReads: a message longer than a read comes in pieces, with
// STATUS_BUFFER_OVERFLOW before the last, as on a message-mode pipe;
// bytes that are not DCE/RPC break the pipe.
func TestPipeReads(t *testing.T) {
	cl, _ := newClient(t, "linux", nil)
	cl.logon("")
	fid := cl.openPipe("srvsvc")
	if r := cl.one(cmdWrite, writeReq(fid, srvsvcBind(srvsvcIf))); r.status() != statusSuccess || le.Uint32(r.body[4:]) != uint32(len(srvsvcBind(srvsvcIf))) {
		t.Fatalf("WRITE: %v %x", r.status(), r.body)
	}
	var ack []byte
	for {
		r := cl.one(cmdRead, readReq(fid, 20))
		if r.status() != statusSuccess && r.status() != statusBufferOverflow {
			t.Fatalf("READ: %v", r.status())
		}
		ack = append(ack, r.body[16:16+le.Uint32(r.body[4:])]...)
		if r.status() == statusSuccess {
			break
		}
	}
	if h, err := parseRPCHeader(ack); err != nil || h.ptype != ptypeBindAck || h.fragLen != len(ack) {
		t.Fatalf("bind ack %x: %v", ack, err)
	}
	if r := cl.one(cmdWrite, writeReq(fid, []byte("GET / HTTP/1.0\r\n\r\n"))); r.status() != statusPipeDisconnected {
		t.Errorf("WRITE of HTTP: %v", r.status())
	}
	if r := cl.one(cmdRead, readReq(fid, 100)); r.status() != statusPipeDisconnected {
		t.Errorf("READ of a broken pipe: %v", r.status())
	}
}

// TestIoctls: negotiation validation on SMB 3.0 (and a drop on 3.1.1),
// DFS referrals, unknown FSCTLs.
func TestIoctls(t *testing.T) {
	cl, _ := newClient(t, "windows", &Persona{Anonymous: yes})
	cl.logon("")
	fid := cl.openPipe("srvsvc")
	r := cl.one(cmdIoctl, ioctlReq(fsctlValidateNegotiate, allOnes, make([]byte, 24), 24))
	if r.status() != statusSuccess || len(r.body) != 48+24 || le.Uint16(r.body[48+22:]) != dialect300 {
		t.Errorf("VALIDATE_NEGOTIATE_INFO: %v %x", r.status(), r.body)
	}
	for code, want := range map[uint32]ntStatus{fsctlDFSGetReferrals: statusNotFound, 0x00090000: statusNotSupported} {
		if r := cl.one(cmdIoctl, ioctlReq(code, allOnes, nil, 100)); r.status() != want {
			t.Errorf("FSCTL %#x: %v, want %v", code, r.status(), want)
		}
	}
	if r := cl.one(cmdIoctl, ioctlReq(0x00090000, fid, nil, 100)); r.status() != statusInvalidDeviceRequest {
		t.Errorf("unknown FSCTL on a pipe: %v", r.status())
	}

	cl, _ = newClient(t, "windows", &Persona{Anonymous: yes})
	cl.one(cmdNegotiate, negotiateReq(0, []uint16{dialect311}, preauthCtx(1)))
	cl.session = 0
	r = cl.one(cmdSessionSetup, sessionSetupReq(ntlmNegotiate()))
	cl.session = r.h.SessionID
	cl.one(cmdSessionSetup, sessionSetupReq(ntlmAuthenticate("")))
	cl.openPipe("wkssvc")
	if rs := cl.send(request{cmd: cmdIoctl, body: ioctlReq(fsctlValidateNegotiate, allOnes, make([]byte, 24), 24)}); rs != nil || !cl.closed {
		t.Errorf("VALIDATE_NEGOTIATE_INFO on 3.1.1: %v, closed %v", rs, cl.closed)
	}
}

// netbiosName encodes a NetBIOS name with its suffix (RFC 1001 14.1),
// without scope.
func netbiosName(name string, suffix byte) []byte {
	var raw [16]byte
	copy(raw[:], name+strings.Repeat(" ", 16))
	raw[15] = suffix
	b := []byte{32}
	for _, c := range raw {
		b = append(b, 'A'+c>>4, 'A'+c&0x0f)
	}
	return append(b, 0)
}

// sessionRequestFrame is an NBSS SESSION REQUEST from ATTACKER to a server
// name, the calling name having the given suffix.
func sessionRequestFrame(called string, callingSuffix byte) []byte {
	return nbssPacket(nbssSessionRequest, append(netbiosName(called, 0x20), netbiosName("ATTACKER", callingSuffix)...))
}

// nbssPacket frames a payload as an NBSS packet of a type.
func nbssPacket(typ byte, payload []byte) []byte {
	return append([]byte{typ, 0, byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// TestNBSS: framing bounds and the NetBIOS session service of port 139.
func TestNBSS(t *testing.T) {
	smb1 := clientFrames(t, "impacket-windows-445")[0]
	keepalive := []byte{nbssKeepAlive, 0, 0, 0}
	badChars := nbssPacket(nbssSessionRequest, append(append([]byte{32}, bytes.Repeat([]byte("Z"), 32)...), append([]byte{0}, netbiosName("ATTACKER", 0)...)...))
	for _, tc := range []struct {
		name, os string
		port     int
		in       []byte
		want     string // hex of the start of what the server sends
		event    string // the event of the refusal or session, with its result
		result   string
	}{
		{"too large", "windows", 445, []byte{0, 0x10, 0, 1}, "", "protocol_error", ""},
		{"not SMB", "linux", 445, []byte("\x00\x00\x00\x04GET "), "", "protocol_error", ""},
		{"windows keepalive then SMB1", "windows", 445, append(keepalive, smb1...), "00000", "", ""},
		{"samba keepalive first", "linux", 445, append(keepalive, smb1...), "", "protocol_error", ""},
		{"samba 139 without session request", "linux", 139, smb1, "00000", "", ""},
		{"windows 139 without session request", "windows", 139, smb1, "830000018f", "nbss_session", "unspecified error"},
		{"samba any name", "linux", 139, sessionRequestFrame("WHATEVER", 0), "82000000", "nbss_session", "positive"},
		{"samba names outside A-P", "linux", 139, badChars, "82000000", "nbss_session", "positive"},
		{"samba PATHWORKS", "linux", 139, sessionRequestFrame("*SMBSERVER", 'R'), "8300000182", "nbss_session", "called name not present"},
		{"samba truncated", "linux", 139, []byte{nbssSessionRequest, 0, 0, 4, 32, 'A', 'A', 'A'}, "8300000182", "nbss_session", "called name not present"},
		{"samba second session request", "linux", 139, append(sessionRequestFrame("A", 0), sessionRequestFrame("A", 0)...), "82000000", "protocol_error", ""},
		{"windows own name", "windows", 139, sessionRequestFrame("FILESRV01", 0), "82000000", "nbss_session", "positive"},
		{"windows *SMBSERVER", "windows", 139, sessionRequestFrame("*SMBSERVER", 0), "82000000", "nbss_session", "positive"},
		{"windows other name", "windows", 139, sessionRequestFrame("OTHER", 0), "8300000182", "nbss_session", "called name not present"},
		{"windows malformed", "windows", 139, []byte{nbssSessionRequest, 0, 0, 3, 1, 2, 3}, "830000018f", "nbss_session", "unspecified error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := testServer(t, tc.os, nil)
			var out bytes.Buffer
			s.serveConn(struct {
				io.Reader
				io.Writer
			}{bytes.NewReader(tc.in), &out}, tc.port, map[string]string{})
			if got := hex.EncodeToString(out.Bytes()); !strings.HasPrefix(got, tc.want) || tc.want == "" && got != "" {
				t.Errorf("server sent %s, want %s…", got, tc.want)
			}
			if tc.event == "" {
				return
			}
			if f := fieldsOf(ev, tc.event); len(f) == 0 || f[len(f)-1]["result"] != tc.result {
				dump(t, ev)
				t.Errorf("no %s event with result %q", tc.event, tc.result)
			}
		})
	}
}

// TestReadFrameGrows: a frame whose length is announced but whose bytes
// never come costs no memory up front.
func TestReadFrameGrows(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		b.Write([]byte{0, 0x0f, 0xff, 0xff})
		b.Write(bytes.Repeat([]byte{1}, 5000))
		b.Close()
	}()
	a.SetDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := readFrame(a, lengthMaskTCP); err != io.ErrUnexpectedEOF {
		t.Errorf("short frame: %v", err)
	}
	msg := append([]byte{0, 0, 0x20, 0}, bytes.Repeat([]byte{2}, 0x2000)...)
	typ, p, err := readFrame(bytes.NewReader(msg), lengthMaskTCP)
	if err != nil || typ != 0 || len(p) != 0x2000 || p[0x1fff] != 2 {
		t.Errorf("frame of 8 KiB: %d bytes, %v", len(p), err)
	}
}
