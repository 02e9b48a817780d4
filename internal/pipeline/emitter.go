// Package pipeline moves events from the honeypots to the store: the
// FileEmitter appends them to the JSON-lines ingest file, the durable
// hand-off, and the Ingester tails that file into the store, committing
// rows and its file offset in one transaction.
package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"decnet/internal/event"
)

// FileEmitter appends each event as one JSON line (an event.Record) to the
// ingest file. Every Emit or Append is one write(2) on an O_APPEND descriptor
// with no user-space buffer: once it returns, the event is in the kernel's page
// cache and survives the process being killed, and lines from several
// processes appending to the same file never interleave.
type FileEmitter struct {
	path   string
	log    *slog.Logger
	notify chan struct{}

	mu     sync.Mutex
	f      *os.File
	id     identity
	closed bool
}

// NewFileEmitter opens (creating if needed) the ingest file at path. log
// receives every event that could not be written, with its line.
func NewFileEmitter(path string, log *slog.Logger) (*FileEmitter, error) {
	if log == nil {
		log = slog.Default()
	}
	e := &FileEmitter{path: path, log: log, notify: make(chan struct{}, 1)}
	if err := e.open(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *FileEmitter) open() error {
	f, err := os.OpenFile(e.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open ingest file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open ingest file: %w", err)
	}
	if e.f != nil {
		e.f.Close()
	}
	e.f, e.id = f, fileID(fi)
	return nil
}

// Notify returns a channel that receives a value (coalesced) after lines
// were appended, so an Ingester in the same process wakes at once instead
// of on its next poll.
func (e *FileEmitter) Notify() <-chan struct{} { return e.notify }

// Emit implements event.Emitter. A zero Time is set to now. A record that
// cannot be written is logged with its line, since Emit cannot fail.
func (e *FileEmitter) Emit(ev event.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	rec := event.NewRecord(ev)
	if err := e.Append(rec); err != nil {
		e.log.Error("event not written", "path", e.path, "err", err, "line", rec.RawLine)
	}
}

// Append writes rec as one JSON line with one write(2), following
// rotation like Emit. Unlike Emit it returns the failure, so a caller that
// can retry (the container log collector) loses nothing.
func (e *FileEmitter) Append(rec event.Record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	line = append(line, '\n')
	if err := e.write(line); err != nil {
		return fmt.Errorf("append to %s: %w", e.path, err)
	}
	select {
	case e.notify <- struct{}{}:
	default:
	}
	return nil
}

func (e *FileEmitter) write(line []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("emitter closed")
	}
	// Follow rotation: when the path names another file (or none), append
	// to the file now at the path, so nothing goes to a file the ingester
	// has finished with.
	if fi, err := os.Stat(e.path); err != nil || fileID(fi) != e.id {
		if err := e.open(); err != nil {
			return err
		}
	}
	_, err := e.f.Write(line)
	return err
}

// Close closes the file; later events are logged as not written.
func (e *FileEmitter) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.f.Close()
}

var _ event.Emitter = (*FileEmitter)(nil)
