package ntlmssp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

const hintHex = "6e6f745f646566696e65645f696e5f5246433431373840706c656173655f69676e6f7265"

func TestNegTokenInitMechs(t *testing.T) {
	for _, tc := range []struct {
		flavor Flavor
		want   string
	}{
		// The SMB2 NEGOTIATE security buffer of Windows 8 / Server 2012 and later.
		{Windows, "607606062b0601050502a06c306aa03c303a" +
			"060a2b06010401823702021e" + "06092a864882f712010202" + "06092a864886f712010202" +
			"060a2a864886f71201020203" + "060a2b06010401823702020a" +
			"a32a3028a0261b24" + hintHex},
		// Samba 4.17 standalone (real-products.md §13).
		{Samba, "604806062b0601050502a03e303ca00e300c060a2b06010401823702020a" + "a32a3028a0261b24" + hintHex},
	} {
		if got := hex.EncodeToString(NegTokenInitMechs(tc.flavor)); got != tc.want {
			t.Errorf("flavor %d:\n got %s\nwant %s", tc.flavor, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	const ntlmOID = "060a2b06010401823702020a"
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"reject", WrapReject(), "a1073005a0030a0102"},
		{"accept", WrapAccept(), "a1073005a0030a0100"},
		{"select NTLM", WrapSelectNTLM(), "a1153013a0030a0103a10c" + ntlmOID},
		{"short challenge", WrapChallenge([]byte("NTLMSSP\x00")),
			"a121301fa0030a0101a10c" + ntlmOID + "a20a0408" + hex.EncodeToString([]byte("NTLMSSP\x00"))},
	} {
		if hex.EncodeToString(tc.got) != tc.want {
			t.Errorf("%s:\n got %x\nwant %s", tc.name, tc.got, tc.want)
		}
	}

	// A CHALLENGE of Windows's usual size needs long-form lengths, as in
	// Windows's own "a1 81 .. 30 81 .. ... a2 81 .. 04 81 ..".
	challenge := append([]byte(Signature), bytes.Repeat([]byte{7}, 190)...)
	w := WrapChallenge(challenge)
	if !bytes.HasPrefix(w, []byte{0xa1, 0x81, byte(len(w) - 3), 0x30, 0x81, byte(len(w) - 6)}) {
		t.Errorf("long wrap header % x", w[:8])
	}
	got, err := UnwrapSPNEGO(w)
	if err != nil || !bytes.Equal(got, challenge) {
		t.Errorf("round trip: %v", err)
	}
	for _, n := range []int{0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000} {
		body := make([]byte, n)
		tag, v, rest, err := readTLV(tlv(tagOctetString, body))
		if err != nil || tag != tagOctetString || len(v) != n || len(rest) != 0 {
			t.Errorf("tlv of %d bytes: %v", n, err)
		}
	}
}

func TestUnwrapSPNEGO(t *testing.T) {
	ntlm := []byte(Signature + "\x01\x00\x00\x00\x05\x02\x88\xa0")
	krbToken := tlv(tagGSSAPI, tlv(tagOID, []byte(oidKRB5)), []byte{1, 0, 0x6e, 0})
	oids := func(ids ...string) []byte {
		var l []byte
		for _, id := range ids {
			l = append(l, tlv(tagOID, []byte(id))...)
		}
		return tlv(ctx0, tlv(tagSequence, l))
	}
	token := func(b []byte) []byte { return tlv(ctx2, tlv(tagOctetString, b)) }
	initToken := func(fields ...[]byte) []byte {
		return tlv(tagGSSAPI, tlv(tagOID, []byte(oidSPNEGO)), tlv(ctx0, tlv(tagSequence, fields...)))
	}
	resp := func(fields ...[]byte) []byte { return tlv(ctx1, tlv(tagSequence, fields...)) }
	negState := func(s byte) []byte { return tlv(ctx0, tlv(tagEnumerated, []byte{s})) }
	reqFlags := tlv(ctx1, tlv(0x03, []byte{0, 0}))
	mic := tlv(ctx3, tlv(tagOctetString, make([]byte, 16)))

	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"raw NTLMSSP", ntlm, ntlm, nil},
		{"NegTokenInit", initToken(oids(oidNTLMSSP), token(ntlm)), ntlm, nil},
		{"NegTokenInit with reqFlags and MIC", initToken(oids(oidNTLMSSP, oidNEGOEX), reqFlags, token(ntlm), mic), ntlm, nil},
		{"bare NegTokenInit", tlv(ctx0, tlv(tagSequence, oids(oidNTLMSSP), token(ntlm))), ntlm, nil},
		{"NegTokenResp", resp(negState(acceptIncomplete), token(ntlm), mic), ntlm, nil},
		{"NegTokenResp token only", resp(token(ntlm)), ntlm, nil},
		{"trailing bytes", append(resp(token(ntlm)), 0, 0, 0), ntlm, nil},
		{"non-minimal length", append([]byte{ctx1, 0x82, 0, byte(len(resp(token(ntlm)))) - 2}, resp(token(ntlm))[2:]...), ntlm, nil},

		{"kerberos preferred", initToken(oids(oidMSKRB5, oidKRB5, oidNTLMSSP), token(krbToken)), nil, ErrNeedNTLMToken},
		{"NTLMSSP without token", initToken(oids(oidNTLMSSP)), nil, ErrNeedNTLMToken},
		{"kerberos only", initToken(oids(oidMSKRB5, oidKRB5), token(krbToken)), nil, ErrNoNTLM},
		{"no mechTypes", initToken(token(krbToken)), nil, ErrNoNTLM},
		{"bare kerberos AP-REQ", krbToken, nil, ErrNoNTLM},
		{"NegTokenResp reject", resp(negState(reject)), nil, ErrNoNTLM},
		{"NegTokenResp other token", resp(token([]byte("NEGOEXTS"))), nil, ErrNoNTLM},

		{"empty", nil, nil, ErrMalformed},
		{"one byte", []byte{0x60}, nil, ErrMalformed},
		{"length past the end", []byte{0x60, 0x10, 0x06}, nil, ErrMalformed},
		{"huge long length", []byte{0x60, 0x84, 0xff, 0xff, 0xff, 0xff, 0}, nil, ErrMalformed},
		{"indefinite length", []byte{0x60, 0x80, 0, 0}, nil, ErrMalformed},
		{"five length bytes", []byte{0x60, 0x85, 0, 0, 0, 0, 1, 0}, nil, ErrMalformed},
		{"truncated long length", []byte{0x60, 0x82, 0}, nil, ErrMalformed},
		{"multi-byte tag", []byte{0x7f, 0x01, 0x00}, nil, ErrMalformed},
		{"neither SPNEGO nor NTLMSSP", tlv(tagSequence), nil, ErrMalformed},
		{"GSS-API without OID", tlv(tagGSSAPI, tlv(tagOctetString, ntlm)), nil, ErrMalformed},
		{"GSS-API empty", tlv(tagGSSAPI), nil, ErrMalformed},
		{"SPNEGO OID then NegTokenResp", tlv(tagGSSAPI, tlv(tagOID, []byte(oidSPNEGO)), resp(token(ntlm))), nil, ErrMalformed},
		{"SPNEGO OID alone", tlv(tagGSSAPI, tlv(tagOID, []byte(oidSPNEGO))), nil, ErrMalformed},
		{"NegTokenInit not a SEQUENCE", tlv(tagGSSAPI, tlv(tagOID, []byte(oidSPNEGO)), tlv(ctx0, token(ntlm))), nil, ErrMalformed},
		{"field twice", initToken(oids(oidNTLMSSP), token(ntlm), token(ntlm)), nil, ErrMalformed},
		{"mechTypes not a SEQUENCE", initToken(tlv(ctx0, tlv(tagOID, []byte(oidNTLMSSP))), token(ntlm)), nil, ErrMalformed},
		{"mechTypes holds a non-OID", initToken(tlv(ctx0, tlv(tagSequence, tlv(tagOctetString, nil))), token(ntlm)), nil, ErrMalformed},
		{"mechTypes truncated", initToken(tlv(ctx0, tlv(tagSequence, []byte{tagOID, 5, 1})), token(ntlm)), nil, ErrMalformed},
		{"mechToken not an OCTET STRING", initToken(oids(oidNTLMSSP), tlv(ctx2, tlv(tagSequence, ntlm))), nil, ErrMalformed},
		{"mechToken empty field", initToken(oids(oidNTLMSSP), tlv(ctx2)), nil, ErrMalformed},
		{"responseToken not an OCTET STRING", resp(tlv(ctx2, tlv(tagOID, ntlm))), nil, ErrMalformed},
		{"NegTokenResp field truncated", tlv(ctx1, tlv(tagSequence, []byte{ctx2, 9, 4})), nil, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := UnwrapSPNEGO(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("= %x, %v; want %x", got, err, tc.want)
			}
		})
	}
}
