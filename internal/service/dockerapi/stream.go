package dockerapi

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"decnet/internal/event"
)

// Stream media types of the engine.
const (
	rawStream         = "application/vnd.docker.raw-stream"
	multiplexedStream = "application/vnd.docker.multiplexed-stream"
)

// maxStdin bounds what one hijacked stream reads from the attacker, and
// maxLine one line of it.
const (
	maxStdin = 1 << 20
	maxLine  = 4096
)

// frame writes one stdcopy frame (stream 1 stdout, 2 stderr) or, for a
// TTY, the bytes alone.
func frame(w io.Writer, tty bool, stream byte, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if !tty {
		var hdr [8]byte
		hdr[0] = stream
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(b)))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
	}
	_, err := w.Write(b)
	return err
}

// streamType is the Content-Type of a stream: multiplexed for API 1.42
// and later without a TTY, raw otherwise.
func streamType(version string, tty bool) string {
	if !tty && !versionLess(version, "1.42") {
		return multiplexedStream
	}
	return rawStream
}

// hijack takes the connection over as the engine does for attach and
// exec: 101 UPGRADED when the client asked to upgrade, else 200, then the
// raw stream. withHeaders adds the middleware headers, as exec does.
func (h *handler) hijack(c *call, tty, withHeaders bool) (net.Conn, *bufio.ReadWriter, error) {
	nc, rw, err := c.w.Hijack()
	if err != nil {
		return nil, nil, err
	}
	var b strings.Builder
	if _, ok := c.r.Header["Upgrade"]; ok {
		c.w.status = http.StatusSwitchingProtocols
		fmt.Fprintf(&b, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n", streamType(c.version, tty))
	} else {
		c.w.status = http.StatusOK
		b.WriteString("HTTP/1.1 200 OK\r\nContent-Type: " + rawStream + "\r\n")
	}
	if withHeaders {
		hd := c.w.Header().Clone()
		hd.Del("Content-Type")
		hd.Write(&b)
	}
	b.WriteString("\r\n")
	if _, err := rw.WriteString(b.String()); err != nil {
		nc.Close()
		return nil, nil, err
	}
	if err := rw.Flush(); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, rw, nil
}

// session runs a hijacked stream: it writes the output of the process's
// command, then, when stdin is attached, reads it line by line, records
// each line as a command and answers it as the container's shell would.
// It returns when the client closes its side or the daemon stops.
func (h *handler) session(c *call, nc net.Conn, rw *bufio.ReadWriter, p process) {
	h.streams.Add(1)
	defer h.streams.Done()
	defer nc.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-h.ctx.Done():
			nc.Close()
		case <-stop:
		}
	}()
	sh := newMiniShell(p.ct, h.s.host.kernel)
	out := sh.run(p.cmd)
	if p.tty {
		out = strings.ReplaceAll(out, "\n", "\r\n")
		if p.stdin {
			out += sh.prompt()
		}
	}
	if frame(nc, p.tty, 1, []byte(out)) != nil || !p.stdin {
		return
	}
	in := bufio.NewReaderSize(io.LimitReader(rw, maxStdin), maxLine)
	for {
		line, err := readStdinLine(in)
		if line != "" || err == nil {
			h.s.emit(c.r, event.TypeCommand, event.Warning, map[string]string{
				"action": p.action, event.FieldCommand: event.Clip(line, maxLine), "container_id": p.ct.ID,
				"image": event.Clip(p.ct.Image, 512), "exec_id": p.execID, "tty": fmt.Sprint(p.tty)})
			reply := sh.run([]string{"sh", "-c", line})
			if p.tty { // the terminal's echo, its line endings, the prompt
				reply = line + "\r\n" + strings.ReplaceAll(reply, "\n", "\r\n")
				if !sh.exited {
					reply += sh.prompt()
				}
			}
			if frame(nc, p.tty, 1, []byte(reply)) != nil || sh.exited {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// readStdinLine reads one line of stdin (CR or LF ended, as a terminal
// sends it), at most maxLine bytes.
func readStdinLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for b.Len() < maxLine {
		ch, err := r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		switch ch {
		case '\r', '\n':
			return b.String(), nil
		case 0x7f, 0x08:
			s := b.String()
			if s != "" {
				b.Reset()
				b.WriteString(s[:len(s)-1])
			}
		case 0x04: // ^D
			return b.String(), io.EOF
		default:
			if ch >= ' ' || ch == '\t' {
				b.WriteByte(ch)
			}
		}
	}
	return b.String(), nil
}

// process is what a hijacked stream runs.
type process struct {
	ct         *container
	cmd        []string
	tty, stdin bool
	action     string // event action of stdin lines
	execID     string
}

// containerAttach is POST /containers/{id}/attach. docker run without -d
// attaches before it starts the container: the output waits for the
// start, and the container exits when the stream ends. Attaching to a
// container already running (the bait, a detached miner) shows nothing
// new and leaves it running.
func (h *handler) containerAttach(c *call, args []string) error {
	e := h.s.eng
	var p process
	var fresh bool
	var started chan struct{}
	err := containerKind.with(e, args[0], func(ct *container) error {
		h.action(c, "container_attach", ct, nil)
		p = process{ct: ct, cmd: argv(ct.Entrypoint, ct.Cmd), tty: ct.Tty, stdin: truthy(c.r.URL.Query().Get("stdin")),
			action: "attach_stdin"}
		fresh, started = !ct.Running && ct.Started.IsZero(), ct.started
		return nil
	})
	if err != nil {
		return err
	}
	nc, rw, err := h.hijack(c, p.tty, false)
	if err != nil {
		return err
	}
	h.record(c)
	if !fresh {
		p.cmd = nil
	} else {
		select {
		case <-started:
		case <-h.ctx.Done():
			nc.Close()
			return nil
		case <-time.After(limits.Idle):
			nc.Close()
			return nil
		}
	}
	h.session(c, nc, rw, p)
	if fresh {
		e.mu.Lock()
		h.exit(p.ct, 0)
		if p.ct.AutoRemove {
			e.remove(p.ct)
		}
		e.mu.Unlock()
	}
	return nil
}

// containerLogs is GET /containers/{id}/logs: the bait's service logs.
func (h *handler) containerLogs(c *call, args []string) error {
	q := c.r.URL.Query()
	if !truthy(q.Get("stdout")) && !truthy(q.Get("stderr")) {
		return errorf(http.StatusBadRequest, "Bad parameters: you must choose at least one stream")
	}
	var logs []byte
	var tty bool
	err := containerKind.with(h.s.eng, args[0], func(ct *container) error {
		h.action(c, "container_logs", ct, nil)
		logs, tty = ct.logs, ct.Tty
		return nil
	})
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", streamType(c.version, tty))
	c.w.WriteHeader(http.StatusOK)
	if truthy(q.Get("stdout")) {
		for _, line := range strings.SplitAfter(string(logs), "\n") {
			frame(c.w, tty, 1, []byte(line))
		}
	}
	c.w.Flush()
	if truthy(q.Get("follow")) {
		select {
		case <-c.r.Context().Done():
		case <-h.ctx.Done():
		case <-time.After(limits.Idle):
		}
	}
	return nil
}
