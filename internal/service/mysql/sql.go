package mysql

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// Commands (include/mysql_com.h enum_server_command).
const (
	comQuit   = 0x01
	comInitDB = 0x02
	comQuery  = 0x03
	comPing   = 0x0e
)

// Column types and flags.
const (
	typeLong      = 0x03
	typeVarString = 0xfd
	flagNotNull   = 0x0001
	flagBinary    = 0x0080
	flagNoDefault = 0x1000
	charsetBinary = 63
	statusNoIndex = 0x0020
	maxQueryLog   = 4096
)

// systemDatabases are what every server lists first.
var systemDatabases = []string{"information_schema", "mysql", "performance_schema", "sys"}

// baitTables are the tables of well-known bait database names; any other
// bait database holds genericTables.
var baitTables = map[string][]string{
	"production": {"api_keys", "customers", "orders", "payments", "users"},
	"wordpress":  {"wp_commentmeta", "wp_comments", "wp_links", "wp_options", "wp_postmeta", "wp_posts", "wp_term_relationships", "wp_term_taxonomy", "wp_termmeta", "wp_terms", "wp_usermeta", "wp_users"},
}

var genericTables = []string{"accounts", "config", "sessions", "users"}

// schema is the bait: databases and their tables.
type schema struct {
	dbs    []string // sorted, system ones included
	tables map[string][]string
}

func newSchema(bait []string) *schema {
	sc := &schema{dbs: slices.Clone(systemDatabases), tables: map[string][]string{}}
	for _, db := range bait {
		if slices.Contains(sc.dbs, db) {
			continue
		}
		sc.dbs = append(sc.dbs, db)
		t, ok := baitTables[db]
		if !ok {
			t = genericTables
		}
		sc.tables[db] = t
	}
	slices.Sort(sc.dbs)
	return sc
}

func (sc *schema) has(db string) bool { return slices.Contains(sc.dbs, db) }

// column is a column definition.
type column struct {
	schema, table, orgTable, name, orgName string
	charset                                uint16
	length                                 uint32
	typ                                    byte
	flags                                  uint16
	decimals                               byte
}

// resultSet is a text-protocol result.
type resultSet struct {
	cols   []column
	rows   [][]*string // nil is NULL
	status uint16
}

// commands answers the logged-in client until it quits or goes away.
func (ss *session) commands(ctx context.Context) {
	for ctx.Err() == nil {
		p, err := ss.read()
		if err != nil || len(p) == 0 {
			return
		}
		switch p[0] {
		case comQuit:
			ss.emit(event.TypeCommand, event.Info, map[string]string{event.FieldCommand: "COM_QUIT"})
			return
		case comPing:
			ss.emit(event.TypeCommand, event.Info, map[string]string{event.FieldCommand: "COM_PING"})
			ss.write(okPacket(0))
		case comInitDB:
			db := string(p[1:])
			ss.logCommand("COM_INIT_DB "+db, ss.useDB(db))
		case comQuery:
			q := string(p[1:])
			ss.logCommand(q, ss.query(q))
		default:
			ss.emit(event.TypeCommand, event.Info, map[string]string{event.FieldCommand: fmt.Sprintf("COM_%#02x", p[0])})
			ss.write(errPacket(1047, "08S01", "Unknown command"))
		}
	}
}

// logCommand records a statement and how it was answered.
func (ss *session) logCommand(cmd, result string) {
	f := map[string]string{event.FieldCommand: event.Clip(cmd, maxQueryLog), event.FieldUsername: event.Clip(ss.user, 256), "result": result}
	if ss.db != "" {
		f["database"] = ss.db
	}
	ss.emit(event.TypeCommand, event.Info, f)
}

// sessionTrack says whether OK packets may carry session state.
func (ss *session) sessionTrack() bool {
	return ss.res.caps&ss.s.prod.caps&capSessionTrack != 0
}

// useDB switches database, as USE and COM_INIT_DB do.
func (ss *session) useDB(db string) string {
	if !ss.s.bait.has(db) {
		ss.write(unknownDB(db))
		return "error 1049"
	}
	ss.db = db
	if ss.sessionTrack() {
		ss.write(okSchemaPacket(db))
	} else {
		ss.write(okPacket(0))
	}
	return "ok"
}

// query answers one COM_QUERY: the recon statements scanners and
// attackers run first are answered from the bait; others are refused as
// a low-privilege account is refused.
func (ss *session) query(q string) string {
	stmt := normalize(q)
	lower := strings.ToLower(stmt)
	word, args, _ := strings.Cut(stmt, " ")
	verb := strings.ToLower(word)
	from := indexFold(" "+args+" ", " from ")
	switch {
	case lower == "show databases" || lower == "show schemas":
		return ss.sendResult(ss.showDatabases())
	case lower == "show tables":
		if ss.db == "" {
			return ss.fail(1046, "3D000", "No database selected")
		}
		return ss.sendResult(ss.showTables(ss.db))
	case verb == "use":
		return ss.useDB(strings.Trim(args, "`"))
	case verb == "select" && from < 0:
		if rs, ok := ss.selectExprs(args); ok {
			return ss.sendResult(rs)
		}
	case verb == "select":
		return ss.denySelect((" " + args + " ")[from+len(" from "):])
	}
	if !sqlVerbs[verb] {
		return ss.fail(1064, "42000", fmt.Sprintf("You have an error in your SQL syntax; check the manual that corresponds to your %s server version for the right syntax to use near '%s' at line 1", ss.productName(), clipRunes(stmt, 80)))
	}
	if ss.db == "" {
		return ss.fail(1046, "3D000", "No database selected")
	}
	return ss.fail(1044, "42000", fmt.Sprintf("Access denied for user '%s'@'%s' to database '%s'", ss.user, ss.host, ss.db))
}

func (ss *session) productName() string {
	if ss.s.persona.Product == MySQL {
		return "MySQL"
	}
	return "MariaDB"
}

// sqlVerbs are statements that parse, so that a refusal, not a syntax
// error, answers them.
var sqlVerbs = map[string]bool{"select": true, "show": true, "insert": true, "update": true, "delete": true,
	"create": true, "drop": true, "alter": true, "grant": true, "revoke": true, "load": true, "set": true,
	"describe": true, "desc": true, "explain": true, "call": true, "truncate": true, "replace": true,
	"rename": true, "flush": true, "kill": true, "install": true, "uninstall": true, "handler": true, "do": true}

// indexFold is the index of the ASCII word w in s, ignoring case, or -1.
func indexFold(s, w string) int {
	for i := 0; i+len(w) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(w)], w) {
			return i
		}
	}
	return -1
}

// denySelect refuses a SELECT … FROM (from is what follows FROM): the
// bait's tables exist but the account may not read them (1142); others
// do not exist (1146).
func (ss *session) denySelect(from string) string {
	name := strings.Fields(from)
	if len(name) == 0 {
		return ss.fail(1064, "42000", fmt.Sprintf("You have an error in your SQL syntax; check the manual that corresponds to your %s server version for the right syntax to use near '' at line 1", ss.productName()))
	}
	ref := strings.ReplaceAll(strings.TrimRight(name[0], ",;"), "`", "")
	db, table, qualified := strings.Cut(ref, ".")
	if !qualified {
		db, table = ss.db, ref
	}
	if db == "" {
		return ss.fail(1046, "3D000", "No database selected")
	}
	if slices.Contains(ss.s.bait.tables[db], table) || slices.Contains(systemDatabases, db) {
		return ss.fail(1142, "42000", fmt.Sprintf("SELECT command denied to user '%s'@'%s' for table `%s`.`%s`", ss.user, ss.host, db, table))
	}
	return ss.fail(1146, "42S02", fmt.Sprintf("Table '%s.%s' doesn't exist", db, table))
}

func (ss *session) fail(code uint16, state, msg string) string {
	ss.write(errPacket(code, state, msg))
	return "error " + strconv.Itoa(int(code))
}

// normalize trims a statement and its final semicolons and collapses
// whitespace.
func normalize(q string) string {
	return strings.Join(strings.Fields(strings.TrimRight(strings.TrimSpace(q), "; \t\r\n")), " ")
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

func str(s string) *string { return &s }

// selectExprs evaluates a FROM-less select list of the variables and
// functions recon tools ask for; ok is false if any is not one of them.
func (ss *session) selectExprs(list string) (resultSet, bool) {
	list = strings.TrimSuffix(strings.TrimSuffix(list, " limit 1"), " LIMIT 1")
	var rs resultSet
	var row []*string
	rs.status = statusAutocommit
	for _, expr := range strings.Split(list, ",") {
		expr = strings.TrimSpace(expr)
		c, v, ok := ss.eval(expr)
		if !ok {
			return rs, false
		}
		rs.cols = append(rs.cols, c)
		row = append(row, v)
	}
	rs.rows = [][]*string{row}
	return rs, true
}

// eval computes one select expression and its column.
func (ss *session) eval(expr string) (column, *string, bool) {
	if expr == "" || len(expr) > 64 {
		return column{}, nil, false
	}
	if _, err := strconv.ParseUint(expr, 10, 32); err == nil {
		return column{name: expr, charset: charsetBinary, length: uint32(len(expr)), typ: typeLong, flags: flagNotNull | flagBinary}, str(expr), true
	}
	var v *string
	var length uint32
	var flags uint16
	switch strings.ToLower(expr) {
	case "version()":
		v, flags = str(ss.s.rel.version), flagNotNull
	case "@@version":
		v = str(ss.s.rel.version)
	case "@@version_comment":
		v = str(ss.s.rel.comment)
	case "@@hostname":
		v = str(ss.s.cfg.Host.Hostname)
	case "@@version_compile_os":
		v = str("debian-linux-gnu")
	case "@@version_compile_machine":
		v = str("x86_64")
	case "user()", "current_user()", "current_user", "session_user()", "system_user()":
		v, length = str(ss.user+"@"+ss.host), 384
	case "database()", "schema()":
		if ss.db != "" {
			v = str(ss.db)
		}
		length = 64
	default:
		return column{}, nil, false
	}
	if length == 0 {
		length = uint32(len([]rune(*v)))
	}
	return column{name: expr, charset: uint16(ss.res.charset), length: length * charsetWidth(ss.res.charset), typ: typeVarString, flags: flags, decimals: ss.s.prod.decimals}, v, true
}

func (ss *session) showDatabases() resultSet {
	rs := resultSet{status: statusAutocommit | statusNoIndex, cols: []column{{schema: "information_schema", table: "SCHEMATA", orgTable: "SCHEMATA",
		name: "Database", orgName: "SCHEMA_NAME", charset: uint16(ss.res.charset), length: 64 * charsetWidth(ss.res.charset), typ: typeVarString, flags: flagNotNull | flagNoDefault}}}
	for _, db := range ss.s.bait.dbs {
		rs.rows = append(rs.rows, []*string{str(db)})
	}
	return rs
}

func (ss *session) showTables(db string) resultSet {
	rs := resultSet{status: statusAutocommit | statusNoIndex, cols: []column{{schema: "information_schema", table: "TABLE_NAMES", orgTable: "TABLE_NAMES",
		name: "Tables_in_" + db, orgName: "TABLE_NAME", charset: uint16(ss.res.charset), length: 73 * charsetWidth(ss.res.charset), typ: typeVarString, flags: flagNotNull | flagNoDefault}}}
	for _, t := range ss.s.bait.tables[db] {
		rs.rows = append(rs.rows, []*string{str(t)})
	}
	return rs
}

// sendResult writes a result set in the form the client negotiated:
// MariaDB's metadata flag and extended metadata, and EOF packets or the
// OK that replaces the last one (CLIENT_DEPRECATE_EOF).
func (ss *session) sendResult(rs resultSet) string {
	ext := ss.res.extCaps & ss.s.prod.extCaps
	deprecateEOF := ss.res.caps&ss.s.prod.caps&capDeprecateEOF != 0
	count := appendLenenc(nil, uint64(len(rs.cols)))
	if ext&mariadbCacheMetadata != 0 {
		count = append(count, 1) // the metadata follows
	}
	pkts := [][]byte{count}
	for _, c := range rs.cols {
		pkts = append(pkts, c.encode(ext&mariadbExtMetadata != 0))
	}
	eof := binary.LittleEndian.AppendUint16([]byte{0xfe, 0, 0}, rs.status)
	if !deprecateEOF {
		pkts = append(pkts, eof)
	}
	for _, row := range rs.rows {
		var b []byte
		for _, v := range row {
			if v == nil {
				b = append(b, 0xfb)
			} else {
				b = appendLenencStr(b, *v)
			}
		}
		pkts = append(pkts, b)
	}
	if deprecateEOF {
		// An OK packet with the EOF header: affected rows, insert id,
		// status, warnings.
		pkts = append(pkts, binary.LittleEndian.AppendUint16(append([]byte{0xfe, 0, 0}, byte(rs.status), byte(rs.status>>8)), 0))
	} else {
		pkts = append(pkts, eof)
	}
	ss.write(pkts...)
	return "ok"
}

// encode is the column definition packet (Protocol::ColumnDefinition41).
func (c column) encode(extMetadata bool) []byte {
	b := appendLenencStr(nil, "def")
	for _, s := range []string{c.schema, c.table, c.orgTable, c.name, c.orgName} {
		b = appendLenencStr(b, s)
	}
	if extMetadata {
		b = append(b, 0) // no extended type information
	}
	b = append(b, 0x0c)
	b = binary.LittleEndian.AppendUint16(b, c.charset)
	b = binary.LittleEndian.AppendUint32(b, c.length)
	b = append(b, c.typ)
	b = binary.LittleEndian.AppendUint16(b, c.flags)
	return append(b, c.decimals, 0, 0)
}

// okPacket is an OK with nothing to report.
func okPacket(affected uint64) []byte {
	b := appendLenenc([]byte{0}, affected)
	return append(b, 0, byte(statusAutocommit), 0, 0, 0)
}

// okSchemaPacket is the OK of a database change for a client that tracks
// session state: SERVER_SESSION_STATE_CHANGED with the new schema.
func okSchemaPacket(db string) []byte {
	track := appendLenencStr([]byte{1}, string(appendLenencStr(nil, db)))
	b := binary.LittleEndian.AppendUint16([]byte{0, 0, 0}, statusAutocommit|statusSessionStateChanged)
	b = append(b, 0, 0, 0) // no warnings, no message
	return appendLenencStr(b, string(track))
}

func unknownDB(db string) []byte {
	return errPacket(1049, "42000", fmt.Sprintf("Unknown database '%s'", db))
}
