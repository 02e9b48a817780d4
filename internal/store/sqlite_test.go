package store

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"decnet/internal/event"
)

// TestSQLiteUpgradeFrom0001: a database made by the first release (schema
// 0001, roles admin|viewer) keeps its users through 0002, which adds the
// analyst role, and its logs are counted per service by 0004.
func TestSQLiteUpgradeFrom0001(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := loadMigrations(TypeSQLite)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(splitStatements(ms[0].sql),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO users VALUES ('u-1', 'admin', 'h', 'admin', 1, '2026-01-01T00:00:00.000000000Z')`,
		// A second admin, so u-1 may become an analyst below.
		`INSERT INTO users VALUES ('u-0', 'root', 'h', 'admin', 0, '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO logs (timestamp, decky, service, event_type, severity, attacker_ip, fields, msg, raw_line) VALUES
			('2026-01-01T00:00:00.000000000Z', 'd', 'ssh', 'connect', 6, '1.2.3.4', '{}', '', ''),
			('2026-01-01T00:00:01.000000000Z', 'd', 'ssh', 'auth', 6, '1.2.3.4', '{}', '', ''),
			('2026-01-01T00:00:02.000000000Z', 'd', 'ftp', 'connect', 6, '1.2.3.4', '{}', '', '')`) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.Exec(`INSERT INTO users VALUES ('u-2', 'x', 'h', 'analyst', 0, '2026-01-01T00:00:00.000000000Z')`); err == nil {
		t.Fatal("schema 0001 took the analyst role")
	}
	db.Close()
	if cur, latest, err := SchemaVersion(ctx, TypeSQLite, path); err != nil || cur != 1 || latest != len(ms) {
		t.Errorf("old database: version %d of %d, %v", cur, latest, err)
	}
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if u, err := s.UserByName(ctx, "admin"); err != nil || u.UUID != "u-1" || !u.MustChangePassword {
		t.Errorf("user after upgrade: %+v, %v", u, err)
	}
	if err := s.SetRole(ctx, "u-1", RoleAnalyst); err != nil {
		t.Errorf("analyst after upgrade: %v", err)
	}
	if err := s.CreateUser(ctx, User{Username: "admin", PasswordHash: "x"}); !errors.Is(err, ErrConflict) {
		t.Errorf("username still unique after the rebuild: %v", err)
	}
	if got, err := s.ServiceCounts(ctx, 10); err != nil || !reflect.DeepEqual(got, []ServiceCount{{"ssh", 2}, {"ftp", 1}}) {
		t.Errorf("service counts of the old logs: %v, %v", got, err)
	}
}

func TestSQLitePaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if cur, latest, err := SchemaVersion(ctx, "sqlite", missing); err != nil || cur != 0 || latest == 0 {
		t.Errorf("missing file: version %d of %d, %v", cur, latest, err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SchemaVersion created the file: %v", err)
	}
	for _, bad := range []string{"", filepath.Join(dir, "db?mode=ro"), filepath.Join(dir, "db#x")} {
		if _, err := OpenSQLite(ctx, bad); err == nil {
			t.Errorf("path %q accepted", bad)
		}
		if _, _, err := Migrate(ctx, "sqlite", bad); err == nil {
			t.Errorf("Migrate: path %q accepted", bad)
		}
	}
	// Open with the type is OpenSQLite.
	s, err := Open(ctx, "SQLite", filepath.Join(dir, "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Dialect() != TypeSQLite {
		t.Errorf("dialect %q", s.Dialect())
	}
	s.Close()
}

// TestHistogramWaysAgree: SQLite's range-counted histogram and the
// grouped one give the same buckets, for windows and intervals of every
// shape, on logs at random times.
func TestHistogramWaysAgree(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []event.Record
	for i := range 3000 {
		r := rec(0, "d", "ssh", "connect", "1.2.3.4", nil)
		r.Timestamp = t0.Add(time.Duration(rng.Int64N(int64(10 * 24 * time.Hour))))
		if i%100 == 0 {
			r.Timestamp = t0.Add(time.Duration(i/10) * time.Hour) // bucket edges
		}
		recs = append(recs, r)
	}
	ingest(t, s, recs...)
	for _, iv := range []time.Duration{time.Minute, 90 * time.Second, 15 * time.Minute, 7 * time.Hour, 24 * time.Hour} {
		for _, w := range []LogQuery{{}, {Since: t0.Add(time.Hour)}, {Until: t0.Add(50 * time.Hour)},
			{Since: t0.Add(3*time.Hour + time.Second), Until: t0.Add(5*time.Hour + time.Second)}, {Since: t0.Add(999 * time.Hour)}} {
			where, args, err := s.logWhere(w, false)
			if err != nil {
				t.Fatal(err)
			}
			secs := int64(iv / time.Second)
			var byRange, byGroup []Bucket
			var done bool
			err = s.read(ctx, func(tx *sql.Tx) error {
				if byRange, done, err = s.rangeHistogram(ctx, tx, where, args, secs); err != nil {
					return err
				}
				byGroup, err = s.groupHistogram(ctx, tx, where, args, secs)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if done && !reflect.DeepEqual(byRange, byGroup) {
				t.Errorf("interval %v, window %v–%v:\nrange %v\ngroup %v", iv, w.Since, w.Until, byRange, byGroup)
			}
			if !done && iv != time.Minute && iv != 90*time.Second {
				t.Errorf("interval %v: range counting refused", iv)
			}
		}
	}
}
