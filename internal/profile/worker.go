package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"decnet/internal/event"
	"decnet/internal/store"
)

// CursorKey is the state key of the worker's cursor, {"last_log_id": N}:
// the id of the last log whose attacker has been profiled.
const CursorKey = "profiler:cursor"

// Defaults of Options.
const (
	// DefaultInterval is much shorter than the original's 30 s: there a
	// pass re-parsed every new raw line into an in-memory engine; here
	// it is one query on the logs' primary key when nothing is new, so
	// the attackers view can follow an attack as closely as the logs do.
	DefaultInterval = 2 * time.Second
	DefaultBatch    = 500
	DefaultRecent   = 5000
)

// maxPending bounds the attackers a pass collects before profiling them
// and saving the cursor, so a first pass over a large history keeps its
// memory bounded (a few MB) and checkpoints as it goes. It is large
// because every chunk re-profiles each attacker it names: with a small
// cap, a backlog where the same thousands of addresses recur throughout
// (measured: 1,000,000 logs of 2,000 addresses) re-profiled every one of
// them once per few thousand logs, for 20 minutes instead of seconds.
const maxPending = 50_000

// Options configure a Worker; zero values take the defaults.
type Options struct {
	// Interval is the pause between passes (DefaultInterval).
	Interval time.Duration
	// Batch is how many logs one read of the cursor returns (DefaultBatch).
	Batch int
	// Recent is how many of an attacker's newest logs its behaviour is
	// computed from (DefaultRecent); counts, services, deckies and
	// commands always cover all of them.
	Recent int
	// Logger receives the worker's logs; nil discards them.
	Logger *slog.Logger
}

// Worker keeps the store's attacker profiles up to date. Each pass reads
// the logs stored since its cursor, then rebuilds the whole profile of
// every attacker IP among them from what the store holds, and only then
// moves the cursor. A crash repeats at most the last pass, and a restart
// (or a deleted cursor) rebuilds from the stored logs, never from memory,
// so a profile is always the one its logs give.
type Worker struct {
	repo          store.Repository
	interval      time.Duration
	batch, recent int
	pending       int // maxPending; tests make it small
	log           *slog.Logger
	now           func() time.Time

	pass sync.Mutex // one pass at a time

	mu      sync.Mutex
	started bool
	status  Status
}

// Status is how a Worker is doing, for health checks.
type Status struct {
	Running     bool      `json:"running"`
	Cursor      int64     `json:"cursor"`   // the last log id profiled
	Profiled    int64     `json:"profiled"` // profiles written since New
	LastPass    time.Time `json:"last_pass,omitzero"`
	LastError   string    `json:"last_error,omitempty"` // empty once a later pass succeeded
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// New makes a worker over repo.
func New(repo store.Repository, opts Options) *Worker {
	w := &Worker{repo: repo, interval: opts.Interval, batch: opts.Batch, recent: opts.Recent,
		pending: maxPending, log: opts.Logger, now: time.Now}
	if w.interval <= 0 {
		w.interval = DefaultInterval
	}
	if w.batch <= 0 {
		w.batch = DefaultBatch
	}
	if w.recent <= 0 {
		w.recent = DefaultRecent
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w
}

// Run makes a pass at once, then one every interval, until ctx is done;
// then it returns nil. A failed pass is logged, shown by Status and Check,
// and retried at the next interval.
func (w *Worker) Run(ctx context.Context) error {
	w.mu.Lock()
	w.started, w.status.Running = true, true
	w.mu.Unlock()
	defer w.update(func(s *Status) { s.Running = false })

	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := w.Step(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			w.log.Error("profile pass", "err", err)
		case n > 0:
			w.log.Debug("profiled attackers", "count", n)
		}
		t.Reset(w.interval)
	}
}

// Status returns a snapshot of the worker's status.
func (w *Worker) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// Check reports nil while Run runs and its last pass succeeded; it has
// the shape of an api.Check probe.
func (w *Worker) Check(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !w.started:
		return errors.New("not started")
	case !w.status.Running:
		return errors.New("stopped")
	case w.status.LastError != "":
		return fmt.Errorf("last pass failed: %s", w.status.LastError)
	}
	return nil
}

func (w *Worker) update(fn func(*Status)) {
	w.mu.Lock()
	fn(&w.status)
	w.mu.Unlock()
}

// Step makes one pass: it profiles the attackers of every log stored
// after the cursor, moving the cursor as it goes, and says how many
// profiles it wrote. Logs without an attacker IP ("Unknown") name nobody
// to profile. If any attacker fails, the others are still profiled but
// the cursor stays, so the next pass retries them all.
func (w *Worker) Step(ctx context.Context) (profiled int, err error) {
	w.pass.Lock()
	defer w.pass.Unlock()
	defer func() {
		now := w.now()
		w.update(func(s *Status) {
			s.Profiled += int64(profiled)
			switch {
			case err == nil:
				s.LastPass, s.LastError = now, ""
			case ctx.Err() == nil: // a cancelled pass is a stop, not a failure
				s.LastError, s.LastErrorAt = err.Error(), now
			}
		})
	}()

	cursor, err := w.loadCursor(ctx)
	if err != nil {
		return 0, err
	}
	w.update(func(s *Status) { s.Cursor = cursor })
	for {
		ips, next, more, err := w.collect(ctx, cursor)
		if err != nil {
			return profiled, err
		}
		n, err := w.profileAll(ctx, ips)
		profiled += n
		if err != nil {
			return profiled, err
		}
		if next != cursor {
			if err := w.saveCursor(ctx, next); err != nil {
				return profiled, err
			}
			cursor = next
			w.update(func(s *Status) { s.Cursor = next })
		}
		if !more {
			return profiled, nil
		}
	}
}

// collect reads the logs after cursor until none are left or maxPending
// attackers are named, and returns those attackers in order of first
// appearance, the id of the last log read, and whether logs may remain.
func (w *Worker) collect(ctx context.Context, cursor int64) (ips []string, last int64, more bool, err error) {
	seen := map[string]bool{}
	last = cursor
	for len(ips) < w.pending {
		logs, err := w.repo.LogsAfter(ctx, last, w.batch)
		if err != nil {
			return nil, 0, false, fmt.Errorf("read logs after %d: %w", last, err)
		}
		for _, l := range logs {
			if ip := l.AttackerIP; ip != "" && ip != event.Unknown && !seen[ip] {
				seen[ip] = true
				ips = append(ips, ip)
			}
			last = l.ID
		}
		if len(logs) < w.batch {
			return ips, last, false, nil
		}
	}
	return ips, last, true, nil
}

// profileAll profiles each of ips, going on past failures (but not past
// cancellation), and says how many it wrote and the first error.
func (w *Worker) profileAll(ctx context.Context, ips []string) (int, error) {
	var n, failed int
	var first error
	for _, ip := range ips {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		wrote, err := w.profileOne(ctx, ip)
		switch {
		case err != nil:
			failed++
			if first == nil {
				first = err
			}
		case wrote:
			n++
		}
	}
	if first != nil {
		return n, fmt.Errorf("%d of %d attackers not profiled: %w", failed, len(ips), first)
	}
	return n, nil
}

// profileOne rebuilds and stores the profile of ip; it writes nothing when
// the store no longer holds its logs (purged since they were read).
func (w *Worker) profileOne(ctx context.Context, ip string) (bool, error) {
	act, err := w.repo.Activity(ctx, ip, w.recent)
	if errors.Is(err, store.ErrNotFound) || err == nil && act.EventCount == 0 {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("activity of %s: %w", ip, err)
	}
	bounties, err := w.repo.BountiesByIP(ctx, ip)
	if err != nil {
		return false, fmt.Errorf("bounties of %s: %w", ip, err)
	}
	a := Profile(act, bounties)
	now := w.now().UTC()
	a.UpdatedAt, a.Behavior.UpdatedAt = now, now
	if _, err := w.repo.UpsertAttacker(ctx, a); err != nil {
		return false, fmt.Errorf("store profile of %s: %w", ip, err)
	}
	return true, nil
}

type cursorState struct {
	LastLogID int64 `json:"last_log_id"`
}

// loadCursor reads the cursor; none, or an unreadable one, is 0: the
// next pass rebuilds every profile, which is slow but correct.
func (w *Worker) loadCursor(ctx context.Context) (int64, error) {
	b, err := w.repo.State(ctx, CursorKey)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read cursor: %w", err)
	}
	var c cursorState
	if err := json.Unmarshal(b, &c); err != nil || c.LastLogID < 0 {
		w.log.Warn("unreadable profiler cursor, rebuilding every profile", "value", string(b), "err", err)
		return 0, nil
	}
	return c.LastLogID, nil
}

func (w *Worker) saveCursor(ctx context.Context, id int64) error {
	b, _ := json.Marshal(cursorState{LastLogID: id}) // a struct of an int always encodes
	if err := w.repo.SetState(ctx, CursorKey, b); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}
