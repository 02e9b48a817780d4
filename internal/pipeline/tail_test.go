package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzTail writes hostile bytes to a file in pieces, reading between the
// writes, and checks the lines against a plain split: complete lines only,
// each once, over-long ones reported with their length, and the boundary
// at the end of the last complete line.
func FuzzTail(f *testing.F) {
	f.Add([]byte("a\nbb\nccc"), uint8(3), uint8(4))
	f.Add([]byte("\n\n\r\n"), uint8(1), uint8(1))
	f.Add(bytes.Repeat([]byte("x"), 300), uint8(7), uint8(2))
	f.Add([]byte("short\n"+string(bytes.Repeat([]byte("y"), 40))+"\nafter\n"), uint8(9), uint8(10))
	f.Fuzz(func(t *testing.T, data []byte, piece, maxLine uint8) {
		step := int(piece) + 1
		limit := int(maxLine) + 1
		path := filepath.Join(t.TempDir(), "f")
		w, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		tl, _, err := openTail(path, checkpoint{})
		if err != nil {
			t.Fatal(err)
		}
		defer tl.close()
		type got struct {
			line    string
			tooLong int64
		}
		var gots []got
		drain := func() {
			for {
				line, tooLong, ok, err := tl.next(limit)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					return
				}
				gots = append(gots, got{string(line), tooLong})
			}
		}
		for off := 0; off < len(data); off += step {
			if _, err := w.Write(data[off:min(off+step, len(data))]); err != nil {
				t.Fatal(err)
			}
			drain()
		}
		drain()
		var want []got
		rest := data
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			if i > limit {
				want = append(want, got{"", int64(i)})
			} else {
				want = append(want, got{string(rest[:i]), 0})
			}
			rest = rest[i+1:]
		}
		if len(gots) != len(want) {
			t.Fatalf("%d lines, want %d: %+v vs %+v", len(gots), len(want), gots, want)
		}
		for i := range want {
			if gots[i] != want[i] {
				t.Fatalf("line %d: %+v, want %+v", i, gots[i], want[i])
			}
		}
		if wantB := int64(len(data) - len(rest)); tl.boundary != wantB {
			t.Fatalf("boundary %d, want %d", tl.boundary, wantB)
		}
		if tl.pos() != int64(len(data)) {
			t.Fatalf("pos %d, want %d", tl.pos(), len(data))
		}
	})
}
