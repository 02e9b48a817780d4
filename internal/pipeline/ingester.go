package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"decnet/internal/pause"

	"decnet/internal/event"
	"decnet/internal/flock"
	"decnet/internal/store"
)

// Defaults of an Ingester.
const (
	DefaultBatchRows    = 500
	DefaultPollInterval = 250 * time.Millisecond
	DefaultMaxLineBytes = 1 << 20
)

// commitTimeout bounds one commit attempt, also the last one made after
// Run's context is cancelled.
const commitTimeout = 30 * time.Second

// Ingester tails the JSON-lines ingest file into a store. Each batch of
// records is committed together with the checkpoint that follows it (the
// file's identity and the offset after the batch's last line), so a crash
// at any point neither loses nor repeats a line. A new file at the path
// (rotation) or a shorter one (truncation) is read from its start.
type Ingester struct {
	path, key string
	repo      store.Repository
	log       *slog.Logger
	notify    <-chan struct{}
	committed func()
	batchRows int
	poll      time.Duration
	maxLine   int

	mu     sync.Mutex
	status Status
}

// Status is how an Ingester is doing, for health checks.
type Status struct {
	Path        string    `json:"path"`
	Running     bool      `json:"running"`
	Standby     bool      `json:"standby"` // waiting while another ingester reads the file
	Offset      int64     `json:"offset"`  // committed offset in the current file
	Rows        int64     `json:"rows"`    // records committed since Run began
	Skipped     int64     `json:"skipped"` // corrupt or over-long lines skipped since Run began
	LastIngest  time.Time `json:"last_ingest,omitzero"`
	LastError   string    `json:"last_error,omitempty"` // empty once a later attempt succeeded
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Option configures an Ingester.
type Option func(*Ingester)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(g *Ingester) { g.log = l } }

// WithNotify wakes the ingester whenever c receives, e.g. a FileEmitter's
// Notify(), for low latency without polling fast.
func WithNotify(c <-chan struct{}) Option { return func(g *Ingester) { g.notify = c } }

// WithCommitted calls fn after each batch of rows is committed, e.g. to
// wake live streams so they read the new rows at once. fn runs on the
// ingester's goroutine and must not block.
func WithCommitted(fn func()) Option { return func(g *Ingester) { g.committed = fn } }

// WithBatchRows caps the records per transaction (default 500).
func WithBatchRows(n int) Option { return func(g *Ingester) { g.batchRows = max(n, 1) } }

// WithPollInterval sets how often the file is checked for lines written by
// other processes (default 250 ms).
func WithPollInterval(d time.Duration) Option { return func(g *Ingester) { g.poll = d } }

// WithMaxLineBytes sets the longest line accepted (default 1 MiB); longer
// ones are skipped and logged.
func WithMaxLineBytes(n int) Option { return func(g *Ingester) { g.maxLine = max(n, 1) } }

// NewIngester makes an ingester of the file at path into repo. Its
// checkpoint is the state key "ingest:" + the absolute path.
func NewIngester(path string, repo store.Repository, opts ...Option) (*Ingester, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("ingest file %q: %w", path, err)
	}
	g := &Ingester{path: abs, key: "ingest:" + abs, repo: repo, log: slog.Default(),
		batchRows: DefaultBatchRows, poll: DefaultPollInterval, maxLine: DefaultMaxLineBytes}
	for _, o := range opts {
		o(g)
	}
	g.status.Path = abs
	return g, nil
}

// Status returns a snapshot of the ingester's status.
func (g *Ingester) Status() Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status
}

func (g *Ingester) update(fn func(*Status)) {
	g.mu.Lock()
	fn(&g.status)
	g.mu.Unlock()
}

func (g *Ingester) fail(msg string, err error) {
	g.log.Error(msg, "path", g.path, "err", err)
	g.update(func(s *Status) { s.LastError, s.LastErrorAt = fmt.Sprintf("%s: %v", msg, err), time.Now() })
}

// batch is what the reader hands the committer: records and the
// checkpoint after them.
type batch struct {
	recs    []event.Record
	skipped int
	cp      checkpoint
}

// Run ingests until ctx is cancelled, then commits the batch in hand and
// returns nil. Store and file errors are logged, shown in Status and
// retried; they do not end Run. While another ingester (in this or another
// process) reads the same file, Run waits as its standby.
//
// A reader goroutine decodes the next batch while the current one is
// being committed, so decoding costs little wall time.
func (g *Ingester) Run(ctx context.Context) error {
	g.update(func(s *Status) { s.Running = true })
	defer g.update(func(s *Status) { s.Running = false })

	release, ok := g.lock(ctx)
	if !ok {
		return nil
	}
	defer release()
	cp, ok := g.loadCheckpoint(ctx)
	if !ok {
		return nil
	}
	g.update(func(s *Status) { s.Offset = cp.Offset })
	readCtx, stop := context.WithCancel(ctx)
	batches := make(chan batch, 1)
	var wg sync.WaitGroup
	wg.Go(func() { g.read(readCtx, cp, batches) })
	defer wg.Wait()
	defer stop()
	committed := cp
	for {
		select {
		case <-ctx.Done():
			stop()
			wg.Wait()
			g.drain(committed)
			return nil
		case b := <-batches:
			if g.commit(ctx, b) {
				committed = b.cp
			}
		}
	}
}

// drainTimeout bounds the last pass of a stopping ingester.
const drainTimeout = 10 * time.Second

// drain stores whatever the file holds past cp when Run is stopped, so a
// clean shutdown (services stopped first, their last events written)
// leaves nothing behind for the next start to pick up.
func (g *Ingester) drain(cp checkpoint) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	t, err := g.open(cp)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			g.fail("open ingest file", err)
		}
		return
	}
	defer func() { t.close() }()
	for ctx.Err() == nil {
		t = g.follow(t)
		b, atEnd, err := g.fill(t)
		if err != nil {
			g.fail("read ingest file", err)
			return
		}
		if len(b.recs) > 0 || b.cp != cp {
			if !g.commit(ctx, b) {
				return
			}
			cp = b.cp
		}
		if atEnd {
			return
		}
	}
}

// retryDelay is the pause after a failed store or lock operation.
const retryDelay = time.Second

// lock takes the lock file beside the ingest file (path + ".lock"), waiting
// while another ingester holds it: two ingesters of one file, say in
// "decnet up" and "decnet api", would store every line twice. The lock is
// what makes the second one a standby.
func (g *Ingester) lock(ctx context.Context) (release func(), ok bool) {
	for {
		release, err := flock.TryLock(g.path + ".lock")
		switch {
		case err == nil:
			g.update(func(s *Status) { s.Standby = false })
			return release, true
		case errors.Is(err, flock.ErrLocked):
			g.update(func(s *Status) { s.Standby = true })
		case !errors.Is(err, os.ErrNotExist):
			g.fail("lock ingest file", err)
		}
		if !pause.For(ctx, retryDelay) {
			return nil, false
		}
	}
}

func (g *Ingester) loadCheckpoint(ctx context.Context) (checkpoint, bool) {
	for {
		v, err := g.repo.State(ctx, g.key)
		var cp checkpoint
		switch {
		case errors.Is(err, store.ErrNotFound):
			return cp, true
		case err == nil:
			if jerr := json.Unmarshal(v, &cp); jerr != nil {
				g.log.Error("ingest checkpoint unreadable; reading the file from its start", "path", g.path, "err", jerr)
				return checkpoint{}, true
			}
			return cp, true
		}
		g.fail("read ingest checkpoint", err)
		if !pause.For(ctx, retryDelay) {
			return cp, false
		}
	}
}

// commit stores b, retrying until it succeeds, and reports whether it did. Once ctx is cancelled it
// makes one last attempt on a context of its own, so the batch in hand is
// not thrown away on shutdown.
func (g *Ingester) commit(ctx context.Context, b batch) bool {
	cpJSON, err := json.Marshal(b.cp)
	if err != nil {
		g.fail("encode checkpoint", err)
		return false
	}
	for {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		err := g.repo.Ingest(cctx, b.recs, g.key, cpJSON)
		cancel()
		if err == nil {
			g.update(func(s *Status) {
				s.Offset, s.Rows, s.Skipped = b.cp.Offset, s.Rows+int64(len(b.recs)), s.Skipped+int64(b.skipped)
				s.LastIngest, s.LastError = time.Now(), ""
			})
			if g.committed != nil && len(b.recs) > 0 {
				g.committed()
			}
			return true
		}
		g.fail("ingest batch", err)
		if ctx.Err() != nil || !pause.For(ctx, retryDelay) {
			return false
		}
	}
}

// read is the reader goroutine: it sends a batch whenever it has one, full
// or at the end of the data written so far, and then waits for a
// notification or the poll interval.
func (g *Ingester) read(ctx context.Context, cp checkpoint, out chan<- batch) {
	var t *tail
	defer func() {
		if t != nil {
			t.close()
		}
	}()
	sent := cp
	for ctx.Err() == nil {
		if t == nil {
			var err error
			if t, err = g.open(cp); err != nil {
				if !errors.Is(err, os.ErrNotExist) {
					g.fail("open ingest file", err)
				}
				g.wait(ctx)
				continue
			}
		}
		// Check before reading: bytes past our offset in a file rewritten
		// since the last look belong to other lines.
		t = g.follow(t)
		b, atEnd, err := g.fill(t)
		if err != nil {
			g.fail("read ingest file", err)
		}
		if len(b.recs) > 0 || b.cp != sent {
			select {
			case out <- b:
				sent = b.cp
			case <-ctx.Done():
				return
			}
		}
		if atEnd {
			g.wait(ctx)
		}
	}
}

// open opens the file at the checkpoint, or at 0 if it is another file.
func (g *Ingester) open(cp checkpoint) (*tail, error) {
	t, resumed, err := openTail(g.path, cp)
	if err != nil {
		return nil, err
	}
	if cp.Offset > 0 && !resumed {
		g.log.Warn("ingest file was replaced or truncated since the checkpoint; reading it from the start",
			"path", g.path, "checkpoint_offset", cp.Offset)
	}
	return t, nil
}

// fill reads lines into a batch until it holds batchRows records or the
// written data ends (atEnd).
func (g *Ingester) fill(t *tail) (b batch, atEnd bool, err error) {
	b.recs = make([]event.Record, 0, g.batchRows)
	for len(b.recs) < g.batchRows {
		line, tooLong, ok, err := t.next(g.maxLine)
		if err != nil {
			b.cp = t.checkpoint()
			return b, true, err
		}
		if !ok {
			atEnd = true
			break
		}
		switch {
		case tooLong > 0:
			b.skipped++
			g.log.Error("ingest line skipped: longer than the limit", "path", g.path,
				"end_offset", t.boundary, "bytes", tooLong, "limit", g.maxLine)
		case len(line) == 0 || len(line) == 1 && line[0] == '\r':
		default:
			// Called directly: json.Unmarshal would scan the line twice
			// more before handing it to the same method.
			var r event.Record
			if err := r.UnmarshalJSON(line); err != nil {
				b.skipped++
				g.log.Error("ingest line skipped: not a record", "path", g.path,
					"end_offset", t.boundary, "err", err, "line", clip(line))
				continue
			}
			b.recs = append(b.recs, r)
		}
	}
	b.cp = t.checkpoint()
	return b, atEnd, nil
}

// clip shortens a line for a log message.
func clip(b []byte) string {
	const n = 1024
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// follow checks whether the path now names
// another file (rotation: finish the old one, then start the new one at 0)
// or the file shrank or was rewritten (truncation: start again at 0). It
// returns the tail to read next.
func (g *Ingester) follow(t *tail) *tail {
	fi, err := os.Stat(g.path)
	if err == nil && fileID(fi) != t.id {
		// The old file may have got lines between our last read and its
		// rename: finish it first.
		if old, err := t.f.Stat(); err == nil && old.Size() > t.pos() {
			return t
		}
		nt, _, err := openTail(g.path, checkpoint{})
		if err != nil {
			return t
		}
		if len(t.buf) > 0 || t.discard {
			g.log.Warn("rotated ingest file ended in an incomplete line; dropped", "path", g.path, "bytes", len(t.buf))
		}
		g.log.Info("ingest file rotated; reading the new file", "path", g.path)
		t.close()
		return nt
	}
	cur, err := t.f.Stat()
	if err != nil {
		return t
	}
	if cur.Size() < t.pos() || t.rewritten() {
		g.log.Warn("ingest file truncated or rewritten; reading it from the start", "path", g.path,
			"size", cur.Size(), "offset", t.pos())
		if err := t.reset(); err != nil {
			g.fail("rewind ingest file", err)
		}
	}
	return t
}

// wait blocks until a notification, the poll interval or ctx's end.
func (g *Ingester) wait(ctx context.Context) {
	t := time.NewTimer(g.poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-g.notify:
	case <-t.C:
	}
}
