package telnet

// knownTerms are the terminfo entries of Debian 12's ncurses-base, the
// only ones telnetd's tgetent finds on a stock install. telnetd lowercases
// what the client sends, so mixed-case entries (Eterm) never match.
var knownTerms = map[string]bool{"ansi": true, "cons25": true, "cons25-debian": true, "cygwin": true, "dumb": true,
	"hurd": true, "linux": true, "mach": true, "mach-bold": true, "mach-color": true, "mach-gnu": true,
	"mach-gnu-color": true, "pcansi": true, "rxvt": true, "rxvt-basic": true, "rxvt-m": true, "rxvt-unicode": true,
	"rxvt-unicode-256color": true, "screen": true, "screen-256color": true, "screen-256color-bce": true,
	"screen-bce": true, "screen-s": true, "screen-w": true, "screen.xterm-256color": true, "sun": true, "tmux": true,
	"tmux-256color": true, "vt100": true, "vt102": true, "vt220": true, "vt52": true, "wsvt25": true, "wsvt25m": true,
	"xterm": true, "xterm-256color": true, "xterm-color": true, "xterm-debian": true, "xterm-mono": true,
	"xterm-r5": true, "xterm-r6": true, "xterm-vt220": true, "xterm-xfree86": true}

func (e *engine) terminalTypeOK() bool { return !e.ttypeSeen || knownTerms[e.ttype] }

// ttloop reads and processes client input while cond holds, as telnetd's
// ttloop does during start-up.
type ttloop func(cond func() bool) error

// getTerminalType is telnetd's getterminaltype: offer AUTHENTICATION and
// ENCRYPT, ask for the terminal type, speed, X display and environment,
// wait for every answer and sub-option, and walk the client's list of
// terminal types until one is in terminfo.
func (e *engine) getTerminalType(loop ttloop) error {
	e.baseline = e.settimer()
	e.sendWill(optAuth, true)
	if err := loop(func() bool { return e.hisChanging(optAuth) }); err != nil {
		return err
	}
	e.sendWill(optEncrypt, true)
	for _, o := range []byte{optTTYPE, optTSPEED, optXDISPLOC, optNewEnviron, optOldEnviron} {
		e.sendDo(o, true)
	}
	if err := loop(func() bool {
		return e.myChanging(optEncrypt) || e.hisChanging(optTTYPE) || e.hisChanging(optTSPEED) ||
			e.hisChanging(optXDISPLOC) || e.hisChanging(optNewEnviron) || e.hisChanging(optOldEnviron)
	}); err != nil {
		return err
	}
	for _, o := range []byte{optTSPEED, optXDISPLOC} {
		if e.hisStateWill(o) {
			e.sbSend(o)
		}
	}
	if e.hisStateWill(optNewEnviron) {
		e.sbSend(optNewEnviron)
	} else if e.hisStateWill(optOldEnviron) {
		e.sbSend(optOldEnviron)
	}
	if e.hisStateWill(optTTYPE) {
		e.sbSend(optTTYPE)
	}
	// telnetd waits for OLD-ENVIRON too when the client offered both,
	// though it asked only for NEW-ENVIRON: such a client hangs here.
	waits := []struct {
		o  byte
		at *int
	}{{optTSPEED, &e.tspeedAt}, {optXDISPLOC, &e.xdisplocAt}, {optNewEnviron, &e.envAt}, {optOldEnviron, &e.oenvAt},
		{optTTYPE, &e.ttypeAt}}
	for _, w := range waits {
		if !e.hisStateWill(w.o) {
			continue
		}
		if err := loop(func() bool { return *w.at < e.baseline }); err != nil {
			return err
		}
	}
	if !e.hisStateWill(optTTYPE) || e.terminalTypeOK() {
		return nil
	}
	first := e.ttype
	for {
		last := e.ttype
		if err := e.getTermName(loop); err != nil {
			return err
		}
		if e.terminalTypeOK() {
			return nil
		}
		if e.ttype == last || !e.hisStateWill(optTTYPE) {
			if e.ttype == first {
				return nil
			}
			// Once more, so that an RFC 1091 client cycles back to the
			// start of its list.
			if err := e.getTermName(loop); err != nil {
				return err
			}
			e.ttype = first
			return nil
		}
	}
}

func (e *engine) sbSend(o byte) { e.out = append(e.out, cmdIAC, cmdSB, o, qualSEND, cmdIAC, cmdSE) }

func (e *engine) getTermName(loop ttloop) error {
	if !e.hisStateWill(optTTYPE) {
		return nil
	}
	e.baseline = e.settimer()
	e.sbSend(optTTYPE)
	return loop(func() bool { return e.ttypeAt < e.baseline })
}

// startTerminal is the part of telnetd_run before the banner: offer SGA,
// ask for ECHO, LINEMODE, NAWS, STATUS and LFLOW, wait for the answers
// that matter, take over the echo, and probe for kludge linemode.
func (e *engine) startTerminal(loop ttloop) error {
	if !e.myStateWill(optSGA) {
		e.sendWill(optSGA, true)
	}
	e.sendDo(optEcho, true)
	if !e.hisStateWill(optLinemode) {
		e.linemode, e.editmode = false, 0
		e.sendDo(optLinemode, true)
	}
	e.sendDo(optNAWS, true)
	e.sendWill(optStatus, true)
	e.flowmode, e.restartany = true, -1
	e.sendDo(optLFLOW, true)
	if err := loop(func() bool { return e.hisChanging(optNAWS) }); err != nil {
		return err
	}
	if e.hisWantWill(optEcho) && e.hisStateWill(optNAWS) {
		if err := loop(func() bool { return e.hisChanging(optEcho) }); err != nil {
			return err
		}
	}
	if e.hisWantWill(optEcho) {
		// The client never answered DO ECHO: act as if it said WILL.
		e.willoption(optEcho)
	}
	if !e.myStateWill(optEcho) {
		e.sendWill(optEcho, true)
	}
	if e.lmode < lmodeReal {
		e.sendDo(optTM, true)
	}
	return nil
}
