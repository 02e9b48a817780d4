package snmp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net"
	"strconv"
	"unicode"
	"unicode/utf8"

	"decnet/internal/event"
)

// Event types of the service, beside event.TypeRequest and
// event.TypeAuth.
const (
	typeSet   = "set"
	typeError = "error"
)

// Event field names of this service.
const (
	fieldVersion    = "version"
	fieldCommunity  = "community"
	fieldPDU        = "pdu"
	fieldOIDs       = "oids"
	fieldRequestID  = "request_id"
	fieldResult     = "result"
	fieldErrStatus  = "error_status"
	fieldVarbinds   = "varbinds"
	fieldSecLevel   = "security_level"
	fieldAuthProto  = "auth_protocol"
	fieldPrivProto  = "priv_protocol"
	fieldAuthParams = "auth_params"
	fieldEngineID   = "engine_id"
	fieldMsgID      = "msg_id"
	fieldData       = "data"
	fieldSize       = "size"
	fieldError      = "error"
	fieldDropped    = "dropped"
	tokenCommunity  = "snmp_community"
)

// maxUDPReply is the largest reply: snmpd's msgMaxSize, the largest UDP
// payload over IPv4.
const maxUDPReply = 65507

// Bounds of what one event carries.
const (
	maxFieldBytes = 256
	maxEventOIDs  = 32
	maxDataBytes  = 64
)

// datagram answers one datagram (nil: no reply) and records it.
func (a *Agent) datagram(addr net.Addr, pkt []byte) []byte {
	fields := event.Peer(addr)
	if reason, report := a.lim.Admit(fields[event.FieldSrcIP], a.now()); reason != "" {
		if report {
			fields[fieldDropped] = string(reason)
			a.emit(typeError, event.Warning, fields)
		}
		return nil
	}
	a.st.inPkts.Add(1)
	m, err := parseMessage(pkt)
	if err != nil {
		a.st.parseErrs.Add(1)
		// snmpd counts an undecodable datagram (snmpInASNParseErrs) and
		// answers nothing.
		fields[fieldData] = hex.EncodeToString(pkt[:min(len(pkt), maxDataBytes)])
		fields[fieldSize] = strconv.Itoa(len(pkt))
		fields[fieldError] = err.Error()
		a.emit(typeError, event.Warning, fields)
		return nil
	}
	if m.version == version3 {
		return a.v3(m, pkt, fields)
	}
	return a.community(m, fields)
}

// community answers a v1 or v2c message.
func (a *Agent) community(m *message, fields map[string]string) []byte {
	v1 := m.version == version1
	f := pduFields(fields, m.pdu)
	f[fieldVersion] = "2c"
	if v1 {
		f[fieldVersion] = "1"
	}
	f[fieldCommunity] = text(m.community)
	f[event.FieldToken] = text(m.community)
	f[event.FieldTokenType] = tokenCommunity
	acc := a.communityAccess(string(m.community))
	if !answerable(m.pdu.typ) {
		// snmpd drops responses, traps and reports sent to it.
		f[fieldResult] = "ignored"
		a.emit(event.TypeRequest, event.Info, f)
		return nil
	}
	if acc == accessNone {
		// snmpd answers a wrong community with silence
		// (snmpInBadCommunityNames).
		a.st.badCommunity.Add(1)
		f[fieldResult] = "bad community"
		a.emit(event.TypeRequest, event.Warning, f)
		return nil
	}
	now := a.now()
	r := a.process(m.pdu, v1, acc, now)
	reply := fit(m.pdu, r, v1, maxUDPReply, func(p []byte) []byte { return communityMessage(m.version, m.community, p) })
	if m.pdu.typ == pduSet && acc == accessRead {
		a.st.badUses.Add(1)
	}
	a.st.count(m.pdu, reply != nil)
	a.record(f, m.pdu, r, acc)
	return reply
}

// answerable reports whether an agent answers a PDU type.
func answerable(typ byte) bool {
	switch typ {
	case pduGet, pduGetNext, pduSet, pduGetBulk:
		// snmpd 5.9.3 answers a GETBULK even in a v1 message.
		return true
	}
	return false
}

func (a *Agent) communityAccess(c string) access {
	for _, s := range a.p.RWCommunity {
		if s == c {
			return accessWrite
		}
	}
	for _, s := range a.p.Community {
		if s == c {
			return accessRead
		}
	}
	return accessNone
}

// record emits the request event of an answered PDU, and the set event
// of a SET.
func (a *Agent) record(f map[string]string, p pdu, r result, acc access) {
	f[fieldResult] = "answered"
	if r.errStat != errNoError {
		f[fieldErrStatus] = strconv.FormatInt(r.errStat, 10)
	}
	sev := event.Info
	if p.typ == pduSet {
		sev = event.Warning
	}
	a.emit(event.TypeRequest, sev, f)
	if p.typ == pduSet {
		s := event.With(f, map[string]string{fieldVarbinds: varbindsJSON(p.vbs)})
		sev := event.Warning
		if acc == accessWrite {
			// The attacker holds a write credential and tries to change
			// the device: a SOC must see it now.
			sev = event.Critical
		}
		a.emit(typeSet, sev, s)
	}
}

// pduFields are the fields every request event carries.
func pduFields(fields map[string]string, p pdu) map[string]string {
	f := event.With(fields, nil)
	f[fieldPDU] = pduName(p.typ)
	f[fieldRequestID] = strconv.FormatInt(p.reqID, 10)
	oids := make([]string, 0, min(len(p.vbs), maxEventOIDs))
	for _, vb := range p.vbs[:min(len(p.vbs), maxEventOIDs)] {
		oids = append(oids, vb.oid.String())
	}
	b, _ := json.Marshal(oids)
	f[fieldOIDs] = string(b)
	if p.typ == pduGetBulk {
		f["non_repeaters"] = strconv.FormatInt(p.errStat, 10)
		f["max_repetitions"] = strconv.FormatInt(p.errIdx, 10)
	}
	return f
}

func pduName(t byte) string {
	switch t {
	case pduGet:
		return "get"
	case pduGetNext:
		return "getnext"
	case pduGetBulk:
		return "getbulk"
	case pduSet:
		return "set"
	case pduResponse:
		return "response"
	case pduReport:
		return "report"
	case 0xa4:
		return "trap"
	case 0xa6:
		return "inform"
	case 0xa7:
		return "trap2"
	}
	return "0x" + hex.EncodeToString([]byte{t})
}

// varbindsJSON is a SET's bindings: OID, BER tag and value (text when
// printable, else hex), clipped.
func varbindsJSON(vbs []varbind) string {
	type vb struct {
		OID   string `json:"oid"`
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	out := make([]vb, 0, min(len(vbs), maxEventOIDs))
	for _, v := range vbs[:min(len(vbs), maxEventOIDs)] {
		out = append(out, vb{OID: v.oid.String(), Type: typeName(v.tag), Value: valueText(v.tag, v.val)})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func typeName(tag byte) string {
	switch tag {
	case tagInteger:
		return "INTEGER"
	case tagOctetString:
		return "STRING"
	case tagNull:
		return "NULL"
	case tagOID:
		return "OID"
	case tagIPAddress:
		return "IpAddress"
	case tagCounter32:
		return "Counter32"
	case tagGauge32:
		return "Gauge32"
	case tagTimeTicks:
		return "Timeticks"
	case tagOpaque:
		return "Opaque"
	case tagCounter64:
		return "Counter64"
	}
	return "0x" + hex.EncodeToString([]byte{tag})
}

func valueText(tag byte, val []byte) string {
	switch tag {
	case tagInteger:
		if n, err := decodeInt(val); err == nil {
			return strconv.FormatInt(n, 10)
		}
	case tagCounter32, tagGauge32, tagTimeTicks, tagCounter64:
		if n, err := decodeUint(val, 64); err == nil {
			return strconv.FormatUint(n, 10)
		}
	case tagOID:
		if o, err := decodeOID(val); err == nil {
			return o.String()
		}
	case tagIPAddress:
		if len(val) == 4 {
			return net.IP(val).String()
		}
	case tagOctetString:
		return text(val)
	}
	return hex.EncodeToString(val[:min(len(val), maxFieldBytes/2)])
}

// text is attacker bytes for an event field: printable UTF-8 as it is,
// anything else quoted, at most maxFieldBytes.
func text(b []byte) string {
	b = b[:min(len(b), maxFieldBytes)]
	if utf8.Valid(b) && bytes.IndexFunc(b, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return string(b)
	}
	return strconv.Quote(string(b))
}

func (a *Agent) emit(typ string, sev event.Severity, fields map[string]string) {
	a.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: fields})
}
