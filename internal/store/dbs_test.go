package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"

	"decnet/internal/testutil"
)

// freshDB makes an empty database for one test, dropped when the test
// ends, and says how to open it.
type freshDB func(t testing.TB) (dbType, url string)

// testDBs are the databases the repository suite runs on. The servers come
// from the environment (.ci/run sets both); without it their tests skip,
// or fail in CI.
var testDBs = []struct {
	name  string
	fresh freshDB
}{
	{TypeSQLite, freshSQLite},
	{TypeMySQL, freshMySQL},
	{TypePostgres, freshPostgres},
}

func freshSQLite(t testing.TB) (string, string) {
	return TypeSQLite, filepath.Join(t.TempDir(), "test.db")
}

// uniqueName is a database or schema name no other test uses.
func uniqueName() string {
	var b [6]byte
	rand.Read(b[:])
	return "decnet_test_" + hex.EncodeToString(b[:])
}

// adminDB opens a connection for creating and dropping test databases.
func adminDB(t testing.TB, driver string, conn func() (*sql.DB, error)) *sql.DB {
	t.Helper()
	db, err := conn()
	if err != nil {
		t.Fatalf("%s: %v", driver, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(context.Background()); err != nil {
		db.Close()
		t.Fatalf("%s test server: %v", driver, err)
	}
	return db
}

// freshMySQL creates a database of its own on the server of
// DECNET_TEST_MYSQL_URL (whose database name, if any, is ignored).
func freshMySQL(t testing.TB) (string, string) {
	t.Helper()
	dsn := os.Getenv("DECNET_TEST_MYSQL_URL")
	if dsn == "" {
		testutil.Skip(t, "DECNET_TEST_MYSQL_URL is not set (user:pass@tcp(127.0.0.1:3306)/, see .ci/run)")
	}
	cfg, err := mysqlConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = ""
	db := adminDB(t, "mysql", func() (*sql.DB, error) {
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(c), nil
	})
	name := uniqueName()
	if _, err := db.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE " + name); err != nil {
			t.Error(err)
		}
		db.Close()
	})
	cfg.DBName = name
	return TypeMySQL, cfg.FormatDSN()
}

// freshPostgres creates a schema of its own in the database of
// DECNET_TEST_POSTGRES_URL and opens the store on it through search_path.
func freshPostgres(t testing.TB) (string, string) {
	t.Helper()
	raw := os.Getenv("DECNET_TEST_POSTGRES_URL")
	if raw == "" {
		testutil.Skip(t, "DECNET_TEST_POSTGRES_URL is not set (postgres://user:pass@127.0.0.1:5432/db, see .ci/run)")
	}
	db := adminDB(t, "postgres", func() (*sql.DB, error) { return sql.Open("pgx", raw) })
	name := uniqueName()
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + name + " CASCADE"); err != nil {
			t.Error(err)
		}
		db.Close()
	})
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("DECNET_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return TypePostgres, u.String()
}

// openFresh opens the store on a fresh database, closed at the test's end.
func openFresh(t testing.TB, fresh freshDB) *SQL {
	t.Helper()
	typ, url := fresh(t)
	s, err := Open(context.Background(), typ, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// openTest opens a fresh SQLite store, for the tests that need no server.
func openTest(t testing.TB) *SQL { return openFresh(t, freshSQLite) }
