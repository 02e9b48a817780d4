package telnet

import (
	"bytes"
	"testing"
)

// drain empties the terminal as a reader would and returns what it read.
func drain(e *engine) []byte {
	var got []byte
	if !e.tty.icanon {
		p := make([]byte, ttyBuf)
		for n := e.tty.readRaw(p); n > 0; n = e.tty.readRaw(p) {
			got = append(got, p[:n]...)
		}
		return got
	}
	for {
		l, ok := e.tty.readLine()
		if !ok {
			return got
		}
		got = append(append(got, l.b...), '|')
	}
}

func fuzzEngine(mode byte) *engine {
	e := openEngine()
	e.tty.icanon = mode&1 == 0
	e.terminit = mode&2 != 0
	e.tty.echo = mode&4 == 0
	e.tty.istrip = mode&8 != 0
	if mode&16 != 0 {
		e.busybox, e.tty.xtabs, e.tty.flushOut = true, true, e.bbFlush
	}
	return e
}

// FuzzEngine feeds arbitrary client bytes to telnetd's receive state
// machine and options (busybox telnetd's decoder when mode has 16), in
// chunks of any size: it must not panic, must keep its buffers bounded,
// and must do the same whatever the chunking. busybox's output may differ:
// like the real one, it answers AYT before the echo of the bytes read
// with it, and a signal character drops only that echo.
func FuzzEngine(f *testing.F) {
	for _, s := range []string{
		"\xff\xfd\x25\xff\xfd\x26\xff\xfa\x26\x01\xff\xf0\xff\xfb\x18\xff\xfb\x20\xff\xfc\x23\xff\xfb\x27\xff\xfc\x24",
		"\xff\xfa\x22\x03\x01\x00\x00\x03\x62\x03\x04\x02\x0f\x05\x00\x00\x07\x62\x1c\x08\x02\x04\x09\x42\x1a\xff\xf0",
		"\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0ro\xff\xf7x\xff\xf8yy\r\n",
		"\xff\xfa\x18\x00x\r\n\xff\xf0y\r\n", "\xff\xfa\x05\x01\xff\xf0\xff\xfd\x12", "a\r\x00b\r\nc\xff\xff\x16\x03\x04",
	} {
		f.Add([]byte(s), byte(3), byte(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk, mode byte) {
		// Input is read only when the terminal is full and at the end, so
		// that a signal character flushes the same unread input however
		// the bytes were split.
		feed := func(e *engine, b []byte, got *[]byte) {
			for len(b) > 0 {
				n := e.feed(b)
				if n == 0 {
					*got = append(*got, drain(e)...)
				}
				b = b[n:]
			}
		}
		whole, parts := fuzzEngine(mode), fuzzEngine(mode)
		var gotWhole, gotParts []byte
		feed(whole, data, &gotWhole)
		size := int(chunk%64) + 1
		for i := 0; i < len(data); i += size {
			feed(parts, data[i:min(i+size, len(data))], &gotParts)
		}
		gotWhole, gotParts = append(gotWhole, drain(whole)...), append(gotParts, drain(parts)...)
		for _, e := range []*engine{whole, parts} {
			if len(e.sb) > sbMax || e.tty.size > ttyBuf || len(e.tty.raw) > ttyBuf || len(e.env) > maxEnv {
				t.Fatalf("unbounded: sb %d, tty %d, raw %d, env %d", len(e.sb), e.tty.size, len(e.tty.raw), len(e.env))
			}
		}
		if (!whole.busybox && !bytes.Equal(whole.out, parts.out)) || !bytes.Equal(gotWhole, gotParts) {
			t.Fatalf("chunking changed the result:\n%q\n%q\n%q\n%q", whole.out, parts.out, gotWhole, gotParts)
		}
	})
}

// FuzzLineDiscipline types arbitrary bytes at the login prompt: the
// terminal must keep its accounting, stay within its buffer, and echo
// every newline as CR LF.
func FuzzLineDiscipline(f *testing.F) {
	for _, s := range []string{"roox\x7ft\r\n", "abc\x15root\n", "a\x1bb\x01\tc\x7f\x7f\x17x y\x17\x12z\x16\x03q\r\n",
		"\xc3\xa9\xe2\x82\xac\x7f\x7f\x80\xfe\r\n", "ro\x04\x04", "\t\t\x7f\x7f\x7f"} {
		f.Add([]byte(s), byte(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, flags byte) {
		l := newLdisc()
		// Bit 6 is part of the column and also turns on XTABS.
		l.open, l.echo, l.istrip, l.column, l.xtabs = true, flags&1 == 0, flags&2 != 0, int(flags>>2), flags&0x40 != 0
		var out []byte
		l.emit = func(b []byte) { out = append(out, b...) }
		for i, c := range data {
			l.input(c)
			if flags&0x80 != 0 && i%7 == 0 {
				l.readLine()
			}
			held := len(l.line)
			for _, r := range l.ready {
				held += len(r.b)
				if r.eof {
					held++
				}
			}
			if held != l.size || l.size > ttyBuf {
				t.Fatalf("size %d, holds %d", l.size, held)
			}
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
			t.Fatalf("bare newline in the echo %q", out)
		}
		for {
			if _, ok := l.readLine(); !ok {
				break
			}
		}
		if l.size != len(l.line) {
			t.Fatalf("size %d after draining, line %d", l.size, len(l.line))
		}
	})
}
