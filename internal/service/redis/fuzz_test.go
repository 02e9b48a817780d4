package redis

import (
	"bytes"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// FuzzParser checks that any byte stream parses the same whether it
// arrives at once or byte by byte, that no argument passes the caps, and
// that nothing panics.
func FuzzParser(f *testing.F) {
	for _, s := range []string{
		"*1\r\n$4\r\nPING\r\n", "PING\r\n", "SET k \"a\\x41 b\" 'c\\'d'\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "*-1\r\n*0\r\n\r\n", "*2\r\n$4\r\nECHO\r\n$2\r\nhiXX", "\x00\r\n*1\r\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, auth bool) {
		whole, errWhole := parseAll(data, len(data)+1, auth)
		bytewise, errBytes := parseAll(data, 1, auth)
		if (errWhole == nil) != (errBytes == nil) || (errWhole != nil && errWhole.Error() != errBytes.Error()) {
			t.Fatalf("errors differ: %v / %v", errWhole, errBytes)
		}
		if len(whole) != len(bytewise) {
			t.Fatalf("requests differ: %d / %d", len(whole), len(bytewise))
		}
		for i := range whole {
			if !bytes.Equal(bytes.Join(whole[i], []byte{0xff}), bytes.Join(bytewise[i], []byte{0xff})) {
				t.Fatalf("request %d differs", i)
			}
			for _, a := range whole[i] {
				if len(a) > maxArgBytes {
					t.Fatal("argument over the cap")
				}
			}
		}
	})
}

// FuzzExec runs whatever requests the bytes hold through the command
// handlers of a server, in both protocol versions, looking for panics and
// for replies that are not valid RESP.
func FuzzExec(f *testing.F) {
	for _, s := range []string{
		"KEYS *\r\nSCAN 0 MATCH *a* COUNT 2 TYPE hash\r\n", "SET a b EX 10 GET\r\nTTL a\r\nPTTL a\r\n",
		"CONFIG GET *\r\nCONFIG SET dir /tmp dbfilename x save \"1 1\"\r\n", "HELLO 3 AUTH default x SETNAME n\r\nHGETALL user:admin\r\n",
		"EVAL \"local a = 1 -- c\\nreturn os.x\" 0\r\n", "LRANGE queue:password_reset -100 100\r\n",
		"COMMAND INFO get config|set nosuch\r\nCOMMAND DOCS client|list\r\n", "SLAVEOF 10.0.0.1 6379\r\nSET x y\r\nINFO all\r\n",
		"CLIENT LIST\r\nCLIENT INFO\r\nFLUSHALL\r\nDBSIZE\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A fresh server each time keeps the target deterministic.
		s := newServer(service.Config{Emit: event.EmitterFunc(func(event.Event) {})}, defaultPersona().(*Persona), time.Now)
		cl := &client{id: 1, user: "default", proto: 2, addr: "127.0.0.1:1", laddr: "127.0.0.1:6379", fields: map[string]string{}}
		var p parser
		p.feed(data)
		var out []byte
		for {
			args, err := p.next(false)
			if err != nil || args == nil {
				break
			}
			out = out[:0]
			if s.exec(cl, args, &out) != proceed {
				break
			}
			if rest, err := decodeAll(out); err != nil {
				t.Fatalf("reply to %q is not RESP: %v (%q)", args, err, rest)
			}
		}
	})
}

func decodeAll(b []byte) ([]byte, error) {
	for len(b) > 0 {
		var err error
		if _, b, err = decodeValue(b); err != nil {
			return b, err
		}
	}
	return nil, nil
}
