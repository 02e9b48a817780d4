package telnet

// SLC functions (RFC 1184).
const (
	slcEC    = 10
	slcEL    = 11
	slcEW    = 12
	slcRP    = 13
	slcLNext = 14
	nSLC     = 18
)

// SLC levels and flags.
const (
	slcNoSupport  = 0
	slcCantChange = 1
	slcVariable   = 2
	slcDefault    = 3
	slcLevelBits  = 3
	slcFlushOut   = 0x20
	slcFlushIn    = 0x40
	slcAck        = 0x80
)

// slcEntry is one special character: telnetd's default and current
// setting, and the terminal character it maps to (cc < 0: none).
type slcEntry struct {
	defFlag, defVal byte
	curFlag, curVal byte
	cc              int
}

// slcTable is telnetd's SLC table on Linux and the reply being built.
type slcTable struct {
	e   [nSLC + 1]slcEntry
	buf []byte
	tty *ldisc
}

// slcDefaults maps each function to the terminal character and level
// telnetd's spcset gives it on Linux; functions Linux lacks (SYNCH, BRK,
// AYT, EOR) are DEFAULT with no character.
var slcDefaults = [nSLC + 1]struct {
	cc   int
	flag byte
}{
	{-1, slcNoSupport},
	{-1, slcDefault}, // SYNCH
	{-1, slcDefault}, // BRK
	{vINTR, slcVariable | slcFlushIn | slcFlushOut}, // IP
	{vDISCARD, slcVariable | slcFlushOut},           // AO
	{-1, slcDefault},                                // AYT
	{-1, slcDefault},                                // EOR
	{vQUIT, slcVariable | slcFlushIn | slcFlushOut}, // ABORT
	{vEOF, slcVariable},
	{vSUSP, slcVariable | slcFlushIn},
	{vERASE, slcVariable},
	{vKILL, slcVariable},
	{vWERASE, slcVariable},
	{vREPRINT, slcVariable},
	{vLNEXT, slcVariable},
	{vSTART, slcVariable},
	{vSTOP, slcVariable},
	{vEOL, slcVariable},  // FORW1
	{vEOL2, slcVariable}, // FORW2
}

// init is get_slc_defaults: defaults from the terminal, current settings
// all NOSUPPORT until the client says otherwise.
func (t *slcTable) init(tty *ldisc) {
	t.tty = tty
	for i := 1; i <= nSLC; i++ {
		d := slcDefaults[i]
		t.e[i] = slcEntry{defFlag: d.flag, cc: d.cc}
		if d.cc >= 0 {
			t.e[i].defVal = tty.cc[d.cc]
		}
	}
}

func (t *slcTable) start() { t.buf = append(t.buf[:0], cmdIAC, cmdSB, optLinemode, lmSLC) }

// add appends a triplet, doubling IACs. The reply is bounded the way the
// fixed telnetd bounds it (CVE-2026-32746 was an overflow here).
func (t *slcTable) add(f, flag, val byte) {
	if len(t.buf) > 4+nSLC*6-6 {
		return
	}
	for _, c := range [3]byte{f, flag, val} {
		t.buf = append(t.buf, c)
		if c == cmdIAC {
			t.buf = append(t.buf, c)
		}
	}
}

// process is telnetd's process_slc for one triplet from the client.
func (t *slcTable) process(f, flag, val byte) {
	if f > nSLC {
		t.add(f, slcNoSupport, 0)
		return
	}
	if f == 0 {
		switch flag & slcLevelBits {
		case slcDefault:
			t.defaults()
			t.sendAll()
		case slcVariable:
			t.sendAll()
		}
		return
	}
	e := &t.e[f]
	his, mine, ack := flag&slcLevelBits, e.curFlag&slcLevelBits, flag&slcAck != 0
	if his == mine && (val == e.curVal || ack) || ack {
		return
	}
	t.change(f, flag, val)
}

// change is telnetd's change_slc.
func (t *slcTable) change(f, flag, val byte) {
	e := &t.e[f]
	his, mine := flag&slcLevelBits, e.defFlag&slcLevelBits
	switch {
	case his == slcNoSupport:
		e.curFlag, e.curVal = flag, 0
		t.add(f, flag|slcAck, val)
	case his == slcDefault:
		if mine == slcDefault {
			e.curFlag = slcNoSupport
		} else {
			e.curFlag = e.defFlag
		}
		e.curVal = e.defVal
		t.add(f, e.curFlag, e.curVal)
	case e.cc >= 0:
		e.curFlag, e.curVal = flag, val
		t.tty.cc[e.cc] = val
		t.add(f, flag|slcAck, val)
	default:
		switch {
		case mine == slcDefault:
			e.curFlag, e.curVal = flag, val
			flag |= slcAck
		case his == slcCantChange && mine == slcCantChange:
			flag = flag&^slcLevelBits | slcNoSupport
			e.curFlag = flag
		default:
			flag = flag&^slcLevelBits | mine
			e.curFlag = flag
			if mine == slcCantChange {
				e.curVal = e.defVal
				val = e.curVal
			}
		}
		t.add(f, flag, val)
	}
}

// defaults is default_slc: every function back to its default.
func (t *slcTable) defaults() {
	for i := 1; i <= nSLC; i++ {
		e := &t.e[i]
		e.curVal = e.defVal
		if e.curVal == 0 {
			e.curFlag = slcNoSupport
		} else {
			e.curFlag = e.defFlag
		}
		if e.cc >= 0 {
			t.tty.cc[e.cc] = e.defVal
		}
	}
}

// sendAll is send_slc: the supported functions, and the editing ones
// without support as DEFAULT so the client picks its own.
func (t *slcTable) sendAll() {
	for i := 1; i <= nSLC; i++ {
		e := t.e[i]
		switch {
		case e.curFlag&slcLevelBits != slcNoSupport:
			t.add(byte(i), e.curFlag, e.curVal)
		case i == slcEC || i == slcEL || i == slcEW || i == slcRP || i == slcLNext:
			t.add(byte(i), e.curFlag&^slcLevelBits|slcDefault, 0)
		}
	}
}

// send returns the current table as triplets, for STATUS.
func (t *slcTable) send() []byte {
	t.start()
	t.sendAll()
	return append([]byte(nil), t.buf[4:]...)
}

// doSLC takes an SLC list: processed once the terminal is set up,
// otherwise the first one is kept for then and the others dropped.
func (e *engine) doSLC(b []byte) {
	if !e.terminit {
		if e.defSLC == nil {
			e.defSLC = append([]byte{}, b...)
		}
		return
	}
	for i := 0; i+2 < len(b); i += 3 {
		e.slc.process(b[i], b[i+1], b[i+2])
	}
}

// endSLC sends the reply, unless a deferred list is still waiting.
func (e *engine) endSLC() {
	if e.defSLC != nil && !e.terminit {
		return
	}
	if len(e.slc.buf) > 4 {
		e.out = append(append(e.out, e.slc.buf...), cmdIAC, cmdSE)
	}
}
