package ldap

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Protocol operation tags (RFC 4511 §4.2 to §4.14), as identifier octets.
const (
	opBindRequest      = classApplication | constructed
	opBindResponse     = classApplication | constructed | 1
	opUnbindRequest    = classApplication | 2
	opSearchRequest    = classApplication | constructed | 3
	opSearchEntry      = classApplication | constructed | 4
	opSearchDone       = classApplication | constructed | 5
	opModifyRequest    = classApplication | constructed | 6
	opModifyResponse   = classApplication | constructed | 7
	opAddRequest       = classApplication | constructed | 8
	opAddResponse      = classApplication | constructed | 9
	opDelRequest       = classApplication | 10
	opDelResponse      = classApplication | constructed | 11
	opModDNRequest     = classApplication | constructed | 12
	opModDNResponse    = classApplication | constructed | 13
	opCompareRequest   = classApplication | constructed | 14
	opCompareResponse  = classApplication | constructed | 15
	opAbandonRequest   = classApplication | 16
	opExtendedRequest  = classApplication | constructed | 23
	opExtendedResponse = classApplication | constructed | 24
)

// opNames name the requests in events.
var opNames = map[byte]string{
	opBindRequest: "bind", opUnbindRequest: "unbind", opSearchRequest: "search",
	opModifyRequest: "modify", opAddRequest: "add", opDelRequest: "delete",
	opModDNRequest: "modrdn", opCompareRequest: "compare", opAbandonRequest: "abandon",
	opExtendedRequest: "extended",
}

// message is a decoded LDAPMessage envelope.
type message struct {
	id       int64
	op       element
	controls []string // control OIDs, for the event
}

// parseMessage decodes an LDAPMessage: messageID, protocolOp and the
// optional controls [0].
func parseMessage(b []byte) (message, error) {
	env, rest, err := parseElement(b)
	if err != nil {
		return message{}, err
	}
	if len(rest) != 0 || env.id != tagSequence {
		return message{}, fmt.Errorf("%w: not one LDAPMessage", errBER)
	}
	parts, err := children(env)
	if err != nil {
		return message{}, err
	}
	if len(parts) < 2 || len(parts) > 3 {
		return message{}, fmt.Errorf("%w: LDAPMessage of %d parts", errBER, len(parts))
	}
	if err := expect(parts[0], tagInteger, "messageID"); err != nil {
		return message{}, err
	}
	id, err := parseInt(parts[0].body)
	if err != nil {
		return message{}, err
	}
	if id < 0 {
		return message{}, fmt.Errorf("%w: negative messageID", errBER)
	}
	m := message{id: id, op: parts[1]}
	if m.op.class() != classApplication {
		return message{}, fmt.Errorf("%w: protocolOp 0x%02x", errBER, m.op.id)
	}
	if len(parts) == 3 {
		if err := expect(parts[2], classContext|constructed, "controls"); err != nil {
			return message{}, err
		}
		ctrls, err := children(parts[2])
		if err != nil {
			return message{}, err
		}
		for _, c := range ctrls {
			fs, err := children(c)
			if err != nil || len(fs) == 0 || fs[0].id != tagOctetString {
				return message{}, fmt.Errorf("%w: control", errBER)
			}
			m.controls = append(m.controls, string(fs[0].body))
		}
	}
	return m, nil
}

// Authentication choices of a BindRequest: RFC 4511's simple [0] and
// sasl [3], and Microsoft's Sicily NTLM exchange [9], [10], [11]
// (MS-ADTS §5.1.1.1.3), which ldap3 and impacket use for NTLM.
const (
	authSimple           = classContext
	authSASL             = classContext | constructed | 3
	authSicilyDiscovery  = classContext | 9
	authSicilyNegotiate  = classContext | 10
	authSicilyResponse   = classContext | 11
	saslCredentialsTagID = classContext | 7 // serverSaslCreds in BindResponse
)

// bindRequest is a decoded BindRequest.
type bindRequest struct {
	version int64
	name    string
	auth    byte   // one of the auth* choices
	secret  []byte // simple password, SASL credentials or Sicily token
	mech    string // SASL mechanism
	hasCred bool   // SASL credentials present
}

func parseBind(op element) (bindRequest, error) {
	fs, err := children(op)
	if err != nil {
		return bindRequest{}, err
	}
	if len(fs) != 3 || fs[0].id != tagInteger || fs[1].id != tagOctetString {
		return bindRequest{}, fmt.Errorf("%w: BindRequest", errBER)
	}
	v, err := parseInt(fs[0].body)
	if err != nil {
		return bindRequest{}, err
	}
	r := bindRequest{version: v, name: string(fs[1].body), auth: fs[2].id}
	switch r.auth {
	case authSimple, authSicilyDiscovery, authSicilyNegotiate, authSicilyResponse:
		r.secret = fs[2].body
	case authSASL:
		sf, err := children(fs[2])
		if err != nil || len(sf) < 1 || len(sf) > 2 || sf[0].id != tagOctetString {
			return bindRequest{}, fmt.Errorf("%w: SaslCredentials", errBER)
		}
		r.mech = string(sf[0].body)
		if len(sf) == 2 {
			if sf[1].id != tagOctetString {
				return bindRequest{}, fmt.Errorf("%w: SaslCredentials", errBER)
			}
			r.secret, r.hasCred = sf[1].body, true
		}
	default:
		// An unknown choice is answered, not dropped (authMethodNotSupported).
	}
	return r, nil
}

// Search scopes.
const (
	scopeBase = 0
	scopeOne  = 1
	scopeSub  = 2
)

var scopeNames = []string{"base", "one", "sub"}

// searchRequest is a decoded SearchRequest.
type searchRequest struct {
	base      string
	scope     int64
	deref     int64
	sizeLimit int64
	timeLimit int64
	typesOnly bool
	filter    filter
	attrs     []string
}

func parseSearch(op element) (searchRequest, error) {
	fs, err := children(op)
	if err != nil {
		return searchRequest{}, err
	}
	if len(fs) != 8 || fs[0].id != tagOctetString || fs[1].id != tagEnumerated || fs[2].id != tagEnumerated ||
		fs[3].id != tagInteger || fs[4].id != tagInteger || fs[5].id != tagBoolean || len(fs[5].body) != 1 ||
		fs[7].id != tagSequence {
		return searchRequest{}, fmt.Errorf("%w: SearchRequest", errBER)
	}
	r := searchRequest{base: string(fs[0].body), typesOnly: fs[5].body[0] != 0}
	for i, dst := range []*int64{&r.scope, &r.deref, &r.sizeLimit, &r.timeLimit} {
		if *dst, err = parseInt(fs[1+i].body); err != nil {
			return searchRequest{}, err
		}
	}
	if r.scope < scopeBase || r.scope > scopeSub || r.deref < 0 || r.deref > 3 || r.sizeLimit < 0 || r.timeLimit < 0 {
		return searchRequest{}, fmt.Errorf("%w: SearchRequest values", errBER)
	}
	if r.filter, err = parseFilter(fs[6], 0); err != nil {
		return searchRequest{}, err
	}
	attrs, err := children(fs[7])
	if err != nil {
		return searchRequest{}, err
	}
	for _, a := range attrs {
		if a.id != tagOctetString {
			return searchRequest{}, fmt.Errorf("%w: attribute selector", errBER)
		}
		r.attrs = append(r.attrs, string(a.body))
	}
	return r, nil
}

// extendedRequest is a decoded ExtendedRequest.
type extendedRequest struct {
	oid      string
	value    []byte
	hasValue bool
}

func parseExtended(op element) (extendedRequest, error) {
	fs, err := children(op)
	if err != nil {
		return extendedRequest{}, err
	}
	if len(fs) < 1 || len(fs) > 2 || fs[0].id != classContext {
		return extendedRequest{}, fmt.Errorf("%w: ExtendedRequest", errBER)
	}
	r := extendedRequest{oid: string(fs[0].body)}
	if len(fs) == 2 {
		if fs[1].id != classContext|1 {
			return extendedRequest{}, fmt.Errorf("%w: ExtendedRequest value", errBER)
		}
		r.value, r.hasValue = fs[1].body, true
	}
	return r, nil
}

// passwdModify is the Password Modify extended request's value (RFC 3062).
type passwdModify struct {
	user, oldPassword, newPassword string
}

func parsePasswdModify(v []byte) (passwdModify, error) {
	var p passwdModify
	if len(v) == 0 {
		return p, nil
	}
	seq, rest, err := parseElement(v)
	if err != nil || len(rest) != 0 || seq.id != tagSequence {
		return p, fmt.Errorf("%w: PasswdModifyRequestValue", errBER)
	}
	fs, err := children(seq)
	if err != nil {
		return p, err
	}
	for _, f := range fs {
		switch f.id {
		case classContext:
			p.user = string(f.body)
		case classContext | 1:
			p.oldPassword = string(f.body)
		case classContext | 2:
			p.newPassword = string(f.body)
		default:
			return p, fmt.Errorf("%w: PasswdModifyRequestValue field", errBER)
		}
	}
	return p, nil
}

// writeRequest is the summary of an update (add, modify, delete, modrdn,
// compare) for its event: the target DN and, as text, what it asked.
type writeRequest struct {
	dn     string
	detail string
}

// parseWrite decodes the DN of an update request and a readable summary.
func parseWrite(op element) (writeRequest, error) {
	if op.id == opDelRequest {
		return writeRequest{dn: string(op.body)}, nil
	}
	fs, err := children(op)
	if err != nil {
		return writeRequest{}, err
	}
	if len(fs) < 2 || fs[0].id != tagOctetString {
		return writeRequest{}, fmt.Errorf("%w: %s request", errBER, opNames[op.id])
	}
	w := writeRequest{dn: string(fs[0].body)}
	switch op.id {
	case opAddRequest:
		w.detail, err = attributeList(fs[1])
	case opModifyRequest:
		var changes []element
		if changes, err = children(fs[1]); err != nil {
			break
		}
		var parts []string
		for _, c := range changes {
			cf, cerr := children(c)
			if cerr != nil || len(cf) != 2 || cf[0].id != tagEnumerated {
				return writeRequest{}, fmt.Errorf("%w: change", errBER)
			}
			kind, _ := parseInt(cf[0].body)
			one, aerr := partialAttribute(cf[1])
			if aerr != nil {
				return writeRequest{}, aerr
			}
			parts = append(parts, map[int64]string{0: "add", 1: "delete", 2: "replace", 3: "increment"}[kind]+" "+one)
		}
		w.detail = strings.Join(parts, "; ")
	case opModDNRequest:
		w.detail = "newrdn " + printable(string(fs[1].body))
		if len(fs) == 4 {
			w.detail += " newsuperior " + printable(string(fs[3].body))
		}
	case opCompareRequest:
		var ava []element
		if ava, err = children(fs[1]); err == nil && len(ava) == 2 {
			w.detail = printable(string(ava[0].body)) + "=" + printable(string(ava[1].body))
		} else if err == nil {
			err = fmt.Errorf("%w: AttributeValueAssertion", errBER)
		}
	}
	if err != nil {
		return writeRequest{}, err
	}
	return w, nil
}

// attributeList renders a SEQUENCE OF PartialAttribute as "a: v, v; b: v".
func attributeList(seq element) (string, error) {
	attrs, err := children(seq)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, a := range attrs {
		s, err := partialAttribute(a)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; "), nil
}

// partialAttribute renders one PartialAttribute as "type: v, v".
func partialAttribute(a element) (string, error) {
	af, err := children(a)
	if err != nil || len(af) != 2 || af[0].id != tagOctetString {
		return "", fmt.Errorf("%w: PartialAttribute", errBER)
	}
	vals, err := children(af[1])
	if err != nil {
		return "", err
	}
	vs := make([]string, 0, len(vals))
	for _, v := range vals {
		vs = append(vs, printable(string(v.body)))
	}
	return printable(string(af[0].body)) + ": " + strings.Join(vs, ", "), nil
}

// printable keeps text as it is and quotes anything else, so binary
// values stay readable and safe in events.
func printable(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
