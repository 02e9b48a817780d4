package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// session is a logged-in connection: the start-up parameters, then
// simple queries until the client leaves.
func (cc *conn) session(ctx context.Context, user string) {
	st := cc.st
	cc.write(authRequest(0))
	if !cc.s.dbs[st.Database] {
		cc.fail(errf(siteNoDatabase, "3D000", "database %q does not exist", st.Database))
		return
	}
	var out []byte
	for _, p := range cc.parameters(user) {
		out = append(out, message('S', cstr(p[0]), cstr(p[1]))...)
	}
	var key [4]byte
	rand.Read(key[:])
	pid := cc.s.nextPID.Add(1 + int64(key[0]%7))
	out = append(out, message('K', int32b(uint32(pid)), key[:])...)
	out = append(out, message('Z', []byte{'I'})...)
	cc.write(out)
	for ctx.Err() == nil {
		typ, body, err := readMessage(cc.r, maxQuery)
		if err != nil {
			if errors.Is(err, errTooLong) {
				cc.emit("protocol_error", event.Warning, "error", "message too long")
			}
			return
		}
		switch typ {
		case 'X':
			return
		case 'Q':
			q, _ := cstrAt(body, 0)
			cc.emit(event.TypeCommand, event.Notice, event.FieldUsername, user, "database", st.Database,
				event.FieldCommand, event.Clip(q, 4096))
			cc.write(append(cc.queries(q, user), message('Z', []byte{'I'})...))
		default:
			cc.emit("protocol_error", event.Warning, "error", "message type "+strconv.Itoa(int(typ)))
			cc.fail(errf(siteBadMessage, "08P01", "invalid frontend message type %d", typ))
			return
		}
	}
}

// parameters are the ParameterStatus messages after AuthenticationOk, in
// the server's order (GUC name order, case-insensitive).
func (cc *conn) parameters(user string) [][2]string {
	p := cc.s.persona
	super := "off"
	if slices.Contains(p.Superusers, user) {
		super = "on"
	}
	return [][2]string{
		{"application_name", clipName(cc.st.param("application_name"))},
		{"client_encoding", clientEncoding(cc.st.param("client_encoding"))},
		{"DateStyle", "ISO, MDY"},
		{"default_transaction_read_only", "off"},
		{"in_hot_standby", "off"},
		{"integer_datetimes", "on"},
		{"IntervalStyle", "postgres"},
		{"is_superuser", super},
		{"server_encoding", "UTF8"},
		{"server_version", p.serverVersion()},
		{"session_authorization", user},
		{"standard_conforming_strings", "on"},
		{"TimeZone", p.TimeZone},
	}
}

// clipName is application_name as the server keeps it: NAMEDATALEN-1
// bytes of printable ASCII, others as '?'.
func clipName(s string) string {
	b := []byte(truncName(s))
	for i, c := range b {
		if c < 32 || c > 126 {
			b[i] = '?'
		}
	}
	return string(b)
}

// clientEncoding is the encoding name the server reports for a client's
// choice; the few that drivers send, and UTF8 otherwise.
func clientEncoding(v string) string {
	switch strings.ToUpper(strings.ReplaceAll(v, "-", "")) {
	case "LATIN1", "ISO88591":
		return "LATIN1"
	case "SQL_ASCII":
		return "SQL_ASCII"
	case "WIN1252":
		return "WIN1252"
	}
	return "UTF8"
}

// Column type OIDs and sizes of RowDescription.
const (
	oidName = 19
	oidInt4 = 23
	oidText = 25
)

type column struct {
	name string
	oid  uint32
	size int16
	mod  int32
}

func rowDescription(cols ...column) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(cols)))
	for _, c := range cols {
		b = append(b, cstr(c.name)...)
		b = binary.BigEndian.AppendUint32(b, 0)
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint32(b, c.oid)
		b = binary.BigEndian.AppendUint16(b, uint16(c.size))
		b = binary.BigEndian.AppendUint32(b, uint32(c.mod))
		b = binary.BigEndian.AppendUint16(b, 0)
	}
	return message('T', b)
}

func dataRow(vals ...string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(vals)))
	for _, v := range vals {
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return message('D', b)
}

var (
	spaceRE    = regexp.MustCompile(`\s+`)
	fromRE     = regexp.MustCompile(`(?i)\bfrom\s+([A-Za-z_][A-Za-z0-9_.]*)`)
	firstTokRE = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*|\S)`)
)

// queries answers a simple query's statements in turn, up to the first
// error, as the server does; an empty query gets EmptyQueryResponse.
func (cc *conn) queries(q, user string) []byte {
	var out []byte
	answered := false
	for _, stmt := range strings.Split(q, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		answered = true
		r, ok := cc.query(stmt, user)
		out = append(out, r...)
		if !ok {
			break
		}
	}
	if !answered {
		return message('I')
	}
	return out
}

// query answers one statement: the recon queries a login runs first,
// and otherwise the error the query's first problem would raise on a
// server with no tables.
func (cc *conn) query(q, user string) ([]byte, bool) {
	norm := strings.ToLower(strings.TrimSpace(spaceRE.ReplaceAllString(q, " ")))
	norm = strings.TrimSpace(strings.TrimRight(norm, "; "))
	single := func(col column, val, tag string) ([]byte, bool) {
		return append(append(rowDescription(col), dataRow(val)...), message('C', cstr(tag))...), true
	}
	p := cc.s.persona
	switch norm {
	case "select version()":
		return single(column{"version", oidText, -1, -1}, p.versionString(), "SELECT 1")
	case "show server_version":
		return single(column{"server_version", oidText, -1, -1}, p.serverVersion(), "SHOW")
	case "select current_user", "select user":
		return single(column{"current_user", oidName, 64, -1}, user, "SELECT 1")
	case "select session_user":
		return single(column{"session_user", oidName, 64, -1}, user, "SELECT 1")
	case "select current_database()":
		return single(column{"current_database", oidName, 64, -1}, cc.st.Database, "SELECT 1")
	case "select 1":
		return single(column{"?column?", oidInt4, 4, -1}, "1", "SELECT 1")
	}
	var e *pgError
	if m := fromRE.FindStringSubmatchIndex(q); m != nil && strings.HasPrefix(norm, "select") {
		rel := q[m[2]:m[3]]
		where := siteNoRelation
		if strings.Contains(rel, ".") {
			where = siteNoQualified
		}
		e = errf(where, "42P01", "relation %q does not exist", strings.ToLower(rel))
		e.position = len([]rune(q[:m[2]])) + 1
	} else {
		m := firstTokRE.FindStringSubmatchIndex(q)
		tok := q[m[2]:m[3]]
		e = errf(siteSyntax, "42601", "syntax error at or near %q", tok)
		e.position = len([]rune(q[:m[2]])) + 1
	}
	e.severity = "ERROR"
	return e.encode(p.minor()), false
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
