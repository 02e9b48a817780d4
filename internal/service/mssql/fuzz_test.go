package mssql

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// The seeds in testdata/fuzz are the messages tsql, impacket's
// mssqlclient.py (SQL and Windows authentication), hydra (a TDS 4.2 login)
// and nmap's ms-sql-s probe sent to this server, LOGIN7s taken from inside
// their TLS, and two LOGIN7s built as SqlClient would send them (a FEDAUTH
// token, a Kerberos-first SPNEGO blob).

func FuzzParsePrelogin(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePrelogin(b)
		if err != nil {
			return
		}
		if len(p.Options) > maxOptions || !utf8.ValidString(p.Instance) || len(p.Instance) > maxField {
			t.Fatalf("parsed %+v", p)
		}
	})
}

func FuzzParseLogin7(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLogin7(b)
		if err != nil {
			return
		}
		for _, s := range []string{l.HostName, l.UserName, l.Password, l.AppName, l.ServerName,
			l.Library, l.Language, l.Database, l.AttachDBFile, l.ChangePassword} {
			if !utf8.ValidString(s) || len(s) > 4*maxLoginField {
				t.Fatalf("field %q", s)
			}
		}
		if len(l.SSPI) > len(b) || len(l.Features) > maxFeatures {
			t.Fatalf("SSPI of %d bytes, %d features from %d bytes", len(l.SSPI), len(l.Features), len(b))
		}
	})
}

func FuzzReadMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		_, msg, got, err := readMessage(bytes.NewReader(b))
		if len(got) > len(b) || len(msg) > maxMessage {
			t.Fatalf("read %d bytes, a message of %d, from %d", len(got), len(msg), len(b))
		}
		if err == nil && len(msg) > len(got) {
			t.Fatalf("message of %d bytes from %d", len(msg), len(got))
		}
	})
}

// FuzzSession feeds a whole client stream to a session: PRELOGIN, the TLS
// handshake in PRELOGIN packets, LOGIN7 and SSPI. which chooses the
// persona: 0 the default, 1 Force Encryption.
func FuzzSession(f *testing.F) {
	personas := []Persona{{}, {ForceEncryption: true}}
	servers := make([]*Server, len(personas))
	for i := range personas {
		servers[i], _ = newTestServer(f, &personas[i])
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		out := drive(t, servers[int(which)%len(servers)], data)
		if len(out) > 0 && out[0] != pktReply {
			t.Fatalf("the server's first packet is of type %d", out[0])
		}
	})
}
