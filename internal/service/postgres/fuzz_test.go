package postgres

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzStartup feeds startup packets (length word included) to the reader
// and the parser; seeds are psql's.
func FuzzStartup(f *testing.F) {
	f.Fuzz(func(t *testing.T, pkt []byte) {
		body, err := readStartup(bytes.NewReader(pkt))
		if err != nil {
			return
		}
		st, perr := parseStartup(body)
		if perr != nil {
			perr.encode(20)
			return
		}
		if st.User == "" || len(st.User) > maxName || len(st.Database) > maxName {
			t.Fatalf("bad startup %+v", st)
		}
	})
}

// FuzzSASL feeds SASL message bodies (psql's SASLInitialResponse and
// SASLResponse) to the SCRAM parsers, as first and as final message.
func FuzzSASL(f *testing.F) {
	cf := &clientFirst{gs2: "n,,", flag: 'n', bare: "n=,r=x", nonce: "x"}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, plus := range []bool{false, true} {
			offered := []string{mechSCRAM, mechSCRAMPlus}
			data, _, perr := saslInitial(body, offered)
			if perr == nil && data != nil && checkInput(data) == nil {
				if got, perr := parseClientFirst(string(data), plus, plus); perr == nil && !strings.HasPrefix(string(data), got.gs2+got.bare) {
					t.Fatalf("client-first %q split as %q + %q", data, got.gs2, got.bare)
				}
			}
			if checkInput(body) == nil {
				if fin, perr := parseClientFinal(string(body), cf, plus, make([]byte, 32)); perr == nil && (len(fin.proof) != 32 || !strings.HasPrefix(string(body), fin.withoutProof+",p=")) {
					t.Fatalf("client-final %q: %+v", body, fin)
				}
			}
		}
	})
}

// FuzzMessages feeds a client's message stream after login (psql's
// queries) to the message reader and the query answerer.
func FuzzMessages(f *testing.F) {
	cc := &conn{s: &Server{persona: defaultPersona().(*Persona)}, st: &startup{User: "u", Database: "d"}}
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		for {
			typ, body, err := readMessage(r, maxQuery)
			if err != nil {
				return
			}
			if typ == 'Q' {
				q, _ := cstrAt(body, 0)
				if len(cc.queries(q, "u")) == 0 {
					t.Fatal("no answer")
				}
			}
		}
	})
}
