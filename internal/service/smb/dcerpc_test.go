package smb

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// pipeAnswers writes PDUs to a fresh srvsvc pipe and returns the answers.
func pipeAnswers(t *testing.T, shares []share, pdus ...[]byte) ([][]byte, []rpcEvent) {
	t.Helper()
	p := newPipe("srvsvc")
	var evs []rpcEvent
	for _, pdu := range pdus {
		e, err := p.write(pdu, srvsvc{shares: shares}, func() uint32 { return 0x1234 })
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e...)
	}
	var out [][]byte
	for {
		m, _ := p.read(1 << 20)
		if m == nil {
			return out, evs
		}
		out = append(out, m)
	}
}

// readShareEnum decodes a NetrShareEnum level 1 response stub: the
// shares' names, types and comments, and the WERROR.
func readShareEnum(t *testing.T, stub []byte) ([]share, uint32) {
	t.Helper()
	r := &ndrReader{b: stub}
	level, _ := r.u32(), r.u32()
	var list []share
	if r.u32() != 0 {
		n := r.u32()
		r.u32() // buffer pointer
		if r.u32() != n {
			t.Fatal("array count differs from EntriesRead")
		}
		list = make([]share, n)
		for i := range list {
			r.u32()
			if level == 1 {
				list[i].typ = r.u32()
				r.u32()
			}
		}
		for i := range list {
			list[i].name = r.str()
			if level == 1 {
				list[i].comment = r.str()
			}
		}
	}
	r.u32() // total
	if r.u32() != 0 {
		r.u32()
	}
	werr := r.u32()
	if r.err != nil || r.off != len(stub) {
		t.Fatalf("response stub %x: %v, %d of %d bytes read", stub, r.err, r.off, len(stub))
	}
	return list, werr
}

// TestBind: srvsvc binds over NDR 2.0; NDR64 is refused, bind time
// feature negotiation acknowledged, other interfaces refused; an
// authenticated bind is refused with a BIND_NAK.
func TestBind(t *testing.T) {
	out, evs := pipeAnswers(t, nil, srvsvcBind(srvsvcIf))
	if len(out) != 1 {
		t.Fatalf("%d answers", len(out))
	}
	ack := out[0]
	h, err := parseRPCHeader(ack)
	if err != nil || h.ptype != ptypeBindAck || h.callID != 1 || h.fragLen != len(ack) {
		t.Fatalf("bind ack %x: %v", ack, err)
	}
	if le.Uint16(ack[16:]) != 4280 || le.Uint32(ack[20:]) != 0x1234 || !bytes.Contains(ack, []byte("\\PIPE\\srvsvc\x00")) {
		t.Errorf("bind ack header %x", ack[:48])
	}
	results := ack[len(ack)-3*24:]
	for i, want := range []struct{ result, reason uint16 }{
		{resultAcceptance, 0}, {resultProviderRej, reasonTransferNotSupported}, {resultNegotiateAck, 3},
	} {
		r := results[24*i:]
		if le.Uint16(r) != want.result || le.Uint16(r[2:]) != want.reason {
			t.Errorf("context %d: result %d reason %d, want %v", i, le.Uint16(r), le.Uint16(r[2:]), want)
		}
	}
	if len(evs) != 1 || evs[0].typ != "rpc_bind" || !strings.Contains(strings.Join(evs[0].kv, " "), `["srvsvc","srvsvc"]`) {
		t.Errorf("events %v", evs)
	}

	auth := srvsvcBind(srvsvcIf)
	auth = append(auth, make([]byte, 8+16)...)
	le.PutUint16(auth[10:], 16)
	finishPDU(auth)
	out, _ = pipeAnswers(t, nil, auth)
	if len(out) != 1 || out[0][2] != ptypeBindNak || out[0][16] != 8 {
		t.Errorf("authenticated bind: %x", out)
	}
}

// TestShareEnum: NetrShareEnum and NetrShareGetInfo at the levels a guest
// may and may not read, unknown operations and unbound contexts.
func TestShareEnum(t *testing.T) {
	s, _ := testServer(t, "windows", &Persona{Shares: map[string]string{"Finance": "Q4", "backup": ""}})
	shares := s.pr.shares
	bind := srvsvcBind(srvsvcIf)
	for _, tc := range []struct {
		name  string
		opnum uint16
		stub  []byte
		fault uint32
		werr  uint32
		names string
	}{
		{"enum level 1", opNetrShareEnum, shareEnumStub(1), 0, werrOK, "ADMIN$ backup C$ Finance IPC$"},
		{"enum level 0", opNetrShareEnum, shareEnumStub(0), 0, werrOK, "ADMIN$ backup C$ Finance IPC$"},
		{"enum level 2", opNetrShareEnum, shareEnumStub(2), 0, werrAccessDenied, ""},
		{"enum level 7", opNetrShareEnum, shareEnumStub(7), 0, werrInvalidLevel, ""},
		{"enum truncated", opNetrShareEnum, shareEnumStub(1)[:30], faultBadStubData, 0, ""},
		{"unknown opnum", 21, shareEnumStub(1), faultOpRangeError, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, evs := pipeAnswers(t, shares, bind, rpcRequest(2, pfcFirstFrag|pfcLastFrag, tc.opnum, tc.stub))
			if len(out) != 2 {
				t.Fatalf("%d answers", len(out))
			}
			h, _ := parseRPCHeader(out[1])
			if tc.fault != 0 {
				if h.ptype != ptypeFault || le.Uint32(out[1][24:]) != tc.fault {
					t.Errorf("answer %x, want fault %#x", out[1], tc.fault)
				}
				return
			}
			if h.ptype != ptypeResponse || h.callID != 2 {
				t.Fatalf("answer %x", out[1])
			}
			list, werr := readShareEnum(t, out[1][24:])
			var names []string
			for _, sh := range list {
				names = append(names, sh.name)
			}
			if werr != tc.werr || strings.Join(names, " ") != tc.names {
				t.Errorf("shares %v, werr %d; want %s, %d", names, werr, tc.names, tc.werr)
			}
			if tc.name == "enum level 1" {
				want := share{"Finance", stypeDisk, "Q4"}
				if list[3] != want || list[4] != (share{"IPC$", stypeIPC | stypeSpecial, "Remote IPC"}) {
					t.Errorf("shares %v", list)
				}
			}
			if ev := strings.Join(evs[len(evs)-1].kv, " "); !strings.Contains(ev, "operation NetrShareEnum") || !strings.Contains(ev, `server_name \\127.0.0.1`) {
				t.Errorf("event %s", ev)
			}
		})
	}

	getInfo := func(name string, level uint32) []byte {
		w := &ndrWriter{}
		w.ptr()
		w.str("FILESRV01")
		w.str(name)
		w.u32(level)
		return w.b
	}
	for _, tc := range []struct {
		name  string
		level uint32
		werr  uint32
	}{{"finance", 1, werrOK}, {"nope", 1, werrNetNameNotFound}, {"C$", 502, werrAccessDenied}} {
		out, _ := pipeAnswers(t, shares, bind, rpcRequest(3, pfcFirstFrag|pfcLastFrag, opNetrShareGetInfo, getInfo(tc.name, tc.level)))
		stub := out[1][24:]
		if werr := le.Uint32(stub[len(stub)-4:]); werr != tc.werr {
			t.Errorf("NetrShareGetInfo %s: %d, want %d", tc.name, werr, tc.werr)
		}
		if tc.werr == werrOK && !bytes.Contains(stub, utf16le("Q4")) {
			t.Errorf("NetrShareGetInfo %s: %x", tc.name, stub)
		}
	}

	out, _ := pipeAnswers(t, shares, rpcRequest(2, pfcFirstFrag|pfcLastFrag, opNetrShareEnum, shareEnumStub(1)))
	if len(out) != 1 || out[0][2] != ptypeFault || le.Uint32(out[0][24:]) != faultUnknownIf {
		t.Errorf("request before bind: %x", out)
	}
}

// TestFragments: a request in three fragments is reassembled, across
// writes that split PDUs anywhere; a long response is cut into
// fragments of the negotiated size, 8-byte multiples but the last.
func TestFragments(t *testing.T) {
	var shares []share
	for i := range maxShares {
		shares = append(shares, share{name: fmt.Sprintf("share-with-a-long-name-%02d", i), comment: strings.Repeat("c", maxShareComment)})
	}
	bind := srvsvcBind(srvsvcIf)
	le.PutUint16(bind[18:], minRPCFrag) // the client's max_recv_frag
	stub := shareEnumStub(1)
	var stream []byte
	for i, part := range [][]byte{stub[:8], stub[8:24], stub[24:]} {
		flags := byte(0)
		if i == 0 {
			flags |= pfcFirstFrag
		}
		if i == 2 {
			flags |= pfcLastFrag
		}
		stream = append(stream, rpcRequest(9, flags, opNetrShareEnum, part)...)
	}
	stream = append(bind, stream...)
	var pdus [][]byte
	for i := 0; i < len(stream); i += 13 {
		pdus = append(pdus, stream[i:min(i+13, len(stream))])
	}
	out, _ := pipeAnswers(t, shares, pdus...)
	if len(out) < 3 {
		t.Fatalf("%d answers", len(out))
	}
	var full []byte
	for i, m := range out[1:] {
		h, _ := parseRPCHeader(m)
		last := i == len(out)-2
		if h.ptype != ptypeResponse || h.fragLen > minRPCFrag || (h.flags&pfcFirstFrag != 0) != (i == 0) || (h.flags&pfcLastFrag != 0) != last {
			t.Errorf("fragment %d: %x", i, m[:16])
		}
		if !last && (len(m)-24)%8 != 0 {
			t.Errorf("fragment %d carries %d stub bytes", i, len(m)-24)
		}
		full = append(full, m[24:]...)
	}
	list, werr := readShareEnum(t, full)
	if werr != werrOK || len(list) != maxShares || list[maxShares-1].name != "share-with-a-long-name-63" {
		t.Errorf("%d shares, werr %d", len(list), werr)
	}
}
