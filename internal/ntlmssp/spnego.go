package ntlmssp

import (
	"errors"
	"fmt"
	"strings"
)

// SPNEGO (RFC 4178, with the NegTokenInit2 of MS-SPNG) as SMB2 SESSION_SETUP,
// HTTP Negotiate and CredSSP carry NTLMSSP. The DER is read and written by
// hand: only a handful of fixed shapes occur, and a small reader keeps every
// length check in sight.

// DER encodings (contents only) of the mechanism OIDs Windows lists.
const (
	oidSPNEGO  = "\x2b\x06\x01\x05\x05\x02"                 // 1.3.6.1.5.5.2
	oidNTLMSSP = "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a" // 1.3.6.1.4.1.311.2.2.10
	oidNEGOEX  = "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x1e" // 1.3.6.1.4.1.311.2.2.30
	oidMSKRB5  = "\x2a\x86\x48\x82\xf7\x12\x01\x02\x02"     // 1.2.840.48018.1.2.2
	oidKRB5    = "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"     // 1.2.840.113554.1.2.2
	oidKRB5U2U = "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x03" // 1.2.840.113554.1.2.2.3
	negHint    = "not_defined_in_RFC4178@please_ignore"     // NegHints.hintName of Windows and Samba
)

// DER tags used by SPNEGO.
const (
	tagEnumerated  = 0x0a
	tagOctetString = 0x04
	tagOID         = 0x06
	tagSequence    = 0x30
	tagGeneralStr  = 0x1b
	tagGSSAPI      = 0x60 // [APPLICATION 0] InitialContextToken
	// Explicit context tags [0]..[3]: the NegotiationToken choice
	// (NegTokenInit [0], NegTokenResp [1]) and the fields inside both.
	ctx0 = 0xa0
	ctx1 = 0xa1
	ctx2 = 0xa2
	ctx3 = 0xa3
)

// negState values of NegTokenResp.
const (
	acceptCompleted  = 0
	acceptIncomplete = 1
	reject           = 2
	requestMIC       = 3
)

// ErrNoNTLM means the SPNEGO token neither carries an NTLMSSP message nor
// offers NTLMSSP (e.g. Kerberos only): answer WrapReject.
var ErrNoNTLM = errors.New("ntlmssp: SPNEGO token offers no NTLMSSP")

// ErrNeedNTLMToken means the client offers NTLMSSP but sent no NTLMSSP token
// yet (its optimistic token is for a preferred mechanism such as Kerberos, or
// it sent none): answer WrapSelectNTLM and read the client's next token.
var ErrNeedNTLMToken = errors.New("ntlmssp: SPNEGO offers NTLMSSP without an NTLMSSP token")

// Flavor is the server implementation whose SPNEGO greeting is mimicked.
type Flavor int

const (
	// Windows lists NEGOEX, MS Kerberos, Kerberos, Kerberos user-to-user and
	// NTLMSSP, as Windows 8 / Server 2012 and later do, standalone or joined.
	Windows Flavor = iota
	// Samba lists NTLMSSP alone, as a standalone Samba 4 server does.
	Samba
)

// NegTokenInitMechs returns the server's unsolicited NegTokenInit2 (the
// SMB2 NEGOTIATE response's security buffer): the GSS-API framed SPNEGO OID,
// the mechanism list of flavor f and the negHints both Windows and Samba send.
// Clients that offer Kerberos to a Windows persona get steered to NTLMSSP by
// ErrNeedNTLMToken and WrapSelectNTLM.
func NegTokenInitMechs(f Flavor) []byte {
	mechs := []string{oidNTLMSSP}
	if f == Windows {
		mechs = []string{oidNEGOEX, oidMSKRB5, oidKRB5, oidKRB5U2U, oidNTLMSSP}
	}
	var list []byte
	for _, m := range mechs {
		list = append(list, tlv(tagOID, []byte(m))...)
	}
	init2 := tlv(tagSequence,
		tlv(ctx0, tlv(tagSequence, list)),
		tlv(ctx3, tlv(tagSequence, tlv(ctx0, tlv(tagGeneralStr, []byte(negHint))))),
	)
	return tlv(tagGSSAPI, tlv(tagOID, []byte(oidSPNEGO)), tlv(ctx0, init2))
}

// WrapChallenge wraps a CHALLENGE in the NegTokenResp Windows answers with:
// accept-incomplete, supportedMech NTLMSSP, the CHALLENGE as responseToken.
func WrapChallenge(ntlm []byte) []byte {
	return negTokenResp(acceptIncomplete, true, ntlm)
}

// WrapSelectNTLM is the NegTokenResp that picks NTLMSSP when the client's
// preferred mechanism was another (RFC 4178 §5: request-mic, no token), after
// ErrNeedNTLMToken.
func WrapSelectNTLM() []byte {
	return negTokenResp(requestMIC, true, nil)
}

// WrapReject is the NegTokenResp with negState reject.
func WrapReject() []byte {
	return negTokenResp(reject, false, nil)
}

// WrapAccept is the NegTokenResp with negState accept-completed and no
// mechListMIC, for a logon the protocol package accepts.
func WrapAccept() []byte {
	return negTokenResp(acceptCompleted, false, nil)
}

func negTokenResp(state byte, mech bool, token []byte) []byte {
	fields := [][]byte{tlv(ctx0, tlv(tagEnumerated, []byte{state}))}
	if mech {
		fields = append(fields, tlv(ctx1, tlv(tagOID, []byte(oidNTLMSSP))))
	}
	if token != nil {
		fields = append(fields, tlv(ctx2, tlv(tagOctetString, token)))
	}
	return tlv(ctx1, tlv(tagSequence, fields...))
}

// UnwrapSPNEGO returns the NTLMSSP message inside a client's SPNEGO token: a
// GSS-API framed or bare NegTokenInit (its mechToken) or a NegTokenResp (its
// responseToken). A raw NTLMSSP message passes through unchanged. Without an
// NTLMSSP message it returns ErrNeedNTLMToken or ErrNoNTLM; DER it cannot
// read wraps ErrMalformed. Bytes after the token are ignored.
func UnwrapSPNEGO(b []byte) ([]byte, error) {
	if strings.HasPrefix(string(b), Signature) {
		return b, nil
	}
	tag, body, _, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagGSSAPI:
		tag, oid, rest, err := readTLV(body)
		if err != nil {
			return nil, err
		}
		if tag != tagOID {
			return nil, fmt.Errorf("GSS-API token without mechanism OID: %w", ErrMalformed)
		}
		if string(oid) != oidSPNEGO {
			// A bare Kerberos or NEGOEX token: not negotiable into NTLM.
			return nil, ErrNoNTLM
		}
		tag, inner, _, err := readTLV(rest)
		if err != nil {
			return nil, err
		}
		if tag != ctx0 {
			return nil, fmt.Errorf("SPNEGO initial token tag %#x, want NegTokenInit: %w", tag, ErrMalformed)
		}
		return negTokenInit(inner)
	case ctx0:
		return negTokenInit(body)
	case ctx1:
		return negTokenRespToken(body)
	default:
		return nil, fmt.Errorf("tag %#x is neither SPNEGO nor NTLMSSP: %w", tag, ErrMalformed)
	}
}

// negTokenInit reads NegTokenInit(2): mechTypes [0], reqFlags [1],
// mechToken [2], then mechListMIC or negHints.
func negTokenInit(b []byte) ([]byte, error) {
	fields, err := sequenceFields(b)
	if err != nil {
		return nil, fmt.Errorf("NegTokenInit: %w", err)
	}
	offered := false
	if types, ok := fields[ctx0]; ok {
		tag, list, _, err := readTLV(types)
		if err != nil || tag != tagSequence {
			return nil, fmt.Errorf("NegTokenInit mechTypes: %w", ErrMalformed)
		}
		for len(list) > 0 {
			tag, oid, rest, err := readTLV(list)
			if err != nil || tag != tagOID {
				return nil, fmt.Errorf("NegTokenInit mechTypes: %w", ErrMalformed)
			}
			offered = offered || string(oid) == oidNTLMSSP
			list = rest
		}
	}
	token, err := octetField(fields, ctx2)
	if err != nil {
		return nil, fmt.Errorf("NegTokenInit mechToken: %w", err)
	}
	switch {
	case strings.HasPrefix(string(token), Signature):
		return token, nil
	case offered:
		return nil, ErrNeedNTLMToken
	default:
		return nil, ErrNoNTLM
	}
}

// negTokenRespToken reads a NegTokenResp's responseToken [2].
func negTokenRespToken(b []byte) ([]byte, error) {
	fields, err := sequenceFields(b)
	if err != nil {
		return nil, fmt.Errorf("NegTokenResp: %w", err)
	}
	token, err := octetField(fields, ctx2)
	if err != nil {
		return nil, fmt.Errorf("NegTokenResp responseToken: %w", err)
	}
	if !strings.HasPrefix(string(token), Signature) {
		return nil, ErrNoNTLM
	}
	return token, nil
}

// sequenceFields reads a SEQUENCE of context-tagged fields into a map from
// tag to the field's contents. A repeated tag is malformed.
func sequenceFields(b []byte) (map[byte][]byte, error) {
	tag, seq, _, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if tag != tagSequence {
		return nil, fmt.Errorf("tag %#x, want SEQUENCE: %w", tag, ErrMalformed)
	}
	fields := map[byte][]byte{}
	for len(seq) > 0 {
		tag, body, rest, err := readTLV(seq)
		if err != nil {
			return nil, err
		}
		if _, dup := fields[tag]; dup {
			return nil, fmt.Errorf("field %#x twice: %w", tag, ErrMalformed)
		}
		fields[tag] = body
		seq = rest
	}
	return fields, nil
}

// octetField returns the OCTET STRING inside an explicitly tagged field, or
// nil when the field is absent.
func octetField(fields map[byte][]byte, tag byte) ([]byte, error) {
	f, ok := fields[tag]
	if !ok {
		return nil, nil
	}
	t, v, _, err := readTLV(f)
	if err != nil {
		return nil, err
	}
	if t != tagOctetString {
		return nil, fmt.Errorf("tag %#x, want OCTET STRING: %w", t, ErrMalformed)
	}
	return v, nil
}

// readTLV reads one DER element with a single-byte tag. Long-form lengths of
// up to four bytes are accepted even when not minimal (BER senders exist);
// indefinite lengths and multi-byte tags, which SPNEGO never uses, are not.
func readTLV(b []byte) (tag byte, value, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("truncated DER element: %w", ErrMalformed)
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, fmt.Errorf("multi-byte DER tag: %w", ErrMalformed)
	}
	n, hdr := int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, fmt.Errorf("DER length form %#x: %w", b[1], ErrMalformed)
		}
		var u uint64
		for _, c := range b[2 : 2+k] {
			u = u<<8 | uint64(c)
		}
		if u > uint64(len(b)) {
			return 0, nil, nil, fmt.Errorf("DER length %d past the message: %w", u, ErrMalformed)
		}
		n = int(u)
		hdr += k
	}
	if n > len(b)-hdr {
		return 0, nil, nil, fmt.Errorf("DER length %d past the %d remaining bytes: %w", n, len(b)-hdr, ErrMalformed)
	}
	return tag, b[hdr : hdr+n], b[hdr+n:], nil
}

// tlv encodes one DER element from its parts, with a minimal length.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := []byte{tag}
	if n < 0x80 {
		b = append(b, byte(n))
	} else {
		var be []byte
		for v := n; v > 0; v >>= 8 {
			be = append([]byte{byte(v)}, be...)
		}
		b = append(append(b, 0x80|byte(len(be))), be...)
	}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
