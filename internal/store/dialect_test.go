package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDialectOf(t *testing.T) {
	for in, want := range map[string]string{"sqlite": TypeSQLite, "SQLite3": TypeSQLite, "mysql": TypeMySQL,
		"MariaDB": TypeMySQL, "postgres": TypePostgres, "postgresql": TypePostgres} {
		if d, err := dialectOf(in); err != nil || d.name != want {
			t.Errorf("%q: %v, %v; want %s", in, d, err, want)
		}
	}
	for _, bad := range []string{"", "oracle", "mssql"} {
		if _, err := dialectOf(bad); err == nil || !strings.Contains(err.Error(), "want sqlite, mysql") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	const q = "SELECT a FROM t WHERE b = ? AND c IN (?, ?) LIMIT ?"
	if got := postgresDialect.q(q); got != "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT $4" {
		t.Errorf("postgres: %s", got)
	}
	for _, d := range []*dialect{sqliteDialect, mysqlDialect} {
		if got := d.q(q); got != q {
			t.Errorf("%s: %s", d.name, got)
		}
	}
}

func TestDialectText(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		d        *dialect
		in       string
		text     string
		keyRunes int
	}{
		{sqliteDialect, "a\x00b\xff", "a\x00b\xff", 4},
		{sqliteDialect, long, long, 300},
		{mysqlDialect, "a\x00b\xff", "a\x00b\uFFFD", 4},
		{mysqlDialect, long, long, 255},
		{postgresDialect, "a\x00b\xff", "a\uFFFDb\uFFFD", 4},
		{postgresDialect, long, long, 255},
		{postgresDialect, "plain", "plain", 5},
	}
	for _, tc := range tests {
		if got := tc.d.text(tc.in); got != tc.text {
			t.Errorf("%s text(%.10q) = %.10q, want %.10q", tc.d.name, tc.in, got, tc.text)
		}
		if got := tc.d.key(tc.in); len([]rune(got)) != tc.keyRunes || !strings.HasPrefix(tc.text, got) {
			t.Errorf("%s key(%.10q) = %.10q (%d runes), want %d runes", tc.d.name, tc.in, got, len([]rune(got)), tc.keyRunes)
		}
	}
}

func TestServerTimeTruncates(t *testing.T) {
	in := time.Date(2026, 1, 1, 23, 59, 59, 999999999, time.FixedZone("x", 3600))
	if got := serverTime(in).(time.Time); !got.Equal(time.Date(2026, 1, 1, 22, 59, 59, 999999000, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("serverTime = %v", got)
	}
}

func TestSplitStatements(t *testing.T) {
	in := `-- a comment; with a semicolon
CREATE TABLE a (x TEXT DEFAULT 'a;b', -- trailing; comment
    y TEXT DEFAULT 'it''s');
CREATE INDEX "i;" ON a (x);

  -- nothing after this one
`
	want := []string{"CREATE TABLE a (x TEXT DEFAULT 'a;b', \n    y TEXT DEFAULT 'it''s')", `CREATE INDEX "i;" ON a (x)`}
	if got := splitStatements(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for _, d := range []string{TypeSQLite, TypeMySQL, TypePostgres} {
		ms, err := loadMigrations(d)
		if err != nil || len(ms) == 0 {
			t.Fatalf("%s migrations: %v", d, err)
		}
		for _, m := range ms {
			if len(splitStatements(m.sql)) == 0 {
				t.Errorf("%s: %d statements", m.name, len(splitStatements(m.sql)))
			}
		}
	}
}

func TestMySQLConfig(t *testing.T) {
	tests := []struct {
		in                       string
		user, pass, addr, dbName string
	}{
		{"u:p@tcp(db.test:3307)/decnet", "u", "p", "db.test:3307", "decnet"},
		{"u:p@tcp(db.test:3307)/", "u", "p", "db.test:3307", ""},
		{"mysql://u:p%40ss%2Fx@db.test:3307/decnet", "u", "p@ss/x", "db.test:3307", "decnet"},
		{"mysql://u@db.test/decnet?timeout=5s", "u", "", "db.test:3306", "decnet"},
		{"mysql://u:p@[::1]:3307/decnet", "u", "p", "[::1]:3307", "decnet"},
	}
	for _, tc := range tests {
		cfg, err := mysqlConfig(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if cfg.User != tc.user || cfg.Passwd != tc.pass || cfg.Addr != tc.addr || cfg.DBName != tc.dbName {
			t.Errorf("%s: %s %s %s %s", tc.in, cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName)
		}
		if !cfg.ParseTime || cfg.Loc != time.UTC || !cfg.ClientFoundRows || cfg.Collation != "utf8mb4_bin" {
			t.Errorf("%s: store settings not forced: %+v", tc.in, cfg)
		}
	}
	if cfg, _ := mysqlConfig("mysql://u@db.test/d?timeout=5s"); cfg.Timeout != 5*time.Second {
		t.Errorf("URL parameters dropped: timeout %v", cfg.Timeout)
	}
}

// TestOpenErrors: each misconfiguration says what to fix, without
// echoing the password.
func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tests := []struct {
		typ, url, want string
	}{
		{"oracle", "x", "unknown database type"},
		{"mysql", "u:secret@tcp(127.0.0.1:3306)", "missing the slash"},
		{"mysql", "u:secret@tcp(127.0.0.1:3306)/", "no database name"},
		{"mysql", "mysql://u:secret@127.0.0.1:1/db", "cannot reach"},
		{"postgres", "postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", "cannot reach"},
		{"postgres", "postgres://u:secret@127.0.0.1:99999/db", "postgres url"},
		{"postgres", "postgres://u:secret@127.0.0.1/", "no database name"},
		{"postgresql", "postgres://u:secret@127.0.0.1:5432/db?sslmode=bogus", "postgres url"},
	}
	for _, tc := range tests {
		s, err := Open(ctx, tc.typ, tc.url)
		if err == nil {
			s.Close()
			t.Errorf("%s %s: opened", tc.typ, tc.url)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s %s: %v; want it to say %q and hide the password", tc.typ, tc.url, err, tc.want)
		}
		if _, _, err := Migrate(ctx, tc.typ, tc.url); err == nil {
			t.Errorf("Migrate %s %s: no error", tc.typ, tc.url)
		}
	}
}
