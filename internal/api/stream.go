package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"decnet/internal/store"
)

// Tunables of the live stream. The timings live in streamTiming so tests
// can shorten them; these are the production values.
const (
	// streamBatch is the most logs one message carries (the original's).
	streamBatch = 50
	// histogramInterval is the width of the stream's histogram buckets,
	// the dashboard's default.
	histogramInterval = 15 * time.Minute
	// maxStreams bounds live streams per server: each holds a connection
	// and polls the store, so a viewer must not be able to open thousands.
	maxStreams = 64
	// maxStreamsPerUser keeps one account from taking every slot.
	maxStreamsPerUser = 16
	// streamRetry is the reconnection delay the stream suggests (ms).
	streamRetry = 2000
)

// streamTiming are the stream's intervals.
type streamTiming struct {
	// keepalive: a comment line after this long without output, so
	// proxies and browsers do not drop an idle connection.
	keepalive time.Duration
	// poll: how often a stream looks at the store while nothing calls
	// Notify; short enough to deliver a new log within a second.
	poll time.Duration
	// fallbackPoll replaces poll once Notify has been called: a missed
	// notification then costs at most this much delay.
	fallbackPoll time.Duration
	// minCheck spaces store checks when notifications come in bursts
	// (one per ingest commit).
	minCheck time.Duration
	// summary: stats and histogram are re-sent this often when idle...
	summary time.Duration
	// summaryGap: ...and after a logs message, at most this often.
	summaryGap time.Duration
	// write bounds each write, so a client that stops reading is dropped.
	write time.Duration
}

var defaultStreamTiming = streamTiming{
	keepalive:    15 * time.Second,
	poll:         500 * time.Millisecond,
	fallbackPoll: time.Second,
	minCheck:     100 * time.Millisecond,
	summary:      10 * time.Second,
	summaryGap:   2 * time.Second,
	write:        10 * time.Second,
}

// streamHub is what the live streams of one server share.
type streamHub struct {
	timing    streamTiming
	ticketKey []byte
	ticketTTL time.Duration
	limit     int // streams per server
	userLimit int // streams per user

	notified atomic.Bool // Notify has been called at least once

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced by Notify
	closed  chan struct{} // closed by CloseStreams
	total   int
	perUser map[string]int
}

func newStreamHub(secret []byte) *streamHub {
	return &streamHub{
		timing:    defaultStreamTiming,
		ticketKey: ticketKey(secret),
		ticketTTL: ticketTTL,
		limit:     maxStreams,
		userLimit: maxStreamsPerUser,
		wake:      make(chan struct{}),
		closed:    make(chan struct{}),
		perUser:   map[string]int{},
	}
}

// Notify tells the live streams that new logs may be stored, so they look
// now instead of at their next poll. Call it after each ingest commit
// (e.g. from the ingester's commit hook); it never blocks and is cheap
// when no stream is open. Without it streams still poll the store twice a
// second; once it has been called they fall back to once a second.
func (s *Server) Notify() {
	h := s.streams
	h.notified.Store(true)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.total == 0 {
		// A stream that opens later looks at the store before it waits.
		return
	}
	close(h.wake)
	h.wake = make(chan struct{})
}

// CloseStreams ends every live stream and refuses new ones (503). Register
// it with http.Server.RegisterOnShutdown: Shutdown does not cancel the
// requests it waits for, and a stream would otherwise hold it until its
// deadline.
func (s *Server) CloseStreams() {
	h := s.streams
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
	default:
		close(h.closed)
	}
}

// waiter returns the channel the next Notify closes.
func (h *streamHub) waiter() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wake
}

// acquire takes a stream slot for user, or answers why not.
func (h *streamHub) acquire(user string) (release func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
		return nil, huma.Error503ServiceUnavailable("server shutting down")
	default:
	}
	retry := http.Header{"Retry-After": {"10"}}
	switch {
	case h.total >= h.limit:
		return nil, huma.ErrorWithHeaders(huma.Error503ServiceUnavailable("too many live streams"), retry)
	case h.perUser[user] >= h.userLimit:
		return nil, huma.ErrorWithHeaders(huma.Error429TooManyRequests("too many live streams for this user"), retry)
	}
	h.total++
	h.perUser[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.total--
			if h.perUser[user]--; h.perUser[user] == 0 {
				delete(h.perUser, user)
			}
		})
	}, nil
}

// Security scheme names of the stream's query credentials.
const (
	ticketScheme     = "streamTicket"
	queryTokenScheme = "queryToken"
)

// Messages of the stream: each is the data line of an `event: message`
// frame, told apart by type as in the original.
type (
	streamStats struct {
		Type string    `json:"type" enum:"stats"`
		Data StatsBody `json:"data"`
	}
	streamHistogram struct {
		Type string         `json:"type" enum:"histogram"`
		Data []store.Bucket `json:"data"`
	}
	streamLogs struct {
		Type string      `json:"type" enum:"logs"`
		Data []store.Log `json:"data"`
	}
	streamError struct {
		Type    string `json:"type" enum:"error"`
		Message string `json:"message"`
	}
)

const streamDescription = "Server-sent events (text/event-stream) of new logs, with the dashboard's counters and " +
	"histogram. Every frame is `event: message` with a JSON `data:` line whose `type` is `stats` (the body of " +
	"GET /stats), `histogram` (15-minute buckets of the filtered logs, as GET /logs/histogram) or `logs` (up to 50 " +
	"new rows matching search/start_time/end_time, oldest first, shaped as in GET /logs). A `logs` frame has an " +
	"`id:` line, the id of its last row. Stats and histogram come first, after each logs message (at most every " +
	"2 s) and every 10 s otherwise; `: keepalive` comment lines come after 15 s of silence. The stream opens " +
	"with `retry:` and, when logs exist, an `id:` line of its starting point, so an EventSource that reconnects " +
	"resumes without a gap.\n\n" +
	"Resume: rows after the `Last-Event-ID` header (sent by EventSource on reconnection) or else the " +
	"`lastEventId` parameter; 0, absent or beyond the newest log means only logs stored from now on. A store " +
	"error ends the stream with `event: error` and data `{\"type\":\"error\",\"message\":\"Stream interrupted\"}`; " +
	"the stream also ends when the user is deleted, demoted below viewer or changes password (checked every 10 s).\n\n" +
	"Authentication, since EventSource cannot set headers: `Authorization: Bearer <access token>`, or " +
	"`?ticket=` with a ticket from POST /stream/ticket (valid 60 s, only here), or `?token=<access token>` as " +
	"the original allowed (discouraged: URLs end up in proxy and server logs). At most 64 streams per server " +
	"(503 beyond) and 16 per user (429)."

func (s *Server) registerStream() {
	s.streams = newStreamHub(s.secret)
	oapi := s.api.OpenAPI()
	oapi.Components.SecuritySchemes[ticketScheme] = &huma.SecurityScheme{
		Type: "apiKey", In: "query", Name: "ticket",
		Description: "A stream ticket from POST /stream/ticket; valid 60 s and only for GET /stream.",
	}
	oapi.Components.SecuritySchemes[queryTokenScheme] = &huma.SecurityScheme{
		Type: "apiKey", In: "query", Name: "token",
		Description: "An access token in the URL, for compatibility; discouraged, since URLs are logged. Prefer a ticket.",
	}
	reg := oapi.Components.Schemas
	var frames []any
	for _, v := range []any{streamStats{}, streamHistogram{}, streamLogs{}, streamError{}} {
		frames = append(frames, reg.Schema(reflect.TypeOf(v), true, ""))
	}

	route(s, viewer, huma.Operation{
		Method: http.MethodPost, Path: "/stream/ticket", Tags: []string{"stream"},
		Summary: "Get a stream ticket",
		Description: "A ticket for `GET /stream?ticket=…`, where a browser's EventSource cannot send the Authorization " +
			"header. It opens streams for 60 s (a stream it opened goes on), works nowhere else, and stops " +
			"working when the password it was issued under changes.",
	}, s.streamTicket)
	route(s, public, huma.Operation{
		Method: http.MethodGet, Path: "/stream", Tags: []string{"stream"},
		Summary:     "Live stream of logs, stats and histogram",
		Description: streamDescription,
		// route leaves security to us at the public level: the stream
		// checks its own credentials (streamAuth), which may come in the
		// query, with the same outcomes as a viewer route.
		Security: []map[string][]string{{securityScheme: {}}, {ticketScheme: {}}, {queryTokenScheme: {}}},
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests,
			http.StatusServiceUnavailable},
		Middlewares: huma.Middlewares{s.streamAuth},
		Responses: map[string]*huma.Response{"200": {
			Description: "An endless text/event-stream; see the operation's description.",
			Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{
				Type:        huma.TypeString,
				Description: "SSE frames; each data line is one of x-sse-data.",
				Extensions:  map[string]any{"x-sse-data": map[string]any{"oneOf": frames}},
			}}},
		}},
	}, s.stream)
}

type streamInput struct {
	SearchParams
	LastEventID int64 `query:"lastEventId" minimum:"0" doc:"Resume after this log id when no Last-Event-ID header is sent; 0 means only new logs."`
	// The header is a string so that a malformed value is refused with
	// its location, not silently taken as 0.
	LastEventIDHeader string `header:"Last-Event-ID" maxLength:"19" pattern:"^[0-9]+$" doc:"Resume after this log id (a decimal integer); wins over lastEventId."`

	after int64
}

// Resolve settles the resume point (header first) and the search bounds.
// huma does not call the embedded SearchParams' Resolve once the outer
// type has its own.
func (in *streamInput) Resolve(ctx huma.Context) []error {
	errs := in.SearchParams.Resolve(ctx)
	after, err := resumePoint(in.LastEventIDHeader, in.LastEventID)
	if err != nil {
		errs = append(errs, &huma.ErrorDetail{Location: "header.Last-Event-ID", Value: in.LastEventIDHeader,
			Message: err.Error()})
	}
	in.after = after
	return errs
}

var _ huma.Resolver = (*streamInput)(nil)

// resumePoint is the log id a stream resumes after: the Last-Event-ID
// header when sent (ASCII digits only, at most MaxInt64), else query.
func resumePoint(header string, query int64) (int64, error) {
	if header == "" {
		return query, nil
	}
	for i := 0; i < len(header); i++ {
		if header[i] < '0' || header[i] > '9' {
			return 0, errors.New("must be a decimal log id")
		}
	}
	n, err := strconv.ParseUint(header, 10, 63)
	if err != nil {
		return 0, errors.New("must be a log id of at most 19 digits")
	}
	return int64(n), nil
}

// stream serves GET /stream.
func (s *Server) stream(ctx context.Context, in *streamInput) (_ *huma.StreamResponse, err error) {
	u := userOf(ctx)
	release, err := s.streams.acquire(u.UUID)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	newest, err := s.repo.MaxLogID(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	q := store.LogQuery{Search: in.Search, Since: in.since, Until: in.until}
	if q.Search != "" {
		// A search the store refuses must be a 422 now, not an error
		// frame once the stream has begun. Nothing is after newest, so
		// this costs an index probe.
		probe := q
		probe.AfterID, probe.Limit, probe.NoTotal = newest, 1, true
		if _, err := s.repo.Logs(ctx, probe); err != nil {
			return nil, s.fail(ctx, err)
		}
	}
	after := in.after
	if after == 0 || after > newest {
		// Ids are never reused, so a larger one is not ours; from now on.
		after = newest
	}
	st := &liveStream{s: s, hub: s.streams, user: u, q: q, start: after, scanned: after,
		filtered: q.Search != "" || !q.Since.IsZero() || !q.Until.IsZero()}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer release()
		st.serve(hctx)
	}}, nil
}

// liveStream is one client's stream.
type liveStream struct {
	s        *Server
	hub      *streamHub
	user     store.User
	q        store.LogQuery // the filters; paging fields unused
	filtered bool
	start    int64 // the log id it resumed after
	// scanned: every log up to this id was looked at (and sent if it
	// matched the filters).
	scanned int64

	w           http.ResponseWriter
	rc          *http.ResponseController
	buf         []byte
	lastWrite   time.Time
	lastSummary time.Time
	summaryDue  time.Time
}

// open sends the headers and the stream's first frame. The server's
// WriteTimeout would cut the stream: each write sets its own deadline
// instead (net/http already clears the read deadline of a request without
// a body while its handler runs).
func (st *liveStream) open(hctx huma.Context) error {
	_, st.w = humago.Unwrap(hctx)
	st.rc = http.NewResponseController(st.w)
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	st.w.WriteHeader(http.StatusOK)
	// An id-only frame dispatches nothing, but it sets the EventSource's
	// last event id: a reconnection before the first logs message then
	// resumes from here instead of skipping what came in between.
	first := fmt.Appendf(nil, "retry: %d\n", streamRetry)
	if st.start > 0 {
		first = fmt.Appendf(first, "id: %d\n", st.start)
	}
	return st.write(append(first, '\n'))
}

// frame sends one event; id 0 sends none.
func (st *liveStream) frame(event string, id int64, msg any) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("stream: encode: %w", err)
	}
	b := st.buf[:0]
	if id > 0 {
		b = fmt.Appendf(b, "id: %d\n", id)
	}
	b = append(b, "event: "...)
	b = append(b, event...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	st.buf = b
	return st.write(b)
}

// write sends p and flushes it; a client that does not take it within
// the write timeout ends the stream.
func (st *liveStream) write(p []byte) error {
	if err := st.rc.SetWriteDeadline(time.Now().Add(st.hub.timing.write)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("%w: %w", errStreamEnd, err)
	}
	if _, err := st.w.Write(p); err != nil {
		return fmt.Errorf("%w: %w", errStreamEnd, err)
	}
	if err := st.rc.Flush(); err != nil {
		return fmt.Errorf("%w: %w", errStreamEnd, err)
	}
	st.lastWrite = time.Now()
	return nil
}

// errStreamEnd ends a stream without an error frame: the client or the
// server went away, or the user lost access.
var errStreamEnd = errors.New("stream ended")

func (st *liveStream) serve(hctx huma.Context) {
	ctx := hctx.Context()
	st.s.log.Debug("live stream opened", "user", st.user.Username, "after", st.start)
	err := st.open(hctx)
	if err == nil {
		err = st.run(ctx)
	}
	var se huma.StatusError
	switch {
	case errors.Is(err, errStreamEnd) || ctx.Err() != nil:
	case errors.As(err, &se):
		// s.fail logged it already.
		st.interrupted()
	default:
		st.s.log.Error("live stream failed", "user", st.user.Username, "err", err)
		st.interrupted()
	}
	st.s.log.Debug("live stream closed", "user", st.user.Username, "last", st.scanned)
}

// interrupted tells the client, as the original did, that the stream
// broke; EventSource then reconnects and resumes.
func (st *liveStream) interrupted() {
	msg := streamError{Type: "error", Message: "Stream interrupted"}
	_ = st.frame("error", 0, msg) // the stream is over either way
}

// run sends what is new until the client leaves, the server closes the
// streams, or the store fails.
func (st *liveStream) run(ctx context.Context) error {
	h, t := st.hub, st.hub.timing
	if err := st.summary(ctx); err != nil {
		return err
	}
	timer := time.NewTimer(t.poll)
	defer timer.Stop()
	for {
		// Taken before looking, so a Notify during the look is not lost.
		wake := h.waiter()
		checked := time.Now()
		sent, err := st.newLogs(ctx)
		if err != nil {
			return err
		}
		if sent {
			st.summaryDue = minTime(st.summaryDue, st.lastSummary.Add(t.summaryGap))
		}
		if !time.Now().Before(st.summaryDue) {
			if err := st.recheckUser(ctx); err != nil {
				return err
			}
			if err := st.summary(ctx); err != nil {
				return err
			}
		}
		if time.Since(st.lastWrite) >= t.keepalive {
			if err := st.write([]byte(": keepalive\n\n")); err != nil {
				return err
			}
		}
		poll := t.poll
		if h.notified.Load() {
			poll = t.fallbackPoll
		}
		next := minTime(checked.Add(poll), minTime(st.summaryDue, st.lastWrite.Add(t.keepalive)))
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return errStreamEnd
		case <-h.closed:
			return errStreamEnd
		case <-timer.C:
		case <-wake:
			if err := st.pause(ctx, time.Until(checked.Add(t.minCheck))); err != nil {
				return err
			}
		}
	}
}

// pause waits d unless the stream ends first.
func (st *liveStream) pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errStreamEnd
	case <-st.hub.closed:
		return errStreamEnd
	case <-t.C:
		return nil
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// newLogs sends the logs stored since the last look, in batches, and says
// whether it sent any.
func (st *liveStream) newLogs(ctx context.Context) (bool, error) {
	sent := false
	for {
		newest, err := st.s.repo.MaxLogID(ctx)
		if err != nil {
			return sent, fmt.Errorf("stream: newest log: %w", err)
		}
		if newest <= st.scanned {
			return sent, nil
		}
		var rows []store.Log
		if st.filtered {
			q := st.q
			q.AfterID, q.Ascending, q.Limit, q.NoTotal = st.scanned, true, streamBatch, true
			p, err := st.s.repo.Logs(ctx, q)
			if err != nil {
				return sent, fmt.Errorf("stream: logs: %w", err)
			}
			rows = p.Data
		} else if rows, err = st.s.repo.LogsAfter(ctx, st.scanned, streamBatch); err != nil {
			return sent, fmt.Errorf("stream: logs: %w", err)
		}
		// A short batch holds every match up to newest (ids are assigned
		// in commit order), so a filtered stream need not scan those
		// non-matching rows again.
		if len(rows) < streamBatch {
			st.scanned = newest
		}
		if len(rows) == 0 {
			return sent, nil
		}
		last := rows[len(rows)-1].ID
		st.scanned = max(st.scanned, last)
		normalizeLogs(rows)
		if err := st.frame("message", last, streamLogs{Type: "logs", Data: rows}); err != nil {
			return sent, err
		}
		sent = true
		if len(rows) < streamBatch {
			return sent, nil
		}
	}
}

// summary sends stats and the histogram of the stream's filters.
func (st *liveStream) summary(ctx context.Context) error {
	stats, err := st.s.stats(ctx, nil)
	if err != nil {
		return err
	}
	// Through the cache, as GET /logs/histogram: every open stream asks
	// for the same buckets every few seconds.
	buckets, err := st.s.buckets(ctx, st.q, histogramInterval)
	if err != nil {
		return fmt.Errorf("stream: histogram: %w", err)
	}
	if err := st.frame("message", 0, streamStats{Type: "stats", Data: stats.Body}); err != nil {
		return err
	}
	if err := st.frame("message", 0, streamHistogram{Type: "histogram", Data: buckets}); err != nil {
		return err
	}
	now := time.Now()
	st.lastSummary, st.summaryDue = now, now.Add(st.hub.timing.summary)
	return nil
}

// recheckUser ends the stream once its user could no longer open it: the
// credential was checked only when the stream opened.
func (st *liveStream) recheckUser(ctx context.Context) error {
	u, err := st.s.repo.UserByUUID(ctx, st.user.UUID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errStreamEnd
	case err != nil:
		return fmt.Errorf("stream: user: %w", err)
	case u.PasswordHash != st.user.PasswordHash || u.MustChangePassword || roleRank[u.Role] < viewer:
		return errStreamEnd
	}
	return nil
}
