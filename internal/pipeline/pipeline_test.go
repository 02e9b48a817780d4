package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/store"
)

var t0 = time.Date(2026, 4, 18, 2, 22, 56, 0, time.UTC)

func testEvent(seq int) event.Event {
	return event.Event{Time: t0.Add(time.Duration(seq) * time.Millisecond), Decky: "decky-01", Service: "ssh",
		Type: event.TypeAuth, Severity: event.Info,
		Fields: map[string]string{"src_ip": "10.0.0.7", "username": "root", "password": "pw" + strconv.Itoa(seq), "seq": strconv.Itoa(seq)}}
}

// line is the ingest-file line of event seq.
func line(seq int) string {
	b, err := json.Marshal(event.NewRecord(testEvent(seq)))
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

func lines(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(line(i))
	}
	return b.String()
}

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, s); err != nil {
		t.Fatal(err)
	}
}

func openStore(t testing.TB, path string) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// run starts an ingester and returns a function that stops it and waits.
func run(t testing.TB, path string, repo store.Repository, opts ...Option) (*Ingester, func()) {
	t.Helper()
	opts = append([]Option{WithLogger(quietLog()), WithPollInterval(10 * time.Millisecond)}, opts...)
	g, err := NewIngester(path, repo, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	return g, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// seqs returns the seq field of every stored log, in id order.
func seqs(t testing.TB, repo store.Repository) []int {
	t.Helper()
	var out []int
	for after := int64(0); ; {
		p, err := repo.Logs(context.Background(), store.LogQuery{AfterID: after, Ascending: true, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Data) == 0 {
			return out
		}
		for _, l := range p.Data {
			n, err := strconv.Atoi(l.Fields["seq"])
			if err != nil {
				t.Fatalf("log %d has no seq: %v", l.ID, l.Fields)
			}
			out = append(out, n)
		}
		after = p.Data[len(p.Data)-1].ID
	}
}

// waitRows waits for the store to hold exactly n logs. It gives up only
// when the count stops growing for 10 s, so a slow machine (a -race build
// while other packages compile) does not fail it, but a stall does.
func waitRows(t testing.TB, repo store.Repository, n int64) {
	t.Helper()
	const stall = 10 * time.Second
	last, deadline := int64(-1), time.Now().Add(stall)
	for {
		st, err := repo.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case st.TotalLogs == n:
			return
		case st.TotalLogs > n:
			t.Fatalf("store has %d logs, want %d", st.TotalLogs, n)
		case st.TotalLogs != last:
			last, deadline = st.TotalLogs, time.Now().Add(stall)
		case time.Now().After(deadline):
			t.Fatalf("store has %d logs, want %d (no progress for %s)", st.TotalLogs, n, stall)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle gives the ingester time to (wrongly) ingest more.
func settle() { time.Sleep(80 * time.Millisecond) }

func wantSeqs(t testing.TB, repo store.Repository, want []int) {
	t.Helper()
	got := seqs(t, repo)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored seqs %v, want %v", got, want)
	}
}

func span(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// emitterSetup gives a test an ingest file path, a store and an emitter
// writing to that file, all removed when the test ends.
func emitterSetup(t *testing.T) (string, *store.SQLite, *FileEmitter) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	em, err := NewFileEmitter(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	return path, repo, em
}

func TestEmitterToStore(t *testing.T) {
	path, repo, em := emitterSetup(t)
	// A slow poll: only the notification can make this fast.
	g, stop := run(t, path, repo, WithNotify(em.Notify()), WithPollInterval(time.Hour))
	defer stop()
	start := time.Now()
	em.Emit(testEvent(0))
	waitRows(t, repo, 1)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("event took %v to reach the store", d)
	}
	ev := testEvent(1)
	ev.Time = time.Time{}
	em.Emit(ev)
	waitRows(t, repo, 2)
	p, err := repo.Logs(context.Background(), store.LogQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Data[0]; l.Timestamp.IsZero() || time.Since(l.Timestamp) > time.Minute || l.Fields["seq"] != "1" || l.AttackerIP != "10.0.0.7" {
		t.Errorf("stored %+v", l)
	}
	if st := g.Status(); !st.Running || st.Rows != 2 || st.LastError != "" || st.LastIngest.IsZero() {
		t.Errorf("status %+v", st)
	}
	b, err := repo.Bounties(context.Background(), store.BountyQuery{})
	if err != nil || b.Total != 2 {
		t.Errorf("bounties %+v, %v", b, err)
	}
	em.Close()
	em.Emit(testEvent(2)) // logged, not written, no panic
}

// TestCommittedSeesRows: the commit hook runs only once the batch's rows
// are readable, so a live stream woken by it finds them.
func TestCommittedSeesRows(t *testing.T) {
	path, repo, em := emitterSetup(t)
	seen := make(chan int64, 16)
	hook := func() {
		st, err := repo.Stats(context.Background())
		if err != nil {
			t.Error(err)
		}
		seen <- st.TotalLogs
	}
	_, stop := run(t, path, repo, WithNotify(em.Notify()), WithPollInterval(time.Hour), WithCommitted(hook))
	defer stop()
	em.Emit(testEvent(0))
	select {
	case n := <-seen:
		if n != 1 {
			t.Fatalf("hook saw %d rows, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("commit hook not called")
	}
	settle()
	if len(seen) != 0 {
		t.Fatalf("hook called %d more times without new rows", len(seen))
	}
}

func TestPartialLineWaits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	l0 := line(0)
	appendFile(t, path, l0[:40])
	g, stop := run(t, path, repo)
	defer stop()
	settle()
	wantSeqs(t, repo, nil)
	appendFile(t, path, l0[40:len(l0)-1])
	settle()
	wantSeqs(t, repo, nil)
	appendFile(t, path, "\n"+line(1))
	waitRows(t, repo, 2)
	wantSeqs(t, repo, []int{0, 1})
	if st := g.Status(); st.Offset != int64(len(l0)+len(line(1))) {
		t.Errorf("offset %d", st.Offset)
	}
}

func TestBadLinesSkipped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	long := `{"timestamp":"2026-01-01T00:00:00Z","msg":"` + strings.Repeat("x", 3000) + `"}` + "\n"
	content := line(0) + "not json\n" + line(1) + long + "\n\r\n" + `{"decky":"no timestamp"}` + "\n" + "null\n" + line(2)
	appendFile(t, path, content)
	g, stop := run(t, path, repo, WithMaxLineBytes(2000))
	waitRows(t, repo, 3)
	settle()
	stop()
	wantSeqs(t, repo, []int{0, 1, 2})
	st := g.Status()
	if st.Skipped != 4 || st.Offset != int64(len(content)) {
		t.Errorf("status %+v, want 4 skipped, offset %d", st, len(content))
	}
	// A restart does not read them again.
	_, stop = run(t, path, repo, WithMaxLineBytes(2000))
	settle()
	stop()
	wantSeqs(t, repo, []int{0, 1, 2})
}

func TestLongLineAcrossReads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	appendFile(t, path, line(0))
	g, stop := run(t, path, repo, WithMaxLineBytes(1000))
	waitRows(t, repo, 1)
	// An over-long line arrives in pieces bigger than the read buffer.
	for range 3 {
		appendFile(t, path, strings.Repeat("y", readChunk+100))
		settle()
	}
	wantSeqs(t, repo, []int{0})
	// A crash now must resume at the start of the long line, not inside it.
	if st := g.Status(); st.Offset != int64(len(line(0))) {
		t.Errorf("offset inside the long line: %d", st.Offset)
	}
	appendFile(t, path, "\n"+line(1))
	waitRows(t, repo, 2)
	stop()
	if st := g.Status(); st.Skipped != 1 {
		t.Errorf("skipped %d, want 1", st.Skipped)
	}
}

func TestRotation(t *testing.T) {
	path, repo, em := emitterSetup(t)
	_, stop := run(t, path, repo)
	defer stop()
	for i := range 3 {
		em.Emit(testEvent(i))
	}
	waitRows(t, repo, 3)
	for round := 1; round <= 3; round++ {
		// Lines land in the old file just before it is renamed, and in
		// the new one right after.
		em.Emit(testEvent(round*10 + 0))
		if err := os.Rename(path, fmt.Sprintf("%s.%d", path, round)); err != nil {
			t.Fatal(err)
		}
		em.Emit(testEvent(round*10 + 1))
		em.Emit(testEvent(round*10 + 2))
		waitRows(t, repo, int64(3+3*round))
	}
	settle()
	got := seqs(t, repo)
	sort.Ints(got)
	wantSorted := []int{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}
	if fmt.Sprint(got) != fmt.Sprint(wantSorted) {
		t.Errorf("seqs %v, want %v", got, wantSorted)
	}
}

func TestTruncation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	appendFile(t, path, lines(0, 5))
	_, stop := run(t, path, repo)
	defer stop()
	waitRows(t, repo, 5)
	// Truncated, then a shorter content.
	if err := os.WriteFile(path, []byte(lines(100, 102)), 0o644); err != nil {
		t.Fatal(err)
	}
	waitRows(t, repo, 7)
	// Truncated and at once rewritten longer than the offset (copytruncate
	// racing a busy writer): only the first bytes tell.
	if err := os.WriteFile(path, []byte(lines(200, 206)), 0o644); err != nil {
		t.Fatal(err)
	}
	waitRows(t, repo, 13)
	settle()
	wantSeqs(t, repo, []int{0, 1, 2, 3, 4, 100, 101, 200, 201, 202, 203, 204, 205})
}

func TestRestartResumes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	dbPath := filepath.Join(dir, "db")
	repo := openStore(t, dbPath)
	appendFile(t, path, lines(0, 10))
	_, stop := run(t, path, repo)
	waitRows(t, repo, 10)
	stop()
	appendFile(t, path, lines(10, 15))
	_, stop = run(t, path, repo)
	waitRows(t, repo, 15)
	settle()
	stop()
	wantSeqs(t, repo, span(0, 15))

	// While stopped, the file is replaced by a new one (rotation): it is
	// read from its start.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, lines(50, 52))
	_, stop = run(t, path, repo)
	waitRows(t, repo, 17)
	settle()
	stop()
	wantSeqs(t, repo, append(span(0, 15), 50, 51))
}

func TestMissingFileAppears(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	g, stop := run(t, path, repo)
	defer stop()
	settle()
	if st := g.Status(); !st.Running || st.LastError != "" {
		t.Errorf("a missing file is not an error: %+v", st)
	}
	appendFile(t, path, lines(0, 3))
	waitRows(t, repo, 3)
}

func TestSecondIngesterWaits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	appendFile(t, path, lines(0, 5))
	_, stop1 := run(t, path, repo)
	waitRows(t, repo, 5)
	g2, stop2 := run(t, path, repo)
	defer stop2()
	appendFile(t, path, lines(5, 10))
	waitRows(t, repo, 10)
	settle()
	if st := g2.Status(); st.Rows != 0 || !st.Standby || st.LastError != "" {
		t.Errorf("second ingester: %+v", st)
	}
	stop1()
	// The standby takes over where the first stopped.
	appendFile(t, path, lines(10, 12))
	waitRows(t, repo, 12)
	wantSeqs(t, repo, span(0, 12))
	if st := g2.Status(); st.Rows != 2 || st.Standby {
		t.Errorf("after takeover: %+v", st)
	}
}

// TestStopStoresWhatWasWritten: lines written just before Run is stopped,
// which no poll or notification has announced, are stored before Run
// returns, so a clean shutdown leaves nothing behind.
func TestStopStoresWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ingest.json")
	repo := openStore(t, filepath.Join(dir, "db"))
	appendFile(t, path, lines(0, 5))
	g, stop := run(t, path, repo, WithPollInterval(time.Hour))
	waitRows(t, repo, 5)
	appendFile(t, path, lines(5, 1200))
	stop()
	wantSeqs(t, repo, span(0, 1200))
	if st := g.Status(); st.Rows != 1200 {
		t.Errorf("status rows %d, want 1200", st.Rows)
	}
}
