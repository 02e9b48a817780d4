package mongodb

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// FuzzMessage runs a byte stream through the framing and command layers of
// a server, as one connection's messages, looking for panics and for
// replies that are not well-formed messages.
func FuzzMessage(f *testing.F) {
	// Beyond pymongo's traffic (testdata): the framings it does not use.
	f.Add(msg(flagChecksum, doc{{"ping", int32(1)}, {"$db", "admin"}}, "", nil, false))
	f.Add(opQueryMsg("shop.customers", doc{{"city", "Leeds"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []Persona{{Version: "6.0.19"}, {Version: "6.0.19", Auth: true}, {Version: "4.4.29"}, {Version: "4.4.29", Auth: true}} {
			s := newServer(service.Config{Emit: event.EmitterFunc(func(event.Event) {})}, &p)
			cl := &client{id: 1, fields: map[string]string{}, remote: "127.0.0.1:1", convs: map[int32]*scramConv{}}
			rest := data
			for len(rest) >= headerLen {
				h := parseHeader(rest)
				if h.Length < headerLen || int(h.Length) > len(rest) {
					break
				}
				out, keep, _ := s.message(cl, h, rest[:h.Length])
				checkReply(t, out)
				if !keep {
					break
				}
				rest = rest[h.Length:]
			}
		}
	})
}

func checkReply(t *testing.T, out []byte) {
	if len(out) == 0 {
		return
	}
	h := parseHeader(out)
	if int(h.Length) != len(out) {
		t.Fatalf("reply length %d of %d bytes", h.Length, len(out))
	}
	switch h.OpCode {
	case opReply:
		rest := out[headerLen+20:]
		for i := range int(binary.LittleEndian.Uint32(out[headerLen+16:])) {
			_, n, err := readDoc(rest, 0)
			if err != nil {
				t.Fatalf("reply document %d: %v", i, err)
			}
			rest = rest[n:]
		}
		if len(rest) > 0 {
			t.Fatalf("%d bytes after the reply's documents", len(rest))
		}
	case opMsg:
		if _, err := decodeDoc(out[headerLen+5:]); err != nil {
			t.Fatalf("reply document: %v", err)
		}
	default:
		t.Fatalf("reply opcode %d", h.OpCode)
	}
}

// FuzzBSON checks that whatever decodes re-encodes to bytes that decode to
// the same document, and that nothing panics.
func FuzzBSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeDoc(data)
		if err != nil {
			return
		}
		again, err := decodeDoc(appendDoc(nil, d))
		if err != nil {
			t.Fatalf("re-encoded document does not decode: %v", err)
		}
		if toJSON(again) != toJSON(d) {
			t.Fatalf("round trip changed the document:\n%s\n%s", toJSON(d), toJSON(again))
		}
	})
}

// TestCaptureSeeds rewrites the fuzz seed corpora from pymongo's traffic
// (run with MONGODB_CAPTURE_SEEDS=1): every client connection's bytes seed
// FuzzMessage, every command document FuzzBSON.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("MONGODB_CAPTURE_SEEDS") == "" {
		t.Skip("set MONGODB_CAPTURE_SEEDS=1 to recapture the seed corpora")
	}
	addr, _ := start(t, "127.0.104.30", nil)
	authAddr, _ := start(t, "127.0.104.31", map[string]string{"auth": "true"})
	plain := testutil.StartProxy(t, "127.0.104.32", addr)
	auth := testutil.StartProxy(t, "127.0.104.32", authAddr)
	pymongo(t, plain.Addr, `
c = pymongo.MongoClient(H, P, serverSelectionTimeoutMS=3000)
c.list_database_names(); c.shop.list_collection_names(); list(c.shop.customers.find({"city": "Leeds"}).limit(2))
c.shop.customers.count_documents({}); c.admin.command("getLog", "startupWarnings"); c.admin.command("serverStatus")
c.admin.command("getCmdLineOpts"); c.admin.command("whatsmyuri"); c.x.y.insert_many([{"a": i} for i in range(3)])
c.x.y.delete_many({"a": 1}); c.drop_database("x"); c.close()
`)
	pymongo(t, auth.Addr, `
for m in ("SCRAM-SHA-1", "SCRAM-SHA-256"):
    try:
        pymongo.MongoClient(H, P, username="admin", password="admin", authMechanism=m, serverSelectionTimeoutMS=3000).admin.command("ping")
    except pymongo.errors.OperationFailure:
        pass
`)
	var docs [][]byte
	for i, s := range append(plain.Flows(), auth.Flows()...) {
		testutil.WriteSeed(t, "FuzzMessage", fmt.Sprintf("pymongo%02d", i), s)
		for rest := s; len(rest) >= headerLen; {
			n := int(binary.LittleEndian.Uint32(rest))
			if n < headerLen || n > len(rest) {
				break
			}
			if m := rest[:n]; binary.LittleEndian.Uint32(m[12:]) == opMsg && n > headerLen+5 {
				docs = append(docs, m[headerLen+5:])
			}
			rest = rest[n:]
		}
	}
	for i, d := range docs {
		testutil.WriteSeed(t, "FuzzBSON", fmt.Sprintf("pymongo%02d", i), d)
	}
}
