package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
)

// benchRecord is a plausible mix: connects, password guesses from a small
// dictionary (so most credential bounties are duplicates), commands and
// disconnects, from a few hundred attackers.
func benchRecord(i int) event.Record {
	ip := fmt.Sprintf("10.%d.%d.%d", i%7, (i/7)%250, (i/1750)%250)
	f := map[string]string{"src_ip": ip, "src_port": strconv.Itoa(1024 + i%60000), "seq": strconv.Itoa(i)}
	typ := []string{event.TypeConnect, event.TypeAuth, event.TypeCommand, event.TypeDisconnect}[i%4]
	switch typ {
	case event.TypeAuth:
		f["username"], f["password"], f["success"] = "root", "pass"+strconv.Itoa(i%50), "false"
	case event.TypeCommand:
		f["command"] = "uname -a; cat /proc/cpuinfo | grep name | head -n 1"
	}
	return event.NewRecord(event.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), Decky: "decky-" + strconv.Itoa(i%12),
		Service: "ssh", Type: typ, Severity: event.Info, Fields: f})
}

// BenchmarkIngest measures file → store throughput of the Ingester.
func BenchmarkIngest(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "ingest.json")
	var sb strings.Builder
	for i := range b.N {
		line, _ := json.Marshal(benchRecord(i))
		sb.Write(line)
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	repo := openStore(b, filepath.Join(dir, "db"))
	b.ResetTimer()
	start := time.Now()
	g, stop := run(b, path, repo, WithPollInterval(time.Millisecond))
	for g.Status().Rows < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
}

// BenchmarkRawInsert is the reference for BenchmarkIngest: the same rows,
// already encoded, inserted into the same schema in transactions of the
// same size with one prepared single-row statement, and nothing else.
func BenchmarkRawInsert(b *testing.B) { rawInsert(b, 1) }

// BenchmarkRawInsertMultiRow is the same with multi-row INSERT statements
// of storeRowsPerInsert rows, as the store does them.
func BenchmarkRawInsertMultiRow(b *testing.B) { rawInsert(b, storeRowsPerInsert) }

// storeRowsPerInsert mirrors the store's multi-row insert size.
const storeRowsPerInsert = 32

func rawInsert(b *testing.B, perStmt int) {
	dir := b.TempDir()
	db := filepath.Join(dir, "db")
	openStore(b, db).Close() // the schema
	type row struct {
		ts, decky, service, typ, ip, fields, msg, raw string
		sev                                           int
	}
	rows := make([]row, b.N)
	for i := range rows {
		r := benchRecord(i)
		fields, _ := json.Marshal(r.Fields)
		rows[i] = row{r.Timestamp.UTC().Format("2006-01-02T15:04:05.000000000Z"), r.Decky, r.Service, r.EventType,
			r.AttackerIP, string(fields), r.Msg, r.RawLine, int(r.Severity)}
	}
	conn, err := sql.Open("sqlite", db+"?_busy_timeout=10000&_synchronous=NORMAL&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	ctx := context.Background()
	prepare := func(n int) *sql.Stmt {
		q := `INSERT INTO logs (timestamp, decky, service, event_type, severity, attacker_ip, fields, msg, raw_line) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?),", n), ",")
		stmt, err := conn.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { stmt.Close() })
		return stmt
	}
	stmts := map[int]*sql.Stmt{}
	args := make([]any, 0, 9*perStmt)
	b.ResetTimer()
	start := time.Now()
	for lo := 0; lo < len(rows); lo += DefaultBatchRows {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		batch := rows[lo:min(lo+DefaultBatchRows, len(rows))]
		for len(batch) > 0 {
			n := min(perStmt, len(batch))
			if stmts[n] == nil {
				stmts[n] = prepare(n)
			}
			args = args[:0]
			for _, r := range batch[:n] {
				args = append(args, r.ts, r.decky, r.service, r.typ, r.sev, r.ip, r.fields, r.msg, r.raw)
			}
			if _, err := tx.StmtContext(ctx, stmts[n]).ExecContext(ctx, args...); err != nil {
				b.Fatal(err)
			}
			batch = batch[n:]
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
}
