package ldap

import "bytes"

// LDAP result codes (RFC 4511 §4.1.9) the honeypot sends.
const (
	resultSuccess                = 0
	resultOperationsError        = 1
	resultProtocolError          = 2
	resultSizeLimitExceeded      = 4
	resultCompareFalse           = 5
	resultCompareTrue            = 6
	resultAuthMethodNotSupported = 7
	resultStrongerAuthRequired   = 8
	resultSaslBindInProgress     = 14
	resultNoSuchObject           = 32
	resultInvalidDNSyntax        = 34
	resultInappropriateAuth      = 48
	resultInvalidCredentials     = 49
	resultInsufficientAccess     = 50
	resultUnwillingToPerform     = 53
)

// responseOf is the response tag of each request that has one.
var responseOf = map[byte]byte{
	opBindRequest: opBindResponse, opSearchRequest: opSearchDone, opModifyRequest: opModifyResponse,
	opAddRequest: opAddResponse, opDelRequest: opDelResponse, opModDNRequest: opModDNResponse,
	opCompareRequest: opCompareResponse, opExtendedRequest: opExtendedResponse,
}

// result is an LDAPResult-shaped response and what follows it in the
// operation (serverSaslCreds, responseName, responseValue).
type result struct {
	code    int
	matched string
	diag    string
	extra   [][]byte
}

// envelope wraps a protocolOp in an LDAPMessage.
func (e encoder) envelope(id int64, op []byte) []byte {
	return e.tlv(tagSequence, e.integer(tagInteger, id), op)
}

// response encodes an LDAPResult-shaped response to request id.
func (e encoder) response(id int64, opTag byte, r result) []byte {
	body := [][]byte{e.integer(tagEnumerated, int64(r.code)), e.str(tagOctetString, r.matched), e.str(tagOctetString, r.diag)}
	return e.envelope(id, e.tlv(opTag, append(body, r.extra...)...))
}

// searchEntry encodes a SearchResultEntry.
func (e encoder) searchEntry(id int64, dn string, attrs []attr, typesOnly bool) []byte {
	var list bytes.Buffer
	for _, at := range attrs {
		var vals bytes.Buffer
		if !typesOnly {
			for _, v := range at.vals {
				vals.Write(e.str(tagOctetString, v))
			}
		}
		list.Write(e.tlv(tagSequence, e.str(tagOctetString, at.name), e.tlv(tagSet, vals.Bytes())))
	}
	return e.envelope(id, e.tlv(opSearchEntry, e.str(tagOctetString, dn), e.tlv(tagSequence, list.Bytes())))
}
