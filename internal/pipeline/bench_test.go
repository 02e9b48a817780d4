package pipeline

import (
	"context"
	"crypto/sha256"
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
	"decnet/internal/store"
)

// timeLayout is the store's time column format.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

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
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
}

// BenchmarkStoreIngest is the store's share of BenchmarkIngest:
// Repository.Ingest of the same records, already decoded, in batches of
// the same size.
func BenchmarkStoreIngest(b *testing.B) {
	recs := make([]event.Record, b.N)
	for i := range recs {
		recs[i] = benchRecord(i)
	}
	repo := openStore(b, filepath.Join(b.TempDir(), "db"))
	ctx := context.Background()
	b.ResetTimer()
	for lo := 0; lo < len(recs); lo += DefaultBatchRows {
		if err := repo.Ingest(ctx, recs[lo:min(lo+DefaultBatchRows, len(recs))], "bench", []byte(`{"offset":1}`)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRawInsert is the reference for BenchmarkIngest: the same rows
// (the logs and the bounties they reveal), already encoded, inserted into
// the same schema in transactions of the same size with prepared
// statements, and nothing else: no file, no decoding, no extraction, no
// checkpoint. (Multi-row INSERTs of 32 rows measured no faster with this
// driver.)
func BenchmarkRawInsert(b *testing.B) {
	dir := b.TempDir()
	db := filepath.Join(dir, "db")
	openStore(b, db).Close() // the schema
	type bountyRow struct {
		ts, decky, service, ip, typ, payload string
		hash                                 []byte
	}
	type row struct {
		ts, decky, service, typ, ip, fields, msg, raw string
		sev                                           int
		bounties                                      []bountyRow
	}
	rows := make([]row, b.N)
	for i := range rows {
		r := benchRecord(i)
		fields, _ := json.Marshal(r.Fields)
		rows[i] = row{ts: r.Timestamp.UTC().Format(timeLayout), decky: r.Decky, service: r.Service, typ: r.EventType,
			ip: r.AttackerIP, fields: string(fields), msg: r.Msg, raw: r.RawLine, sev: int(r.Severity)}
		for _, bo := range store.BountiesOf(r) {
			payload, _ := json.Marshal(bo.Payload)
			h := sha256.Sum256(payload)
			rows[i].bounties = append(rows[i].bounties, bountyRow{bo.Timestamp.UTC().Format(timeLayout), bo.Decky,
				bo.Service, bo.AttackerIP, bo.BountyType, string(payload), h[:]})
		}
	}
	conn, err := sql.Open("sqlite", db+"?_busy_timeout=10000&_synchronous=NORMAL&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	ctx := context.Background()
	stmt, err := conn.PrepareContext(ctx, `INSERT INTO logs (timestamp, decky, service, event_type, severity, attacker_ip, fields, msg, raw_line)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	bstmt, err := conn.PrepareContext(ctx, `INSERT OR IGNORE INTO bounties (timestamp, decky, service, attacker_ip, bounty_type, payload, payload_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer bstmt.Close()
	b.ResetTimer()
	start := time.Now()
	for lo := 0; lo < len(rows); lo += DefaultBatchRows {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		st, bst := tx.StmtContext(ctx, stmt), tx.StmtContext(ctx, bstmt)
		for _, r := range rows[lo:min(lo+DefaultBatchRows, len(rows))] {
			if _, err := st.ExecContext(ctx, r.ts, r.decky, r.service, r.typ, r.sev, r.ip, r.fields, r.msg, r.raw); err != nil {
				b.Fatal(err)
			}
			for _, bo := range r.bounties {
				if _, err := bst.ExecContext(ctx, bo.ts, bo.decky, bo.service, bo.ip, bo.typ, bo.payload, bo.hash); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
}
