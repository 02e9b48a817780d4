package collector

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

type gotLine struct {
	Text  string
	Size  int
	Start int // index of the message the line began in
}

// splitAll feeds msgs to a splitter (message i at t0+i µs), flushes it if
// flush, and returns the lines.
func splitAll(t *testing.T, max int, msgs []string, flush bool) ([]gotLine, *lineSplitter) {
	t.Helper()
	s := &lineSplitter{max: max}
	var out []gotLine
	emit := func(l line) error {
		out = append(out, gotLine{string(l.text), l.size, int(l.start.Sub(t0) / time.Microsecond)})
		return nil
	}
	for i, m := range msgs {
		if err := s.add(t0.Add(time.Duration(i)*time.Microsecond), []byte(m), emit); err != nil {
			t.Fatal(err)
		}
	}
	if flush {
		if err := s.flush(emit); err != nil {
			t.Fatal(err)
		}
	}
	return out, s
}

func TestLineSplitter(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		msgs    []string
		flush   bool
		want    []gotLine
		pending bool
	}{
		{name: "one line per message", max: 64, msgs: []string{"a\n", "bc\n"},
			want: []gotLine{{"a", 1, 0}, {"bc", 2, 1}}},
		{name: "line across messages keeps the first timestamp", max: 64, msgs: []string{"ab", "cd", "e\n"},
			want: []gotLine{{"abcde", 5, 0}}},
		{name: "partial waits", max: 64, msgs: []string{"a\n", "b"},
			want: []gotLine{{"a", 1, 0}}, pending: true},
		{name: "flush ends a partial", max: 64, msgs: []string{"a\n", "b"}, flush: true,
			want: []gotLine{{"a", 1, 0}, {"b", 1, 1}}},
		{name: "flush with nothing pending", max: 64, msgs: []string{"a\n"}, flush: true,
			want: []gotLine{{"a", 1, 0}}},
		{name: "several lines in one message", max: 64, msgs: []string{"a\nb\n\nc"},
			want: []gotLine{{"a", 1, 0}, {"b", 1, 0}, {"", 0, 0}}, pending: true},
		{name: "blank line", max: 64, msgs: []string{"\n"}, want: []gotLine{{"", 0, 0}}},
		{name: "empty message", max: 64, msgs: []string{""}, want: nil},
		{name: "cut in one message", max: 3, msgs: []string{"abcdef\n"},
			want: []gotLine{{"abc", 6, 0}}},
		{name: "cut across messages", max: 3, msgs: []string{"ab", "cd", "ef\n", "g\n"},
			want: []gotLine{{"abc", 6, 0}, {"g", 1, 3}}},
		{name: "exactly max is not cut", max: 3, msgs: []string{"a", "bc\n"},
			want: []gotLine{{"abc", 3, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, s := splitAll(t, tc.max, tc.msgs, tc.flush)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if s.pending() != tc.pending {
				t.Fatalf("pending = %v", s.pending())
			}
		})
	}
}

func TestLineSplitterStopsAtEmitError(t *testing.T) {
	s := &lineSplitter{max: 64}
	stop := errors.New("stop")
	n := 0
	err := s.add(t0, []byte("a\nb\nc\n"), func(line) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d lines", err, n)
	}
}

func TestLineSplitterLetsGoOfBigBuffers(t *testing.T) {
	s := &lineSplitter{max: MaxLineBytes}
	noop := func(line) error { return nil }
	s.add(t0, bytes.Repeat([]byte("x"), 32<<10), noop)
	s.add(t0, []byte("\n"), noop)
	if s.buf != nil {
		t.Fatalf("kept a %d-byte buffer", cap(s.buf))
	}
}

func TestSplitTimestamp(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		ts      time.Time
		content string
	}{
		{in: "2026-05-07T10:00:00.000000001Z hello\n", ok: true, ts: t0.Add(1), content: "hello\n"},
		{in: "2026-05-07T12:00:00.000000000+02:00 x", ok: true, ts: t0, content: "x"},
		{in: "2026-05-07T10:00:00Z  two spaces", ok: true, ts: t0, content: " two spaces"},
		{in: "2026-05-07T10:00:00Z ", ok: true, ts: t0, content: ""},
		{in: "no timestamp here", content: "no timestamp here"},
		{in: " leading space", content: " leading space"},
		{in: "2026-05-07T10:00:00Z", content: "2026-05-07T10:00:00Z"},
		{in: strings.Repeat("9", 50) + " x", content: strings.Repeat("9", 50) + " x"},
	}
	for _, tc := range tests {
		ts, content, ok := splitTimestamp([]byte(tc.in))
		if ok != tc.ok || !ts.Equal(tc.ts) || string(content) != tc.content {
			t.Errorf("splitTimestamp(%q) = %v, %q, %v", tc.in, ts, content, ok)
		}
	}
}

// FuzzLineSplitter cuts data into messages at the lengths in cuts, puts a
// timestamp before each as the engine does, and checks the splitter
// against a plain split of data on newlines.
func FuzzLineSplitter(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), []byte{2, 3, 1}, uint16(2))
	f.Add([]byte("no newline at all"), []byte{1}, uint16(100))
	f.Add([]byte("\n\n\n"), []byte{0}, uint16(0))
	f.Fuzz(func(t *testing.T, data, cuts []byte, max16 uint16) {
		max := int(max16)%300 + 1
		var msgs [][]byte
		var firstMsg []int // message index of each byte of data
		for off, i := 0, 0; off < len(data); i++ {
			n := 1
			if len(cuts) > 0 {
				n = int(cuts[i%len(cuts)])%64 + 1
			}
			n = min(n, len(data)-off)
			ts := t0.Add(time.Duration(len(msgs)) * time.Microsecond)
			msg := append([]byte(ts.Format("2006-01-02T15:04:05.000000000Z07:00")+" "), data[off:off+n]...)
			msgs = append(msgs, msg)
			for range n {
				firstMsg = append(firstMsg, len(msgs)-1)
			}
			off += n
		}

		s := &lineSplitter{max: max}
		var got []gotLine
		emit := func(l line) error {
			if len(l.text) > max {
				t.Fatalf("line of %d bytes past the cap %d", len(l.text), max)
			}
			got = append(got, gotLine{string(l.text), l.size, int(l.start.Sub(t0) / time.Microsecond)})
			return nil
		}
		for i, m := range msgs {
			ts, content, ok := splitTimestamp(m)
			if !ok || !ts.Equal(t0.Add(time.Duration(i)*time.Microsecond)) {
				t.Fatalf("message %d: timestamp not recovered from %q", i, m)
			}
			if err := s.add(ts, content, emit); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.flush(emit); err != nil {
			t.Fatal(err)
		}
		if s.pending() {
			t.Fatal("pending after flush")
		}

		var want []gotLine
		off := 0
		pieces := bytes.Split(data, []byte("\n"))
		if len(data) == 0 || data[len(data)-1] == '\n' {
			pieces = pieces[:len(pieces)-1]
		}
		for _, p := range pieces {
			want = append(want, gotLine{string(p[:min(len(p), max)]), len(p), firstMsg[off]})
			off += len(p) + 1
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
	})
}
