// Package collector streams the output of a deployment's service containers
// from the Docker engine into the ingest pipeline (the original's collector
// worker). Containers are found by their labels, followed from their first
// line or from a checkpoint, and followed again whenever they start; every
// stdout line is parsed with the one event codec, rate limited and handed
// to a sink, and everything else is logged.
package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"decnet/internal/pause"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"decnet/internal/atomicfile"
	"decnet/internal/compose"
	"decnet/internal/event"
	"decnet/internal/pipeline"
)

// Client is the part of the Docker engine API the collector uses;
// *client.Client implements it.
type Client interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerLogs(ctx context.Context, containerID string, options client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerInspect(ctx context.Context, containerID string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	Events(ctx context.Context, options client.EventsListOptions) client.EventsResult
	Ping(ctx context.Context, options client.PingOptions) (client.PingResult, error)
}

var _ Client = (*client.Client)(nil)

// Options configure a Collector.
type Options struct {
	// Project selects the containers: those labelled
	// decnet.project=<Project> and decnet.role=service.
	Project string
	// Sink receives every parsed record, from several goroutines at once.
	// A failing Sink is retried with backoff until it succeeds, so a
	// record is never lost to a transient error.
	Sink func(rec event.Record) error
	// Limit drops repeated connection events; the zero value drops none.
	Limit pipeline.RateLimit
	// Checkpoint is a file keeping, per container, how far its output was
	// handled, so a restarted collector resumes there. "" keeps none: the
	// output is then read from each container's first line.
	Checkpoint string
	// Log receives the containers' stderr lines, stdout lines that are
	// not events, and the collector's own troubles. Nil means slog.Default().
	Log *slog.Logger
}

// Collector follows the logs of one deployment's service containers.
type Collector struct {
	cli   Client
	o     Options
	lim   *pipeline.RateLimiter
	log   *slog.Logger
	dirty chan struct{} // the cursors changed since the last checkpoint write

	saveMu sync.Mutex // one checkpoint write at a time

	mu        sync.Mutex
	followers map[string]*follower
	cursors   map[string]cursor
	engineErr error // the engine stream is broken and not yet back
	sinkErr   error // the sink is failing
	saveErr   error // the checkpoint cannot be written
}

// follower is the collector's state for one container.
type follower struct {
	id  string
	log *slog.Logger // names the container in every record

	// Guarded by Collector.mu.
	active bool // a goroutine is reading its logs
	wakes  int  // times it was found running or seen starting
}

// cursor is how far a container's output was handled: the timestamp of
// the last log message handled, and how many messages with exactly that
// timestamp were. The engine's since filter is inclusive, so a resumed
// stream starts with those N messages again, and they are skipped.
type cursor struct {
	Time time.Time `json:"time"`
	N    int       `json:"n"`
}

type checkpointFile struct {
	Containers map[string]cursor `json:"containers"`
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// checkpointEvery spaces checkpoint writes under a flood of lines; a
	// collector killed without warning repeats at most the lines of the
	// last interval, one stopped normally repeats none.
	checkpointEvery = 25 * time.Millisecond
)

const (
	stdout = iota
	stderr
)

// New returns a collector reading from cli. Nothing happens until Run.
func New(cli Client, o Options) *Collector {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	return &Collector{
		cli:       cli,
		o:         o,
		lim:       pipeline.NewRateLimiter(o.Limit),
		log:       log,
		dirty:     make(chan struct{}, 1),
		followers: map[string]*follower{},
		cursors:   map[string]cursor{},
	}
}

// Run follows the project's service containers until ctx ends, then
// writes the checkpoint and returns that write's error, if any. Containers that exist when Run
// starts are read from their checkpoint; containers started later, or
// again, are picked up from the engine's events. When the engine goes
// away Run keeps retrying with backoff. Run must not be called twice at
// once.
func (c *Collector) Run(ctx context.Context) error {
	if c.o.Project == "" {
		return errors.New("collector: no project")
	}
	if c.o.Sink == nil {
		return errors.New("collector: no sink")
	}
	if err := c.load(); err != nil {
		return err
	}
	saveCtx, stopSaving := context.WithCancel(context.Background())
	saved := make(chan struct{})
	go func() {
		defer close(saved)
		c.saveLoop(saveCtx)
	}()

	var wg sync.WaitGroup
	wait := minBackoff
	for {
		began := time.Now()
		err := c.watch(ctx, &wg)
		if ctx.Err() != nil {
			break
		}
		c.setErr(&c.engineErr, err)
		if time.Since(began) > maxBackoff {
			wait = minBackoff // it worked for a while: this is a new outage
		}
		c.log.Warn("docker engine stream broke; reconnecting", "err", err, "in", wait)
		if !pause.For(ctx, wait) {
			break
		}
		wait = min(2*wait, maxBackoff)
	}
	wg.Wait()
	stopSaving()
	<-saved
	return c.save()
}

// Check reports whether the collector can work: the engine answers, and
// neither the engine stream, the sink nor the checkpoint is failing.
func (c *Collector) Check(ctx context.Context) error {
	if _, err := c.cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("docker engine unreachable: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.engineErr, c.sinkErr, c.saveErr)
}

// labelFilter selects the project's service containers.
func (c *Collector) labelFilter() client.Filters {
	return make(client.Filters).Add("label",
		compose.LabelProject+"="+c.o.Project,
		compose.LabelRole+"="+compose.RoleService)
}

// ours checks the labels again: the engine applies the filters, but the
// collector must not stream another deployment's containers if it did not.
func (c *Collector) ours(labels map[string]string) bool {
	return labels[compose.LabelProject] == c.o.Project && labels[compose.LabelRole] == compose.RoleService
}

// watch subscribes to container events, then lists the containers (so
// none starts unseen in between), follows them, and follows the ones that
// start until the event stream ends.
func (c *Collector) watch(ctx context.Context, wg *sync.WaitGroup) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evs := c.cli.Events(wctx, client.EventsListOptions{
		Filters: c.labelFilter().Add("type", string(events.ContainerEventType)).
			Add("event", string(events.ActionStart), string(events.ActionDestroy)),
	})
	// Stopped containers too: one may hold lines written while no
	// collector ran.
	list, err := c.cli.ContainerList(wctx, client.ContainerListOptions{All: true, Filters: c.labelFilter()})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	c.prune(list.Items)
	for _, s := range list.Items {
		if c.ours(s.Labels) {
			c.wake(ctx, wg, s.ID, s.Labels)
		}
	}
	c.setErr(&c.engineErr, nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-evs.Err:
			return fmt.Errorf("engine events: %w", err)
		case m := <-evs.Messages:
			if m.Type != events.ContainerEventType || !c.ours(m.Actor.Attributes) {
				continue
			}
			switch m.Action {
			case events.ActionStart:
				c.wake(ctx, wg, m.Actor.ID, m.Actor.Attributes)
			case events.ActionDestroy:
				c.forget(m.Actor.ID)
			}
		}
	}
}

// wake makes sure a goroutine reads the container's logs: it starts one,
// or tells the running one to read again once its stream ends, in case
// the stream ended before the container (re)started.
func (c *Collector) wake(ctx context.Context, wg *sync.WaitGroup, id string, labels map[string]string) {
	c.mu.Lock()
	f := c.followers[id]
	if f == nil {
		f = &follower{id: id, log: c.log.With(
			"container", shortID(id),
			"decky", labels[compose.LabelDecky],
			"service", labels[compose.LabelService])}
		c.followers[id] = f
	}
	f.wakes++
	if f.active {
		c.mu.Unlock()
		return
	}
	f.active = true
	c.mu.Unlock()
	wg.Go(func() { c.follow(ctx, f) })
}

// forget drops a destroyed container, unless its goroutine still runs;
// that one drops it when it finds the container gone.
func (c *Collector) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.followers[id]; f != nil && f.active {
		return
	}
	c.dropLocked(id)
}

// prune drops the containers that no longer exist, listed being all that do.
func (c *Collector) prune(listed []container.Summary) {
	exists := make(map[string]bool, len(listed))
	for _, s := range listed {
		exists[s.ID] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.cursors {
		if !exists[id] && (c.followers[id] == nil || !c.followers[id].active) {
			c.dropLocked(id)
		}
	}
	for id, f := range c.followers {
		if !exists[id] && !f.active {
			c.dropLocked(id)
		}
	}
}

func (c *Collector) dropLocked(id string) {
	delete(c.followers, id)
	if _, ok := c.cursors[id]; ok {
		delete(c.cursors, id)
		c.markDirty()
	}
}

// follow reads the container's logs from its cursor until the container
// stops for good (no start seen since), is removed, or ctx ends.
func (c *Collector) follow(ctx context.Context, f *follower) {
	f.log.Debug("following container")
	wait := minBackoff
	for {
		c.mu.Lock()
		wakes, cur := f.wakes, c.cursors[f.id]
		c.mu.Unlock()
		n, err := c.stream(ctx, f, cur)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			f.log.Warn("container log stream broke", "err", err)
		}
		if n > 0 {
			wait = minBackoff
		}
		res, err := c.cli.ContainerInspect(ctx, f.id, client.ContainerInspectOptions{})
		switch {
		case ctx.Err() != nil:
			return
		case cerrdefs.IsNotFound(err):
			c.mu.Lock()
			c.dropLocked(f.id)
			c.mu.Unlock()
			f.log.Debug("container removed")
			return
		case err != nil:
			f.log.Warn("cannot inspect container", "err", err)
		case res.Container.State == nil || !res.Container.State.Running:
			if c.idle(f, wakes) {
				f.log.Debug("container stopped")
				return
			}
			continue // it started again meanwhile: read what it wrote
		}
		// Still running, or unknown: read again, pausing when the last
		// stream brought nothing so one that keeps ending is no busy loop.
		if n == 0 {
			if !pause.For(ctx, wait) {
				return
			}
			wait = min(2*wait, maxBackoff)
		}
	}
}

// idle marks f as no longer followed, unless it was woken after wakes was
// read: then the caller reads again.
func (c *Collector) idle(f *follower, wakes int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.wakes != wakes {
		return false
	}
	f.active = false
	return true
}

// stream reads the container's logs from cur until the stream ends, and
// returns how many new log messages it handled.
func (c *Collector) stream(ctx context.Context, f *follower, cur cursor) (int, error) {
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: true}
	if !cur.Time.IsZero() {
		opts.Since = cur.Time.UTC().Format(time.RFC3339Nano)
	}
	rc, err := c.cli.ContainerLogs(ctx, f.id, opts)
	if err != nil {
		return 0, fmt.Errorf("open log stream: %w", err)
	}
	defer rc.Close()
	r := &reader{c: c, ctx: ctx, f: f, skip: cur, at: cur}
	for i := range r.lines {
		r.lines[i].max = MaxLineBytes
	}
	_, err = stdcopy.StdCopy(streamWriter{r, stdout}, streamWriter{r, stderr}, rc)
	if err == nil && ctx.Err() == nil {
		// The container stopped: a last line without its newline is
		// complete now.
		err = r.flush()
	}
	return r.handled, err
}

// reader turns one log stream's messages into lines and moves the
// container's cursor past every message whose lines are all handled.
type reader struct {
	c     *Collector
	ctx   context.Context
	f     *follower
	lines [2]lineSplitter
	// skip counts down the messages at skip.Time that a resumed stream
	// repeats.
	skip    cursor
	at      cursor // position after the last message read
	handled int
}

// streamWriter receives one stream's messages: stdcopy writes each frame,
// which the engine fills with exactly one log message, in one Write.
type streamWriter struct {
	r *reader
	s int
}

func (w streamWriter) Write(p []byte) (int, error) {
	if err := w.r.message(w.s, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (r *reader) message(s int, p []byte) error {
	ts, content, ok := splitTimestamp(p)
	if !ok {
		r.f.log.Warn("container log message without timestamp")
	}
	if r.skip.N > 0 && ts.Equal(r.skip.Time) {
		r.skip.N--
		return nil
	}
	r.handled++
	switch {
	case ts.IsZero():
	case ts.Equal(r.at.Time):
		r.at.N++
	default:
		r.at = cursor{Time: ts, N: 1}
	}
	if err := r.lines[s].add(ts, content, func(l line) error { return r.c.handle(r.ctx, r.f, s, l) }); err != nil {
		return err
	}
	r.advance()
	return nil
}

func (r *reader) flush() error {
	for s := range r.lines {
		if err := r.lines[s].flush(func(l line) error { return r.c.handle(r.ctx, r.f, s, l) }); err != nil {
			return err
		}
	}
	r.advance()
	return nil
}

// advance moves the container's cursor to the reader's position when no
// line is half read, so a resumed stream never starts inside a line.
func (r *reader) advance() {
	if r.lines[stdout].pending() || r.lines[stderr].pending() || r.at.Time.IsZero() {
		return
	}
	r.c.mu.Lock()
	if cur := r.c.cursors[r.f.id]; cur.N != r.at.N || !cur.Time.Equal(r.at.Time) {
		r.c.cursors[r.f.id] = r.at
		r.c.markDirty()
	}
	r.c.mu.Unlock()
}

// handle takes one line of a container: stdout lines are events, stderr
// lines the service's own logs. Nothing is dropped without a trace but
// blank lines and rate-limited repeats.
func (c *Collector) handle(ctx context.Context, f *follower, s int, l line) error {
	if l.size > len(l.text) {
		f.log.Warn("container log line too long; cut", "stream", streamName(s), "bytes", l.size, "kept", len(l.text))
	}
	if len(bytes.TrimSpace(l.text)) == 0 {
		return nil
	}
	if s == stderr {
		f.log.Info("container stderr", "line", string(l.text))
		return nil
	}
	rec, err := event.ParseRecord(string(l.text))
	if err != nil {
		f.log.Warn("container stdout line is not an event", "err", err, "line", string(l.text))
		return nil
	}
	if !c.lim.Allow(rec, time.Now()) {
		return nil
	}
	return c.deliver(ctx, f, rec)
}

// deliver hands rec to the sink, retrying until it takes it or ctx ends;
// the container's output waits meanwhile, in the engine's log files.
func (c *Collector) deliver(ctx context.Context, f *follower, rec event.Record) error {
	wait := minBackoff
	failed := false
	for {
		err := c.o.Sink(rec)
		if err == nil {
			if failed {
				c.setErr(&c.sinkErr, nil)
			}
			return nil
		}
		failed = true
		c.setErr(&c.sinkErr, fmt.Errorf("sink: %w", err))
		f.log.Error("event not handed over; retrying", "err", err, "in", wait, "line", rec.RawLine)
		if !pause.For(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, maxBackoff)
	}
}

func (c *Collector) setErr(dst *error, err error) {
	c.mu.Lock()
	*dst = err
	c.mu.Unlock()
}

func (c *Collector) markDirty() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

// load reads the checkpoint; a missing file is an empty one. A corrupt
// one is an error rather than a silent restart from every container's
// first line, which would store every event again.
func (c *Collector) load() error {
	if c.o.Checkpoint == "" {
		return nil
	}
	b, err := os.ReadFile(c.o.Checkpoint)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("collector checkpoint: %w", err)
	}
	var cf checkpointFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return fmt.Errorf("collector checkpoint %s is corrupt (delete it to read every container from its start): %w", c.o.Checkpoint, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, cur := range cf.Containers {
		c.cursors[id] = cur
	}
	return nil
}

// save writes the checkpoint atomically, so a crash leaves the old or the
// new one, never a torn one.
func (c *Collector) save() error {
	if c.o.Checkpoint == "" {
		return nil
	}
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	b, err := json.Marshal(checkpointFile{Containers: c.cursors})
	c.mu.Unlock()
	if err == nil {
		err = atomicfile.Write(c.o.Checkpoint, b, 0o600)
	}
	if err != nil {
		err = fmt.Errorf("write collector checkpoint: %w", err)
	}
	c.setErr(&c.saveErr, err)
	return err
}

func (c *Collector) saveLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.dirty:
		}
		if err := c.save(); err != nil {
			c.log.Error("collector checkpoint not written", "err", err)
		}
		if !pause.For(ctx, checkpointEvery) {
			return
		}
	}
}

func streamName(s int) string {
	if s == stderr {
		return "stderr"
	}
	return "stdout"
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
