package telnet

// Terminal special characters (termios c_cc), in the order slc.go and the
// engine index them.
const (
	vINTR = iota
	vQUIT
	vERASE
	vKILL
	vEOF
	vEOL
	vEOL2
	vSTART
	vSTOP
	vSUSP
	vREPRINT
	vDISCARD
	vWERASE
	vLNEXT
	nCC
)

// ttyBuf is the kernel's N_TTY_BUF_SIZE: what the terminal holds of input
// nobody read yet.
const ttyBuf = 4096

// canonLine is a complete line of canonical input: its bytes with the
// terminator, or, when eof, the bytes before an EOF character.
type canonLine struct {
	b   []byte
	eof bool
}

// ldisc is the Linux N_TTY line discipline of the pseudo-terminal that
// telnetd writes the client's input to, with the termios login(1) and
// bash leave on it. In canonical mode (login) it edits lines and echoes
// as the kernel does (ECHOE, ECHOKE, ECHOCTL, ICRNL, ISIG, IEXTEN, IXON,
// and ISTRIP while the client refuses BINARY); in raw mode (the shell's
// line editor, like readline's) it passes bytes on and only handles
// signals and flow control.
type ldisc struct {
	cc        [nCC]byte
	open      bool // login has the terminal: input before that is lost
	icanon    bool
	echo      bool // ECHO as telnet negotiation leaves it
	noecho    bool // login is reading a password
	istrip    bool
	xtabs     bool // output tabs as spaces (busybox telnetd sets XTABS)
	binaryOut bool
	lnext     bool

	line  []byte      // the line being edited
	ready []canonLine // complete lines
	size  int         // bytes held in line and ready, an end of file counting one
	raw   []byte      // raw mode input not read yet

	column, canonColumn int

	// emit takes what the terminal prints, after output processing.
	emit func([]byte)
	// flushOut reports that a signal character flushed the output.
	flushOut func()
	// signal reports a signal character: vINTR, vQUIT or vSUSP.
	signal func(v int)
}

func newLdisc() *ldisc {
	t := &ldisc{icanon: true, echo: true}
	copy(t.cc[:], []byte{vINTR: 0x03, vQUIT: 0x1c, vERASE: 0x7f, vKILL: 0x15, vEOF: 0x04, vSTART: 0x11,
		vSTOP: 0x13, vSUSP: 0x1a, vREPRINT: 0x12, vDISCARD: 0x0f, vWERASE: 0x17, vLNEXT: 0x16})
	return t
}

func (t *ldisc) setEcho(on bool)     { t.echo = on }
func (t *ldisc) setBinaryIn(on bool) { t.istrip = !on }
func (t *ldisc) echoing() bool       { return t.echo && !t.noecho && t.icanon }

// full reports whether telnetd must stop passing input: only raw input
// backs up, canonical input past the buffer is dropped as the kernel does.
func (t *ldisc) full() bool { return !t.icanon && len(t.raw) >= ttyBuf }

// isCntrl is the kernel's iscntrl: C0 and DEL. Its ctype table leaves
// 0x80-0x9f unclassified, so N_TTY echoes C1 bytes as they are (busybox's
// "binary" transcript, where no ISTRIP hides them).
func isCntrl(c byte) bool { return c < 0x20 || c == 0x7f }

// special reports whether c is the enabled special character v.
func (t *ldisc) special(c byte, v int) bool { return c != 0 && c == t.cc[v] }

// input takes one byte from telnetd.
func (t *ldisc) input(c byte) {
	if !t.open {
		return
	}
	if t.istrip && t.icanon {
		c &= 0x7f
	}
	if t.lnext {
		t.lnext = false
		t.put(c)
		return
	}
	if t.special(c, vSTART) || t.special(c, vSTOP) {
		return
	}
	for _, v := range [...]int{vINTR, vQUIT, vSUSP} {
		if t.special(c, v) {
			t.isig(c, v)
			return
		}
	}
	if !t.icanon {
		t.raw = append(t.raw, c)
		return
	}
	if c == '\r' {
		c = '\n'
	}
	switch {
	case t.special(c, vERASE), t.special(c, vKILL), t.special(c, vWERASE):
		t.erase(c)
	case t.special(c, vLNEXT):
		t.lnext = true
		if t.echoing() {
			t.out([]byte("^\b"))
		}
	case t.special(c, vREPRINT) && t.echoing():
		t.echoChar(c)
		t.out([]byte("\n"))
		t.out(t.echoForm(t.line))
	case c == '\n':
		if t.echoing() {
			t.out([]byte("\n"))
		}
		t.endLine(c, false)
	case t.special(c, vEOF):
		t.endLine(0, true)
	case t.special(c, vEOL), t.special(c, vEOL2):
		if t.echoing() {
			t.echoChar(c)
		}
		t.endLine(c, false)
	default:
		t.put(c)
	}
}

// isig handles a signal character: input and output are flushed, the
// character echoed, and the foreground process told.
func (t *ldisc) isig(c byte, v int) {
	t.line, t.ready, t.size, t.raw = t.line[:0], nil, 0, t.raw[:0]
	if t.flushOut != nil {
		t.flushOut()
	}
	if t.echoing() {
		t.echoChar(c)
	}
	if t.signal != nil {
		t.signal(v)
	}
}

// put adds an ordinary character to the line being edited.
func (t *ldisc) put(c byte) {
	if !t.icanon {
		t.raw = append(t.raw, c)
		return
	}
	if t.size >= ttyBuf-1 {
		return
	}
	if t.echoing() {
		if len(t.line) == 0 {
			t.canonColumn = t.column
		}
		t.echoChar(c)
	}
	t.line = append(t.line, c)
	t.size++
}

// endLine completes the line being edited with terminator c (newline,
// EOL), or with an end of file when eof. The terminator takes the last
// byte of the buffer, which put leaves free for it.
func (t *ldisc) endLine(c byte, eof bool) {
	if t.size >= ttyBuf {
		return
	}
	t.size++
	if !eof {
		t.line = append(t.line, c)
	}
	t.ready = append(t.ready, canonLine{b: t.line, eof: eof})
	t.line = nil
}

// erase is the kernel's eraser for ERASE, KILL and WERASE.
func (t *ldisc) erase(c byte) {
	seenAlnum := false
	for len(t.line) > 0 {
		last := t.line[len(t.line)-1]
		if t.special(c, vWERASE) {
			if last == '_' || last >= '0' && last <= '9' || last|0x20 >= 'a' && last|0x20 <= 'z' {
				seenAlnum = true
			} else if seenAlnum {
				break
			}
		}
		t.line = t.line[:len(t.line)-1]
		t.size--
		if t.echoing() {
			t.echoErase(last)
		}
		if t.special(c, vERASE) {
			break
		}
	}
}

func (t *ldisc) echoErase(c byte) {
	switch {
	case c == '\t':
		// Back to where the tab started: count the columns since the
		// start of the line or the previous tab.
		n, afterTab := 0, false
		for i := len(t.line) - 1; i >= 0; i-- {
			if t.line[i] == '\t' {
				afterTab = true
				break
			}
			if isCntrl(t.line[i]) {
				n += 2
			} else {
				n++
			}
		}
		if !afterTab {
			n += t.canonColumn
		}
		bs := make([]byte, 8-n&7)
		for i := range bs {
			bs[i] = '\b'
		}
		t.out(bs)
	case isCntrl(c):
		t.out([]byte("\b \b\b \b"))
	default:
		t.out([]byte("\b \b"))
	}
}

// echoForm is how the kernel echoes b: control characters as ^X.
func (t *ldisc) echoForm(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if isCntrl(c) && c != '\t' && c != '\n' {
			out = append(out, '^', c^0x40)
		} else {
			out = append(out, c)
		}
	}
	return out
}

func (t *ldisc) echoChar(c byte) { t.out(t.echoForm([]byte{c})) }

// out writes to the terminal with OPOST and ONLCR, keeping the kernel's
// idea of the column for tab erasure.
func (t *ldisc) out(b []byte) {
	var o []byte
	for _, c := range b {
		switch {
		case c == '\n':
			o = append(o, '\r', '\n')
			t.column = 0
		case c == '\r':
			o = append(o, c)
			t.column = 0
		case c == '\b':
			o = append(o, c)
			if t.column > 0 {
				t.column--
			}
		case c == '\t' && t.xtabs:
			n := t.column | 7 + 1
			for ; t.column < n; t.column++ {
				o = append(o, ' ')
			}
		case c == '\t':
			o = append(o, c)
			t.column = t.column | 7 + 1
		default:
			o = append(o, c)
			if !isCntrl(c) {
				t.column++
			}
		}
	}
	if t.emit != nil {
		t.emit(o)
	}
}

// flushInput discards unread input, as tcsetattr(TCSAFLUSH) does.
func (t *ldisc) flushInput() {
	t.line, t.ready, t.size, t.raw, t.lnext = nil, nil, 0, t.raw[:0], false
}

// readLine takes the first complete line, ok false when there is none
// yet. A line that ended with EOF and has no bytes is an end of file.
func (t *ldisc) readLine() (l canonLine, ok bool) {
	if len(t.ready) == 0 {
		return l, false
	}
	l = t.ready[0]
	t.ready = t.ready[1:]
	t.size -= len(l.b)
	if l.eof {
		t.size--
	}
	return l, true
}

// readRaw moves raw input into p.
func (t *ldisc) readRaw(p []byte) int {
	n := copy(p, t.raw)
	t.raw = t.raw[:copy(t.raw, t.raw[n:])]
	return n
}
