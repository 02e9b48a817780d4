package sip

import (
	"strings"

	"decnet/internal/event"
)

// The service's own event types; every request is an event.TypeRequest,
// digest credentials an event.TypeAuth.
const (
	// typeCall is a number dialled by a caller the PBX let in (or, on
	// kamailio, by anyone): toll-fraud intent.
	typeCall = "call"
	// typeError is a message that is not a request, or requests dropped
	// by the limits (the first of a run).
	typeError = "error"
)

// Event field names of this service.
const (
	fieldRequestURI = "request_uri"
	fieldFrom       = "from"
	fieldTo         = "to"
	fieldContact    = "contact"
	fieldCallID     = "call_id"
	fieldCSeq       = "cseq"
	fieldTransport  = "transport"
	fieldStatus     = "status"
	fieldScanner    = "scanner"
	fieldRealm      = "realm"
	fieldNonce      = "nonce"
	fieldURI        = "uri"
	fieldResponse   = "response"
	fieldAlgorithm  = "algorithm"
	fieldCnonce     = "cnonce"
	fieldNC         = "nc"
	fieldQop        = "qop"
	fieldOpaque     = "opaque"
	fieldDomain     = "domain"
	fieldDialled    = "dialled"
	fieldCaller     = "caller"
	fieldIntent     = "intent"
	fieldDropped    = "dropped"
	fieldError      = "error"
	fieldSuccess    = event.FieldSuccess
	fieldPassword   = event.FieldPassword
)

// maxFieldBytes bounds the attacker's text in one event field.
const maxFieldBytes = 1024

// scannerAgents are User-Agent marks of SIP scanning and cracking tools,
// lower case, with the tool each names.
var scannerAgents = []struct{ mark, tool string }{
	{"friendly-scanner", "sipvicious"},
	{"sipvicious", "sipvicious"},
	{"sipcli", "sipcli"},
	{"vaxsipuseragent", "vaxsip"},
	{"pplsip", "pplsip"},
	{"sip-scan", "sip-scan"},
	{"sipscan", "sipscan"},
	{"sundayddr", "sundayddr"},
	{"iwar", "iwar"},
	{"sivus", "sivus"},
	{"smap", "smap"},
	{"sipsak", "sipsak"},
	{"sipp", "sipp"},
	{"nmap", "nmap"},
}

// scannerOf names the tool a request comes from, or "". nmap's SIP probe
// sends no User-Agent but a fixed From.
func scannerOf(m *message) string {
	ua := strings.ToLower(m.get("user-agent"))
	for _, s := range scannerAgents {
		if ua != "" && strings.Contains(ua, s.mark) {
			return s.tool
		}
	}
	if _, uri, _ := nameAddr(m.get("from")); uri == "sip:nm@nm" {
		return "nmap"
	}
	return ""
}

// intentOf classes a dialled number: "toll_fraud" for a telephone
// number that leaves the PBX (an international prefix, or longer than an
// extension), "internal" otherwise (extensions, names like "service").
func intentOf(number string) string {
	digits := strings.TrimPrefix(number, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "internal"
	}
	if strings.HasPrefix(number, "+") || strings.HasPrefix(digits, "00") || strings.HasPrefix(digits, "011") || len(digits) > 6 {
		return "toll_fraud"
	}
	return "internal"
}

// requestFields are a request's event fields on top of the peer's.
func requestFields(base map[string]string, r *request) map[string]string {
	m := r.msg
	f := base
	f[event.FieldMethod] = clip(m.method)
	f[fieldRequestURI] = clip(m.uri)
	f[fieldFrom] = clip(m.get("from"))
	f[fieldTo] = clip(m.get("to"))
	f[fieldCallID] = clip(m.get("call-id"))
	f[fieldCSeq] = clip(m.get("cseq"))
	f[fieldTransport] = r.transport
	if c := m.get("contact"); c != "" {
		f[fieldContact] = clip(c)
	}
	if ua := m.get("user-agent"); ua != "" {
		f[event.FieldUserAgent] = clip(ua)
	}
	if s := scannerOf(m); s != "" {
		f[fieldScanner] = s
	}
	return f
}

// authFields are the event fields of digest credentials: every
// parameter, and the hashcat line when they can be cracked.
func authFields(base map[string]string, r *request, c credentials) map[string]string {
	f := base
	f[event.FieldMethod] = clip(r.msg.method)
	f[event.FieldUsername] = clip(c.username)
	f[fieldRealm] = clip(c.realm)
	f[fieldDomain] = clip(c.realm)
	f[fieldNonce] = clip(c.nonce)
	f[fieldURI] = clip(c.uri)
	f[fieldResponse] = clip(c.response)
	f[fieldAlgorithm] = clip(c.algorithm)
	f[fieldCnonce] = clip(c.cnonce)
	f[fieldNC] = clip(c.nc)
	f[fieldQop] = clip(c.qop)
	if c.opaque != "" {
		f[fieldOpaque] = clip(c.opaque)
	}
	if ua := r.msg.get("user-agent"); ua != "" {
		f[event.FieldUserAgent] = clip(ua)
	}
	if h, ok := c.hashcat(r.localIP, r.srcIP, r.msg.method); ok {
		f[event.FieldHash] = h
		f[event.FieldHashFormat] = hashFormat
	}
	return f
}

func clip(s string) string { return event.Clip(s, maxFieldBytes) }
