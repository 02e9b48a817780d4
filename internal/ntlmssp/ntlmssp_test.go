package ntlmssp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// readHex loads a testdata file of hex bytes; lines starting with # are comments.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var h strings.Builder
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "#") {
			h.WriteString(strings.Join(strings.Fields(line), ""))
		}
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// specChallenge is the MS-NLMP 4.2 server challenge.
var specChallenge = [8]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}

func TestMD4(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// RFC 1320 appendix A.5.
		{"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
		{"a", "bde52cb31de33e46245e05fbdbd6fb24"},
		{"abc", "a448017aaf21d8525fc10ae87aa6729d"},
		{"message digest", "d9130a8164549fe818874806e1c7014b"},
		{"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"},
		{strings.Repeat("1234567890", 8), "e33b4ddc9c38f2199c3e7b164fcc0536"},
		// MS-NLMP 4.2.2.1.2: NTOWFv1("Password").
		{string(encodeUTF16("Password")), "a4f49c406510bdcab6824ee7c30fd852"},
	} {
		got := md4Sum([]byte(tc.in))
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("md4(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
}

// TestSpecAuthenticateV2 checks parsing, VerifyV2 and the hashcat line on the
// MS-NLMP 4.2.4 NTLMv2 example.
func TestSpecAuthenticateV2(t *testing.T) {
	a, err := ParseAuthenticate(readHex(t, "msnlmp-4.2.4-authenticate.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if a.User != "User" || a.Domain != "Domain" || a.Workstation != "COMPUTER" {
		t.Errorf("names = %q %q %q", a.User, a.Domain, a.Workstation)
	}
	if a.Flags != 0xe2888235 {
		t.Errorf("flags = %v", a.Flags)
	}
	if got := a.Version.String(); got != "5.1.2600" {
		t.Errorf("version = %q", got)
	}
	if a.MIC != nil {
		t.Errorf("MIC = %x, want none", a.MIC)
	}
	if hex.EncodeToString(a.LMResponse) != "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa" {
		t.Errorf("LMv2 = %x", a.LMResponse)
	}
	if hex.EncodeToString(a.NTResponse[:16]) != "68cd0ab851e51c96aabc927bebef6a1c" {
		t.Errorf("NTProofStr = %x", a.NTResponse[:16])
	}
	if hex.EncodeToString(a.SessionKey) != "c5dad2544fc9799094ce1ce90bc9d03e" {
		t.Errorf("session key = %x", a.SessionKey)
	}

	for _, tc := range []struct {
		password string
		want     bool
	}{{"Password", true}, {"password", false}, {"", false}, {"Password ", false}} {
		if got := VerifyV2(a, specChallenge, tc.password); got != tc.want {
			t.Errorf("VerifyV2(%q) = %v", tc.password, got)
		}
	}
	if VerifyV2(a, [8]byte{}, "Password") {
		t.Error("VerifyV2 ignores the server challenge")
	}

	line, format, err := a.Hashcat(specChallenge)
	if err != nil {
		t.Fatal(err)
	}
	want := "User::Domain:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:" +
		"0101000000000000" + "0000000000000000" + "aaaaaaaaaaaaaaaa" + "00000000" +
		"02000c0044006f006d00610069006e00" + "01000c00530065007200760065007200" + "00000000" + "00000000"
	if line != want || format != FormatNetNTLMv2 {
		t.Errorf("Hashcat =\n %s %q\nwant\n %s", line, format, want)
	}
	if !hashcatV2Cracks(t, line, "Password") {
		t.Error("the hashcat line does not crack with the password")
	}
}

// hashcatV2Cracks is CracksV2, failing the test on a malformed line.
func hashcatV2Cracks(t testing.TB, line, password string) bool {
	t.Helper()
	ok, err := CracksV2(line, password)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// hashcatV1Cracks is CracksV1 on a line that must be hashcat 5500.
func hashcatV1Cracks(t testing.TB, line, password string) bool {
	t.Helper()
	ok, err := CracksV1(line, password)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestSpecNTLMv1 checks the hashcat 5500 line on the MS-NLMP 4.2.2 NTLMv1
// responses (without and with extended session security).
func TestSpecNTLMv1(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lm, nt string
	}{
		{"4.2.2 NTLMv1", "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13", "67c43011f30298a2ad35ece64f16331c44bdbed927841f94"},
		{"4.2.3 NTLMv1 with ESS", "aaaaaaaaaaaaaaaa00000000000000000000000000000000", "7537f803ae367128ca458204bde7caf81e97ed2683267232"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Authenticate{User: "User", Domain: "Domain", LMResponse: testutil.Hex(tc.lm), NTResponse: testutil.Hex(tc.nt)}
			line, format, err := a.Hashcat(specChallenge)
			if err != nil {
				t.Fatal(err)
			}
			if want := "User::Domain:" + tc.lm + ":" + tc.nt + ":0123456789abcdef"; line != want || format != FormatNetNTLMv1 {
				t.Errorf("Hashcat = %s %q, want %s", line, format, want)
			}
			if !hashcatV1Cracks(t, line, "Password") || hashcatV1Cracks(t, line, "password") {
				t.Error("the line does not crack with exactly the password")
			}
			if VerifyV2(a, specChallenge, "Password") {
				t.Error("VerifyV2 accepted an NTLMv1 response")
			}
		})
	}
}

// TestSpecChallengeMarshal rebuilds the MS-NLMP 4.2.4.3 CHALLENGE byte for byte.
func TestSpecChallengeMarshal(t *testing.T) {
	c := Challenge{
		Flags:           0xe28a8233,
		TargetName:      "Server",
		ServerChallenge: specChallenge,
		TargetInfo: []AVPair{
			{AvNbDomainName, encodeUTF16("Domain")},
			{AvNbComputerName, encodeUTF16("Server")},
		},
		Version: NewVersion(6, 0, 6000),
	}
	want := readHex(t, "msnlmp-4.2.4-challenge.hex")
	if got := c.Marshal(); !bytes.Equal(got, want) {
		t.Errorf("Marshal =\n%x\nwant\n%x", got, want)
	}
	if back := parseChallenge(t, want); !reflect.DeepEqual(back, c) {
		t.Errorf("parsed %+v, want %+v", back, c)
	}
}

// parseChallenge is the client's side, for round trips and for checking what
// a client reads out of our CHALLENGE.
func parseChallenge(t testing.TB, b []byte) Challenge {
	t.Helper()
	if err := checkHeader(b, typeChallenge, challengeHeaderLen); err != nil {
		t.Fatal(err)
	}
	c := Challenge{Flags: Flags(binary.LittleEndian.Uint32(b[20:]))}
	copy(c.ServerChallenge[:], b[24:32])
	if c.Flags&FlagVersion != 0 {
		c.Version = Version(b[48:56])
	}
	name, err := field(b, 12)
	if err != nil {
		t.Fatal(err)
	}
	c.TargetName = decodeString(name, c.Flags&FlagUnicode != 0)
	info, err := field(b, 40)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if len(info) < 4 {
			t.Fatalf("target info without MsvAvEOL")
		}
		id, n := AVID(binary.LittleEndian.Uint16(info)), int(binary.LittleEndian.Uint16(info[2:]))
		if id == AvEOL {
			return c
		}
		if 4+n > len(info) {
			t.Fatalf("AV pair %d overruns target info", id)
		}
		c.TargetInfo = append(c.TargetInfo, AVPair{id, info[4 : 4+n]})
		info = info[4+n:]
	}
}

func TestNewChallengeFlags(t *testing.T) {
	p := NewPersona("fs01", "", Version{})
	for _, tc := range []struct {
		name       string
		negotiated Flags
		want       Flags
	}{
		// Windows 10's NEGOTIATE and the flags Windows servers answer it with.
		{"windows client", 0xe2088297, 0xe28a8215},
		// impacket 0.10's NEGOTIATE; Samba 4.17 answers 0xa28a0205 (real-products.md §13).
		{"impacket", 0xa0880205, 0xa28a0205},
		{"oem only", FlagOEM | FlagNTLM | FlagRequestTarget, FlagOEM | FlagNTLM | FlagRequestTarget | FlagTargetInfo | FlagVersion | FlagTargetTypeServer},
		{"lm key without ess", FlagUnicode | FlagLMKey, FlagUnicode | FlagLMKey | FlagNTLM | FlagTargetInfo | FlagVersion | FlagTargetTypeServer},
		{"nothing", 0, FlagNTLM | FlagTargetInfo | FlagVersion | FlagTargetTypeServer},
		{"everything", 0xffffffff, 0xe29a8275},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewChallenge(Negotiate{Flags: tc.negotiated}, p, time.Unix(0, 0), bytes.NewReader(make([]byte, 8)))
			if err != nil {
				t.Fatal(err)
			}
			if c.Flags != tc.want {
				t.Errorf("flags %v -> %v, want %v", tc.negotiated, c.Flags, tc.want)
			}
		})
	}
}

func TestNewChallengePersonas(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	stamp := binary.LittleEndian.AppendUint64(nil, uint64(now.Unix())*10_000_000+116444736000000000)
	u := encodeUTF16
	for _, tc := range []struct {
		name       string
		persona    Persona
		targetName string
		targetType Flags
		version    string
		info       []AVPair
	}{
		{
			name:       "standalone",
			persona:    NewPersona("Desktop-7Q2K", "", Version{}),
			targetName: "DESKTOP-7Q2K", targetType: FlagTargetTypeServer, version: "10.0.17763",
			info: []AVPair{
				{AvNbDomainName, u("DESKTOP-7Q2K")}, {AvNbComputerName, u("DESKTOP-7Q2K")},
				{AvDNSDomainName, u("Desktop-7Q2K")}, {AvDNSComputerName, u("Desktop-7Q2K")},
				{AvTimestamp, stamp},
			},
		},
		{
			name:       "domain member",
			persona:    NewPersona("fs01.corp.example.com", "corp.example.com", NewVersion(10, 0, 20348)),
			targetName: "CORP", targetType: FlagTargetTypeDomain, version: "10.0.20348",
			info: []AVPair{
				{AvNbDomainName, u("CORP")}, {AvNbComputerName, u("FS01")},
				{AvDNSDomainName, u("corp.example.com")}, {AvDNSComputerName, u("fs01.corp.example.com")},
				{AvDNSTreeName, u("corp.example.com")}, {AvTimestamp, stamp},
			},
		},
		{
			name: "samba",
			persona: Persona{NetBIOSComputer: "vm", NetBIOSDomain: "VM", DNSComputer: "vm",
				Version: NewVersion(6, 1, 0)},
			targetName: "VM", targetType: FlagTargetTypeServer, version: "6.1.0",
			info: []AVPair{
				{AvNbDomainName, u("VM")}, {AvNbComputerName, u("VM")},
				{AvDNSDomainName, nil}, {AvDNSComputerName, u("vm")}, {AvTimestamp, stamp},
			},
		},
		{
			name:       "long host name",
			persona:    NewPersona("a-very-long-hostname-indeed", "", Version{}),
			targetName: "A-VERY-LONG-HOS", targetType: FlagTargetTypeServer, version: "10.0.17763",
			info: []AVPair{
				{AvNbDomainName, u("A-VERY-LONG-HOS")}, {AvNbComputerName, u("A-VERY-LONG-HOS")},
				{AvDNSDomainName, u("a-very-long-hostname-indeed")}, {AvDNSComputerName, u("a-very-long-hostname-indeed")},
				{AvTimestamp, stamp},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			random := bytes.NewReader([]byte{9, 8, 7, 6, 5, 4, 3, 2, 1})
			c, err := NewChallenge(Negotiate{Flags: 0xe2088297}, tc.persona, now, random)
			if err != nil {
				t.Fatal(err)
			}
			if c.ServerChallenge != [8]byte{9, 8, 7, 6, 5, 4, 3, 2} {
				t.Errorf("server challenge %x does not come from rand", c.ServerChallenge)
			}
			if c.TargetName != tc.targetName || c.Flags&(FlagTargetTypeDomain|FlagTargetTypeServer) != tc.targetType {
				t.Errorf("target %q %v", c.TargetName, c.Flags)
			}
			if c.Version.String() != tc.version || c.Version[7] != 15 {
				t.Errorf("version %v", c.Version)
			}
			got := parseChallenge(t, c.Marshal())
			for i := range got.TargetInfo {
				if len(got.TargetInfo[i].Value) == 0 {
					got.TargetInfo[i].Value = nil
				}
			}
			if !reflect.DeepEqual(got.TargetInfo, tc.info) {
				t.Errorf("target info\n%v\nwant\n%v", got.TargetInfo, tc.info)
			}
			got.TargetInfo = c.TargetInfo
			if !reflect.DeepEqual(got, c) {
				t.Errorf("round trip %+v, want %+v", got, c)
			}
		})
	}
}

func TestNewChallengeErrors(t *testing.T) {
	good := NewPersona("fs01", "", Version{})
	for _, tc := range []struct {
		name    string
		persona Persona
		rand    []byte
	}{
		{"no computer name", Persona{}, make([]byte, 8)},
		{"netbios too long", Persona{NetBIOSComputer: "ABCDEFGHIJKLMNOP"}, make([]byte, 8)},
		{"control characters", Persona{NetBIOSComputer: "FS01", DNSDomain: "a\nb"}, make([]byte, 8)},
		{"dns too long", Persona{NetBIOSComputer: "FS01", DNSComputer: strings.Repeat("a", 256)}, make([]byte, 8)},
		{"short rand", good, make([]byte, 7)},
		{"names outgrow hashcat's blob", NewPersona("fs01."+strings.Repeat("d", 60), strings.Repeat("d", 60), Version{}), make([]byte, 8)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewChallenge(Negotiate{}, tc.persona, time.Now(), bytes.NewReader(tc.rand)); err == nil {
				t.Error("no error")
			}
		})
	}
	c1, err := NewChallenge(Negotiate{}, good, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := NewChallenge(Negotiate{}, good, time.Now(), nil)
	if c1.ServerChallenge == c2.ServerChallenge {
		t.Error("nil rand gives repeated challenges")
	}
}

func TestNewPersona(t *testing.T) {
	for _, tc := range []struct {
		host, domain string
		want         Persona
	}{
		{"web01", "", Persona{NetBIOSComputer: "WEB01", NetBIOSDomain: "WEB01", DNSComputer: "web01", DNSDomain: "web01"}},
		{"web01.example.org", "", Persona{NetBIOSComputer: "WEB01", NetBIOSDomain: "WEB01", DNSComputer: "web01", DNSDomain: "web01"}},
		{"web01", "ad.example.org", Persona{NetBIOSComputer: "WEB01", NetBIOSDomain: "AD",
			DNSComputer: "web01.ad.example.org", DNSDomain: "ad.example.org", DNSTree: "ad.example.org"}},
		// 15 bytes, cut before a two-byte character rather than through it.
		{"abcdefghijklmnö", "", Persona{NetBIOSComputer: "ABCDEFGHIJKLMN", NetBIOSDomain: "ABCDEFGHIJKLMN",
			DNSComputer: "abcdefghijklmnö", DNSDomain: "abcdefghijklmnö"}},
	} {
		got := NewPersona(tc.host, tc.domain, Version{})
		if got != tc.want {
			t.Errorf("NewPersona(%q, %q) = %+v, want %+v", tc.host, tc.domain, got, tc.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("NewPersona(%q, %q): %v", tc.host, tc.domain, err)
		}
	}

	// The budget: 170 units pass, 171 do not (an empty NetBIOS domain goes
	// on the wire as the computer name, so it counts as one).
	p := Persona{NetBIOSComputer: "FS01", DNSComputer: strings.Repeat("c", 81)}
	if err := p.Validate(); err != nil {
		t.Errorf("170 units: %v", err)
	}
	p.DNSDomain = "x"
	if err := p.Validate(); err == nil {
		t.Error("171 units pass")
	}
}

func TestParseNegotiate(t *testing.T) {
	hdr := func(flags Flags) []byte {
		return binary.LittleEndian.AppendUint32(append([]byte(Signature), 1, 0, 0, 0), uint32(flags))
	}
	fields := func(b []byte, dn, doff, wn, woff int) []byte {
		b = appendField(b, dn, doff)
		return appendField(b, wn, woff)
	}
	withNames := fields(hdr(FlagOEMDomainSupplied|FlagOEMWorkstationSupplied|FlagVersion), 4, 40, 3, 44)
	win7 := NewVersion(6, 1, 7601)
	withNames = append(withNames, win7[:]...)
	withNames = append(withNames, "CORPWS1"...)

	for _, tc := range []struct {
		name string
		in   []byte
		want Negotiate
		err  bool
	}{
		{name: "16-byte form", in: hdr(0xb207), want: Negotiate{Flags: 0xb207}},
		{name: "impacket", in: fields(hdr(0xa0880205), 0, 0, 0, 0), want: Negotiate{Flags: 0xa0880205}},
		{name: "names and version", in: withNames, want: Negotiate{
			Flags: FlagOEMDomainSupplied | FlagOEMWorkstationSupplied | FlagVersion, Domain: "CORP", Workstation: "WS1",
			Version: NewVersion(6, 1, 7601)}},
		{name: "names without the flags are ignored", in: fields(hdr(0), 4, 9999, 3, 9999), want: Negotiate{}},
		{name: "latin-1 names", in: append(fields(hdr(FlagOEMDomainSupplied), 2, 32, 0, 0), 0xe9, 0xff),
			want: Negotiate{Flags: FlagOEMDomainSupplied, Domain: "éÿ"}},
		{name: "version flag on a 32-byte message", in: fields(hdr(FlagVersion), 0, 0, 0, 0), want: Negotiate{Flags: FlagVersion}},
		{name: "empty", in: nil, err: true},
		{name: "short", in: hdr(0)[:15], err: true},
		{name: "bad signature", in: append([]byte("NTLMSSQ\x00"), hdr(0)[8:]...), err: true},
		{name: "wrong type", in: append([]byte(Signature), 3, 0, 0, 0, 0, 0, 0, 0), err: true},
		{name: "domain past the end", in: fields(hdr(FlagOEMDomainSupplied), 4, 30, 0, 0), err: true},
		{name: "workstation offset huge", in: fields(hdr(FlagOEMWorkstationSupplied), 0, 0, 1, 0xffffffff), err: true},
		{name: "length huge", in: fields(hdr(FlagOEMDomainSupplied), 0xffff, 32, 0, 0), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseNegotiate(tc.in)
			if tc.err {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("= %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// authMsg builds an AUTHENTICATE with the given payload fields laid out after
// a header of hdrLen bytes (64, 72 with Version, 88 with Version and MIC).
func authMsg(flags Flags, hdrLen int, lm, nt, domain, user, ws, key []byte) []byte {
	b := append([]byte(Signature), 3, 0, 0, 0)
	off := hdrLen
	payload := [][]byte{lm, nt, domain, user, ws, key}
	for _, p := range payload {
		b = appendField(b, len(p), off)
		off += len(p)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(flags))
	for len(b) < hdrLen {
		b = append(b, byte(len(b)))
	}
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

func TestParseAuthenticate(t *testing.T) {
	u := encodeUTF16
	nt := bytes.Repeat([]byte{0x11}, 60)
	setField := func(b []byte, i, n int, off uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint16(b[12+8*i:], uint16(n))
		binary.LittleEndian.PutUint16(b[14+8*i:], uint16(n))
		binary.LittleEndian.PutUint32(b[16+8*i:], off)
		return b
	}
	base := authMsg(FlagUnicode|FlagVersion, 88, []byte{1}, nt, u("D"), u("u"), u("W"), []byte{2})

	for _, tc := range []struct {
		name string
		in   []byte
		want Authenticate
		err  bool
	}{
		{name: "with version and MIC", in: base, want: Authenticate{
			Flags: FlagUnicode | FlagVersion, LMResponse: []byte{1}, NTResponse: nt, Domain: "D", User: "u", Workstation: "W",
			SessionKey: []byte{2}, Version: Version{64, 65, 66, 67, 68, 69, 70, 71},
			MIC: []byte{72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87}}},
		{name: "no version, no MIC", in: authMsg(FlagUnicode, 64, nil, nt, nil, u("bob"), nil, nil), want: Authenticate{
			Flags: FlagUnicode, NTResponse: nt, User: "bob"}},
		{name: "version without the flag is not read", in: authMsg(FlagUnicode, 72, nil, nt, nil, u("bob"), nil, nil), want: Authenticate{
			Flags: FlagUnicode, NTResponse: nt, User: "bob"}},
		{name: "oem strings", in: authMsg(FlagOEM, 64, nil, nt, []byte("CORP"), []byte{'j', 0xf6}, nil, nil), want: Authenticate{
			Flags: FlagOEM, NTResponse: nt, Domain: "CORP", User: "jö"}},
		{name: "invalid surrogate becomes U+FFFD", in: authMsg(FlagUnicode, 64, nil, nil, nil, []byte{0x00, 0xd8}, nil, nil), want: Authenticate{
			Flags: FlagUnicode, User: "\ufffd"}},
		{name: "empty field with wild offset", in: setField(base, 4, 0, 0xffffffff), want: Authenticate{
			Flags: FlagUnicode | FlagVersion, LMResponse: []byte{1}, NTResponse: nt, Domain: "D", User: "u",
			SessionKey: []byte{2}, Version: Version{64, 65, 66, 67, 68, 69, 70, 71},
			MIC: []byte{72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87}}},
		{name: "empty", in: nil, err: true},
		{name: "63 bytes", in: base[:63], err: true},
		{name: "negotiate type", in: append(append([]byte(Signature), 1, 0, 0, 0), base[12:]...), err: true},
		{name: "truncated payload", in: base[:len(base)-1], err: true},
		{name: "offset past the end", in: setField(base, 1, 60, uint32(len(base))), err: true},
		{name: "offset 0xffffffff", in: setField(base, 3, 2, 0xffffffff), err: true},
		{name: "length 0xffff", in: setField(base, 0, 0xffff, 88), err: true},
		{name: "odd UTF-16 user", in: authMsg(FlagUnicode, 64, nil, nt, nil, []byte("abc"), nil, nil), err: true},
		{name: "odd UTF-16 workstation", in: authMsg(FlagUnicode, 64, nil, nt, nil, nil, []byte{1}, nil), err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthenticate(tc.in)
			if tc.err {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("=\n%+v, %v\nwant\n%+v", got, err, tc.want)
			}
		})
	}

	// The parsed responses must not alias the caller's buffer, which a
	// protocol package reuses for the next read.
	in := bytes.Clone(base)
	a, err := ParseAuthenticate(in)
	if err != nil {
		t.Fatal(err)
	}
	clear(in)
	if a.NTResponse[0] != 0x11 || a.MIC[0] != 72 || a.SessionKey[0] != 2 {
		t.Error("parsed fields alias the input")
	}
}

func TestHashcatErrors(t *testing.T) {
	v2 := bytes.Repeat([]byte{1}, minNTLMv2Response)
	for _, tc := range []struct {
		name string
		a    Authenticate
		is   error
	}{
		{"impacket anonymous", Authenticate{LMResponse: []byte{0}, Workstation: "NULL"}, ErrAnonymous},
		{"windows anonymous", Authenticate{Flags: FlagAnonymous}, ErrAnonymous},
		{"colon in user", Authenticate{User: "a:b", NTResponse: v2}, nil},
		{"newline in domain", Authenticate{User: "a", Domain: "x\ny", NTResponse: v2}, nil},
		{"user but no NT response", Authenticate{User: "a", LMResponse: make([]byte, 24)}, nil},
		{"short NTLMv2 response", Authenticate{User: "a", NTResponse: v2[:minNTLMv2Response-1]}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line, _, err := tc.a.Hashcat(specChallenge)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("= %q, %v; want error %v", line, err, tc.is)
			}
			if VerifyV2(tc.a, specChallenge, "") {
				t.Error("VerifyV2 accepted it")
			}
		})
	}

	// An NTLMv1 response with an LM response of another length keeps the NT
	// part and leaves LM empty, which hashcat accepts.
	a := Authenticate{User: "u", NTResponse: make([]byte, 24), LMResponse: []byte{0}}
	line, format, err := a.Hashcat(specChallenge)
	if err != nil || format != FormatNetNTLMv1 || line != "u::::"+strings.Repeat("00", 24)+":0123456789abcdef" {
		t.Errorf("= %q %q %v", line, format, err)
	}
}

func TestVersionAndFlagsStrings(t *testing.T) {
	if s := (Version{}).String(); s != "" {
		t.Errorf("zero version = %q", s)
	}
	if s := NewVersion(10, 0, 19045).String(); s != "10.0.19045" {
		t.Errorf("version = %q", s)
	}
	if s := Flags(0xa0880205).String(); s != "0xa0880205" {
		t.Errorf("flags = %q", s)
	}
	if s := Flags(0x205).String(); s != "0x00000205" {
		t.Errorf("flags = %q", s)
	}
}
