// Package event holds the one event model of the system and its wire forms:
// the RFC 5424 line every producer writes and every consumer parses, and the
// JSON ingest record the ingester stores.
package event

import (
	"maps"
	"net"
	"strconv"
	"time"
)

// Severity is the RFC 5424 severity of an event (0 emergency .. 7 debug).
type Severity int

// The RFC 5424 severities.
const (
	Emergency Severity = iota
	Alert
	Critical
	Error
	Warning
	Notice
	Info
	Debug
)

// Facility is the syslog facility of every event: local0.
const Facility = 16

// SDID is the structured-data element that carries event fields. It names no
// product: the private enterprise number is a placeholder, as in the original.
const SDID = "relay@55555"

// legacySDID is the element name the original system used before it hid its name.
const legacySDID = "decnet@55555"

// The shared vocabulary of event types. Services add their own for what is
// specific to their protocol, but use these names wherever they fit.
const (
	TypeConnect      = "connect"
	TypeDisconnect   = "disconnect"
	TypeAuth         = "auth"
	TypeCommand      = "command"
	TypeRequest      = "request"
	TypeFileCaptured = "file_captured"
	TypeScan         = "scan"
)

// The shared field names.
const (
	FieldSrcIP     = "src_ip"
	FieldSrcPort   = "src_port"
	FieldUsername  = "username"
	FieldPassword  = "password"
	FieldSuccess   = "success"
	FieldCommand   = "command"
	FieldMethod    = "method"
	FieldPath      = "path"
	FieldHeaders   = "headers"
	FieldUserAgent = "user_agent"
	// FieldHash is crackable material of a login whose password the
	// protocol never reveals (NetNTLMv2, VNC challenge and response), as
	// one string in the format FieldHashFormat names, e.g.
	// "netntlmv2 (hashcat 5600)".
	FieldHash       = "hash"
	FieldHashFormat = "hash_format"
	// FieldToken is a secret that is itself the credential (a bearer
	// token, an API key, a client certificate's fingerprint), of the kind
	// FieldTokenType names, e.g. "bearer".
	FieldToken     = "token"
	FieldTokenType = "token_type"
	FieldSession   = "session"
)

// Event is one thing that happened on a decky. Field values are always
// strings; lists and maps are JSON encoded by the producer.
type Event struct {
	Time     time.Time
	Decky    string // RFC 5424 HOSTNAME: the decky name, the log identity
	Service  string // APP-NAME: the service slug
	Type     string // MSGID: the event type
	Severity Severity
	Fields   map[string]string
	Msg      string
}

// Emitter takes events from producers. Emit must not block for long and never
// fails from the producer's point of view: an emitter that cannot persist an
// event reports it through its own logs.
type Emitter interface {
	Emit(Event)
}

// EmitterFunc adapts a function to an Emitter.
type EmitterFunc func(Event)

// Emit calls f(e).
func (f EmitterFunc) Emit(e Event) { f(e) }

// Peer returns the src_ip and src_port fields for a remote address, to be
// merged into an event's fields.
func Peer(addr net.Addr) map[string]string {
	f := map[string]string{}
	AddPeer(f, addr)
	return f
}

// AddPeer sets src_ip and src_port in f from addr.
func AddPeer(f map[string]string, addr net.Addr) {
	switch a := addr.(type) {
	case *net.TCPAddr:
		f[FieldSrcIP] = a.IP.String()
		f[FieldSrcPort] = strconv.Itoa(a.Port)
	case *net.UDPAddr:
		f[FieldSrcIP] = a.IP.String()
		f[FieldSrcPort] = strconv.Itoa(a.Port)
	case nil:
	default:
		host, port, err := net.SplitHostPort(a.String())
		if err == nil {
			f[FieldSrcIP] = host
			f[FieldSrcPort] = port
		}
	}
}

// attackerKeys are the field names that name the attacker, in priority
// order. src_ip is ours; the rest are the original system's.
var attackerKeys = []string{"src_ip", "src", "client_ip", "remote_ip", "remote_addr", "target_ip", "ip"}

// Unknown is the attacker IP of an event that names none.
const Unknown = "Unknown"

// Clip bounds an attacker-chosen field value at n bytes, so one event
// cannot carry unbounded text.
func Clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// With returns a new field map holding fields, then extra over them: a
// connection's peer fields plus what one event adds, neither changed.
func With(fields, extra map[string]string) map[string]string {
	f := make(map[string]string, len(fields)+len(extra))
	maps.Copy(f, fields)
	maps.Copy(f, extra)
	return f
}
