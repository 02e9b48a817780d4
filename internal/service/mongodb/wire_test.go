package mongodb

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// msg builds an OP_MSG: a body, optional document sequences, flags, and a
// checksum when flagChecksum is set (corrupted when bad is true).
func msg(flags uint32, body doc, seqID string, seq []doc, bad bool) []byte {
	b := appendHeader(nil, 7, 0, opMsg)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = appendDoc(append(b, 0), body)
	if seqID != "" {
		start := len(b) + 1
		b = append(b, 1, 0, 0, 0, 0)
		b = append(append(b, seqID...), 0)
		for _, d := range seq {
			b = appendDoc(b, d)
		}
		binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start))
	}
	if flags&flagChecksum != 0 {
		b = append(b, 0, 0, 0, 0)
	}
	b = finish(b, 0)
	if flags&flagChecksum != 0 {
		sum := crc32.Checksum(b[:len(b)-4], crc32.MakeTable(crc32.Castagnoli))
		if bad {
			sum++
		}
		binary.LittleEndian.PutUint32(b[len(b)-4:], sum)
	}
	return b
}

func opQueryMsg(ns string, q doc) []byte {
	b := appendHeader(nil, 9, 0, opQuery)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(append(b, ns...), 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0xffffffff)
	return finish(appendDoc(b, q), 0)
}

// replyDoc decodes the document of an OP_REPLY or OP_MSG reply.
func replyDoc(t *testing.T, out []byte) doc {
	t.Helper()
	checkReply(t, out)
	off := headerLen + 5
	if parseHeader(out).OpCode == opReply {
		off = headerLen + 20
	}
	d, _, err := readDoc(out[off:], 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMessages(t *testing.T) {
	insert := doc{{"insert", "notes"}, {"$db", "shop"}}
	for _, tc := range []struct {
		name    string
		version string
		in      []byte
		keep    bool
		want    string // substring of the reply's JSON; "" for no reply
	}{
		{"op_msg ping", "6.0.19", msg(0, doc{{"ping", int32(1)}, {"$db", "admin"}}, "", nil, false), true, `{"ok":1}`},
		{"checksum ok", "6.0.19", msg(flagChecksum, doc{{"ping", int32(1)}, {"$db", "admin"}}, "", nil, false), true, `{"ok":1}`},
		{"checksum bad", "6.0.19", msg(flagChecksum, doc{{"ping", int32(1)}, {"$db", "admin"}}, "", nil, true), false, ""},
		{"unknown required flag", "6.0.19", msg(1<<3, doc{{"ping", int32(1)}, {"$db", "admin"}}, "", nil, false), false, ""},
		{"exhaust flag is optional", "6.0.19", msg(flagExhaust, doc{{"ping", int32(1)}, {"$db", "admin"}}, "", nil, false), true, `{"ok":1}`},
		{"more to come: no reply", "6.0.19", msg(flagMoreToCome, insert, "documents", []doc{{{"a", int32(1)}}}, false), true, ""},
		{"document sequence", "6.0.19", msg(0, insert, "documents", []doc{{{"a", int32(1)}}, {{"a", int32(2)}}}, false), true, `{"n":2,"ok":1}`},
		{"no $db", "6.0.19", msg(0, doc{{"ping", int32(1)}}, "", nil, false), true, `"code":40571`},
		{"unknown command", "6.0.19", msg(0, doc{{"frobnicate", int32(1)}, {"$db", "admin"}}, "", nil, false), true, `"errmsg":"no such command: 'frobnicate'","code":59,"codeName":"CommandNotFound"`},
		{"op_query serverStatus 6.0", "6.0.19", opQueryMsg("test.$cmd", doc{{"serverStatus", 1.0}}), true, `"errmsg":"Unsupported OP_QUERY command: serverStatus. The client driver may require an upgrade.`},
		{"op_query serverStatus 4.4", "4.4.29", opQueryMsg("test.$cmd", doc{{"serverStatus", 1.0}}), true, `"version":"4.4.29","process":"mongod"`},
		{"op_query isMaster 6.0", "6.0.19", opQueryMsg("admin.$cmd", doc{{"$query", doc{{"isMaster", int32(1)}, {"helloOk", true}}}}), true, `{"helloOk":true,"ismaster":true,"topologyVersion"`},
		{"legacy query 4.4", "4.4.29", opQueryMsg("shop.customers", doc{{"city", "Leeds"}}), true, `"firstName":"James"`},
		{"legacy query 6.0", "6.0.19", opQueryMsg("shop.customers", doc{}), true, `"errmsg":"Unsupported OP_QUERY command: find.`},
		{"second client metadata", "6.0.19", append(msg(0, doc{{"hello", int32(1)}, {"client", doc{{"driver", doc{{"name", "x"}}}}}, {"$db", "admin"}}, "", nil, false), msg(0, doc{{"hello", int32(1)}, {"client", doc{}}, {"$db", "admin"}}, "", nil, false)...), true, `"code":186,"codeName":"ClientMetadataCannotBeMutated"`},
		{"op_compressed", "6.0.19", finish(append(appendHeader(nil, 1, 0, opCompressed), make([]byte, 9)...), 0), false, ""},
		{"legacy insert", "6.0.19", finish(append(appendHeader(nil, 1, 0, opInsert), make([]byte, 9)...), 0), true, ""},
		{"bad bson", "6.0.19", append(msg(0, doc{{"ping", int32(1)}, {"$db", "admin"}}, "", nil, false)[:21], 0xff), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(testConfig(), &Persona{Version: tc.version})
			cl := &client{id: 3, fields: map[string]string{}, remote: "127.0.0.1:5", convs: map[int32]*scramConv{}}
			// All messages but the last are run first; the last is the one checked.
			in := tc.in
			for h := parseHeader(in); int(h.Length) < len(in) && h.Length >= headerLen; h = parseHeader(in) {
				s.message(cl, h, in[:h.Length])
				in = in[h.Length:]
			}
			binary.LittleEndian.PutUint32(in, uint32(len(in)))
			out, keep, _ := s.message(cl, parseHeader(in), in)
			if keep != tc.keep {
				t.Fatalf("keep = %v, want %v", keep, tc.keep)
			}
			if tc.want == "" {
				if len(out) != 0 {
					t.Fatalf("unexpected reply %s", toJSON(replyDoc(t, out)))
				}
				return
			}
			got := toJSON(replyDoc(t, out))
			if !strings.Contains(got, tc.want) {
				t.Fatalf("reply %s lacks %s", got, tc.want)
			}
			if h := parseHeader(out); h.ResponseTo != parseHeader(in).RequestID {
				t.Fatalf("responseTo %d", h.ResponseTo)
			}
		})
	}
}

func testConfig() service.Config {
	return service.Config{Emit: event.EmitterFunc(func(event.Event) {})}
}

// TestHTTPOnDriverPort checks mongod's answer to a browser.
func TestHTTPOnDriverPort(t *testing.T) {
	addr, rec := start(t, "127.0.104.40", nil)
	c := testutil.Dial(t, addr, 5*time.Second)
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	buf := make([]byte, 512)
	n, _ := io.ReadAtLeast(c, buf, len(httpReply))
	if string(buf[:n]) != httpReply {
		t.Fatalf("got %q", buf[:n])
	}
	// The reply may reach the client before its event is emitted.
	testutil.Eventually(t, "the request event", func() bool { return len(rec.OfType(event.TypeRequest)) > 0 })
}

func TestBSONRejects(t *testing.T) {
	good := appendDoc(nil, doc{{"a", "x"}, {"b", doc{{"c", int32(1)}}}})
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"short", []byte{4, 0, 0}},
		{"length past end", append([]byte{0xff, 0, 0, 0}, good[4:]...)},
		{"not terminated", append(good[:len(good)-1:len(good)-1], 1)},
		{"unknown type", []byte{8, 0, 0, 0, 0x42, 'a', 0, 0}},
		{"string length past end", []byte{14, 0, 0, 0, 2, 'a', 0, 0xff, 0, 0, 0, 'x', 0, 0}},
		{"bad bool", []byte{9, 0, 0, 0, 8, 'a', 0, 2, 0}},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
	} {
		if _, err := decodeDoc(tc.b); err == nil {
			t.Errorf("%s: decoded", tc.name)
		}
	}
	deep := doc{{"x", int32(1)}}
	for range maxDepth + 2 {
		deep = doc{{"d", deep}}
	}
	if _, err := decodeDoc(appendDoc(nil, deep)); err == nil {
		t.Error("nesting past the cap decoded")
	}
	if d, err := decodeDoc(good); err != nil || toJSON(d) != `{"a":"x","b":{"c":1}}` {
		t.Errorf("good document: %v %s", err, toJSON(d))
	}
}

// TestExhaustHello drives the streaming protocol of drivers' monitors: an
// awaitable hello with exhaustAllowed is answered with moreToCome, then
// again and again without being asked, each reply answering the last.
func TestExhaustHello(t *testing.T) {
	addr, rec := start(t, "127.0.104.41", nil)
	c := testutil.Dial(t, addr, 10*time.Second)
	defer c.Close()
	read := func() []byte {
		t.Helper()
		hdr := make([]byte, headerLen)
		if _, err := io.ReadFull(c, hdr); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, parseHeader(hdr).Length)
		copy(b, hdr)
		if _, err := io.ReadFull(c, b[headerLen:]); err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.Write(msg(0, doc{{"hello", int32(1)}, {"$db", "admin"}}, "", nil, false))
	tv := replyDoc(t, read()).sub("topologyVersion")
	req := msg(flagExhaust, doc{{"hello", int32(1)}, {"topologyVersion", tv}, {"maxAwaitTimeMS", int64(20)}, {"$db", "admin"}}, "", nil, false)
	c.Write(req)
	prev := parseHeader(req).RequestID
	for i := range 3 {
		r := read()
		if h := parseHeader(r); h.ResponseTo != prev || binary.LittleEndian.Uint32(r[headerLen:]) != flagMoreToCome {
			t.Fatalf("streamed reply %d: responseTo %d (want %d), flags %#x", i, h.ResponseTo, prev, binary.LittleEndian.Uint32(r[headerLen:]))
		}
		if d := replyDoc(t, r); !truthy(fieldValue(d.get("isWritablePrimary"))) {
			t.Fatalf("streamed reply %d: %s", i, toJSON(d))
		}
		prev = parseHeader(r).RequestID
	}
	if n := len(rec.OfType(event.TypeCommand)); n != 2 {
		t.Fatalf("%d command events, want 2 (streamed replies are not commands)", n)
	}
}
