package pipeline

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"decnet/internal/event"
)

// StreamEmitter writes each event as one RFC 5424 line to a stream: how a
// service alone in its container hands its events to the collector,
// through the container's standard output.
type StreamEmitter struct {
	log *slog.Logger
	mu  sync.Mutex
	w   io.Writer
}

// NewStreamEmitter returns an emitter writing to w; log receives the
// events that could not be written.
func NewStreamEmitter(w io.Writer, log *slog.Logger) *StreamEmitter {
	if log == nil {
		log = slog.Default()
	}
	return &StreamEmitter{w: w, log: log}
}

// Emit implements event.Emitter: one write per line, so lines of
// concurrent sessions never interleave. A zero Time is set to now.
func (s *StreamEmitter) Emit(e event.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	line := event.Format(e) + "\n"
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, line); err != nil {
		s.log.Error("event not written", "err", err, "line", line[:len(line)-1])
	}
}

var _ event.Emitter = (*StreamEmitter)(nil)
