package collector

import (
	"bytes"
	"time"
)

// MaxLineBytes caps one log line. A longer line is cut to this length (and
// the cut logged): a service never writes one, so only a broken or
// hostile container does, and it must not make the collector hold
// unbounded memory.
const MaxLineBytes = 64 << 10

// lineSplitter rebuilds the lines of one output stream of a container
// from the engine's log messages. The engine sends a line as one message,
// or a line longer than its logging driver's buffer (16 KiB for json-file)
// as several messages, each with its own timestamp, all but the last
// without a newline. A line's timestamp is that of its first message.
type lineSplitter struct {
	max   int
	buf   []byte    // the pending line's first bytes, at most max
	size  int       // the pending line's length so far, bytes past max included
	start time.Time // timestamp of the pending line's first message
	open  bool      // a line has begun and not ended
}

// line is one rebuilt line, without its newline. text is valid only
// during the emit call that receives it.
type line struct {
	text  []byte
	size  int // length before cutting; > len(text) when the line was cut
	start time.Time
}

// add takes the content of one message (its timestamp removed) and passes
// every line it completes to emit, stopping at emit's first error.
func (s *lineSplitter) add(ts time.Time, b []byte, emit func(line) error) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if !s.open {
			s.start, s.open = ts, true
		}
		if i < 0 {
			s.append(b)
			return nil
		}
		part := b[:i]
		b = b[i+1:]
		var l line
		if s.size == 0 {
			// The usual case, a whole line in one message: no copy.
			l = line{text: part[:min(len(part), s.max)], size: len(part), start: s.start}
		} else {
			s.append(part)
			l = line{text: s.buf, size: s.size, start: s.start}
		}
		s.reset()
		if err := emit(l); err != nil {
			return err
		}
	}
	return nil
}

// flush ends a pending line: the stream ended without its newline.
func (s *lineSplitter) flush(emit func(line) error) error {
	if !s.open {
		return nil
	}
	l := line{text: s.buf, size: s.size, start: s.start}
	s.reset()
	return emit(l)
}

// pending reports whether a line has begun and not ended.
func (s *lineSplitter) pending() bool { return s.open }

func (s *lineSplitter) append(p []byte) {
	if room := s.max - len(s.buf); room > 0 {
		s.buf = append(s.buf, p[:min(len(p), room)]...)
	}
	s.size += len(p)
}

// reset forgets the pending line. A buffer grown by a long line is let go
// rather than kept for every container the collector follows.
func (s *lineSplitter) reset() {
	if cap(s.buf) > 4<<10 {
		s.buf = nil
	} else {
		s.buf = s.buf[:0]
	}
	s.size, s.open = 0, false
}

// splitTimestamp separates the timestamp the engine puts before each log
// message (when asked for timestamps) from the message's content.
func splitTimestamp(b []byte) (time.Time, []byte, bool) {
	i := bytes.IndexByte(b, ' ')
	if i <= 0 || i > len("2006-01-02T15:04:05.000000000+00:00") {
		return time.Time{}, b, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b[:i]))
	if err != nil {
		return time.Time{}, b, false
	}
	return t, b[i+1:], true
}
