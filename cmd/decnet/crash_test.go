package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// echoFlood sends ECHO <prefix><n> commands over RESP until ctx ends or the server
// goes away, and returns how many were answered: those are commands the
// honeypot saw and acknowledged, which must all be in the store.
func echoFlood(ctx context.Context, addr, prefix string, answered *atomic.Int64) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for n := int64(0); ctx.Err() == nil; n++ {
		arg := prefix + strconv.FormatInt(n, 10)
		fmt.Fprintf(c, "*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n", len(arg), arg)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		answered.Store(n + 1)
	}
}

// TestCrashKill9 kills decnet with SIGKILL while attack events stream in,
// restarts it, and checks that every acknowledged command is stored
// exactly once.
func TestCrashKill9(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	const ip = "127.77.201.10"
	args := []string{"--services", "redis", "--deckies", "1", "--ip-base", ip}
	for round := 0; round < 3; round++ {
		n := startNode(t, data, freePort(t), args...)
		addr := net.JoinHostPort(ip, n.port("decky-01", "redis"))
		ctx, cancel := context.WithCancel(context.Background())
		var answered atomic.Int64
		done := make(chan struct{})
		go func() { echoFlood(ctx, addr, fmt.Sprintf("r%d-", round), &answered); close(done) }()
		time.Sleep(time.Duration(300+round*250) * time.Millisecond)
		n.cmd.Process.Kill()
		<-n.done
		cancel()
		<-done
		if answered.Load() < 10 {
			t.Fatalf("round %d: only %d commands answered before the kill", round, answered.Load())
		}

		// Restart: the ingester must pick up exactly where the killed one committed.
		n = startNode(t, data, freePort(t), args...)
		lines := countLines(t, filepath.Join(data, "events.json"))
		token := n.token()
		var stats struct {
			TotalLogs int64 `json:"total_logs"`
		}
		// Wait while the count grows; a stall of 10 s ends the wait and
		// checkStore reports what is missing.
		for last, deadline := int64(-1), time.Now(); ; time.Sleep(50 * time.Millisecond) {
			n.get(token, "/stats", &stats)
			if stats.TotalLogs != last {
				last, deadline = stats.TotalLogs, time.Now().Add(10*time.Second)
			}
			if stats.TotalLogs >= lines || time.Now().After(deadline) {
				break
			}
		}
		n.stop()
		checkStore(t, filepath.Join(data, "decnet.db"), filepath.Join(data, "events.json"), round, answered.Load())
	}
}

func countLines(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(strings.Count(string(b), "\n"))
}

// checkStore compares the store with the ingest file: the same number of
// rows as lines, no line twice, and every acknowledged ECHO of this round.
func checkStore(t *testing.T, dbPath, ingestPath string, round int, answered int64) {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, distinct int64
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT raw_line) FROM logs`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	lines := countLines(t, ingestPath)
	if rows != lines || distinct != rows {
		t.Fatalf("round %d: %d lines in the ingest file, %d rows stored, %d distinct", round, lines, rows, distinct)
	}
	// Every acknowledged ECHO r<round>-<n>, n < answered, must be stored.
	rs, err := db.Query(`SELECT json_extract(fields, '$.command') FROM logs
		WHERE service = 'redis' AND event_type = 'command' AND json_extract(fields, '$.command') LIKE ?`,
		fmt.Sprintf("ECHO r%d-%%", round))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	seen := map[string]bool{}
	for rs.Next() {
		var c string
		rs.Scan(&c)
		seen[c] = true
	}
	for i := int64(0); i < answered; i++ {
		if c := fmt.Sprintf("ECHO r%d-%d", round, i); !seen[c] {
			t.Fatalf("round %d: acknowledged %q is not stored (%d acknowledged, %d stored)", round, c, answered, len(seen))
		}
	}
	var dup int64
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT raw_line FROM logs GROUP BY raw_line HAVING COUNT(*) > 1)`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Fatalf("round %d: %d duplicated events", round, dup)
	}
}
