package telnet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// openEngine is an engine whose terminal login already has, as in the
// main loop, in canonical mode with echo.
func openEngine() *engine {
	t := newLdisc()
	t.open = true
	e := newEngine(t)
	t.emit = e.ptyOutput
	t.flushOut = e.dataMark
	return e
}

// TestOpening checks the first bytes against real-products.md section 17
// and that telnetd then waits for the client.
func TestOpening(t *testing.T) {
	e := openEngine()
	var calls int
	stop := errors.New("stop")
	err := e.getTerminalType(func(cond func() bool) error {
		calls++
		if calls == 1 && !cond() { // WILL AUTHENTICATION is not waited for
			return nil
		}
		return stop
	})
	want := []byte{0xff, 0xfb, 0x25, 0xff, 0xfb, 0x26, 0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20, 0xff, 0xfd, 0x23, 0xff, 0xfd, 0x27,
		0xff, 0xfd, 0x24}
	if !errors.Is(err, stop) || !bytes.Equal(e.out, want) || calls != 2 {
		t.Fatalf("opening %x (%v, %d waits), want %x", e.out, err, calls, want)
	}
}

// TestHostileInput feeds malformed and abusive telnet to the engine: it
// must not panic, must keep its buffers bounded, and must treat the bytes
// as telnetd does.
func TestHostileInput(t *testing.T) {
	tests := []struct {
		name   string
		in     []string // fed one after another
		line   string   // the terminal's line being edited afterwards
		out    string   // network output, if checked
		sbMax  bool     // the sub-option buffer hit its bound
		checks func(t *testing.T, e *engine)
	}{
		{name: "IAC IAC is data", in: []string{"a\xff\xffb"}, line: "a\xffb", out: "a\xff\xffb"},
		{name: "IAC split across reads", in: []string{"a\xff", "\xffb"}, line: "a\xffb"},
		{name: "unknown command", in: []string{"a\xff\x01b\xff\xf1c"}, line: "abc", out: "abc"},
		{name: "SB without SE swallows data", in: []string{"\xff\xfa\x18\x00x\r\n", "more"}, line: ""},
		{name: "SB ended later", in: []string{"\xff\xfa\x18\x00x", "\xff\xf0y"}, line: "y"},
		{name: "huge SB bounded", in: []string{"\xff\xfa\x18\x00" + strings.Repeat("A", 100000) + "\xff\xf0z"}, line: "z", sbMax: true},
		{name: "IAC IAC inside SB", in: []string{"\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0"},
			checks: func(t *testing.T, e *engine) {
				if e.width != 0 {
					t.Errorf("NAWS taken while the client never said WILL NAWS: %d", e.width)
				}
			}},
		{name: "NAWS with doubled IAC", in: []string{"\xff\xfb\x1f", "\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0"}, out: "\xff\xfd\x1f",
			checks: func(t *testing.T, e *engine) {
				if e.width != 255 || e.height != 24 {
					t.Errorf("window %dx%d, want 255x24", e.width, e.height)
				}
			}},
		{name: "short NAWS ignored", in: []string{"\xff\xfb\x1f\xff\xfa\x1f\x01\xff\xf0"},
			checks: func(t *testing.T, e *engine) {
				if e.width != 0 {
					t.Errorf("short NAWS taken")
				}
			}},
		{name: "malformed SB end is a command", in: []string{"\xff\xfa\x18\x00ab\xff\xf6"}, out: "\r\n[Yes]\r\n"},
		{name: "option floods stay answered once each", in: []string{strings.Repeat("\xff\xfb\xc8", 1000)},
			checks: func(t *testing.T, e *engine) {
				if n := bytes.Count(e.out, []byte("\xff\xfe\xc8")); n != 1000 {
					t.Errorf("%d DONT for 1000 WILL", n)
				}
				if e.doDont[200] > 1 {
					t.Errorf("pending answers grow: %d", e.doDont[200])
				}
			}},
		{name: "DO unknown is WONT", in: []string{"\xff\xfd\xc9"}, out: "\xff\xfc\xc9"},
		{name: "DO TM is WILL TM every time", in: []string{"\xff\xfd\x06\xff\xfd\x06"}, out: "\xff\xfb\x06\xff\xfb\x06"},
		{name: "DO LOGOUT ends the session", in: []string{"\xff\xfd\x12"}, out: "\xff\xfb\x12",
			checks: func(t *testing.T, e *engine) {
				if !e.logout {
					t.Error("no logout")
				}
			}},
		{name: "AYT", in: []string{"\xff\xf6"}, out: "\r\n[Yes]\r\n"},
		{name: "EC and EL edit the line", in: []string{"ro\xff\xf7x\xff\xf8yy"}, line: "yy", out: "ro\b \bx\b \b\b \byy"},
		{name: "IP is ^C: data mark, echo", in: []string{"ro\xff\xf4"}, line: "", out: "\xff\xf2^C"},
		{name: "CR NUL and CR LF are CR", in: []string{"a\r\x00b\r\nc"}, line: "c",
			checks: func(t *testing.T, e *engine) {
				if len(e.tty.ready) != 2 || string(e.tty.ready[0].b) != "a\n" || string(e.tty.ready[1].b) != "b\n" {
					t.Errorf("lines %v", e.tty.ready)
				}
			}},
		{name: "binary client keeps CR LF", in: []string{"\xff\xfb\x00", "a\r\n"},
			checks: func(t *testing.T, e *engine) {
				if len(e.tty.ready) != 2 || string(e.tty.ready[0].b) != "a\n" || string(e.tty.ready[1].b) != "\n" {
					t.Errorf("lines %v", e.tty.ready)
				}
			}},
		{name: "STATUS SEND", in: []string{"\xff\xfd\x05\xff\xfd\x01\xff\xfb\x1f", "\xff\xfa\x05\x01\xff\xf0"},
			checks: func(t *testing.T, e *engine) {
				if !bytes.HasSuffix(e.out, []byte("\xff\xfa\x05\x00\xfb\x01\xfb\x05\xfd\x1f\xff\xf0")) {
					t.Errorf("status %q", e.out)
				}
			}},
		{name: "NEW-ENVIRON USER injection recorded", in: []string{"\xff\xfa\x27\x00\x00USER\x01-f root\x03X\x02\x01\xff\xf0"},
			checks: func(t *testing.T, e *engine) {
				if u, ok := e.envUser(); !ok || u != "-f root" || len(e.env) != 2 || e.env[1] != [2]string{"X\\x01", ""} {
					t.Errorf("env %q", e.env)
				}
			}},
		{name: "environment bounded", in: []string{strings.Repeat("\xff\xfa\x27\x02\x00VAR\x01"+strings.Repeat("v", 300)+"\xff\xf0", 100)},
			checks: func(t *testing.T, e *engine) {
				if len(e.env) != maxEnv || len(e.env[0][1]) != maxEnvLen {
					t.Errorf("%d variables, first value %d bytes", len(e.env), len(e.env[0][1]))
				}
			}},
		{name: "SLC flood with unknown functions", in: []string{"\xff\xfb\x22", "\xff\xfa\x22\x03" + strings.Repeat("\xc8\x02\xff\xff", 200) + "\xff\xf0"},
			checks: func(t *testing.T, e *engine) {
				if len(e.out) > 200 {
					t.Errorf("SLC reply of %d bytes", len(e.out))
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := openEngine()
			e.terminit = true
			for _, in := range tc.in {
				e.feed([]byte(in))
			}
			if string(e.tty.line) != tc.line {
				t.Errorf("line %q, want %q", e.tty.line, tc.line)
			}
			if tc.out != "" && string(e.out) != tc.out {
				t.Errorf("output %q, want %q", e.out, tc.out)
			}
			if len(e.sb) > sbMax || (tc.sbMax && len(e.sb) == 0) {
				t.Errorf("sub-option buffer %d bytes", len(e.sb))
			}
			if tc.checks != nil {
				tc.checks(t, e)
			}
		})
	}
}

// TestPtyOutput checks IAC doubling and CR padding towards the network.
func TestPtyOutput(t *testing.T) {
	tests := []struct {
		in, want string
		binary   bool
	}{
		{"a\xffb", "a\xff\xffb", false},
		{"x\r\ny", "x\r\ny", false},
		{"x\ry", "x\r\x00y", false},
		{"x\r", "x\r\x00", false},
		{"x\ry\xff", "x\ry\xff\xff", true},
	}
	for _, tc := range tests {
		e := openEngine()
		e.set(optBinary, myWill, tc.binary)
		e.ptyOutput([]byte(tc.in))
		if string(e.out) != tc.want {
			t.Errorf("%q (binary %v): %q, want %q", tc.in, tc.binary, e.out, tc.want)
		}
	}
}

// TestLineDiscipline checks the kernel's canonical editing and echo, with
// the cases recorded from the real terminal (testdata/golden has them
// end to end).
func TestLineDiscipline(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		echo   bool
		istrip bool
		col    int // column the line starts at (after the prompt)
		out    string
		lines  []string
	}{
		{"erase", "roox\x7ft\r", true, false, 10, "roox\b \bt\r\n", []string{"root\n"}},
		{"^H is a character", "ro\bo\r", true, false, 10, "ro^Ho\r\n", []string{"ro\bo\n"}},
		{"kill", "abc\x15root\n", true, false, 10, "abc\b \b\b \b\b \broot\r\n", []string{"root\n"}},
		{"word erase", "x y\x17z\n", true, false, 10, "x y\b \bz\r\n", []string{"x z\n"}},
		{"tab erase from the prompt column", "a\x1bb\x01\tc\x7f\x7f", true, false, 10, "a^[b^A\tc\b \b" + strings.Repeat("\b", 8), nil},
		{"reprint", "ab\x12", true, false, 10, "ab^R\r\nab", nil},
		{"literal next", "\x16\x03q\n", true, false, 10, "^\b^Cq\r\n", []string{"\x03q\n"}},
		{"no echo", "secret\x7fT\n", false, false, 10, "", []string{"secreT\n"}},
		{"strip", "\xc3\xa9\x7f\x80\n", true, true, 10, "C)\b \b^@\r\n", []string{"C\x00\n"}},
		{"eof ends a line", "ro\x04\x04", true, false, 10, "ro", []string{"ro", ""}},
		{"start and stop are swallowed", "a\x13b\x11c\n", true, false, 10, "abc\r\n", []string{"abc\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLdisc()
			l.open, l.echo, l.istrip, l.column = true, tc.echo, tc.istrip, tc.col
			var out []byte
			l.emit = func(b []byte) { out = append(out, b...) }
			for _, c := range []byte(tc.in) {
				l.input(c)
			}
			if string(out) != tc.out {
				t.Errorf("echo %q, want %q", out, tc.out)
			}
			var got []string
			for {
				cl, ok := l.readLine()
				if !ok {
					break
				}
				got = append(got, string(cl.b))
			}
			if strings.Join(got, "|") != strings.Join(tc.lines, "|") {
				t.Errorf("lines %q, want %q", got, tc.lines)
			}
		})
	}
}

// TestLineBound checks that a line is cut at the kernel's 4095 bytes and
// the terminator still gets through, and that the buffer stays bounded.
func TestLineBound(t *testing.T) {
	l := newLdisc()
	l.open = true
	for i := 0; i < 10000; i++ {
		l.input('A')
	}
	l.input('\n')
	for i := 0; i < 10000; i++ {
		l.input('\n')
		l.input(0x04)
	}
	if l.size > ttyBuf {
		t.Fatalf("buffer holds %d bytes", l.size)
	}
	cl, ok := l.readLine()
	if !ok || len(cl.b) != ttyBuf || cl.b[len(cl.b)-1] != '\n' {
		t.Fatalf("first line: %d bytes", len(cl.b))
	}
}
