package telnet

import (
	"strconv"
	"strings"
)

// Telnet commands (RFC 854, RFC 1184).
const (
	cmdEOF   = 236
	cmdSUSP  = 237
	cmdABORT = 238
	cmdEOR   = 239
	cmdSE    = 240
	cmdDM    = 242
	cmdBRK   = 243
	cmdIP    = 244
	cmdAO    = 245
	cmdAYT   = 246
	cmdEC    = 247
	cmdEL    = 248
	cmdSB    = 250
	cmdWILL  = 251
	cmdWONT  = 252
	cmdDO    = 253
	cmdDONT  = 254
	cmdIAC   = 255
)

// Telnet options.
const (
	optBinary     = 0
	optEcho       = 1
	optSGA        = 3
	optStatus     = 5
	optTM         = 6
	optLogout     = 18
	optTTYPE      = 24
	optEOR        = 25
	optNAWS       = 31
	optTSPEED     = 32
	optLFLOW      = 33
	optLinemode   = 34
	optXDISPLOC   = 35
	optOldEnviron = 36
	optAuth       = 37
	optEncrypt    = 38
	optNewEnviron = 39
)

// Sub-negotiation qualifiers and codes.
const (
	qualIS   = 0
	qualSEND = 1
	qualINFO = 2

	lmMode    = 1
	lmSLC     = 3
	modeEdit  = 0x01
	modeTrap  = 0x02
	modeAck   = 0x04
	modeMask  = 0x1f
	lflowXON  = 3
	envVar    = 0
	envValue  = 1
	envEsc    = 2
	envUser   = 3
	nTelopts  = 40 // glibc's NTELOPTS: the options STATUS reports on
	sbMax     = 512
	maxEnv    = 32
	maxEnvLen = 256
)

// Linemode support levels of the client, telnetd's lmodetype.
const (
	lmodeNone    = 0
	lmodeKludge  = 1
	lmodeNoAuto  = 2
	lmodeKludgOK = 3
	lmodeReal    = 4
)

// Per-option state bits, as telnetd keeps them: what each side does now
// and what we want it to do.
const (
	myWill     = 0x01
	myWantWill = 0x02
	hisWill    = 0x04
	hisWantDo  = 0x08
)

// Receive states of telnetd's telrcv.
const (
	tsData = iota
	tsIAC
	tsCR
	tsSB
	tsSE
	tsWill
	tsWont
	tsDo
	tsDont
)

// engine is the protocol half of inetutils telnetd: the receive state
// machine, Borman's option negotiation with telnetd's choices, the
// sub-options, linemode and SLC, and the network output they produce. It
// does no I/O: the session feeds it bytes and writes out what it queued.
// Data for the pseudo-terminal goes to tty.
type engine struct {
	opt      [256]uint8
	doDont   [256]uint8 // DO/DONT we sent and await an answer to
	willWont [256]uint8 // WILL/WONT we sent and await an answer to

	state int
	sb    []byte
	out   []byte
	// urgent is the index in out of the byte to send as TCP urgent data
	// (the IAC of IAC DM), or -1.
	urgent int

	// telnetd's clocks: settimer stamps, compared against baseline.
	clock, baseline                              int
	ttypeAt, tspeedAt, xdisplocAt, envAt, oenvAt int

	lmode      int
	linemode   bool
	editmode   byte
	flowmode   bool
	restartany int
	slc        slcTable
	defSLC     []byte
	terminit   bool
	logout     bool

	tty *ldisc

	// busybox switches to busybox telnetd's receive path (feedBusybox)
	// and output (no NUL after a lone CR).
	busybox bool
	bbState int
	bbCmd   byte
	bbStart int // where the output of the chunk being fed starts

	// What the client told us.
	ttype     string
	ttypeSeen bool
	tspeed    string
	xdisploc  string
	env       [][2]string
	width     int
	height    int
	// onWindow is called with every window size the client sends.
	onWindow func(w, h int)
}

func newEngine(tty *ldisc) *engine {
	e := &engine{tty: tty, urgent: -1, restartany: -1, flowmode: true}
	e.slc.init(tty)
	return e
}

func (e *engine) hisStateWill(o byte) bool { return e.opt[o]&hisWill != 0 }
func (e *engine) hisWantWill(o byte) bool  { return e.opt[o]&hisWantDo != 0 }
func (e *engine) myStateWill(o byte) bool  { return e.opt[o]&myWill != 0 }
func (e *engine) myWantWill(o byte) bool   { return e.opt[o]&myWantWill != 0 }
func (e *engine) hisChanging(o byte) bool  { return e.hisStateWill(o) != e.hisWantWill(o) }
func (e *engine) myChanging(o byte) bool   { return e.myStateWill(o) != e.myWantWill(o) }
func (e *engine) set(o byte, bit uint8, on bool) {
	if on {
		e.opt[o] |= bit
	} else {
		e.opt[o] &^= bit
	}
}

func (e *engine) settimer() int { e.clock++; return e.clock }

// cmd queues IAC c o.
func (e *engine) cmd(c, o byte) { e.out = append(e.out, cmdIAC, c, o) }

func inc(p *uint8) {
	if *p < 255 {
		*p++
	}
}

// sendDo is telnetd's send_do: init requests a change and is skipped when
// the option is already there or on its way.
func (e *engine) sendDo(o byte, init bool) {
	if init {
		if (e.doDont[o] == 0 && e.hisStateWill(o)) || e.hisWantWill(o) {
			return
		}
		// TM: a DO that pretends to be a DONT, so that more can follow.
		e.set(o, hisWantDo, o != optTM)
		inc(&e.doDont[o])
	}
	e.cmd(cmdDO, o)
}

func (e *engine) sendDont(o byte, init bool) {
	if init {
		if (e.doDont[o] == 0 && !e.hisStateWill(o)) || !e.hisWantWill(o) {
			return
		}
		e.set(o, hisWantDo, false)
		inc(&e.doDont[o])
	}
	e.cmd(cmdDONT, o)
}

func (e *engine) sendWill(o byte, init bool) {
	if init {
		if (e.willWont[o] == 0 && e.myStateWill(o)) || e.myWantWill(o) {
			return
		}
		e.set(o, myWantWill, true)
		inc(&e.willWont[o])
	}
	e.cmd(cmdWILL, o)
}

func (e *engine) sendWont(o byte, init bool) {
	if init {
		if (e.willWont[o] == 0 && !e.myStateWill(o)) || !e.myWantWill(o) {
			return
		}
		e.set(o, myWantWill, false)
		inc(&e.willWont[o])
	}
	e.cmd(cmdWONT, o)
}

// answered counts down the requests of ours that a reply answers, the
// way telnetd does, and reports whether none is left outstanding.
func answered(resp *uint8, sameAsNow bool) bool {
	if *resp > 0 {
		*resp--
		if *resp > 0 && sameAsNow {
			*resp--
		}
	}
	return *resp == 0
}

func (e *engine) willoption(o byte) {
	var after func()
	if answered(&e.doDont[o], e.hisStateWill(o)) {
		if !e.hisWantWill(o) {
			ok := false
			switch o {
			case optBinary:
				e.tty.setBinaryIn(true)
				ok = true
			case optTM:
				// telnetd only uses TM to detect kludge linemode, and
				// never answers a WILL TM.
				if e.lmode < lmodeKludge {
					e.lmode = lmodeKludge
					e.clientLinemode(true)
					e.sendWont(optSGA, true)
				} else if e.lmode == lmodeNoAuto {
					e.lmode = lmodeKludgOK
				}
				return
			case optLFLOW, optTTYPE, optSGA, optNAWS, optTSPEED, optXDISPLOC, optNewEnviron, optOldEnviron:
				ok = true
			case optLinemode:
				e.lmode = lmodeReal
				after = func() { e.clientLinemode(true) }
				ok = true
			}
			if ok {
				e.set(o, hisWantDo, true)
				e.sendDo(o, false)
			} else {
				inc(&e.doDont[o])
				e.sendDont(o, false)
			}
		} else {
			switch o {
			case optEcho:
				// A client that echoes itself: tell it to stop.
				e.sendDont(o, true)
			case optLinemode:
				e.lmode = lmodeReal
				after = func() { e.clientLinemode(true) }
			case optLFLOW:
				after = e.flowstat
			}
		}
	}
	e.set(o, hisWill, true)
	if after != nil {
		after()
	}
}

func (e *engine) wontoption(o byte) {
	if answered(&e.doDont[o], !e.hisStateWill(o)) {
		if e.hisWantWill(o) {
			switch o {
			case optBinary:
				e.tty.setBinaryIn(false)
			case optLinemode:
				if e.lmode == lmodeReal {
					e.clientLinemode(false)
				}
			case optTM:
				e.set(o, hisWantDo, false)
				return
			case optTTYPE:
				e.ttypeAt = e.settimer()
			case optTSPEED:
				e.tspeedAt = e.settimer()
			case optXDISPLOC:
				e.xdisplocAt = e.settimer()
			case optOldEnviron:
				e.oenvAt = e.settimer()
			case optNewEnviron:
				e.envAt = e.settimer()
			}
			e.set(o, hisWantDo, false)
			if e.hisStateWill(o) {
				e.sendDont(o, false)
			}
		} else if o == optTM && e.lmode < lmodeNoAuto {
			// The client cannot do kludge linemode: character mode, with
			// SGA and our echo offered again if they were refused.
			e.lmode = lmodeNone
			e.clientLinemode(false)
			e.sendWill(optSGA, true)
			e.sendWill(optEcho, true)
		}
	}
	e.set(o, hisWill, false)
}

func (e *engine) dooption(o byte) {
	if answered(&e.willWont[o], e.myStateWill(o)) && !e.myWantWill(o) {
		ok := false
		switch o {
		case optEcho:
			if e.lmode == lmodeNone {
				e.tty.setEcho(true)
			}
			ok = true
		case optBinary:
			e.tty.binaryOut = true
			ok = true
		case optSGA:
			if e.lmode == lmodeKludge {
				e.clientLinemode(false)
				if e.linemode {
					break
				}
			}
			ok = true
		case optStatus:
			ok = true
		case optTM:
			e.sendWill(o, false)
			e.set(o, myWantWill|myWill, false)
			return
		case optLogout:
			e.set(o, myWantWill, true)
			e.sendWill(o, false)
			e.set(o, myWill, true)
			e.logout = true
			return
		}
		if ok {
			e.set(o, myWantWill, true)
			e.sendWill(o, false)
		} else {
			inc(&e.willWont[o])
			e.sendWont(o, false)
		}
	}
	e.set(o, myWill, true)
}

func (e *engine) dontoption(o byte) {
	if answered(&e.willWont[o], !e.myStateWill(o)) && e.myWantWill(o) {
		switch o {
		case optBinary:
			e.tty.binaryOut = false
		case optEcho:
			if e.lmode != lmodeReal && e.lmode != lmodeKludge {
				e.tty.setEcho(false)
			}
		case optSGA:
			if e.lmode == lmodeKludge || e.lmode == lmodeKludgOK {
				e.lmode = lmodeKludge
				e.clientLinemode(true)
			}
		}
		e.set(o, myWantWill, false)
		if e.myStateWill(o) {
			e.sendWont(o, false)
		}
	}
	e.set(o, myWill, false)
}

// clientLinemode is telnetd's clientstat(TELOPT_LINEMODE, on).
func (e *engine) clientLinemode(on bool) {
	if on == e.linemode {
		return
	}
	if e.lmode == lmodeReal && on {
		e.editmode = modeTrap
		if e.tty.icanon {
			e.editmode |= modeEdit
		}
		e.sbMode(e.editmode)
	}
	e.linemode = on
	if !on {
		e.sendWill(optEcho, true)
	}
}

// sbMode queues SB LINEMODE MODE m. telnetd writes it from an 8-byte
// buffer holding a 7-byte string, so a NUL follows on the wire.
func (e *engine) sbMode(m byte) {
	e.out = append(e.out, cmdIAC, cmdSB, optLinemode, lmMode, m, cmdIAC, cmdSE, 0)
}

// flowstat tells a client that does LFLOW the pty's flow control, with
// the same trailing NUL as sbMode.
func (e *engine) flowstat() {
	if !e.hisStateWill(optLFLOW) || e.restartany == 0 {
		return
	}
	e.restartany = 0
	e.out = append(e.out, cmdIAC, cmdSB, optLFLOW, lflowXON, cmdIAC, cmdSE, 0)
}

// localstat is telnetd's first look at the pty after login started: the
// binary options follow the terminal, and linemode is switched off.
func (e *engine) localstat() {
	if !e.tty.istrip {
		if !e.hisWantWill(optBinary) {
			e.sendDo(optBinary, true)
		}
	} else if e.hisWantWill(optBinary) {
		e.sendDont(optBinary, true)
	}
	if !e.tty.binaryOut && e.myWantWill(optBinary) {
		e.sendWont(optBinary, true)
	}
	e.flowstat()
	if e.linemode {
		if e.lmode == lmodeReal {
			e.sendDont(optLinemode, true)
		} else if e.lmode == lmodeKludge {
			e.sendWill(optSGA, true)
		}
		e.sendWill(optEcho, true)
		e.linemode = false
	} else if e.lmode == lmodeKludge {
		e.sendWill(optSGA, true)
	}
	e.terminit = true
	if e.defSLC != nil {
		e.slc.start()
		e.doSLC(e.defSLC)
		e.endSLC()
		e.defSLC = nil
	}
}

// feed runs telnetd's receive state machine over b and returns how many
// bytes it took: it stops early when the terminal cannot take more input.
func (e *engine) feed(b []byte) int {
	if e.busybox {
		return e.feedBusybox(b)
	}
	for i := 0; i < len(b); i++ {
		if e.tty.full() {
			return i
		}
		c := b[i]
		switch e.state {
		case tsCR:
			e.state = tsData
			if c == 0 || c == '\n' {
				continue
			}
			e.data(c)
		case tsData:
			e.data(c)
		case tsIAC:
			e.state = tsData
			e.command(c)
		case tsSB:
			if c == cmdIAC {
				e.state = tsSE
			} else {
				e.sbAccum(c)
			}
		case tsSE:
			switch c {
			case cmdSE:
				e.state = tsData
				e.suboption()
			case cmdIAC:
				e.sbAccum(c)
				e.state = tsSB
			default:
				// A malformed sub-option: take what came, and read
				// on as a command.
				e.suboption()
				e.state = tsData
				e.command(c)
			}
		case tsWill:
			e.state = tsData
			e.willoption(c)
		case tsWont:
			e.state = tsData
			e.wontoption(c)
		case tsDo:
			e.state = tsData
			e.dooption(c)
		case tsDont:
			e.state = tsData
			e.dontoption(c)
		}
	}
	return len(b)
}

func (e *engine) data(c byte) {
	if c == cmdIAC {
		e.state = tsIAC
		return
	}
	if c == '\r' && !e.hisStateWill(optBinary) {
		e.state = tsCR
	}
	e.tty.input(c)
}

func (e *engine) sbAccum(c byte) {
	if len(e.sb) < sbMax {
		e.sb = append(e.sb, c)
	}
}

func (e *engine) command(c byte) {
	switch c {
	case cmdIP:
		e.tty.input(e.tty.cc[vINTR])
	case cmdBRK, cmdABORT:
		e.tty.input(e.tty.cc[vQUIT])
	case cmdSUSP:
		e.tty.input(e.tty.cc[vSUSP])
	case cmdAYT:
		e.out = append(e.out, "\r\n[Yes]\r\n"...)
	case cmdAO:
		if v := e.tty.cc[vDISCARD]; v != 0 {
			e.tty.input(v)
		}
		e.dataMark()
	case cmdEC:
		e.tty.input(e.tty.cc[vERASE])
	case cmdEL:
		e.tty.input(e.tty.cc[vKILL])
	case cmdEOR:
		if e.hisStateWill(optEOR) {
			e.tty.input(e.tty.cc[vEOF])
		}
	case cmdEOF:
		e.tty.input(e.tty.cc[vEOF])
	case cmdSB:
		e.state = tsSB
		e.sb = e.sb[:0]
	case cmdWILL:
		e.state = tsWill
	case cmdWONT:
		e.state = tsWont
	case cmdDO:
		e.state = tsDo
	case cmdDONT:
		e.state = tsDont
	case cmdIAC:
		e.tty.input(c)
	}
}

// dataMark is telnetd's answer to a flush of the terminal's output: drop
// queued data but not commands, then IAC DM with the IAC as urgent data.
func (e *engine) dataMark() {
	e.netclear()
	e.urgent = len(e.out)
	e.out = append(e.out, cmdIAC, cmdDM)
}

// netclear drops the data queued for the network, keeping the commands
// (but not EC and EL), like telnetd's netclear.
func (e *engine) netclear() {
	kept := e.out[:0]
	for i := 0; i < len(e.out); {
		n := nextItem(e.out[i:])
		if e.out[i] == cmdIAC && n >= 2 && e.out[i+1] != cmdEC && e.out[i+1] != cmdEL {
			kept = append(kept, e.out[i:i+n]...)
		}
		i += n
	}
	e.out = kept
	e.urgent = -1
}

// nextItem is the length of the data byte or command at the start of b.
func nextItem(b []byte) int {
	if b[0] != cmdIAC || len(b) < 2 {
		return 1
	}
	switch b[1] {
	case cmdDO, cmdDONT, cmdWILL, cmdWONT:
		return min(3, len(b))
	case cmdSB:
		for i := 2; i+1 < len(b); i++ {
			if b[i] == cmdIAC && b[i+1] == cmdSE {
				return i + 2
			}
		}
		return len(b)
	}
	return 2
}

// ptyOutput queues what the terminal prints: IAC doubled, and a CR not
// followed by LF padded with NUL unless we send binary.
func (e *engine) ptyOutput(b []byte) {
	for i, c := range b {
		e.out = append(e.out, c)
		if c == cmdIAC {
			e.out = append(e.out, c)
		}
		if c == '\r' && !e.busybox && !e.myStateWill(optBinary) && (i+1 >= len(b) || b[i+1] != '\n') {
			e.out = append(e.out, 0)
		}
	}
}

func (e *engine) suboption() {
	if len(e.sb) == 0 {
		return
	}
	o, sb := e.sb[0], e.sb[1:]
	switch o {
	case optTSPEED:
		if !e.hisStateWill(o) {
			return
		}
		e.tspeedAt = e.settimer()
		if len(sb) > 0 && sb[0] == qualIS {
			if _, _, ok := strings.Cut(string(sb[1:]), ","); ok {
				e.tspeed = printable(sb[1:], 64)
			}
		}
	case optTTYPE:
		if !e.hisStateWill(o) {
			return
		}
		e.ttypeAt = e.settimer()
		if len(sb) > 0 && sb[0] == qualIS {
			e.ttype = strings.ToLower(printable(sb[1:], 64))
			e.ttypeSeen = true
		}
	case optNAWS:
		if !e.hisStateWill(o) || len(sb) < 4 {
			return
		}
		e.width, e.height = int(sb[0])<<8|int(sb[1]), int(sb[2])<<8|int(sb[3])
		if e.onWindow != nil {
			e.onWindow(e.width, e.height)
		}
	case optLinemode:
		if !e.hisStateWill(o) || len(sb) < 2 {
			return
		}
		switch sb[0] {
		case lmSLC:
			e.slc.start()
			e.doSLC(sb[1:])
			e.endSLC()
		case lmMode:
			e.clientMode(sb[1])
		}
	case optStatus:
		if len(sb) > 0 && sb[0] == qualSEND && e.myStateWill(optStatus) {
			e.sendStatus()
		}
	case optXDISPLOC:
		if len(sb) > 0 && sb[0] == qualIS {
			e.xdisplocAt = e.settimer()
			e.xdisploc = printable(sb[1:], 128)
		}
	case optNewEnviron, optOldEnviron:
		if len(sb) == 0 {
			return
		}
		switch sb[0] {
		case qualIS:
			if o == optOldEnviron {
				e.oenvAt = e.settimer()
			} else {
				e.envAt = e.settimer()
			}
		case qualINFO:
		default:
			return
		}
		e.parseEnv(sb[1:])
	}
}

// clientMode is clientstat(LM_MODE): the client's edit mode, which this
// telnetd takes without changing the terminal.
func (e *engine) clientMode(m byte) {
	m &= modeMask
	ack := m&modeAck != 0
	m &^= modeAck
	if m == e.editmode {
		return
	}
	if !ack {
		e.sbMode(m | modeAck)
	}
	e.editmode = m
}

// parseEnv records the variables of a NEW-ENVIRON or OLD-ENVIRON IS/INFO
// (OLD-ENVIRON read with RFC 1408's VAR 0 and VALUE 1). Debian's telnetd
// passes none of them to login, but they show what the client claims and
// whether it tries the USER injection of CVE-2026-24061.
func (e *engine) parseEnv(b []byte) {
	var name, val []byte
	cur, have := &name, false
	flush := func() {
		if have && len(e.env) < maxEnv {
			e.env = append(e.env, [2]string{printable(name, maxEnvLen), printable(val, maxEnvLen)})
		}
		name, val, cur, have = name[:0], val[:0], &name, false
	}
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case envVar, envUser:
			flush()
			have = true
		case envValue:
			cur = &val
		case envEsc:
			if i+1 < len(b) {
				i++
				*cur = append(*cur, b[i])
			}
		default:
			*cur = append(*cur, b[i])
		}
	}
	flush()
}

// envUser is the USER variable the client sent, if any.
func (e *engine) envUser() (string, bool) {
	for i := len(e.env) - 1; i >= 0; i-- {
		if e.env[i][0] == "USER" {
			return e.env[i][1], true
		}
	}
	return "", false
}

// sendStatus answers STATUS SEND with the wanted states, LFLOW and
// linemode, like telnetd's send_status.
func (e *engine) sendStatus() {
	b := []byte{cmdIAC, cmdSB, optStatus, qualIS}
	for i := 0; i < nTelopts; i++ {
		if e.myWantWill(byte(i)) {
			b = append(b, cmdWILL, byte(i))
		}
		if e.hisWantWill(byte(i)) {
			b = append(b, cmdDO, byte(i))
		}
	}
	if e.hisWantWill(optLFLOW) {
		b = append(b, cmdSB, optLFLOW, 1, cmdSE)
		if e.restartany >= 0 {
			b = append(b, cmdSB, optLFLOW, lflowXON, cmdSE)
		}
	}
	if e.hisWantWill(optLinemode) {
		b = append(b, cmdSB, optLinemode, lmMode)
		b = appendData(b, e.editmode)
		b = append(b, cmdSE, cmdSB, optLinemode, lmSLC)
		for _, c := range e.slc.send() {
			b = appendData(b, c)
		}
		b = append(b, cmdSE)
	}
	e.out = append(append(e.out, b...), cmdIAC, cmdSE)
}

func appendData(b []byte, c byte) []byte {
	b = append(b, c)
	if c == cmdSE || c == cmdIAC {
		b = append(b, c)
	}
	return b
}

// printable keeps at most n bytes of b, with bytes that are not printable
// ASCII shown as \xNN, so an event field never carries control bytes.
func printable(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	var s strings.Builder
	for _, c := range b {
		if c >= ' ' && c < 0x7f && c != '\\' {
			s.WriteByte(c)
		} else {
			s.WriteString(`\x`)
			s.WriteString(strconv.FormatUint(uint64(c)|0x100, 16)[1:])
		}
	}
	return s.String()
}
