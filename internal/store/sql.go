package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"decnet/internal/event"
)

// timeLayout is how SQLite stores every time: fixed-width UTC with
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

// timeCol scans a time column into *t, whatever the dialect returns:
// SQLite's text or a server's time.Time; NULL is the zero time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case string:
		*c.t, err = parseTime(v)
	case []byte:
		*c.t, err = parseTime(string(v))
	default:
		err = fmt.Errorf("stored time of type %T", src)
	}
	return err
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

// SQL is the store on a SQL database: SQLite (embedded), MySQL/MariaDB or
// PostgreSQL, with the same queries on each (the differences live in its
// dialect). On SQLite, writes go through one connection and reads through
// a pool of query-only ones; on a server both use one pool.
type SQL struct {
	d    *dialect
	w, r *sql.DB

	insLog, insLogs, insBounty, setState, addServiceCount *sql.Stmt
}

// logChunk is how many logs one INSERT carries (the rest of a batch go one
// by one): per row it saves SQLite a statement step and the driver's
// per-call work, and a server most of its round trips.
const logChunk = 64

// logInsertColumns are the columns Ingest writes, in its argument order.
const logInsertColumns = 9

// SQLite is SQL's former name, kept for the callers that still use it.
type SQLite = SQL

// Dialect names the database the store runs on: sqlite, mysql or postgres.
func (s *SQL) Dialect() string { return s.d.name }

// init checks the database answers, migrates it, opens SQLite's read pool
// and prepares the ingest statements.
func (s *SQL) init(ctx context.Context, where string) error {
	if err := s.w.PingContext(ctx); err != nil {
		return connectError(s.d, where, err)
	}
	if err := migrate(ctx, s.w, s.d); err != nil {
		return fmt.Errorf("migrate %s: %w", where, err)
	}
	if s.r == nil {
		r, err := sql.Open("sqlite", where+"?"+sqlitePragmas+"&_query_only=1")
		if err != nil {
			return fmt.Errorf("open %s: %w", where, err)
		}
		r.SetMaxOpenConns(readers)
		r.SetMaxIdleConns(readers)
		s.r = r
	}
	d := s.d
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.insLog, insertLogs(1)},
		{&s.insLogs, insertLogs(logChunk)},
		{&s.insBounty, `INSERT INTO bounties (timestamp, decky, service, attacker_ip, bounty_type, payload, payload_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?)` + d.insertIgnore("bounty_type, attacker_ip, payload_hash")},
		{&s.setState, `INSERT INTO state (` + d.ident("key") + `, value) VALUES (?, ?)` + d.upsertSet(d.ident("key"), "value")},
		{&s.addServiceCount, `INSERT INTO service_counts (service, n) VALUES (?, ?)` + d.upsertAdd("service_counts", "service", "n")},
	} {
		var err error
		if *p.stmt, err = s.w.PrepareContext(ctx, d.q(p.sql)); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	return nil
}

// insertLogs is the INSERT of n logs.
func insertLogs(n int) string {
	row := "(" + placeholders(logInsertColumns) + ")"
	return "INSERT INTO logs (timestamp, decky, service, event_type, severity, attacker_ip, fields, msg, raw_line) VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// Close closes the database; SQLite first refreshes its planner
// statistics.
func (s *SQL) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insLog, s.insLogs, s.insBounty, s.setState, s.addServiceCount} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.d.onClose != "" {
		_, err := s.w.Exec(s.d.onClose)
		errs = append(errs, err)
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// Ping checks both pools answer.
func (s *SQL) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(new(int))
}

// Ingest implements Repository: logs, their bounties (a bounty already
// known for the same type, attacker and payload is skipped) and the
// checkpoint in one transaction. An empty recs with a key only moves the
// checkpoint (the ingester does this past lines it skipped).
func (s *SQL) Ingest(ctx context.Context, recs []event.Record, checkpointKey string, checkpoint []byte) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer tx.Rollback()
	// The SQLite driver watches a cancellable context with a goroutine
	// per statement; per row that costs more than the insert. So
	// statements run without cancellation and ctx is checked between them.
	ectx := context.WithoutCancel(ctx)
	d := s.d
	var bounties []Bounty
	// Events per service, added to service_counts in this transaction:
	// the dashboard's top services read that instead of counting logs.
	perService := map[string]int64{}
	args := make([]any, 0, min(len(recs), logChunk)*logInsertColumns)
	var insLogs *sql.Stmt
	for i := range recs {
		r := &recs[i]
		if d != sqliteDialect {
			c := d.record(*r)
			r = &c
		}
		args = append(args, d.timeArg(r.Timestamp), r.Decky, r.Service, r.EventType, int(r.Severity), r.AttackerIP,
			marshalFields(r.Fields), r.Msg, r.RawLine)
		bounties = append(bounties, BountiesOf(*r)...)
		perService[r.Service]++
		if len(args) == logChunk*logInsertColumns {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
			if insLogs == nil {
				insLogs = tx.StmtContext(ectx, s.insLogs)
			}
			if _, err := insLogs.ExecContext(ectx, args...); err != nil {
				return fmt.Errorf("ingest: insert logs: %w", err)
			}
			args = args[:0]
		}
	}
	if len(args) > 0 {
		insLog := tx.StmtContext(ectx, s.insLog)
		for row := range slices.Chunk(args, logInsertColumns) {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
			if _, err := insLog.ExecContext(ectx, row...); err != nil {
				return fmt.Errorf("ingest: insert log: %w", err)
			}
		}
	}
	if len(perService) > 0 {
		add := tx.StmtContext(ectx, s.addServiceCount)
		for svc, n := range perService {
			if _, err := add.ExecContext(ectx, svc, n); err != nil {
				return fmt.Errorf("ingest: count service: %w", err)
			}
		}
	}
	if len(bounties) > 0 {
		insBounty := tx.StmtContext(ectx, s.insBounty)
		for _, b := range bounties {
			payload, hash, err := payloadKey(b.Payload)
			if err != nil {
				return fmt.Errorf("ingest: bounty payload: %w", err)
			}
			if _, err := insBounty.ExecContext(ectx, d.timeArg(b.Timestamp), b.Decky, b.Service, d.key(b.AttackerIP),
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

// record is r with its text made storable by d (see dialect.text).
func (d *dialect) record(r event.Record) event.Record {
	r.Decky, r.Service, r.EventType, r.AttackerIP = d.key(r.Decky), d.key(r.Service), d.key(r.EventType), d.key(r.AttackerIP)
	r.Msg, r.RawLine = d.text(r.Msg), d.text(r.RawLine)
	for k, v := range r.Fields {
		if d.text(k) != k || d.text(v) != v {
			clean := make(map[string]string, len(r.Fields))
			for k, v := range r.Fields {
				clean[d.text(k)] = d.text(v)
			}
			r.Fields = clean
			break
		}
	}
	return r
}

const logColumns = `id, timestamp, decky, service, event_type, severity, attacker_ip, fields, msg, raw_line`

// logWhere is the WHERE clause (empty or with a leading space) and its
// arguments for the search, time window and AfterID of q; page says the
// rows are read in id order (a page), not counted.
func (s *SQL) logWhere(q LogQuery, page bool) (string, []any, error) {
	terms, err := parseSearch(q.Search)
	if err != nil {
		return "", nil, err
	}
	conds, args := compileSearch(s.d, terms)
	searched := len(conds) > 0
	if tc, targs := s.timeConds(q); len(tc) > 0 {
		conds, args = append(conds, tc...), append(args, targs...)
		// The window's own ids bound it as well where a plan would read
		// by id: a page scans ids backwards, and a service: or decky:
		// search reads its (service, id) or (decky, id) index, so without
		// the bound a window holding few logs (a quiet day at a million
		// logs) walked every id or every row of the service: 200–400 ms.
		// The bound drops no row of the window, whatever the order of
		// timestamps and ids. It costs two reads of the window's
		// timestamp index range, so it is left out where that range is
		// the plan already (an unfiltered count or histogram) and where
		// AfterID bounds the ids (a live stream's polls). (id + 0: SQLite
		// answers MIN(id) by walking ids until one is in the window, the
		// very walk this avoids; an expression makes it read the range.)
		if q.AfterID == 0 && (page || searched) {
			w := " WHERE " + strings.Join(tc, " AND ")
			conds = append(conds, "id BETWEEN (SELECT MIN(id + 0) FROM logs"+w+") AND (SELECT MAX(id + 0) FROM logs"+w+")")
			args = append(append(args, targs...), targs...)
		}
	}
	if q.AfterID > 0 {
		conds, args = append(conds, "id > ?"), append(args, q.AfterID)
	}
	return where(conds), args, nil
}

// timeConds are the conditions of q's time window.
func (s *SQL) timeConds(q LogQuery) (conds []string, args []any) {
	if !q.Since.IsZero() {
		conds, args = append(conds, "timestamp >= ?"), append(args, s.d.timeArg(q.Since))
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "timestamp < ?"), append(args, s.d.timeArg(q.Until))
	}
	return conds, args
}

func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// Logs implements Repository. The count and the page come from one read
// transaction, so they agree with each other while ingest goes on.
func (s *SQL) Logs(ctx context.Context, q LogQuery) (Page[Log], error) {
	where, args, err := s.logWhere(q, false)
	if err != nil {
		return Page[Log]{}, err
	}
	pageWhere, pageArgs, err := s.logWhere(q, true)
	if err != nil {
		return Page[Log]{}, err
	}
	order := " ORDER BY id DESC"
	if q.Ascending {
		order = " ORDER BY id ASC"
	}
	p := Page[Log]{Data: []Log{}}
	p.Limit, p.Offset = clampPage(q.Limit, q.Offset)
	err = s.read(ctx, func(tx *sql.Tx) error {
		if !q.NoTotal {
			if err := tx.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM logs"+where), args...).Scan(&p.Total); err != nil {
				return err
			}
		}
		p.Data, err = s.queryLogs(ctx, tx, "SELECT "+logColumns+" FROM logs"+pageWhere+order+" LIMIT ? OFFSET ?",
			append(pageArgs, p.Limit, p.Offset)...)
		return err
	})
	if err != nil {
		return Page[Log]{}, fmt.Errorf("logs: %w", err)
	}
	return p, nil
}

// CountLogs implements Repository.
func (s *SQL) CountLogs(ctx context.Context, q LogQuery) (int64, error) {
	where, args, err := s.logWhere(q, false)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.r.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM logs"+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count logs: %w", err)
	}
	return n, nil
}

// queryer is what a pool and a transaction share.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryLogs runs a query selecting logColumns; never nil.
func (s *SQL) queryLogs(ctx context.Context, db queryer, query string, args ...any) ([]Log, error) {
	return queryAll(ctx, db, s.d.q(query), args, scanLog)
}

func scanLog(rows *sql.Rows) (Log, error) {
	var l Log
	var fields string
	if err := rows.Scan(&l.ID, timeCol{&l.Timestamp}, &l.Decky, &l.Service, &l.EventType, &l.Severity,
		&l.AttackerIP, &fields, &l.Msg, &l.RawLine); err != nil {
		return Log{}, err
	}
	if err := json.Unmarshal([]byte(fields), &l.Fields); err != nil {
		return Log{}, fmt.Errorf("log %d fields: %w", l.ID, err)
	}
	return l, nil
}

// queryAll runs a query and scans every row with scan; never nil.
func queryAll[T any](ctx context.Context, db queryer, query string, args []any, scan func(*sql.Rows) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// read runs fn in a read transaction: one consistent snapshot.
func (s *SQL) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, s.d.readTx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// maxRangeBuckets bounds the histograms counted by index range: past it
// the per-bucket overhead outweighs the saving.
const maxRangeBuckets = 10000

// Histogram implements Repository. The interval must be a whole number of
// seconds, one minute or more; times are taken to be after 1970.
//
// Grouping by bucket costs SQLite a temporary b-tree fed every matching
// row (about 1 s per million rows); when only a time window is asked for
// and the window holds at most maxRangeBuckets buckets, SQLite instead
// counts each bucket's range of the timestamp index (about 0.1 s per
// million rows).
func (s *SQL) Histogram(ctx context.Context, q LogQuery, interval time.Duration) ([]Bucket, error) {
	if interval < time.Minute || interval%time.Second != 0 {
		return nil, fmt.Errorf("%w: histogram interval %v: want whole seconds, at least a minute", ErrBadQuery, interval)
	}
	window := LogQuery{Search: q.Search, Since: q.Since, Until: q.Until}
	where, args, err := s.logWhere(window, false)
	if err != nil {
		return nil, err
	}
	secs := int64(interval / time.Second)
	var out []Bucket
	err = s.read(ctx, func(tx *sql.Tx) error {
		// A search of only empty terms ("") takes the general way: same
		// result.
		if s.d.epochTime != nil && strings.TrimSpace(q.Search) == "" {
			b, done, err := s.rangeHistogram(ctx, tx, where, args, secs)
			if err != nil || done {
				out = b
				return err
			}
		}
		b, err := s.groupHistogram(ctx, tx, where, args, secs)
		out = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	return out, nil
}

// groupHistogram counts the logs of where per bucket of secs by grouping.
func (s *SQL) groupHistogram(ctx context.Context, tx *sql.Tx, where string, args []any, secs int64) ([]Bucket, error) {
	rows, err := tx.QueryContext(ctx, s.d.q("SELECT "+s.d.epochBucket+", COUNT(*) FROM logs"+where+" GROUP BY 1 ORDER BY 1"),
		append([]any{secs}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Bucket{}
	for rows.Next() {
		var n int64
		var b Bucket
		if err := rows.Scan(&n, &b.Count); err != nil {
			return nil, err
		}
		b.Time = time.Unix(n*secs, 0).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// rangeHistogram counts the logs of where (a time window at most) per
// bucket of secs with one index range count per bucket, from the first
// log's bucket to the last's. done is false when there are too many
// buckets for it.
func (s *SQL) rangeHistogram(ctx context.Context, tx *sql.Tx, where string, args []any, secs int64) ([]Bucket, bool, error) {
	var first, last time.Time
	if err := tx.QueryRowContext(ctx, s.d.q("SELECT MIN(timestamp), MAX(timestamp) FROM logs"+where), args...).
		Scan(timeCol{&first}, timeCol{&last}); err != nil {
		return nil, false, err
	}
	if first.IsZero() {
		return []Bucket{}, true, nil
	}
	from, to := first.Unix()/secs*secs, last.Unix()/secs*secs
	if (to-from)/secs >= maxRangeBuckets {
		return nil, false, nil
	}
	inBucket := "timestamp >= " + s.d.epochTime("b.t") + " AND timestamp < " + s.d.epochTime("b.t + ?")
	if where != "" {
		inBucket += " AND " + strings.TrimPrefix(where, " WHERE ")
	}
	rows, err := tx.QueryContext(ctx, s.d.q(`WITH RECURSIVE b(t) AS (SELECT ? UNION ALL SELECT t + ? FROM b WHERE t < ?)
		SELECT b.t, (SELECT COUNT(*) FROM logs WHERE `+inBucket+`) FROM b`),
		append([]any{from, secs, to, secs}, args...)...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	out := []Bucket{}
	for rows.Next() {
		var t, n int64
		if err := rows.Scan(&t, &n); err != nil {
			return nil, false, err
		}
		if n > 0 {
			out = append(out, Bucket{Time: time.Unix(t, 0).UTC(), Count: n})
		}
	}
	return out, true, rows.Err()
}

// MaxLogID implements Repository.
func (s *SQL) MaxLogID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM logs").Scan(&id); err != nil {
		return 0, fmt.Errorf("max log id: %w", err)
	}
	return id, nil
}

// LogsAfter implements Repository; limit is clamped as a page's.
func (s *SQL) LogsAfter(ctx context.Context, afterID int64, limit int) ([]Log, error) {
	limit, _ = clampPage(limit, 0)
	logs, err := s.queryLogs(ctx, s.r, "SELECT "+logColumns+" FROM logs WHERE id > ? ORDER BY id LIMIT ?", afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("logs after %d: %w", afterID, err)
	}
	return logs, nil
}

const bountyColumns = `id, timestamp, decky, service, attacker_ip, bounty_type, payload`

// Bounties implements Repository, newest first.
func (s *SQL) Bounties(ctx context.Context, q BountyQuery) (Page[Bounty], error) {
	var conds []string
	var args []any
	if q.Type != "" {
		conds, args = append(conds, "bounty_type = ?"), append(args, s.d.key(q.Type))
	}
	if q.Search != "" {
		p := likeEscape(s.d.text(q.Search))
		conds = append(conds, "("+s.d.like("decky")+" OR "+s.d.like("service")+" OR "+s.d.like("attacker_ip")+" OR "+s.d.like("payload")+")")
		args = append(args, p, p, p, p)
	}
	p := Page[Bounty]{Data: []Bounty{}}
	p.Limit, p.Offset = clampPage(q.Limit, q.Offset)
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM bounties"+where(conds)), args...).Scan(&p.Total); err != nil {
			return err
		}
		var err error
		p.Data, err = s.queryBounties(ctx, tx, "SELECT "+bountyColumns+" FROM bounties"+where(conds)+" ORDER BY id DESC LIMIT ? OFFSET ?",
			append(args, p.Limit, p.Offset)...)
		return err
	})
	if err != nil {
		return Page[Bounty]{}, fmt.Errorf("bounties: %w", err)
	}
	return p, nil
}

// BountiesByIP implements Repository.
func (s *SQL) BountiesByIP(ctx context.Context, ip string) ([]Bounty, error) {
	bs, err := s.queryBounties(ctx, s.r, "SELECT "+bountyColumns+" FROM bounties WHERE attacker_ip = ? ORDER BY id", s.d.key(ip))
	if err != nil {
		return nil, fmt.Errorf("bounties of %q: %w", ip, err)
	}
	return bs, nil
}

// queryBounties runs a query selecting bountyColumns; never nil.
func (s *SQL) queryBounties(ctx context.Context, db queryer, query string, args ...any) ([]Bounty, error) {
	return queryAll(ctx, db, s.d.q(query), args, scanBounty)
}

func scanBounty(rows *sql.Rows) (Bounty, error) {
	var b Bounty
	var payload string
	if err := rows.Scan(&b.ID, timeCol{&b.Timestamp}, &b.Decky, &b.Service, &b.AttackerIP, &b.BountyType, &payload); err != nil {
		return Bounty{}, err
	}
	if err := json.Unmarshal([]byte(payload), &b.Payload); err != nil {
		return Bounty{}, fmt.Errorf("bounty %d payload: %w", b.ID, err)
	}
	return b, nil
}

// Stats implements Repository. Attackers are distinct attacker IPs other
// than Unknown, counted from a DISTINCT subquery: PostgreSQL sorts for
// COUNT(DISTINCT) but hashes a DISTINCT (1.6 s against 0.3 s at a million
// logs). Each count scans an index, so callers that poll should cache.
func (s *SQL) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT
		(SELECT COUNT(*) FROM logs),
		(SELECT COUNT(*) FROM (SELECT DISTINCT attacker_ip FROM logs WHERE attacker_ip <> ?) ips),
		(SELECT COUNT(*) FROM bounties)`), event.Unknown).Scan(&st.TotalLogs, &st.UniqueAttackers, &st.TotalBounties)
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// ServiceCounts implements Repository. The GROUP BY walks the logs
// (service, id) index, so it costs a scan of every log: callers that poll
// should cache.
func (s *SQL) ServiceCounts(ctx context.Context, limit int) ([]ServiceCount, error) {
	out, err := queryAll(ctx, s.r, s.d.q("SELECT service, n FROM service_counts WHERE n > 0 ORDER BY n DESC, service LIMIT ?"),
		[]any{max(limit, 0)}, func(rows *sql.Rows) (ServiceCount, error) {
			var c ServiceCount
			err := rows.Scan(&c.Service, &c.Count)
			return c, err
		})
	if err != nil {
		return nil, fmt.Errorf("service counts: %w", err)
	}
	return out, nil
}

// State implements Repository.
func (s *SQL) State(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT value FROM state WHERE `+s.d.ident("key")+` = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("state %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("state %q: %w", key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// SetState implements Repository.
func (s *SQL) SetState(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	if _, err := s.setState.ExecContext(ctx, key, value); err != nil {
		return fmt.Errorf("set state %q: %w", key, err)
	}
	return nil
}

// Purge implements Repository in one transaction. Ids are not reused
// afterwards: SQLite's AUTOINCREMENT and the servers' sequences keep
// counting (see the migrations).
func (s *SQL) Purge(ctx context.Context) (Purged, error) {
	var p Purged
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return Purged{}, fmt.Errorf("purge: %w", err)
	}
	defer tx.Rollback()
	for _, step := range []struct {
		table string
		n     *int64
	}{
		{"attacker_behavior", nil},
		{"service_counts", nil},
		{"attackers", &p.Attackers},
		{"bounties", &p.Bounties},
		{"logs", &p.Logs},
	} {
		res, err := tx.ExecContext(ctx, "DELETE FROM "+step.table)
		if err != nil {
			return Purged{}, fmt.Errorf("purge %s: %w", step.table, err)
		}
		if step.n != nil {
			if *step.n, err = res.RowsAffected(); err != nil {
				return Purged{}, fmt.Errorf("purge %s: %w", step.table, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return Purged{}, fmt.Errorf("purge: %w", err)
	}
	return p, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var _ Repository = (*SQL)(nil)
