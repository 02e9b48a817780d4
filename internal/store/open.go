package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// readers is the size of SQLite's read pool. WAL lets readers run beside
// the one writer; a few are enough for the API and the workers.
const readers = 4

// serverConns caps the connections to a MySQL or PostgreSQL server: the
// API, the ingester and the profiler together, with room to spare, and far
// below the servers' default limits (151 and 100).
const serverConns = 16

// sqlitePragmas are the connection parameters of every SQLite connection.
// Reads map the file (mmap_size, 1 GiB of address space, not memory) and
// keep 32 MiB of pages per connection: with SQLite's 2 MiB default, an API
// under load over a million logs spent 42% of its CPU in pread system calls.
const sqlitePragmas = "_busy_timeout=10000&_synchronous=NORMAL&_foreign_keys=1" +
	"&_pragma=mmap_size(1073741824)&_pragma=cache_size(-32768)"

// Open opens the database of type dbType (sqlite, mysql or mariadb,
// postgres or postgresql) at url and brings its schema up to date. For
// SQLite, url is a file path (created if needed); for MySQL a
// go-sql-driver DSN (user:pass@tcp(host:3306)/db) or a URL
// (mysql://user:pass@host:3306/db); for PostgreSQL a URL
// (postgres://user:pass@host:5432/db?sslmode=disable) or a key=value
// connection string. The database itself must exist on a server.
func Open(ctx context.Context, dbType, url string) (*SQL, error) {
	d, err := dialectOf(dbType)
	if err != nil {
		return nil, err
	}
	if d == sqliteDialect {
		return OpenSQLite(ctx, url)
	}
	db, where, err := openServer(d, url)
	if err != nil {
		return nil, err
	}
	s := &SQL{d: d, w: db, r: db}
	if err := s.init(ctx, where); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenSQLite opens (creating if needed) the SQLite database at path and
// brings its schema up to date. Writes go through one connection (SQLite
// has one writer at a time anyway, and one connection turns lock
// contention into Go-side queueing instead of SQLITE_BUSY); reads use a
// small pool of query-only connections.
func OpenSQLite(ctx context.Context, path string) (*SQL, error) {
	if err := checkSQLitePath(path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", path+"?"+sqlitePragmas+"&_journal_mode=WAL&_txlock=immediate&_pragma=temp_store(MEMORY)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	s := &SQL{d: sqliteDialect, w: w}
	if err := s.init(ctx, path); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkSQLitePath refuses what the driver would read as its own
// parameters.
func checkSQLitePath(path string) error {
	if path == "" || strings.ContainsAny(path, "?#") {
		return fmt.Errorf("sqlite path %q: must be a file name without '?' or '#'", path)
	}
	return nil
}

// Migrate brings the schema of the database at url up to date without
// opening a store, and returns the schema version before and after.
func Migrate(ctx context.Context, dbType, url string) (from, to int, err error) {
	db, d, where, err := openRaw(ctx, dbType, url, false)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if from, err = currentVersion(ctx, db, d); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", where, err)
	}
	if err := migrate(ctx, db, d); err != nil {
		return 0, 0, fmt.Errorf("migrate %s: %w", where, err)
	}
	to, err = currentVersion(ctx, db, d)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", where, err)
	}
	return from, to, nil
}

// SchemaVersion reports the schema version of the database at url (0 for
// an empty database) and the newest version this program knows, changing
// nothing: a missing SQLite file is not created.
func SchemaVersion(ctx context.Context, dbType, url string) (current, latest int, err error) {
	d, err := dialectOf(dbType)
	if err != nil {
		return 0, 0, err
	}
	ms, err := loadMigrations(d.name)
	if err != nil {
		return 0, 0, err
	}
	if d == sqliteDialect {
		if _, err := os.Stat(url); errors.Is(err, os.ErrNotExist) {
			return 0, len(ms), nil
		}
	}
	db, _, where, err := openRaw(ctx, dbType, url, true)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	current, err = currentVersion(ctx, db, d)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", where, err)
	}
	return current, len(ms), nil
}

// openRaw opens one connection's worth of pool, checked with a ping, for
// the schema functions. where names the database in errors.
func openRaw(ctx context.Context, dbType, url string, readOnly bool) (*sql.DB, *dialect, string, error) {
	d, err := dialectOf(dbType)
	if err != nil {
		return nil, nil, "", err
	}
	var db *sql.DB
	where := url
	if d == sqliteDialect {
		if err := checkSQLitePath(url); err != nil {
			return nil, nil, "", err
		}
		params := sqlitePragmas + "&_txlock=immediate"
		if readOnly {
			params = sqlitePragmas + "&_query_only=1"
		}
		if db, err = sql.Open("sqlite", url+"?"+params); err != nil {
			return nil, nil, "", fmt.Errorf("open %s: %w", url, err)
		}
	} else if db, where, err = openServer(d, url); err != nil {
		return nil, nil, "", err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, nil, "", connectError(d, where, err)
	}
	return db, d, where, nil
}

// openServer opens the pool of a MySQL or PostgreSQL database. where names
// it in errors, without the password.
func openServer(d *dialect, dsn string) (db *sql.DB, where string, err error) {
	switch d {
	case mysqlDialect:
		cfg, err := mysqlConfig(dsn)
		if err != nil {
			return nil, "", err
		}
		if cfg.DBName == "" {
			return nil, "", errors.New("mysql dsn: no database name (user:password@tcp(host:3306)/dbname)")
		}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, "", fmt.Errorf("mysql: %w", err)
		}
		db, where = sql.OpenDB(conn), fmt.Sprintf("mysql database %q at %s", cfg.DBName, cfg.Addr)
	default:
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			// pgx's message quotes the URL, password included: say only
			// what is wrong.
			why := "malformed"
			var ue *url.Error
			if inner := errors.Unwrap(err); errors.As(inner, &ue) {
				why = ue.Err.Error() // without ue.URL
			} else if inner != nil {
				why = inner.Error()
			}
			return nil, "", fmt.Errorf("postgres url: %s (want postgres://user:password@host:5432/dbname)", why)
		}
		if cfg.Database == "" {
			return nil, "", errors.New("postgres url: no database name (postgres://user:password@host:5432/dbname)")
		}
		db, where = stdlib.OpenDB(*cfg), fmt.Sprintf("postgres database %q at %s:%d", cfg.Database, cfg.Host, cfg.Port)
	}
	db.SetMaxOpenConns(serverConns)
	db.SetMaxIdleConns(serverConns)
	// Below the usual idle timeouts of servers and of the middleboxes in
	// front of them.
	db.SetConnMaxLifetime(5 * time.Minute)
	return db, where, nil
}

// mysqlConfig reads a go-sql-driver DSN or a mysql:// URL (the database
// name may be empty) and sets what
// the store relies on: times as UTC time.Time, exact (binary) string
// comparison, and UPDATE counting matched rather than changed rows.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	const want = "want user:password@tcp(host:3306)/dbname or mysql://user:password@host:3306/dbname"
	if rest, ok := strings.CutPrefix(dsn, "mysql://"); ok {
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return nil, fmt.Errorf("mysql url: cannot parse it (%s)", want)
		}
		c := mysql.NewConfig()
		c.User = u.User.Username()
		c.Passwd, _ = u.User.Password()
		c.Net, c.Addr = "tcp", u.Host
		if u.Port() == "" {
			c.Addr = net.JoinHostPort(u.Hostname(), "3306")
		}
		c.DBName = strings.TrimPrefix(u.Path, "/")
		dsn = c.FormatDSN()
		if u.RawQuery != "" {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + u.RawQuery
		}
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %v (%s)", err, want)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_bin"
	cfg.ClientFoundRows = true
	cfg.InterpolateParams = false
	return cfg, nil
}

// connectError explains a failed first contact with what to fix.
func connectError(d *dialect, where string, err error) error {
	var me *mysql.MySQLError
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &me) && me.Number == 1049, errors.As(err, &pe) && pe.Code == "3D000":
		return fmt.Errorf("%s does not exist: create it (CREATE DATABASE) or fix the URL: %w", where, err)
	case errors.As(err, &me) && (me.Number == 1045 || me.Number == 1044),
		errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000"):
		return fmt.Errorf("%s refused the user or password: fix the URL or the account's rights: %w", where, err)
	case errors.As(err, &ne), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("cannot reach %s: is the server running and the host and port right? %w", where, err)
	}
	if d == sqliteDialect {
		return fmt.Errorf("open %s: %w", where, err)
	}
	return fmt.Errorf("connect to %s: %w", where, err)
}
