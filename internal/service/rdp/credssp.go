package rdp

import (
	"bytes"
	"fmt"
)

// CredSSP (MS-CSSP) versions: Windows Server 2019 speaks 6 (the
// CVE-2018-0886 fix); errorCode exists from 3 on.
const (
	credSSPVersion       = 6
	credSSPErrorCodeFrom = 3
	// maxTSRequest bounds a TSRequest's value: an AUTHENTICATE is 1-2 KiB,
	// a smart-card TSCredentials a few KiB more.
	maxTSRequest = 0xffff
	// maxNegoTokens bounds NegoData; clients send one token.
	maxNegoTokens = 8
)

// statusLogonFailure is NTSTATUS STATUS_LOGON_FAILURE, what Windows puts
// in errorCode for a wrong user name or password.
const statusLogonFailure uint32 = 0xc000006d

// TSRequest is CredSSP's only message (MS-CSSP 2.2.1):
//
//	TSRequest ::= SEQUENCE {
//	        version     [0] INTEGER,
//	        negoTokens  [1] NegoData  OPTIONAL,
//	        authInfo    [2] OCTET STRING OPTIONAL,
//	        pubKeyAuth  [3] OCTET STRING OPTIONAL,
//	        errorCode   [4] INTEGER OPTIONAL,
//	        clientNonce [5] OCTET STRING OPTIONAL }
//	NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }
type TSRequest struct {
	// Version is the sender's highest CredSSP version.
	Version int64
	// NegoTokens are the SPNEGO or raw NTLMSSP tokens.
	NegoTokens [][]byte
	// AuthInfo is the encrypted TSCredentials, sent after a logon succeeds.
	AuthInfo []byte
	// PubKeyAuth binds the exchange to the server's public key.
	PubKeyAuth []byte
	// ErrorCode is an NTSTATUS, sent when HasErrorCode.
	ErrorCode    uint32
	HasErrorCode bool
	// ClientNonce is the 32-byte nonce of CredSSP 5 and later.
	ClientNonce []byte
}

// ParseTSRequest decodes a TSRequest that fills b exactly. Fields must
// come in order, each at most once; context tags past [5] are skipped, as
// a newer peer may send them.
func ParseTSRequest(b []byte) (TSRequest, error) {
	var t TSRequest
	tag, body, rest, err := readTLV(b)
	if err != nil {
		return t, fmt.Errorf("TSRequest: %w", err)
	}
	if tag != tagSequence || len(rest) != 0 {
		return t, fmt.Errorf("TSRequest: tag 0x%02x with %d trailing bytes: %w", tag, len(rest), ErrMalformed)
	}
	last := -1
	for len(body) > 0 {
		tag, field, next, err := readTLV(body)
		if err != nil {
			return t, fmt.Errorf("TSRequest: %w", err)
		}
		body = next
		n := int(tag) - tagContext0
		if tag < tagContext0 || tag > 0xbf || n <= last {
			return t, fmt.Errorf("TSRequest: field tag 0x%02x after [%d]: %w", tag, last, ErrMalformed)
		}
		last = n
		if err := t.setField(n, field); err != nil {
			return t, fmt.Errorf("TSRequest [%d]: %w", n, err)
		}
	}
	if last < 0 {
		return t, fmt.Errorf("TSRequest: no version: %w", ErrMalformed)
	}
	return t, nil
}

func (t *TSRequest) setField(n int, field []byte) error {
	switch n {
	case 0:
		v, err := innerInt(field)
		t.Version = v
		return err
	case 1:
		tokens, err := parseNegoData(field)
		t.NegoTokens = tokens
		return err
	case 2:
		return innerOctets(field, &t.AuthInfo)
	case 3:
		return innerOctets(field, &t.PubKeyAuth)
	case 4:
		v, err := innerInt(field)
		if v < -1<<31 || v > 1<<32-1 {
			return fmt.Errorf("errorCode %d: %w", v, ErrMalformed)
		}
		t.ErrorCode, t.HasErrorCode = uint32(v), true
		return err
	case 5:
		return innerOctets(field, &t.ClientNonce)
	}
	return nil
}

// innerInt reads the INTEGER an explicit tag wraps.
func innerInt(b []byte) (int64, error) {
	tag, v, rest, err := readTLV(b)
	if err != nil {
		return 0, err
	}
	if tag != tagInteger || len(rest) != 0 {
		return 0, fmt.Errorf("want one INTEGER: %w", ErrMalformed)
	}
	return berInt(v)
}

// innerOctets reads the OCTET STRING an explicit tag wraps into dst.
func innerOctets(b []byte, dst *[]byte) error {
	tag, v, rest, err := readTLV(b)
	if err != nil {
		return err
	}
	if tag != tagOctetString || len(rest) != 0 {
		return fmt.Errorf("want one OCTET STRING: %w", ErrMalformed)
	}
	*dst = bytes.Clone(v)
	return nil
}

func parseNegoData(b []byte) ([][]byte, error) {
	tag, items, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if tag != tagSequence || len(rest) != 0 {
		return nil, fmt.Errorf("NegoData is not one SEQUENCE: %w", ErrMalformed)
	}
	var tokens [][]byte
	for len(items) > 0 {
		if len(tokens) == maxNegoTokens {
			return nil, fmt.Errorf("more than %d negoTokens: %w", maxNegoTokens, ErrMalformed)
		}
		tag, item, next, err := readTLV(items)
		if err != nil {
			return nil, err
		}
		items = next
		if tag != tagSequence {
			return nil, fmt.Errorf("NegoDataItem tag 0x%02x: %w", tag, ErrMalformed)
		}
		tag, inner, rest, err := readTLV(item)
		if err != nil {
			return nil, err
		}
		if tag != tagContext0 || len(rest) != 0 {
			return nil, fmt.Errorf("NegoDataItem without negoToken [0]: %w", ErrMalformed)
		}
		var tok []byte
		if err := innerOctets(inner, &tok); err != nil {
			return nil, err
		}
		tokens = append(tokens, tok)
	}
	return tokens, nil
}

// Marshal encodes the TSRequest in DER, the fields present in order.
func (t TSRequest) Marshal() []byte {
	fields := [][]byte{tlv(tagContext0, derInt(t.Version))}
	if len(t.NegoTokens) > 0 {
		var items [][]byte
		for _, tok := range t.NegoTokens {
			items = append(items, tlv(tagSequence, tlv(tagContext0, tlv(tagOctetString, tok))))
		}
		fields = append(fields, tlv(tagContext0+1, tlv(tagSequence, items...)))
	}
	if t.AuthInfo != nil {
		fields = append(fields, tlv(tagContext0+2, tlv(tagOctetString, t.AuthInfo)))
	}
	if t.PubKeyAuth != nil {
		fields = append(fields, tlv(tagContext0+3, tlv(tagOctetString, t.PubKeyAuth)))
	}
	if t.HasErrorCode {
		// An NTSTATUS goes as a signed 32-bit value: 0xc000006d is the
		// 4 octets c0 00 00 6d, which is what clients decode.
		fields = append(fields, tlv(tagContext0+4, derInt(int64(int32(t.ErrorCode)))))
	}
	if t.ClientNonce != nil {
		fields = append(fields, tlv(tagContext0+5, tlv(tagOctetString, t.ClientNonce)))
	}
	return tlv(tagSequence, fields...)
}
