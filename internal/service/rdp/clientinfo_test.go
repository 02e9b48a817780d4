package rdp

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"unicode/utf16"
)

// clientInfo builds a Client Info PDU (security header and
// TS_INFO_PACKET with an extended part) as a client does.
func clientInfo(flags uint32, domain, user, password, shell, dir string) []byte {
	enc := func(s string) []byte {
		if flags&infoUnicode == 0 {
			return append([]byte(s), 0)
		}
		var b []byte
		for _, u := range utf16.Encode([]rune(s + "\x00")) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		return b
	}
	nul := 1
	if flags&infoUnicode != 0 {
		nul = 2
	}
	b := []byte{0x40, 0, 0, 0}
	b = binary.LittleEndian.AppendUint32(b, 0x409)
	b = binary.LittleEndian.AppendUint32(b, flags)
	strs := [][]byte{enc(domain), enc(user), enc(password), enc(shell), enc(dir)}
	for _, s := range strs {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)-nul))
	}
	for _, s := range strs {
		b = append(b, s...)
	}
	addr, cdir := enc("10.0.0.5"), enc(`C:\mstscax.dll`)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(addr)))
	b = append(b, addr...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(cdir)))
	return append(b, cdir...)
}

// The Client Info PDUs xfreerdp sent to Debian's xrdp.
func TestParseClientInfoClients(t *testing.T) {
	for _, tc := range []struct {
		file string
		want ClientInfo
	}{
		{"xfreerdp-client-info-alice.hex", ClientInfo{CodePage: 0, Flags: 0x000b47fb, UserName: "alice", Password: "secret",
			HasExtra: true, ClientAddress: "127.0.0.1", ClientDir: `C:\Windows\System32\mstscax.dll`}},
		{"xfreerdp-client-info-domain-shell.hex", ClientInfo{CodePage: 0, Flags: 0x000b47fb, Domain: "CORP",
			UserName: "Administrator", Password: "P@ss w0rd!", AlternateShell: "cmd.exe /c whoami", WorkingDir: `C:\Temp`,
			HasExtra: true, ClientAddress: "127.0.0.1", ClientDir: `C:\Windows\System32\mstscax.dll`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseClientInfo(readHex(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if !got.Autologon() {
				t.Errorf("INFO_AUTOLOGON not seen")
			}
		})
	}
}

func TestParseClientInfo(t *testing.T) {
	uni := clientInfo(infoUnicode, "DOM", "bob", "pässwörd", "", "")
	ansi := clientInfo(0, "dom", "bob", "p\xe4ss", "sh", "wd")
	long := clientInfo(infoUnicode, "", string(make([]byte, 300)), "", "", "")
	for _, tc := range []struct {
		name string
		in   []byte
		want ClientInfo
		bad  bool
	}{
		{"unicode", uni, ClientInfo{CodePage: 0x409, Flags: infoUnicode, Domain: "DOM", UserName: "bob", Password: "pässwörd",
			HasExtra: true, ClientAddress: "10.0.0.5", ClientDir: `C:\mstscax.dll`}, false},
		{"ansi read as latin-1", ansi, ClientInfo{CodePage: 0x409, Domain: "dom", UserName: "bob", Password: "päss",
			AlternateShell: "sh", WorkingDir: "wd", HasExtra: true, ClientAddress: "10.0.0.5", ClientDir: `C:\mstscax.dll`}, false},
		{"no extended info", uni[:4+18+2*(4+4+9+1+1)], ClientInfo{CodePage: 0x409, Flags: infoUnicode, Domain: "DOM",
			UserName: "bob", Password: "pässwörd"}, false},
		{"short header", []byte{0x40, 0}, ClientInfo{}, true},
		{"encrypted", append([]byte{0x48, 0, 0, 0}, uni[4:]...), ClientInfo{}, true},
		{"not SEC_INFO_PKT", append([]byte{0x80, 0, 0, 0}, uni[4:]...), ClientInfo{}, true},
		{"short fixed part", uni[:4+17], ClientInfo{}, true},
		{"string past the end", uni[:30], ClientInfo{}, true},
		{"odd UTF-16 length", func() []byte { b := append([]byte(nil), uni...); b[12] = 5; return b }(), ClientInfo{}, true},
		{"user name over 512 bytes", long, ClientInfo{}, true},
		{"extended info cut", uni[:len(uni)-3], ClientInfo{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientInfo(tc.in)
			if tc.bad {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("err %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
