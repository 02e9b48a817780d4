package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The request codes a client may send in place of a protocol version.
const (
	codeCancel = 80877102 // 1234.5678
	codeSSL    = 80877103 // 1234.5679
	codeGSSENC = 80877104 // 1234.5680
	protoV3    = 3 << 16
)

// Bounds the real server keeps: MAX_STARTUP_PACKET_LENGTH, NAMEDATALEN-1,
// the password packet's 1000 bytes and PG_MAX_SASL_MESSAGE_LENGTH.
const (
	maxStartup  = 10000
	maxName     = 63
	maxPassword = 1000
	maxSASL     = 1024
	// maxQuery bounds a simple query; the real server takes up to 1 GB,
	// which a honeypot has no reason to buffer.
	maxQuery = 1 << 20
)

// errBadLength is a startup packet whose length the server refuses
// without a word (it only logs "invalid length of startup packet").
var errBadLength = errors.New("invalid length of startup packet")

// readStartup reads one startup-phase packet (its length word, then the
// body that follows it, protocol code first).
func readStartup(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 8 || n > maxStartup {
		return nil, errBadLength
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// errTooLong is a message over the limit its type allows.
var errTooLong = errors.New("message too long")

// readMessage reads one typed message, refusing a body over limit before
// reading it.
func readMessage(r io.Reader, limit int) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 {
		return hdr[0], nil, fmt.Errorf("invalid message length %d", n)
	}
	if int64(n)-4 > int64(limit) {
		return hdr[0], nil, errTooLong
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return hdr[0], nil, err
	}
	return hdr[0], body, nil
}

// message frames a backend message.
func message(typ byte, body ...[]byte) []byte {
	n := 4
	for _, b := range body {
		n += len(b)
	}
	out := make([]byte, 0, 1+n)
	out = append(out, typ)
	out = binary.BigEndian.AppendUint32(out, uint32(n))
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

func int32b(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cstr(s string) []byte { return append([]byte(s), 0) }

// startup is a parsed StartupMessage.
type startup struct {
	Major, Minor uint16
	User         string
	Database     string
	Options      string
	Replication  string
	// Params are every name and value pair in the order sent.
	Params [][2]string
	// ProtoOpts are the _pq_. options, which the server does not know.
	ProtoOpts []string
}

// param returns the value of a named parameter, or "".
func (s *startup) param(name string) string {
	for _, p := range s.Params {
		if p[0] == name {
			return p[1]
		}
	}
	return ""
}

// parseStartup parses a protocol 3 startup packet body (the protocol code
// and the parameters) as ProcessStartupPacket does, with its errors.
func parseStartup(body []byte) (*startup, *pgError) {
	proto := binary.BigEndian.Uint32(body)
	st := &startup{Major: uint16(proto >> 16), Minor: uint16(proto)}
	if st.Major != 3 {
		return nil, errf(siteUnsupportedProto, "0A000", "unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", st.Major, st.Minor)
	}
	off := 4
	for off < len(body) {
		name, ok := cstrAt(body, off)
		if name == "" {
			break
		}
		voff := off + len(name) + 1
		if !ok || voff >= len(body) {
			break
		}
		val, _ := cstrAt(body, voff)
		switch {
		case name == "database":
			st.Database = val
		case name == "user":
			st.User = val
		case name == "options":
			st.Options = val
		case name == "replication":
			if !validReplication(val) {
				e := errf(siteBadReplication, "22023", "invalid value for parameter %q: %q", "replication", val)
				e.hint = `Valid values are: "false", 0, "true", 1, "database".`
				return nil, e
			}
			st.Replication = val
		case strings.HasPrefix(name, "_pq_."):
			st.ProtoOpts = append(st.ProtoOpts, name)
		}
		st.Params = append(st.Params, [2]string{name, val})
		off = voff + len(val) + 1
	}
	if off != len(body)-1 {
		return nil, errf(siteBadLayout, "08P01", "invalid startup packet layout: expected terminator as last byte")
	}
	if st.User == "" {
		return nil, errf(siteNoUser, "28000", "no PostgreSQL user name specified in startup packet")
	}
	if st.Database == "" {
		st.Database = st.User
	}
	st.User = truncName(st.User)
	st.Database = truncName(st.Database)
	return st, nil
}

// cstrAt returns the NUL-terminated string at off; ok is false when the
// packet ends first (the server reads its own NUL past the end).
func cstrAt(b []byte, off int) (string, bool) {
	for i := off; i < len(b); i++ {
		if b[i] == 0 {
			return string(b[off:i]), true
		}
	}
	return string(b[off:]), false
}

func truncName(s string) string {
	if len(s) > maxName {
		return s[:maxName]
	}
	return s
}

// validReplication is parse_bool's set plus "database".
func validReplication(v string) bool {
	if v == "database" {
		return true
	}
	l := strings.ToLower(v)
	switch {
	case l == "":
		return false
	case strings.HasPrefix("true", l), strings.HasPrefix("false", l),
		strings.HasPrefix("yes", l), strings.HasPrefix("no", l):
		return true
	case len(l) >= 2 && (strings.HasPrefix("on", l) || strings.HasPrefix("off", l)):
		return true
	}
	return l == "1" || l == "0"
}

// site is where in the server's source an error is raised: the file,
// routine and line each release reports. Scanners (nmap) read the line
// as a version.
type site struct {
	file, routine string
	// line is the line up to 15.18 (measured) and from 15.19 on.
	line [2]int
}

// The error sites; 15.18's lines were measured against Debian's
// postgresql-15 15.18, 15.20's postmaster.c and auth.c lines come from a
// capture of 15.20 (see README).
var (
	siteUnsupportedProto  = site{"postmaster.c", "ProcessStartupPacket", [2]int{2222, 2220}}
	siteBadReplication    = site{"postmaster.c", "ProcessStartupPacket", [2]int{2286, 2284}}
	siteBadLayout         = site{"postmaster.c", "ProcessStartupPacket", [2]int{2334, 2332}}
	siteNoUser            = site{"postmaster.c", "ProcessStartupPacket", [2]int{2351, 2349}}
	siteAuthFailed        = site{"auth.c", "auth_failed", [2]int{334, 334}}
	siteNoHBA             = site{"auth.c", "ClientAuthentication", [2]int{544, 544}}
	siteExpectedPassword  = site{"auth.c", "recv_password_packet", [2]int{718, 718}}
	siteBadPasswordPacket = site{"auth.c", "recv_password_packet", [2]int{739, 739}}
	siteEmptyPassword     = site{"auth.c", "recv_password_packet", [2]int{757, 757}}
	siteExpectedSASL      = site{"auth-sasl.c", "CheckSASLAuth", [2]int{95, 95}}
	siteInvalidMech       = site{"auth-scram.c", "scram_init", [2]int{256, 256}}
	siteSCRAMAttr         = site{"auth-scram.c", "read_attr_value", [2]int{712, 712}}
	siteSCRAMFlag         = site{"auth-scram.c", "read_client_first_message", [2]int{1025, 1025}}
	siteSCRAMBinding      = site{"auth-scram.c", "read_client_final_message", [2]int{1335, 1335}}
	siteNoDatabase        = site{"postinit.c", "InitPostgres", [2]int{948, 948}}
	siteSyntax            = site{"scan.l", "scanner_yyerror", [2]int{1188, 1188}}
	siteNoRelation        = site{"parse_relation.c", "parserOpenTable", [2]int{1392, 1392}}
	siteNoQualified       = site{"parse_relation.c", "parserOpenTable", [2]int{1371, 1371}}
	siteBadMessage        = site{"postgres.c", "SocketBackend", [2]int{446, 446}}
)

// pgError is an ErrorResponse.
type pgError struct {
	severity string // FATAL or ERROR; lc_messages is C, so S and V agree
	code     string
	msg      string
	detail   string
	hint     string
	position int
	site     site
}

func errf(s site, code, format string, args ...any) *pgError {
	return &pgError{severity: "FATAL", code: code, msg: fmt.Sprintf(format, args...), site: s}
}

// encode renders the ErrorResponse for a release's minor number, its
// fields in the server's order: S V C M D H P F L R.
func (e *pgError) encode(minor int) []byte {
	line := e.site.line[0]
	if minor > 18 {
		line = e.site.line[1]
	}
	var b []byte
	add := func(k byte, v string) { b = append(append(b, k), cstr(v)...) }
	add('S', e.severity)
	add('V', e.severity)
	add('C', e.code)
	add('M', e.msg)
	if e.detail != "" {
		add('D', e.detail)
	}
	if e.hint != "" {
		add('H', e.hint)
	}
	if e.position > 0 {
		add('P', strconv.Itoa(e.position))
	}
	add('F', e.site.file)
	add('L', strconv.Itoa(line))
	add('R', e.site.routine)
	return message('E', b, []byte{0})
}

// encodeV2 is a protocol 2 client's error: the bare text the server
// sends before it knows the client speaks 3.0.
func (e *pgError) encodeV2() []byte {
	return append([]byte("E"+e.severity+":  "+e.msg+"\n"), 0)
}
