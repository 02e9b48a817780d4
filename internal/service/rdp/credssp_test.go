package rdp

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"decnet/internal/ntlmssp"
	"decnet/internal/testutil"
)

// readHex reads a hex file of testdata.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return testutil.Hex(string(b))
}

// The TSRequests real clients sent, captured in the end-to-end tests.
func TestParseTSRequestClients(t *testing.T) {
	for _, tc := range []struct {
		file    string
		version int64
		ntlm    string // what the negoToken parses as
		nonce   bool
		pubKey  bool
	}{
		{"xfreerdp-tsrequest-negotiate.hex", 6, "negotiate", true, false},
		{"xfreerdp-tsrequest-authenticate.hex", 6, "authenticate", true, true},
		{"impacket-tsrequest-negotiate.hex", 2, "negotiate", false, false},
		{"impacket-tsrequest-authenticate.hex", 2, "authenticate", false, true},
		{"nmap-tsrequest-negotiate.hex", 0x60, "negotiate", false, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readHex(t, tc.file)
			req, err := ParseTSRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			if req.Version != tc.version || len(req.NegoTokens) != 1 || (len(req.ClientNonce) == 32) != tc.nonce ||
				(req.PubKeyAuth != nil) != tc.pubKey || req.AuthInfo != nil || req.HasErrorCode {
				t.Errorf("TSRequest %+v", req)
			}
			switch tc.ntlm {
			case "negotiate":
				_, err = ntlmssp.ParseNegotiate(req.NegoTokens[0])
			case "authenticate":
				_, err = ntlmssp.ParseAuthenticate(req.NegoTokens[0])
			}
			if err != nil {
				t.Errorf("negoToken: %v", err)
			}
			if got := req.Marshal(); !bytes.Equal(got, b) {
				t.Errorf("re-encoded as\n%x\nwant\n%x", got, b)
			}
			frame, _, err := readBERFrame(bytes.NewReader(append(b, 0xff)), tagSequence, maxTSRequest)
			if err != nil || !bytes.Equal(frame, b) {
				t.Errorf("readBERFrame = %x, %v", frame, err)
			}
		})
	}
}

// The server's TSRequests, byte for byte.
func TestTSRequestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  TSRequest
		want string
	}{
		// errorCode STATUS_LOGON_FAILURE as the 4 octets clients decode.
		{"logon failure", TSRequest{Version: 6, ErrorCode: statusLogonFailure, HasErrorCode: true},
			"300d a003020106 a406 0204c000006d"},
		{"challenge", TSRequest{Version: 6, NegoTokens: [][]byte{[]byte("NTLMSSP\x00")}},
			"3017 a003020106 a110 300e 300c a00a 0408 4e544c4d53535000"},
		{"error code 0", TSRequest{Version: 2, HasErrorCode: true}, "300a a003020102 a403 020100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.req.Marshal(); !bytes.Equal(got, testutil.Hex(tc.want)) {
				t.Errorf("got %x, want %s", got, strings.Join(strings.Fields(tc.want), ""))
			}
		})
	}
}

func TestTSRequestRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte{0xab}, 70000)
	for _, tc := range []struct {
		name string
		req  TSRequest
	}{
		{"version only", TSRequest{Version: 6}},
		{"big version", TSRequest{Version: 1 << 40}},
		{"negative version", TSRequest{Version: -5}},
		{"tokens", TSRequest{Version: 3, NegoTokens: [][]byte{{1}, {}, bytes.Repeat([]byte{2}, 300)}}},
		{"all fields", TSRequest{Version: 6, NegoTokens: [][]byte{[]byte("tok")}, AuthInfo: []byte{}, PubKeyAuth: []byte("pk"),
			ErrorCode: 0x80090308, HasErrorCode: true, ClientNonce: bytes.Repeat([]byte{7}, 32)}},
		{"positive error code", TSRequest{Version: 6, ErrorCode: 0x7fffffff, HasErrorCode: true}},
		{"long field", TSRequest{Version: 6, PubKeyAuth: long}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.req.Marshal()
			got, err := ParseTSRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.req) {
				t.Errorf("round trip: got %+v, want %+v", got, tc.req)
			}
		})
	}
}

func TestParseTSRequestErrors(t *testing.T) {
	tokens := func(n int) string {
		var items [][]byte
		for range n {
			items = append(items, tlv(tagSequence, tlv(tagContext0, tlv(tagOctetString, nil))))
		}
		return string(tlv(tagContext0+1, tlv(tagSequence, items...)))
	}
	ver := "a003020106"
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not a sequence", testutil.Hex("3100")},
		{"trailing", testutil.Hex("3005a003020106 00")},
		{"no version", testutil.Hex("3000")},
		{"version not integer", testutil.Hex("3005a003040106")},
		{"version with trailing", testutil.Hex("3007a005020106 0500")},
		{"empty integer", testutil.Hex("3004a0020200")},
		{"9-byte integer", testutil.Hex("300da00b0209010203040506070809")},
		{"out of order", testutil.Hex("300a a403020100 " + ver)},
		{"repeated", testutil.Hex("300a" + ver + ver)},
		{"universal field", testutil.Hex("3007" + ver + "0500")},
		{"too many tokens", tlv(tagSequence, testutil.Hex(ver), []byte(tokens(maxNegoTokens+1)))},
		{"token not octets", tlv(tagSequence, testutil.Hex(ver), tlv(tagContext0+1, tlv(tagSequence, tlv(tagSequence, tlv(tagContext0, testutil.Hex("0500"))))))},
		{"token item not sequence", tlv(tagSequence, testutil.Hex(ver), tlv(tagContext0+1, tlv(tagSequence, testutil.Hex("0400"))))},
		{"token without [0]", tlv(tagSequence, testutil.Hex(ver), tlv(tagContext0+1, tlv(tagSequence, tlv(tagSequence, tlv(tagContext0+1, testutil.Hex("0400"))))))},
		{"NegoData not sequence", tlv(tagSequence, testutil.Hex(ver), tlv(tagContext0+1, testutil.Hex("0400")))},
		{"error code too big", tlv(tagSequence, testutil.Hex(ver), tlv(tagContext0+4, testutil.Hex("0205 0100000000")))},
		{"indefinite length", testutil.Hex("3080a00302010600 00")},
		{"5-byte length", testutil.Hex("3085000000000300")},
		{"length past end", testutil.Hex("3005a003020106"[:10])},
		{"high tag field", testutil.Hex("3006 bf1f03020106")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseTSRequest(tc.in); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := ParseTSRequest(tlv(tagSequence, testutil.Hex(ver), []byte(tokens(maxNegoTokens)))); err != nil {
		t.Errorf("%d tokens: %v", maxNegoTokens, err)
	}
	// A newer field is skipped.
	if req, err := ParseTSRequest(testutil.Hex("300a" + ver + "a603020101")); err != nil || req.Version != 6 {
		t.Errorf("field [6]: %+v, %v", req, err)
	}
}

func TestReadBERFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		frame []byte
		got   []byte
		err   error
	}{
		{"short form", testutil.Hex("3003 020106 ff"), testutil.Hex("3003020106"), nil, nil},
		{"long form", testutil.Hex("308103 020106"), testutil.Hex("308103020106"), nil, nil},
		{"non-minimal long form", testutil.Hex("30820003 020106"), testutil.Hex("30820003020106"), nil, nil},
		{"four-byte length", testutil.Hex("3084 00000003 020106"), testutil.Hex("308400000003020106"), nil, nil},
		{"wrong tag", testutil.Hex("a003020106"), nil, testutil.Hex("a003"), ErrMalformed},
		{"indefinite", testutil.Hex("3080"), nil, testutil.Hex("3080"), ErrMalformed},
		{"over the limit", testutil.Hex("3083 010000"), nil, testutil.Hex("3083010000"), ErrMalformed},
		{"eof in length", testutil.Hex("3082 01"), nil, testutil.Hex("308201"), io.ErrUnexpectedEOF},
		{"eof in value", testutil.Hex("3005 0201"), nil, testutil.Hex("30050201"), io.ErrUnexpectedEOF},
		{"nothing", nil, nil, nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame, got, err := readBERFrame(bytes.NewReader(tc.in), tagSequence, maxTSRequest)
			if !errors.Is(err, tc.err) || !bytes.Equal(frame, tc.frame) || !bytes.Equal(got, tc.got) {
				t.Errorf("readBERFrame = %x, %x, %v; want %x, %x, %v", frame, got, err, tc.frame, tc.got, tc.err)
			}
		})
	}
}

func TestDERInt(t *testing.T) {
	for n, want := range map[int64]string{0: "020100", 6: "020106", 127: "02017f", 128: "02020080", -1: "0201ff",
		-128: "020180", -129: "0202ff7f", int64(int32(-1073741715)): "0204c000006d", 1 << 40: "02060100 00000000"} {
		if got := derInt(n); !bytes.Equal(got, testutil.Hex(want)) {
			t.Errorf("derInt(%d) = %x, want %s", n, got, want)
		}
		if v, err := berInt(derInt(n)[2:]); err != nil || v != n {
			t.Errorf("berInt(derInt(%d)) = %d, %v", n, v, err)
		}
	}
}
