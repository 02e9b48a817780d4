package postgres

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// maskKeyData masks BackendKeyData's random process id and key. It
// counts bytes: a regexp's "." would take a random run that happens to be
// valid UTF-8 as one character.
func maskKeyData(b []byte) []byte {
	head := []byte("K\x00\x00\x00\x0c")
	var out []byte
	for {
		i := bytes.Index(b, head)
		if i < 0 || len(b) < i+len(head)+8 {
			return append(out, b...)
		}
		out = append(append(out, b[:i]...), "<BackendKeyData>"...)
		b = b[i+len(head)+8:]
	}
}

// TestGolden keeps the default persona's (15.20) answers to fixed
// conversations in testdata/*.golden: the login, ParameterStatus order,
// recon answers and errors, byte for byte but for random values.
func TestGolden(t *testing.T) {
	addr, _ := startServer(t, 60, func(p *Persona) {
		p.Auth = AuthPassword
		p.Logins = []string{"alice:pw"}
		p.Databases = []string{"sales"}
	})
	scram, _ := startServer(t, 61, nil)
	login := startupMsg(protoV3, "user", "alice", "database", "sales", "application_name", "psql")
	for _, tc := range []struct {
		name  string
		addr  string
		steps []func([]byte) []byte
	}{
		{"session", addr, []func([]byte) []byte{fixed(login), fixed(message('p', cstr("pw"))),
			fixed(message('Q', cstr("select version()"))), fixed(message('Q', cstr("SHOW server_version; select current_user"))),
			fixed(message('Q', cstr("foo bar"))), fixed(message('Q', cstr("select * from secrets"))), fixed(message('Q', cstr(" ;"))),
			fixed(message('z')),
		}},
		{"nodatabase", addr, []func([]byte) []byte{fixed(startupMsg(protoV3, "user", "alice")), fixed(message('p', cstr("pw")))}},
		{"wrongpassword", addr, []func([]byte) []byte{fixed(login), fixed(message('p', cstr("hunter2")))}},
		{"scram", scram, []func([]byte) []byte{fixed(login), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abcdefghijklmnopqrstuvwx")), wrongProof}},
		{"nmap", scram, []func([]byte) []byte{fixed(smbProbe())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bytes.Join(converse(t, tc.addr, false, tc.steps), nil)
			got = maskKeyData(got)
			got = serverFirstRE.ReplaceAll(got, []byte("<server-first>"))
			text := []byte(strconv.Quote(string(got)) + "\n")
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, text, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(text, want) {
				t.Errorf("got  %s\nwant %s", text, want)
			}
		})
	}
}
