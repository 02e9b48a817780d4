package mssql

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"decnet/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// capture reads a message captured from a real client (testdata/*.hex).
func capture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	return testutil.Hex(string(b))
}

// golden compares got with testdata/golden/name.hex, or rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".hex")
	var lines []string
	for b := got; len(b) > 0; b = b[min(16, len(b)):] {
		var parts []string
		for _, c := range b[:min(16, len(b))] {
			parts = append(parts, hex.EncodeToString([]byte{c}))
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	text := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(testutil.Hex(string(want)), got) {
		t.Errorf("%s differs from the golden file:\ngot\n%swant\n%s", name, text, want)
	}
}

func TestParsePrelogin(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Prelogin
	}{
		{"prelogin-tsql", Prelogin{Options: []byte{0, 1, 2, 3, 4}, Version: "9.0.0.0", Encryption: encryptOff,
			HasEncryption: true, Instance: "MSSQLServer", HasMARS: true}},
		{"prelogin-impacket", Prelogin{Options: []byte{0, 1, 2, 3}, Version: "8.0.341.0", Encryption: encryptOff,
			HasEncryption: true, Instance: "MSSQLServer"}},
		{"prelogin-nmap", Prelogin{Options: []byte{0, 1, 2, 3}, Version: "8.0.341.0", Encryption: encryptOff,
			HasEncryption: true, Instance: "MSSQLServer", ThreadID: "480f0000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrelogin(capture(t, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.ThreadID == "" {
				tc.want.ThreadID = got.ThreadID // the client's process or a random number
			}
			if !bytes.Equal(got.Options, tc.want.Options) || got.Version != tc.want.Version ||
				got.Encryption != tc.want.Encryption || got.HasEncryption != tc.want.HasEncryption ||
				got.Instance != tc.want.Instance || got.ThreadID != tc.want.ThreadID || got.HasMARS != tc.want.HasMARS {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParsePreloginMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
	}{
		{"empty", ""},
		{"no terminator", "00 0005 0000"},
		{"header cut", "00 00"},
		{"option past the end", "00 0006 0006 ff 0f 00"},
		{"version of 5 bytes", "00 0006 0005 ff 0f 00 00 00 00"},
		{"encryption of 2 bytes", "01 0006 0002 ff 00 00"},
		{"too many options", strings.Repeat("02 0000 0000 ", maxOptions+1) + "ff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParsePrelogin(testutil.Hex(tc.msg)); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// The server's answer to each ENCRYPTION a client may send, without and
// with Force Encryption.
func TestEncryptionNegotiation(t *testing.T) {
	for _, tc := range []struct {
		client int // -1: no ENCRYPTION option
		force  bool
		reply  byte
		goOn   bool
	}{
		{-1, false, encryptOff, true},
		{encryptOff, false, encryptOff, true},
		{encryptOn, false, encryptOn, true},
		{encryptNotSup, false, encryptNotSup, true},
		{encryptReq, false, encryptOn, true},
		{encryptOff | encryptClientCert, false, encryptOff, true},
		{0x07, false, encryptOn, true},
		{encryptOff, true, encryptReq, true},
		{encryptOn, true, encryptReq, true},
		{encryptReq, true, encryptReq, true},
		{encryptNotSup, true, encryptReq, false},
	} {
		p := Prelogin{HasEncryption: tc.client >= 0, Encryption: byte(max(tc.client, 0))}
		reply, goOn := p.encryption(tc.force)
		if reply != tc.reply || goOn != tc.goOn {
			t.Errorf("client %d, force %v: reply %d, go on %v; want %d, %v", tc.client, tc.force, reply, goOn, tc.reply, tc.goOn)
		}
	}
}

// The PRELOGIN answers, packet and all: to nmap's probe (the bytes its
// ms-sql-s match lines read: four options, then 0f 00 11 03 for 15.0.4355)
// and to tsql's, which asks for MARS.
func TestPreloginReplyGolden(t *testing.T) {
	for _, tc := range []struct {
		name    string
		persona Persona
		client  string
	}{
		{"prelogin-reply-2019-nmap", Persona{}, "prelogin-nmap"},
		{"prelogin-reply-2017-tsql", Persona{Version: "2017"}, "prelogin-tsql"},
		{"prelogin-reply-2022-forced-tsql", Persona{Version: "2022", ForceEncryption: true}, "prelogin-tsql"},
		{"prelogin-reply-named-instance-impacket", Persona{Instance: "SQLEXPRESS"}, "prelogin-impacket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestServer(t, &tc.persona)
			out := drive(t, s, appendMessage(nil, pktPrelogin, 0, prePacket, capture(t, tc.client)))
			golden(t, tc.name, out)
		})
	}
}

func TestParseLogin7(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Login7
		sspi bool
	}{
		{"login7-tsql", Login7{Major: 0x74, TDSVersion: 0x74000004, PacketSize: 4096, UserName: "sa",
			Password: "S3cret!pw", AppName: "TSQL", ServerName: "127.0.103.1", Library: "TDS-Library",
			Language: "us_english", HostName: "vm", ClientID: "02:fc:00:00:00:01", Features: []byte{0x0a}}, false},
		{"login7-impacket", Login7{Major: 0x71, TDSVersion: 0x71000000, PacketSize: 16383, UserName: "sa",
			Password: "S3cret!pw", ServerName: "127.0.103.1", ClientID: "01:02:03:04:05:06"}, false},
		{"login7-impacket-ntlm", Login7{Major: 0x71, TDSVersion: 0x71000000, PacketSize: 16383,
			ServerName: "127.0.103.1", ClientID: "01:02:03:04:05:06"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLogin7(capture(t, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if got.Major != w.Major || got.TDSVersion != w.TDSVersion || got.PacketSize != w.PacketSize ||
				got.UserName != w.UserName || got.Password != w.Password || got.ServerName != w.ServerName ||
				got.ClientID != w.ClientID || !bytes.Equal(got.Features, w.Features) ||
				(w.AppName != "" && (got.AppName != w.AppName || got.Library != w.Library || got.Language != w.Language || got.HostName != w.HostName)) {
				t.Errorf("got %+v\nwant %+v", got, w)
			}
			if got.IntegratedSecurity() != tc.sspi || bytes.HasPrefix(got.SSPI, []byte("NTLMSSP\x00")) != tc.sspi {
				t.Errorf("integrated security %v, SSPI %x; want %v", got.IntegratedSecurity(), got.SSPI, tc.sspi)
			}
		})
	}
}

func TestParseLogin7Malformed(t *testing.T) {
	valid := capture(t, "login7-tsql")
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	put16 := func(b []byte, at int, v uint16) { b[at], b[at+1] = byte(v), byte(v>>8) }
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"short", valid[:80]},
		{"length field off", edit(func(b []byte) []byte { b[0]++; return b })},
		{"user name past the end", edit(func(b []byte) []byte { put16(b, 40, uint16(len(b))); return b })},
		{"password inside the header", edit(func(b []byte) []byte { put16(b, 44, 10); return b })},
		{"long SSPI past the end", edit(func(b []byte) []byte {
			b[25] |= intSecurity
			put16(b, 78, 94)
			put16(b, 80, 0xffff)
			b[90], b[91], b[92], b[93] = 0xff, 0xff, 0xff, 0x7f
			return b
		})},
		{"feature block past the end", edit(func(b []byte) []byte {
			ext := int(b[56]) | int(b[57])<<8
			b[ext], b[ext+1], b[ext+2], b[ext+3] = 0xff, 0xff, 0, 0
			return b
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseLogin7(tc.msg); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestDeobfuscate(t *testing.T) {
	for _, pw := range []string{"", "S3cret!pw", "pässwörd€", strings.Repeat("x", 128)} {
		wire := obfuscate(appendUTF16(nil, pw))
		if got := utf16String(deobfuscate(wire), 256); got != pw {
			t.Errorf("deobfuscate(obfuscate(%q)) = %q", pw, got)
		}
	}
	// MS-TDS 2.2.6.4's example: 'a' (0x61 0x00) goes on the wire as b3 a5.
	if got := obfuscate([]byte{0x61, 0x00}); !bytes.Equal(got, []byte{0xb3, 0xa5}) {
		t.Errorf("obfuscate(a) = %x", got)
	}
}

// The failed login's token streams: SQL Server's 18456 and 18452, laid
// out for TDS 7.4 (tsql) and 7.1 (impacket), in a packet numbered 1 and
// carrying the session's SPID.
func TestErrorReplyGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		major  byte
		number uint32
		msg    string
	}{
		{"login-failed-7.4", 0x74, errLoginFailed, loginFailedMsg("sa")},
		{"login-failed-7.1", 0x71, errLoginFailed, loginFailedMsg("sa")},
		{"untrusted-7.1", 0x71, errUntrustedLogin, msgUntrustedLogin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, appendMessage(nil, pktReply, firstSPID, prePacket, errorReply(tc.major, tc.number, tc.msg, "SQL-PROD-01")))
		})
	}
}

func TestReadMessage(t *testing.T) {
	login := capture(t, "login7-tsql")
	split := appendMessage(nil, pktLogin7, 0, 100, login)
	for _, tc := range []struct {
		name    string
		in      []byte
		typ     byte
		want    []byte
		wantErr bool
	}{
		{"one packet", appendMessage(nil, pktLogin7, 0, prePacket, login), pktLogin7, login, false},
		{"split in packets of 100 bytes", split, pktLogin7, login, false},
		{"types mixed", append(bytes.Clone(split[:100]), appendMessage(nil, pktSQLBatch, 0, prePacket, []byte("x"))...), 0, nil, true},
		{"length under the header", testutil.Hex("10 01 0007 0000 0100"), 0, nil, true},
		{"length over the maximum", testutil.Hex("10 01 8000 0000 0100"), 0, nil, true},
		{"cut short", split[:50], 0, nil, true},
		{"over the message limit", bytes.Repeat(testutil.Hex("10 00 7fff 0000 0100"+strings.Repeat("00", maxPacket-8)), maxMessage/maxPacket+2), 0, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, msg, _, err := readMessage(bytes.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && (typ != tc.typ || !bytes.Equal(msg, tc.want)) {
				t.Errorf("got type %d, %d bytes; want %d, %d bytes", typ, len(msg), tc.typ, len(tc.want))
			}
		})
	}
}
