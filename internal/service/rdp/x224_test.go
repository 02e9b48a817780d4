package rdp

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"decnet/internal/testutil"
)

// Connection Requests real clients sent (TPKT payloads), captured in the
// end-to-end tests.
var (
	crXfreerdp    = testutil.Hex("26e00000000000436f6f6b69653a206d737473686173683d616c6963650d0a0100080003000000")
	crXfreerdpRDP = testutil.Hex("1ce00000000000436f6f6b69653a206d737473686173683d626f620d0a")
	crImpacket    = testutil.Hex("0ee000000000000100080003000000")
	crNmapEx      = testutil.Hex("25e00000000000436f6f6b69653a206d737473686173683d6e6d61700d0a010008000b000000")
)

// cr builds a Connection Request TPDU around its variable part.
func cr(parts ...string) []byte {
	b := testutil.Hex("00e00000000000")
	for _, p := range parts {
		b = append(b, p...)
	}
	b[0] = byte(len(b) - 1)
	return b
}

func TestParseConnectionRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want ConnectionRequest
	}{
		{"xfreerdp", crXfreerdp, ConnectionRequest{Cookie: "alice", HasCookie: true, HasNegReq: true, Protocols: 3}},
		{"xfreerdp /sec:rdp", crXfreerdpRDP, ConnectionRequest{Cookie: "bob", HasCookie: true}},
		{"impacket", crImpacket, ConnectionRequest{HasNegReq: true, Protocols: 3}},
		{"nmap", crNmapEx, ConnectionRequest{Cookie: "nmap", HasCookie: true, HasNegReq: true, Protocols: 0xb}},
		// mstsc's shape (MS-RDPBCGR 4.1.1): a cookie cut to 9
		// characters and RDP_NEG_CORRELATION_INFO.
		{"correlation", cr("Cookie: mstshash=Administr\r\n", string(testutil.Hex("0108080003000000")),
			string(testutil.Hex("0600240000112233445566778899aabbccddeeff00000000000000000000000000000000"))),
			ConnectionRequest{Cookie: "Administr", HasCookie: true, HasNegReq: true, NegFlags: 8, Protocols: 3,
				CorrelationID: testutil.Hex("00112233445566778899aabbccddeeff")}},
		{"routing token", cr("Cookie: msts=3640205228.15629.0000\r\n", string(testutil.Hex("0100080001000000"))),
			ConnectionRequest{RoutingToken: "Cookie: msts=3640205228.15629.0000", HasNegReq: true, Protocols: 1}},
		{"empty cookie", cr("Cookie: mstshash=\r\n"), ConnectionRequest{HasCookie: true}},
		{"bare", cr(), ConnectionRequest{}},
		{"trailing bytes ignored", cr(string(testutil.Hex("0100080002000000ffff"))), ConnectionRequest{HasNegReq: true, Protocols: 2}},
		{"short neg data is no neg", cr(string(testutil.Hex("01000800"))), ConnectionRequest{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConnectionRequest(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Cookie != tc.want.Cookie || got.HasCookie != tc.want.HasCookie || got.RoutingToken != tc.want.RoutingToken ||
				got.HasNegReq != tc.want.HasNegReq || got.NegFlags != tc.want.NegFlags || got.Protocols != tc.want.Protocols ||
				!bytes.Equal(got.CorrelationID, tc.want.CorrelationID) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseConnectionRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short", testutil.Hex("05e000000000")},
		{"length indicator", testutil.Hex("07e00000000000")},
		{"data TPDU", testutil.Hex("06f00000000000")},
		{"class 4", testutil.Hex("06e00000000040")},
		{"token without CRLF", cr("Cookie: mstshash=eve")},
		{"neg length", cr(string(testutil.Hex("0100090003000000")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseConnectionRequest(tc.in); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// The Connection Confirms, byte for byte: Windows's as nmap's "Windows 10"
// match and MS-RDPBCGR describe them, xrdp's as captured from Debian 12's
// xrdp (real-products.md §15).
func TestConfirmGolden(t *testing.T) {
	req := func(p uint32) ConnectionRequest { return ConnectionRequest{HasNegReq: true, Protocols: p} }
	const (
		noNeg   = "0300000b06d00000123400"
		winRsp  = "030000130ed00000123400021f0800"
		winFail = "030000130ed000001234000300080005000000"
		xrdpRsp = "030000130ed0000012340002010800"
	)
	for _, tc := range []struct {
		name string
		prod product
		cr   ConnectionRequest
		want string
	}{
		{"windows HYBRID", windowsProduct(true), req(3), winRsp + "02000000"},
		{"windows HYBRID_EX", windowsProduct(true), req(0xb), winRsp + "08000000"},
		{"windows HYBRID only", windowsProduct(true), req(2), winRsp + "02000000"},
		{"windows RDSTLS", windowsProduct(true), req(4), winRsp + "04000000"},
		{"windows SSL, NLA", windowsProduct(true), req(1), winFail},
		{"windows RDP, NLA", windowsProduct(true), req(0), winFail},
		{"windows no neg", windowsProduct(true), ConnectionRequest{HasCookie: true, Cookie: "x"}, noNeg},
		{"windows SSL, no NLA", windowsProduct(false), req(1), winRsp + "01000000"},
		{"windows RDP, no NLA", windowsProduct(false), req(0), winRsp + "00000000"},
		{"windows HYBRID, no NLA", windowsProduct(false), req(3), winRsp + "02000000"},
		{"xrdp no neg", xrdpProduct(), ConnectionRequest{}, noNeg},
		{"xrdp RDP", xrdpProduct(), req(0), xrdpRsp + "00000000"},
		{"xrdp SSL", xrdpProduct(), req(1), xrdpRsp + "01000000"},
		{"xrdp SSL|HYBRID", xrdpProduct(), req(3), xrdpRsp + "01000000"},
		{"xrdp SSL|HYBRID|HYBRID_EX", xrdpProduct(), req(0xb), xrdpRsp + "01000000"},
		{"xrdp HYBRID", xrdpProduct(), req(2), xrdpRsp + "00000000"},
		{"xrdp RDSTLS", xrdpProduct(), req(4), xrdpRsp + "00000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.prod.confirm(tc.cr).Marshal(); !bytes.Equal(got, testutil.Hex(tc.want)) {
				t.Errorf("CC %x, want %s", got, tc.want)
			}
		})
	}
	// nmap-service-probes: match ms-wbt-server ... p/Microsoft Terminal Services/ o/Windows/
	nmap := "\x03\x00\x00\x13\x0e\xd0\x00\x00\x124\x00\x02\x1f\x08\x00\x02\x00\x00\x00"
	if cc := windowsProduct(true).confirm(req(3)).Marshal(); string(cc) != nmap {
		t.Errorf("nmap's Windows match does not match %x", cc)
	}
}

func TestReadTPKT(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		payload []byte
		got     []byte
		err     error
	}{
		{"ok", testutil.Hex("0300000601 02"), testutil.Hex("0102"), nil, nil},
		{"empty payload", testutil.Hex("03000004"), []byte{}, nil, nil},
		{"version", testutil.Hex("04000006 0102"), nil, testutil.Hex("04000006"), ErrMalformed},
		{"length under header", testutil.Hex("03000003"), nil, testutil.Hex("03000003"), ErrMalformed},
		{"http", []byte("GET / HTTP/1.1\r\n"), nil, []byte("GET "), ErrMalformed},
		{"short header", testutil.Hex("0300"), nil, testutil.Hex("0300"), io.ErrUnexpectedEOF},
		{"short payload", testutil.Hex("03000008 0102"), nil, testutil.Hex("03000008 0102"), io.ErrUnexpectedEOF},
		{"nothing", nil, nil, nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload, got, err := readTPKT(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.err) || !bytes.Equal(payload, tc.payload) || !bytes.Equal(got, tc.got) {
				t.Errorf("readTPKT = %x, %x, %v; want %x, %x, %v", payload, got, err, tc.payload, tc.got, tc.err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for p, want := range map[uint32]string{0: "RDP", 1: "SSL", 3: "SSL|HYBRID", 0xb: "SSL|HYBRID|HYBRID_EX",
		0x1f: "SSL|HYBRID|RDSTLS|HYBRID_EX|RDSAAD", 0x101: "SSL|0x100"} {
		if got := protocolString(p); got != want {
			t.Errorf("protocolString(%#x) = %q, want %q", p, got, want)
		}
	}
	for f, want := range map[uint8]string{0: "", 1: "RESTRICTED_ADMIN_MODE_REQUIRED",
		0x0a: "REDIRECTED_AUTHENTICATION_MODE_REQUIRED|CORRELATION_INFO_PRESENT", 0x80: "0x80"} {
		if got := negFlagsString(f); got != want {
			t.Errorf("negFlagsString(%#x) = %q, want %q", f, got, want)
		}
	}
}
