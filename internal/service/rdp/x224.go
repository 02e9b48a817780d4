package rdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrMalformed is wrapped by every error of a parser of client bytes.
var ErrMalformed = errors.New("rdp: malformed PDU")

// TPKT (RFC 1006, [T123] section 8) frames every slow-path PDU.
const (
	tpktVersion   = 3
	tpktHeaderLen = 4
)

// readTPKT reads one TPKT packet and returns its payload: at most 64 KiB,
// all its 16-bit length allows, and only as much as the client declares.
// got is what was read when it fails, so the caller can record it.
func readTPKT(r io.Reader) (payload, got []byte, err error) {
	var hdr [tpktHeaderLen]byte
	n, err := io.ReadFull(r, hdr[:])
	if err != nil {
		return nil, hdr[:n], err
	}
	length := int(binary.BigEndian.Uint16(hdr[2:]))
	if hdr[0] != tpktVersion || length < tpktHeaderLen {
		return nil, hdr[:], fmt.Errorf("TPKT header % x: %w", hdr, ErrMalformed)
	}
	payload = make([]byte, length-tpktHeaderLen)
	if n, err := io.ReadFull(r, payload); err != nil {
		return nil, append(hdr[:], payload[:n]...), err
	}
	return payload, nil, nil
}

// tpkt frames payload.
func tpkt(payload []byte) []byte {
	b := []byte{tpktVersion, 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(tpktHeaderLen+len(payload)))
	return append(b, payload...)
}

// X.224 class 0 TPDU codes ([X224] section 13).
const (
	x224ConnectionRequest = 0xe0
	x224ConnectionConfirm = 0xd0
	x224Data              = 0xf0
	// x224FixedLen is LI, code, DST-REF, SRC-REF and class of a CR or CC.
	x224FixedLen = 7
)

// Security protocols of RDP_NEG_REQ and RDP_NEG_RSP (MS-RDPBCGR 2.2.1.1.1).
const (
	ProtocolRDP      uint32 = 0x00 // standard RDP security
	ProtocolSSL      uint32 = 0x01 // TLS
	ProtocolHybrid   uint32 = 0x02 // CredSSP (NLA)
	ProtocolRDSTLS   uint32 = 0x04 // RDSTLS, for brokered redirections
	ProtocolHybridEx uint32 = 0x08 // CredSSP with the Early User Authorization Result
	ProtocolRDSAAD   uint32 = 0x10 // Azure AD authentication
)

// protocolNames name the protocol bits, lowest first.
var protocolNames = []struct {
	bit  uint32
	name string
}{
	{ProtocolSSL, "SSL"}, {ProtocolHybrid, "HYBRID"}, {ProtocolRDSTLS, "RDSTLS"},
	{ProtocolHybridEx, "HYBRID_EX"}, {ProtocolRDSAAD, "RDSAAD"},
}

// protocolString renders a protocol mask as MS-RDPBCGR names it, e.g.
// "SSL|HYBRID"; 0 is "RDP" (standard RDP security), unknown bits are hex.
func protocolString(p uint32) string {
	if p == ProtocolRDP {
		return "RDP"
	}
	var parts []string
	for _, n := range protocolNames {
		if p&n.bit != 0 {
			parts = append(parts, n.name)
			p &^= n.bit
		}
	}
	if p != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", p))
	}
	return strings.Join(parts, "|")
}

// RDP_NEG_REQ and RDP_NEG_RSP types, and the RDP_NEG_REQ flags.
const (
	negTypeRequest     = 0x01
	negTypeResponse    = 0x02
	negTypeFailure     = 0x03
	negTypeCorrelation = 0x06
	negLen             = 8
	correlationLen     = 36

	negReqRestrictedAdmin = 0x01
	negReqRedirectedAuth  = 0x02
	negReqCorrelationInfo = 0x08
	negRspExtendedData    = 0x01 // EXTENDED_CLIENT_DATA_SUPPORTED
	negRspGFX             = 0x02 // DYNVC_GFX_PROTOCOL_SUPPORTED
	negRspReserved        = 0x04 // NEGRSP_FLAG_RESERVED
	negRspRestrictedAdmin = 0x08 // RESTRICTED_ADMIN_MODE_SUPPORTED
	negRspRedirectedAuth  = 0x10 // REDIRECTED_AUTHENTICATION_MODE_SUPPORTED
	failureHybridRequired = 0x05 // HYBRID_REQUIRED_BY_SERVER
	failureSSLRequired    = 0x01 // SSL_REQUIRED_BY_SERVER
	failureSSLNotAllowed  = 0x02 // SSL_NOT_ALLOWED_BY_SERVER
	ccSourceRef           = 0x1234
	mstshashCookiePrefix  = "Cookie: mstshash="
)

// failureNames are the RDP_NEG_FAILURE codes (MS-RDPBCGR 2.2.1.2.2).
var failureNames = map[uint32]string{
	failureSSLRequired: "SSL_REQUIRED_BY_SERVER", failureSSLNotAllowed: "SSL_NOT_ALLOWED_BY_SERVER",
	0x03: "SSL_CERT_NOT_ON_SERVER", 0x04: "INCONSISTENT_FLAGS", failureHybridRequired: "HYBRID_REQUIRED_BY_SERVER",
	0x06: "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
}

// ConnectionRequest is a client's X.224 Connection Request (MS-RDPBCGR
// 2.2.1.1).
type ConnectionRequest struct {
	// Cookie is the IDENTIFIER of "Cookie: mstshash=IDENTIFIER": the user
	// name the client was given (mstsc cuts it to 9 characters), before
	// any authentication. HasCookie tells an empty cookie from none.
	Cookie    string
	HasCookie bool
	// RoutingToken is any other CRLF-terminated token (a load balancer's
	// "Cookie: msts=..." or a broker's "tsv://..."), without the CRLF.
	RoutingToken string
	// HasNegReq reports an RDP_NEG_REQ; without one the client speaks
	// standard RDP security only (RDP 5.0 era clients).
	HasNegReq bool
	// NegFlags and Protocols are RDP_NEG_REQ's flags and
	// requestedProtocols.
	NegFlags  uint8
	Protocols uint32
	// CorrelationID is RDP_NEG_CORRELATION_INFO's 16 bytes, when sent.
	CorrelationID []byte
}

// ParseConnectionRequest reads a TPKT payload as an X.224 Connection
// Request as Windows does (MS-RDPBCGR 3.3.5.3.1): the length indicator
// must match, the TPDU must be a class 0 CR; a cookie or routing token
// ends in CRLF; RDP_NEG_REQ, when present, is 8 bytes. Bytes after the
// negotiation structures are ignored, as Windows ignores them.
func ParseConnectionRequest(b []byte) (ConnectionRequest, error) {
	var cr ConnectionRequest
	if len(b) < x224FixedLen {
		return cr, fmt.Errorf("X.224 CR of %d bytes: %w", len(b), ErrMalformed)
	}
	if int(b[0]) != len(b)-1 {
		return cr, fmt.Errorf("X.224 length indicator %d for %d bytes: %w", b[0], len(b)-1, ErrMalformed)
	}
	if b[1]&0xf0 != x224ConnectionRequest {
		return cr, fmt.Errorf("X.224 TPDU code 0x%02x is not a connection request: %w", b[1], ErrMalformed)
	}
	if b[6]&0xf0 != 0 {
		return cr, fmt.Errorf("X.224 class %d: %w", b[6]>>4, ErrMalformed)
	}
	rest := b[x224FixedLen:]
	if len(rest) > 0 && rest[0] != negTypeRequest {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			return cr, fmt.Errorf("X.224 CR token without CRLF: %w", ErrMalformed)
		}
		if id, ok := bytes.CutPrefix(line, []byte(mstshashCookiePrefix)); ok {
			cr.Cookie, cr.HasCookie = string(id), true
		} else {
			cr.RoutingToken = string(line)
		}
		rest = after
	}
	if len(rest) < negLen || rest[0] != negTypeRequest {
		return cr, nil
	}
	if l := binary.LittleEndian.Uint16(rest[2:]); l != negLen {
		return cr, fmt.Errorf("RDP_NEG_REQ length %d: %w", l, ErrMalformed)
	}
	cr.HasNegReq = true
	cr.NegFlags = rest[1]
	cr.Protocols = binary.LittleEndian.Uint32(rest[4:])
	rest = rest[negLen:]
	if cr.NegFlags&negReqCorrelationInfo != 0 && len(rest) >= correlationLen && rest[0] == negTypeCorrelation {
		cr.CorrelationID = bytes.Clone(rest[4:20])
	}
	return cr, nil
}

// negFlagsString names RDP_NEG_REQ flags.
func negFlagsString(f uint8) string {
	var parts []string
	for _, n := range []struct {
		bit  uint8
		name string
	}{
		{negReqRestrictedAdmin, "RESTRICTED_ADMIN_MODE_REQUIRED"},
		{negReqRedirectedAuth, "REDIRECTED_AUTHENTICATION_MODE_REQUIRED"},
		{negReqCorrelationInfo, "CORRELATION_INFO_PRESENT"},
	} {
		if f&n.bit != 0 {
			parts = append(parts, n.name)
			f &^= n.bit
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("0x%02x", f))
	}
	return strings.Join(parts, "|")
}

// Confirm is the server's answer to a Connection Request.
type Confirm struct {
	// Neg tells whether the CC carries negotiation data: never when the
	// request had no RDP_NEG_REQ.
	Neg bool
	// Failure, when not zero, makes the CC an RDP_NEG_FAILURE with that
	// code; otherwise it is an RDP_NEG_RSP selecting Selected with Flags.
	Failure  uint32
	Flags    uint8
	Selected uint32
}

// Marshal encodes the CC in its TPKT: DST-REF 0, SRC-REF 0x1234 and class
// 0 as Windows (and xrdp) send it (MS-RDPBCGR 3.3.5.3.2).
func (c Confirm) Marshal() []byte {
	x := []byte{x224FixedLen - 1, x224ConnectionConfirm, 0, 0, ccSourceRef >> 8, ccSourceRef & 0xff, 0}
	if c.Neg {
		neg := []byte{negTypeResponse, c.Flags, negLen, 0}
		value := c.Selected
		if c.Failure != 0 {
			neg[0], neg[1], value = negTypeFailure, 0, c.Failure
		}
		x = binary.LittleEndian.AppendUint32(append(x, neg...), value)
		x[0] = byte(len(x) - 1)
	}
	return tpkt(x)
}

// parseX224Data returns the user data of an X.224 Data TPDU (LI 2, code
// 0xf0, EOT set: RDP never fragments), the envelope of every MCS PDU.
func parseX224Data(b []byte) ([]byte, error) {
	if len(b) < 3 || b[0] != 2 || b[1] != x224Data || b[2]&0x80 == 0 {
		return nil, fmt.Errorf("not an X.224 data TPDU: %w", ErrMalformed)
	}
	return b[3:], nil
}
