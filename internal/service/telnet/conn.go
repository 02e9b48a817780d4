package telnet

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/shell"
)

// Why a wait for the terminal ended early.
var (
	errClosed  = errors.New("connection closed")
	errKilled  = errors.New("killed by a signal")
	errTimeout = errors.New("timed out")
)

// readBuf is how much one read from the network takes.
const readBuf = 2048

// conn is one telnet connection: telnetd's engine on the network side,
// the pseudo-terminal's line discipline, and the program reading the
// terminal (login, then the shell) in a goroutine of its own. Everything
// is guarded by mu; cond announces new input, a change of state, or room
// in the terminal.
type conn struct {
	srv    *Server
	nc     net.Conn
	fields map[string]string
	pty    int // pts number, -1 before login starts

	mu      sync.Mutex
	cond    sync.Cond
	e       *engine
	tty     *ldisc
	pending []byte // network input the terminal had no room for
	closed  bool   // the network side ended
	killed  bool   // a signal ended login
	shell   bool   // the shell reads the terminal
	// pwRead is busybox login reading a password, where ^C interrupts the
	// read (interrupted) instead of killing it.
	pwRead, interrupted bool
	reported            bool // the negotiation event went out
	sizes               chan shell.WindowSize
}

func newConn(s *Server, c *service.Conn) *conn {
	tty := newLdisc()
	x := &conn{srv: s, nc: c, fields: c.Fields(), pty: -1, tty: tty, sizes: make(chan shell.WindowSize, 4)}
	x.cond.L = &x.mu
	x.e = newEngine(tty)
	tty.emit = x.e.ptyOutput
	tty.flushOut = x.e.dataMark
	if s.product == Busybox {
		x.e.busybox, tty.xtabs = true, true
		tty.flushOut = x.e.bbFlush
	}
	tty.signal = x.signal
	x.e.onWindow = x.window
	return x
}

// tcpConn is the TCP connection under c, or nil.
func tcpConn(c net.Conn) *net.TCPConn {
	if sc, ok := c.(*service.Conn); ok {
		c = sc.Conn
	}
	tc, _ := c.(*net.TCPConn)
	return tc
}

// run serves the connection until either side ends it.
func (x *conn) run(ctx context.Context) {
	// telnetd sets SO_KEEPALIVE and leaves the kernel's timers (probes
	// after two hours), where Go's listeners probe after 15 s.
	if tc := tcpConn(x.nc); tc != nil {
		tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 2 * time.Hour, Interval: 75 * time.Second, Count: 9})
	}
	defer func() {
		if x.pty >= 0 {
			x.srv.closePTY(x.pty)
		}
	}()
	defer x.finish()
	buf := make([]byte, readBuf)
	if err := x.negotiate(buf); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer x.finish()
		x.session(ctx)
	}()
	x.readLoop(buf)
	<-done
	x.mu.Lock()
	x.reportNegotiationOnce()
	x.mu.Unlock()
}

// finish ends the connection and wakes everyone waiting on it.
func (x *conn) finish() {
	x.mu.Lock()
	x.closed = true
	x.cond.Broadcast()
	x.mu.Unlock()
	x.nc.Close()
}

// negotiate is telnetd from accept to the banner, reading the network
// itself as telnetd does before it starts login.
func (x *conn) negotiate(buf []byte) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.srv.product == Busybox {
		x.negotiateBusybox()
		return nil
	}
	loop := func(cond func() bool) error {
		for {
			x.flushLocked()
			if x.closed {
				return errClosed
			}
			if !cond() {
				return nil
			}
			x.readLocked(buf)
		}
	}
	if err := x.e.getTerminalType(loop); err != nil {
		return err
	}
	x.pty = x.srv.openPTY()
	if err := x.e.startTerminal(loop); err != nil {
		return err
	}
	x.tty.open = true
	x.e.localstat()
	if !x.srv.persona.NoHostinfo {
		x.e.ptyOutput([]byte("\r\nLinux " + x.srv.release + " (" + x.srv.hostname + ") (" + x.ptsName() + ")\r\n\r\n"))
	}
	x.flushLocked()
	x.reportNegotiationOnce()
	if x.closed {
		return errClosed
	}
	return nil
}

// negotiateBusybox is busybox telnetd from accept to login: its four
// options, then the newline its child prints before it runs login (with
// no /etc/issue.net). Nothing waits for the client.
func (x *conn) negotiateBusybox() {
	x.e.out = append(x.e.out, busyboxOpening...)
	x.pty = x.srv.openPTY()
	x.tty.open = true
	x.tty.out([]byte("\r\n"))
	x.flushLocked()
}

func (x *conn) ptsName() string { return "pts/" + strconv.Itoa(x.pty) }

// readLocked reads once from the network, without holding the lock while
// it waits, and runs what came through the engine.
func (x *conn) readLocked(buf []byte) {
	x.mu.Unlock()
	n, err := x.nc.Read(buf)
	x.mu.Lock()
	x.pending = append(x.pending, buf[:n]...)
	if err != nil {
		x.closed = true
	}
	x.feedLocked()
}

// feedLocked gives pending input to the engine as far as the terminal
// takes it, and sends what that produced.
func (x *conn) feedLocked() {
	n := x.e.feed(x.pending)
	x.pending = append(x.pending[:0], x.pending[n:]...)
	x.flushLocked()
	if x.e.logout {
		x.closed = true
		x.nc.Close()
	}
	x.cond.Broadcast()
}

// readLoop is telnetd's main loop on the network side, once login runs.
func (x *conn) readLoop(buf []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for !x.closed {
		if len(x.pending) > 0 {
			// The terminal is full: wait until the shell reads.
			x.cond.Wait()
			x.feedLocked()
			continue
		}
		x.readLocked(buf)
	}
}

// flushLocked writes the engine's output, the IAC of a data mark as TCP
// urgent data like telnetd.
func (x *conn) flushLocked() {
	out, u := x.e.out, x.e.urgent
	if len(out) == 0 || x.closed {
		x.e.out, x.e.urgent = x.e.out[:0], -1
		return
	}
	var err error
	if u >= 0 {
		if u > 0 {
			_, err = x.nc.Write(out[:u])
		}
		if err == nil {
			err = sendUrgent(x.nc, out[u])
		}
		out = out[u+1:]
	}
	if err == nil && len(out) > 0 {
		_, err = x.nc.Write(out)
	}
	x.e.out, x.e.urgent = x.e.out[:0], -1
	if err != nil {
		x.closed = true
	}
}

// signal is the terminal telling its foreground process of ^C, ^\ or ^Z.
func (x *conn) signal(v int) {
	switch {
	case x.shell && v == vINTR:
		// bash's line editor prints ^C and a new prompt.
		x.tty.raw = append(x.tty.raw, 3)
	case x.pwRead && v == vINTR:
		x.interrupted = true
	case x.e.busybox && v == vSUSP:
		// login leads an orphaned process group: the kernel drops ^Z.
	case !x.shell && v != vSUSP:
		x.killed = true
	}
}

func (x *conn) window(w, h int) {
	if !x.shell {
		return
	}
	select {
	case x.sizes <- shell.WindowSize{Width: min(w, 1000), Height: min(h, 1000)}:
	default:
	}
}

// waitLocked blocks until ready holds, the connection ends, login is
// killed, or the deadline (if not zero) passes.
func (x *conn) waitLocked(deadline time.Time, ready func() bool) error {
	if !deadline.IsZero() {
		t := time.AfterFunc(time.Until(deadline), func() {
			x.mu.Lock()
			x.cond.Broadcast()
			x.mu.Unlock()
		})
		defer t.Stop()
	}
	for {
		switch {
		case x.closed:
			return errClosed
		case x.killed:
			return errKilled
		case ready():
			return nil
		case !deadline.IsZero() && !time.Now().Before(deadline):
			return errTimeout
		}
		x.cond.Wait()
	}
}

// sleepLocked pauses for d, or until the deadline, which is errTimeout.
func (x *conn) sleepLocked(d time.Duration, deadline time.Time) error {
	never := func() bool { return false }
	until := time.Now().Add(d)
	if until.After(deadline) {
		return x.waitLocked(deadline, never)
	}
	if err := x.waitLocked(until, never); !errors.Is(err, errTimeout) {
		return err
	}
	return nil
}

// printLocked writes what a program prints on the terminal.
func (x *conn) printLocked(s string) {
	x.tty.out([]byte(s))
	x.flushLocked()
}

// termIO is the terminal as the shell sees it once its line editor has
// put it in raw mode.
type termIO struct{ x *conn }

func (t termIO) Read(p []byte) (int, error) {
	x := t.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := x.waitLocked(time.Time{}, func() bool { return len(x.tty.raw) > 0 }); err != nil {
		return 0, io.EOF
	}
	n := x.tty.readRaw(p)
	x.cond.Broadcast()
	return n, nil
}

func (t termIO) Write(p []byte) (int, error) {
	x := t.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return 0, errClosed
	}
	x.e.ptyOutput(p)
	x.flushLocked()
	if x.closed {
		return 0, errClosed
	}
	return len(p), nil
}

// session runs login and, after a login the persona accepts, the shell.
func (x *conn) session(ctx context.Context) {
	login := x.login
	if x.srv.product == Busybox {
		login = x.loginBusybox
	}
	user, err := login()
	if err != nil {
		return
	}
	x.mu.Lock()
	// bash's line editor takes the terminal out of canonical mode; what
	// was typed ahead stays for it to read.
	var ahead []byte
	for _, l := range x.tty.ready {
		ahead = append(ahead, l.b...)
	}
	ahead = append(ahead, x.tty.line...)
	x.tty.flushInput()
	x.tty.raw = append(x.tty.raw, ahead...)
	x.tty.icanon, x.shell = false, true
	size := shell.WindowSize{Width: min(x.e.width, 1000), Height: min(x.e.height, 1000)}
	term := x.e.ttype
	x.mu.Unlock()
	if term == "" {
		term = "network"
	}
	sess := x.srv.fs.NewSession(shell.Options{User: user, RemoteIP: x.fields[event.FieldSrcIP], TTY: x.ptsName(),
		Env: map[string]string{"TERM": term}, Hooks: shell.EventHooks(user, func(typ string, sev event.Severity, extra map[string]string) {
			x.srv.emit(typ, sev, x.fields, extra)
		})})
	defer sess.Close()
	sess.Interact(ctx, termIO{x}, size, x.sizes)
}

// reportNegotiationOnce records what the client said about itself: a
// fingerprint of its telnet implementation, and any try at CVE-2026-24061.
// inetutils reports with the banner; busybox, which never waits for the
// client, with the first line typed at the name prompt or at the end.
func (x *conn) reportNegotiationOnce() {
	if x.reported {
		return
	}
	x.reported = true
	e := x.e
	f := map[string]string{"client_will": optionNames(e, hisWill), "client_do": optionNames(e, myWill)}
	if e.ttypeSeen {
		f["ttype"] = e.ttype
	}
	if e.tspeed != "" {
		f["tspeed"] = e.tspeed
	}
	if e.xdisploc != "" {
		f["xdisploc"] = e.xdisploc
	}
	if e.width > 0 || e.height > 0 {
		f["window"] = strconv.Itoa(e.width) + "x" + strconv.Itoa(e.height)
	}
	sev := event.Info
	if len(e.env) > 0 {
		m := make(map[string]string, len(e.env))
		for _, kv := range e.env {
			m[kv[0]] = kv[1]
		}
		b, _ := json.Marshal(m)
		f["env"] = string(b)
		if u, ok := e.envUser(); ok && strings.HasPrefix(u, "-") {
			f["cve"] = "CVE-2026-24061"
			sev = event.Warning
		}
	}
	x.srv.emit("negotiation", sev, x.fields, f)
}

var optNames = map[int]string{optBinary: "BINARY", optEcho: "ECHO", optSGA: "SGA", optStatus: "STATUS", optTM: "TM",
	optLogout: "LOGOUT", optTTYPE: "TTYPE", optEOR: "EOR", optNAWS: "NAWS", optTSPEED: "TSPEED", optLFLOW: "LFLOW",
	optLinemode: "LINEMODE", optXDISPLOC: "XDISPLOC", optOldEnviron: "OLD-ENVIRON", optAuth: "AUTHENTICATION",
	optEncrypt: "ENCRYPT", optNewEnviron: "NEW-ENVIRON"}

// optionNames lists the options whose state has bit, by name.
func optionNames(e *engine, bit uint8) string {
	var names []string
	for o := range e.opt {
		if e.opt[o]&bit == 0 {
			continue
		}
		if n, ok := optNames[o]; ok {
			names = append(names, n)
		} else {
			names = append(names, strconv.Itoa(o))
		}
	}
	return strings.Join(names, ",")
}
