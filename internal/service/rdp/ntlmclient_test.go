package rdp

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"decnet/internal/testutil"
)

// A minimal NTLMv2 client for the tests, written from MS-NLMP 3.3.2.

// ntHashSecret is NTOWFv1("secret"): MD4 of its UTF-16LE form.
var ntHashSecret = testutil.Hex("878d8014606cda29677a44efa1353fc7")

// ntlmNegotiate is the NEGOTIATE nmap's rdp-ntlm-info sends, mimicking
// Windows 10 (flags 0xe20882b7, version 10.0.17763).
var ntlmNegotiate = testutil.Hex("4e544c4d5353500001000000b78208e2 0000000000000000 0000000000000000 0a00634500 00000f")

// SPNEGO wrappers of the tests' tokens (RFC 4178).
var (
	oidSPNEGO  = testutil.Hex("2b0601050502")
	oidNTLMSSP = testutil.Hex("2b06010401823702020a")
	oidKRB5    = testutil.Hex("2a864886f712010202")
)

// negTokenInit is a GSS-API framed NegTokenInit listing mechs, with token.
func negTokenInit(token []byte, mechs ...[]byte) []byte {
	var list [][]byte
	for _, m := range mechs {
		list = append(list, tlv(0x06, m))
	}
	inner := tlv(tagSequence, tlv(tagContext0, tlv(tagSequence, list...)), tlv(tagContext0+2, tlv(tagOctetString, token)))
	return tlv(0x60, tlv(0x06, oidSPNEGO), tlv(tagContext0, inner))
}

// negTokenResp is a client's NegTokenResp carrying token.
func negTokenResp(token []byte) []byte {
	return tlv(tagContext0+1, tlv(tagSequence, tlv(tagContext0+2, tlv(tagOctetString, token))))
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// challengeParts reads a CHALLENGE's server challenge and target info.
func challengeParts(t *testing.T, msg []byte) (serverChallenge, targetInfo []byte) {
	t.Helper()
	if len(msg) < 48 || !bytes.HasPrefix(msg, []byte("NTLMSSP\x00\x02\x00\x00\x00")) {
		t.Fatalf("not a CHALLENGE: %x", msg)
	}
	n := int(binary.LittleEndian.Uint16(msg[40:]))
	off := int(binary.LittleEndian.Uint32(msg[44:]))
	if off+n > len(msg) {
		t.Fatalf("target info past the CHALLENGE")
	}
	return msg[24:32], msg[off : off+n]
}

// ntlmAuthenticate answers a CHALLENGE with NTLMv2 for user@domain whose
// NT hash is ntHash; an empty user makes an anonymous AUTHENTICATE.
func ntlmAuthenticate(t *testing.T, challenge []byte, user, domain string, ntHash []byte) []byte {
	t.Helper()
	lm, nt := []byte{0}, []byte{}
	if user != "" {
		sc, info := challengeParts(t, challenge)
		key := hmac.New(md5.New, ntHash)
		key.Write(utf16le(strings.ToUpper(user) + domain))
		blob := testutil.Hex("0101000000000000 0090d336b734c301 aaaaaaaaaaaaaaaa 00000000")
		blob = append(append(blob, info...), 0, 0, 0, 0)
		proof := hmac.New(md5.New, key.Sum(nil))
		proof.Write(sc)
		proof.Write(blob)
		nt = append(proof.Sum(nil), blob...)
		lm = make([]byte, 24)
	}
	fields := [][]byte{lm, nt, utf16le(domain), utf16le(user), utf16le("KALI"), nil}
	msg := []byte("NTLMSSP\x00\x03\x00\x00\x00")
	off := 64
	for _, f := range fields {
		msg = binary.LittleEndian.AppendUint16(msg, uint16(len(f)))
		msg = binary.LittleEndian.AppendUint16(msg, uint16(len(f)))
		msg = binary.LittleEndian.AppendUint32(msg, uint32(off))
		off += len(f)
	}
	msg = binary.LittleEndian.AppendUint32(msg, 0xe2888215)
	for _, f := range fields {
		msg = append(msg, f...)
	}
	return msg
}
