package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Database types Open accepts (with the aliases "mariadb" and
// "postgresql").
const (
	TypeSQLite   = "sqlite"
	TypeMySQL    = "mysql"
	TypePostgres = "postgres"
)

// dialect is everything that differs between the SQL databases the store
// runs on. Every query is written once, in the shared subset of SQL with
// '?' placeholders, and asks the dialect for the few fragments that
// differ. Its name is also the directory of its migrations.
type dialect struct {
	name string

	// numbered placeholders ($1, $2...) instead of '?'.
	numbered bool
	// keyQuote quotes an identifier that is a reserved word somewhere
	// (state.key is one in MySQL).
	keyQuote string
	// insertIgnore ends an INSERT so that a row whose unique key exists
	// is skipped; upsertSet ends one so that it updates the listed
	// columns of the existing row instead (conflict is the unique key).
	insertIgnore func(conflict string) string
	upsertSet    func(conflict string, cols ...string) string
	// upsertAdd ends an INSERT into table so that an existing row's
	// counter col grows by the inserted value instead.
	upsertAdd func(table, conflict, col string) string
	// jsonText extracts a JSON object's member as text, NULL when absent;
	// the member is bound, as jsonArg(key).
	jsonText string
	jsonArg  func(key string) string
	// jsonHas is true when the JSON list in column services contains
	// the bound string.
	jsonHas string
	// epochBucket is the Unix time of the timestamp column divided by the
	// bound bucket width in seconds, rounded down, as an integer.
	epochBucket string
	// epochTime turns an expression of Unix seconds into a value of the
	// timestamp column, for histograms counted by index range (see
	// SQL.Histogram); nil where grouping by epochBucket is as fast.
	epochTime func(expr string) string
	// like matches col against a bound LIKE pattern (escape '\'),
	// ignoring ASCII case.
	like func(col string) string
	// timeArg converts a time into the argument its time columns take.
	timeArg func(time.Time) any
	// maxKey caps, in characters, the text of indexed columns (0: no
	// cap): an over-long value from a hostile client must not stop
	// ingest. noNUL: text cannot hold a NUL. strictUTF8: text must be
	// valid UTF-8.
	maxKey     int
	noNUL      bool
	strictUTF8 bool
	// readTx are the options of a read transaction: one snapshot for a
	// count and its page.
	readTx *sql.TxOptions
	// lockMigrations takes a lock that serialises migrating processes,
	// answering 1 (0 after a timeout); unlockMigrations releases it.
	// Empty for SQLite, whose write transactions are exclusive already.
	lockMigrations, unlockMigrations string
	// tableExists counts the tables named by the bound argument.
	tableExists string
	// isUnique reports whether err is a unique-key violation.
	isUnique func(error) bool
	// onClose runs before the database closes.
	onClose string
}

// conflictIgnore and conflictUpdate are the ON CONFLICT tails SQLite and
// PostgreSQL share.
func conflictIgnore(conflict string) string { return " ON CONFLICT (" + conflict + ") DO NOTHING" }

func conflictUpdate(conflict string, cols ...string) string {
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = excluded." + c
	}
	return " ON CONFLICT (" + conflict + ") DO UPDATE SET " + strings.Join(set, ", ")
}

func conflictAdd(table, conflict, col string) string {
	return " ON CONFLICT (" + conflict + ") DO UPDATE SET " + col + " = " + table + "." + col + " + excluded." + col
}

var sqliteDialect = &dialect{
	name:         TypeSQLite,
	keyQuote:     `"`,
	insertIgnore: conflictIgnore,
	upsertSet:    conflictUpdate,
	upsertAdd:    conflictAdd,
	jsonText:     "json_extract(fields, ?)",
	jsonArg:      func(key string) string { return `$."` + key + `"` },
	jsonHas:      "EXISTS (SELECT 1 FROM json_each(services) WHERE value = ?)",
	// Times are fixed-width text; unixepoch reads them (fraction dropped).
	epochBucket: "unixepoch(timestamp) / ?",
	epochTime: func(expr string) string {
		return "strftime('%Y-%m-%dT%H:%M:%S.000000000Z', " + expr + ", 'unixepoch')"
	},
	// SQLite's LIKE ignores ASCII case and has no default escape.
	like:        func(col string) string { return col + ` LIKE ? ESCAPE '\'` },
	timeArg:     func(t time.Time) any { return formatTime(t) },
	tableExists: `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
	isUnique: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) &&
			(se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	onClose: "PRAGMA optimize",
}

// serverTime is how MySQL and PostgreSQL take a time: their columns keep
// microseconds, and MySQL would round rather than truncate the rest.
func serverTime(t time.Time) any { return t.UTC().Truncate(time.Microsecond) }

// serverReadTx: PostgreSQL's default (read committed) would give the
// count and the page of one request different snapshots.
var serverReadTx = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}

var mysqlDialect = &dialect{
	name:         TypeMySQL,
	keyQuote:     "`",
	insertIgnore: func(string) string { return " ON DUPLICATE KEY UPDATE id = id" }, // INSERT IGNORE would also hide bad data
	upsertSet: func(_ string, cols ...string) string {
		set := make([]string, len(cols))
		for i, c := range cols {
			set[i] = c + " = VALUES(" + c + ")"
		}
		return " ON DUPLICATE KEY UPDATE " + strings.Join(set, ", ")
	},
	upsertAdd: func(_, _, col string) string {
		return " ON DUPLICATE KEY UPDATE " + col + " = " + col + " + VALUES(" + col + ")"
	},
	jsonText: "JSON_UNQUOTE(JSON_EXTRACT(fields, ?))",
	jsonArg:  func(key string) string { return `$."` + key + `"` },
	jsonHas:  "JSON_CONTAINS(services, JSON_QUOTE(?))",
	// DATETIME is zone-less UTC; TIMESTAMPDIFF ignores the session's
	// time_zone, which UNIX_TIMESTAMP would apply.
	epochBucket: "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', timestamp) DIV ?",
	// Columns are utf8mb4_bin (exact '=', byte order); LIKE asks for a
	// case-insensitive collation. '\' is MySQL's default LIKE escape, and
	// a '\' in a string literal would itself be an escape.
	like:       func(col string) string { return col + " LIKE ? COLLATE utf8mb4_general_ci" },
	timeArg:    serverTime,
	maxKey:     255,
	strictUTF8: true,
	readTx:     serverReadTx,
	// Lock names are server-wide: this one names the database.
	lockMigrations:   "SELECT COALESCE(GET_LOCK(CONCAT('decnet_migrate:', DATABASE()), 60), 0)",
	unlockMigrations: "SELECT RELEASE_LOCK(CONCAT('decnet_migrate:', DATABASE()))",
	tableExists:      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
	isUnique: func(err error) bool {
		var me *mysql.MySQLError
		return errors.As(err, &me) && me.Number == 1062 // ER_DUP_ENTRY
	},
}

var postgresDialect = &dialect{
	name:         TypePostgres,
	numbered:     true,
	keyQuote:     `"`,
	insertIgnore: conflictIgnore,
	upsertSet:    conflictUpdate,
	upsertAdd:    conflictAdd,
	jsonText:     "(fields::json ->> ?)",
	jsonArg:      func(key string) string { return key },
	jsonHas:      "services::jsonb @> jsonb_build_array(?::text)",
	epochBucket:  "floor(extract(epoch FROM timestamp) / ?)::bigint",
	like:         func(col string) string { return col + " ILIKE ?" },
	timeArg:      serverTime,
	// A btree entry must fit in a third of a page.
	maxKey:     255,
	noNUL:      true,
	strictUTF8: true,
	readTx:     serverReadTx,
	// Advisory locks are per database: the key names the schema.
	lockMigrations:   "SELECT 1 FROM pg_advisory_lock(hashtext('decnet_migrate:' || current_schema())) AS l",
	unlockMigrations: "SELECT pg_advisory_unlock(hashtext('decnet_migrate:' || current_schema()))",
	tableExists:      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
	isUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
	},
}

// dialectOf maps a database type, or an alias, to its dialect.
func dialectOf(dbType string) (*dialect, error) {
	switch strings.ToLower(dbType) {
	case TypeSQLite, "sqlite3":
		return sqliteDialect, nil
	case TypeMySQL, "mariadb":
		return mysqlDialect, nil
	case TypePostgres, "postgresql", "pgx":
		return postgresDialect, nil
	}
	return nil, fmt.Errorf("unknown database type %q: want sqlite, mysql (or mariadb) or postgres (or postgresql)", dbType)
}

// q rewrites a query's '?' placeholders for the dialect. The queries of
// this package have no '?' inside literals.
func (d *dialect) q(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// text makes s storable in a text column: valid UTF-8 and, on
// PostgreSQL, free of NUL (both become U+FFFD), so a hostile client's
// bytes never make ingest fail.
func (d *dialect) text(s string) string {
	if d.strictUTF8 && !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if d.noNUL && strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

// key is text for an indexed column, cut to maxKey characters.
func (d *dialect) key(s string) string {
	s = d.text(s)
	if d.maxKey > 0 && len(s) > d.maxKey && utf8.RuneCountInString(s) > d.maxKey {
		n := 0
		for i := range s {
			if n == d.maxKey {
				return s[:i]
			}
			n++
		}
	}
	return s
}

// ident quotes an identifier that is reserved in some dialect.
func (d *dialect) ident(name string) string { return d.keyQuote + name + d.keyQuote }
