package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"decnet/internal/event"
)

// timeLayout is how every time is stored: fixed-width UTC with
// nanoseconds, so text order is time order and nothing is lost.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// Page limits of list queries.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

func clampPage(limit, offset int) (int, int) {
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	return limit, max(offset, 0)
}

// readers is the size of the read pool. WAL lets readers run beside the
// one writer; a few are enough for the API and the workers.
const readers = 4

// SQLite is the embedded store. Writes go through one connection (SQLite
// has one writer at a time anyway, and a single connection turns lock
// contention into Go-side queueing instead of SQLITE_BUSY); reads use a
// small pool of query-only connections.
type SQLite struct {
	w, r *sql.DB

	insLog, insBounty, setState *sql.Stmt
}

// OpenSQLite opens (creating if needed) the database at path and brings its
// schema up to date.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	// The driver treats what follows '?' as its own parameters.
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite path %q: must be a file name without '?' or '#'", path)
	}
	const common = "_busy_timeout=10000&_synchronous=NORMAL&_foreign_keys=1"
	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_txlock=immediate&_pragma=temp_store(MEMORY)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	s := &SQLite{w: w}
	if err := s.init(ctx, path, common); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *SQLite) init(ctx context.Context, path, common string) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, s.w, "sqlite"); err != nil {
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_query_only=1")
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s.r = r
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.insLog, `INSERT INTO logs (timestamp, decky, service, event_type, severity, attacker_ip, fields, msg, raw_line)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&s.insBounty, `INSERT OR IGNORE INTO bounties (timestamp, decky, service, attacker_ip, bounty_type, payload, payload_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&s.setState, `INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`},
	} {
		if *p.stmt, err = s.w.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	return nil
}

// Close closes the database after letting SQLite refresh its planner
// statistics.
func (s *SQLite) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insLog, s.insBounty, s.setState} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	_, err := s.w.Exec("PRAGMA optimize")
	errs = append(errs, err, s.w.Close())
	return errors.Join(errs...)
}

// Ping checks both pools answer.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(new(int))
}

// Ingest implements Repository: logs, their bounties (a bounty already
// known for the same type, attacker and payload is skipped) and the
// checkpoint in one transaction. An empty recs with a key only moves the
// checkpoint (the ingester does this past lines it skipped).
func (s *SQLite) Ingest(ctx context.Context, recs []event.Record, checkpointKey string, checkpoint []byte) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer tx.Rollback()
	// The driver watches a cancellable context with a goroutine per
	// statement; per row that costs more than the insert. So statements
	// run without cancellation and ctx is checked between them.
	ectx := context.WithoutCancel(ctx)
	insLog := tx.StmtContext(ectx, s.insLog)
	var bounties []Bounty
	for i := range recs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		r := &recs[i]
		if _, err := insLog.ExecContext(ectx, formatTime(r.Timestamp), r.Decky, r.Service, r.EventType,
			int(r.Severity), r.AttackerIP, marshalFields(r.Fields), r.Msg, r.RawLine); err != nil {
			return fmt.Errorf("ingest: insert log: %w", err)
		}
		bounties = append(bounties, BountiesOf(*r)...)
	}
	if len(bounties) > 0 {
		insBounty := tx.StmtContext(ectx, s.insBounty)
		for _, b := range bounties {
			payload, hash, err := payloadKey(b.Payload)
			if err != nil {
				return fmt.Errorf("ingest: bounty payload: %w", err)
			}
			if _, err := insBounty.ExecContext(ectx, formatTime(b.Timestamp), b.Decky, b.Service, b.AttackerIP,
				b.BountyType, string(payload), hash[:]); err != nil {
				return fmt.Errorf("ingest: insert bounty: %w", err)
			}
		}
	}
	if checkpointKey != "" {
		if checkpoint == nil {
			checkpoint = []byte{}
		}
		if _, err := tx.StmtContext(ectx, s.setState).ExecContext(ectx, checkpointKey, checkpoint); err != nil {
			return fmt.Errorf("ingest: checkpoint: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ingest: commit: %w", err)
	}
	return nil
}

const logColumns = `id, timestamp, decky, service, event_type, severity, attacker_ip, fields, msg, raw_line`

// Logs implements Repository. The count and the page come from one read
// transaction, so they agree with each other while ingest goes on.
func (s *SQLite) Logs(ctx context.Context, q LogQuery) (Page[Log], error) {
	terms, err := parseSearch(q.Search)
	if err != nil {
		return Page[Log]{}, err
	}
	conds, args := compileSearch(terms)
	if !q.Since.IsZero() {
		conds, args = append(conds, "timestamp >= ?"), append(args, formatTime(q.Since))
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "timestamp < ?"), append(args, formatTime(q.Until))
	}
	if q.AfterID > 0 {
		conds, args = append(conds, "id > ?"), append(args, q.AfterID)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	order := " ORDER BY id DESC"
	if q.Ascending {
		order = " ORDER BY id ASC"
	}
	p := Page[Log]{Data: []Log{}}
	p.Limit, p.Offset = clampPage(q.Limit, q.Offset)
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM logs"+where, args...).Scan(&p.Total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+logColumns+" FROM logs"+where+order+" LIMIT ? OFFSET ?",
			append(args, p.Limit, p.Offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLog(rows)
			if err != nil {
				return err
			}
			p.Data = append(p.Data, l)
		}
		return rows.Err()
	})
	if err != nil {
		return Page[Log]{}, fmt.Errorf("logs: %w", err)
	}
	return p, nil
}

func scanLog(rows *sql.Rows) (Log, error) {
	var l Log
	var ts, fields string
	if err := rows.Scan(&l.ID, &ts, &l.Decky, &l.Service, &l.EventType, &l.Severity, &l.AttackerIP,
		&fields, &l.Msg, &l.RawLine); err != nil {
		return Log{}, err
	}
	var err error
	if l.Timestamp, err = parseTime(ts); err != nil {
		return Log{}, err
	}
	if err := json.Unmarshal([]byte(fields), &l.Fields); err != nil {
		return Log{}, fmt.Errorf("log %d fields: %w", l.ID, err)
	}
	return l, nil
}

// read runs fn in a read transaction: one consistent snapshot.
func (s *SQLite) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Bounties implements Repository, newest first.
func (s *SQLite) Bounties(ctx context.Context, q BountyQuery) (Page[Bounty], error) {
	var conds []string
	var args []any
	if q.Type != "" {
		conds, args = append(conds, "bounty_type = ?"), append(args, q.Type)
	}
	if q.Search != "" {
		p := likeEscape(q.Search)
		conds = append(conds, `(decky LIKE ? ESCAPE '\' OR service LIKE ? ESCAPE '\' OR attacker_ip LIKE ? ESCAPE '\' OR payload LIKE ? ESCAPE '\')`)
		args = append(args, p, p, p, p)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	p := Page[Bounty]{Data: []Bounty{}}
	p.Limit, p.Offset = clampPage(q.Limit, q.Offset)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM bounties"+where, args...).Scan(&p.Total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, timestamp, decky, service, attacker_ip, bounty_type, payload
			FROM bounties`+where+" ORDER BY id DESC LIMIT ? OFFSET ?", append(args, p.Limit, p.Offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b Bounty
			var ts, payload string
			if err := rows.Scan(&b.ID, &ts, &b.Decky, &b.Service, &b.AttackerIP, &b.BountyType, &payload); err != nil {
				return err
			}
			if b.Timestamp, err = parseTime(ts); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(payload), &b.Payload); err != nil {
				return fmt.Errorf("bounty %d payload: %w", b.ID, err)
			}
			p.Data = append(p.Data, b)
		}
		return rows.Err()
	})
	if err != nil {
		return Page[Bounty]{}, fmt.Errorf("bounties: %w", err)
	}
	return p, nil
}

// Stats implements Repository. Attackers are distinct attacker IPs other
// than Unknown. Each count scans an index, so callers that poll should
// cache.
func (s *SQLite) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM logs),
		(SELECT COUNT(DISTINCT attacker_ip) FROM logs WHERE attacker_ip <> ?),
		(SELECT COUNT(*) FROM bounties)`, event.Unknown).Scan(&st.TotalLogs, &st.UniqueAttackers, &st.TotalBounties)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// State implements Repository.
func (s *SQLite) State(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT value FROM state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("state %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("state %q: %w", key, err)
	}
	return v, nil
}

// SetState implements Repository.
func (s *SQLite) SetState(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	if _, err := s.setState.ExecContext(ctx, key, value); err != nil {
		return fmt.Errorf("set state %q: %w", key, err)
	}
	return nil
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate key.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var _ Repository = (*SQLite)(nil)
