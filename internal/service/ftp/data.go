package ftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"decnet/internal/artifact"
	"decnet/internal/event"
)

// closeData drops a pending PASV listener or PORT address (vsftpd's
// pasv_cleanup and port_cleanup).
func (ss *session) closeData() {
	if ss.pasvLn != nil {
		ss.pasvLn.Close()
		ss.pasvLn = nil
	}
	ss.portAddr = nil
}

func (ss *session) ipv6() bool { return ss.local.To4() == nil }

// pasv is PASV and EPSV: a listener on the address the client reached.
func (ss *session) pasv(epsv bool, arg string) {
	if epsv && arg != "" {
		if upperASCII(arg) == "ALL" {
			ss.epsvAll = true
			ss.send(200, "EPSV ALL ok.")
			return
		}
		if v := atoi(arg); v < 1 || v > 2 || (!ss.ipv6() && v == 2) {
			ss.send(522, "Bad network protocol.")
			return
		}
	}
	ss.closeData()
	ln, err := ss.srv.listenPasv(ss.local)
	if err != nil {
		ss.send(500, "OOPS: vsf_sysutil_bind") // vsftpd's die() after its retries
		ss.dead = true
		return
	}
	ss.pasvLn = ln
	port := ln.Addr().(*net.TCPAddr).Port
	if epsv {
		end := "|)"
		if ss.srv.legacy {
			end = "|)."
		}
		ss.send(229, fmt.Sprintf("Entering Extended Passive Mode (|||%d%s", port, end))
		return
	}
	ip := "0,0,0,0"
	if v4 := ss.local.To4(); v4 != nil {
		ip = fmt.Sprintf("%d,%d,%d,%d", v4[0], v4[1], v4[2], v4[3])
	}
	ss.send(227, fmt.Sprintf("Entering Passive Mode (%s,%d,%d).", ip, port>>8, port&255))
}

// activeTarget accepts a PORT or EPRT address only when it is the control
// connection's peer on an unprivileged port, as vsftpd without
// port_promiscuous: the decky never connects anywhere else, so it cannot
// be used to bounce connections to third parties.
func (ss *session) activeTarget(cmd string, a *net.TCPAddr) bool {
	if a.IP.Equal(ss.peer) && a.Port >= 1024 {
		ss.portAddr = &net.TCPAddr{IP: ss.peer, Port: a.Port}
		return true
	}
	reason := "privileged port"
	if !a.IP.Equal(ss.peer) {
		reason = "foreign address"
	}
	ss.srv.emit("port_refused", event.Warning, ss.fields, map[string]string{"cmd": cmd,
		"target": net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port)), "reason": reason})
	return false
}

func (ss *session) port(arg string) {
	ss.closeData()
	a, ok := parsePort(arg)
	if !ok || !ss.activeTarget("PORT", a) {
		ss.send(500, "Illegal PORT command.")
		return
	}
	ss.send(200, "PORT command successful. Consider using PASV.")
}

func (ss *session) eprt(arg string) {
	ss.closeData()
	a, bad := parseEPRT(arg, ss.ipv6())
	switch {
	case bad != "":
		ss.send(500, string(bad))
	case !ss.activeTarget("EPRT", a):
		ss.send(500, "Illegal EPRT command.")
	default:
		ss.send(200, "EPRT command successful. Consider using EPSV.")
	}
}

// dataReady is vsftpd's data_transfer_checks_ok.
func (ss *session) dataReady() bool {
	if ss.pasvLn == nil && ss.portAddr == nil {
		ss.send(425, "Use PORT or PASV first.")
		return false
	}
	return true
}

// openData makes the data connection (accepting the passive one, or
// connecting to the client's port), then sends the 150 mark. On failure
// it answers 425 and returns nil. The caller closes the connection and
// calls closeData.
func (ss *session) openData(ctx context.Context, mark string) net.Conn {
	var c net.Conn
	if ss.pasvLn != nil {
		ln := ss.pasvLn
		ln.SetDeadline(time.Now().Add(ss.srv.timeouts.accept))
		stop := context.AfterFunc(ctx, func() { ln.Close() })
		conn, err := ln.Accept()
		stop()
		if err != nil {
			ss.send(425, "Failed to establish connection.")
			return nil
		}
		if !addrIP(conn.RemoteAddr()).Equal(ss.peer) {
			conn.Close()
			ss.send(425, "Security: Bad IP connecting.")
			return nil
		}
		c = conn
	} else {
		conn, err := ss.dialActive(ctx)
		if err != nil {
			ss.send(425, "Failed to establish connection.")
			return nil
		}
		c = conn
	}
	ss.send(150, mark)
	return c
}

// dialActive connects to the PORT address from port 20 of the decky's
// address (connect_from_port_20), or from any port when 20 cannot be
// had (no privilege, or already taken towards the same peer).
func (ss *session) dialActive(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, ss.srv.timeouts.connect)
	defer cancel()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ss.local, Port: 20}, Control: func(_, _ string, rc syscall.RawConn) error {
		return setSockopt(rc, syscall.SO_REUSEADDR)
	}}
	c, err := d.DialContext(ctx, "tcp", ss.portAddr.String())
	if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL) {
		d = net.Dialer{LocalAddr: &net.TCPAddr{IP: ss.local}}
		c, err = d.DialContext(ctx, "tcp", ss.portAddr.String())
	}
	return c, err
}

// dataIO wraps a data connection: each read or write must make progress
// within the data timeout, and the session's end closes it.
type dataIO struct {
	net.Conn
	ss *session
}

func (d dataIO) Read(b []byte) (int, error) {
	d.Conn.SetReadDeadline(time.Now().Add(d.ss.srv.timeouts.data))
	n, err := d.Conn.Read(b)
	d.ss.noteTimeout(err)
	return n, err
}

func (d dataIO) Write(b []byte) (int, error) {
	d.Conn.SetWriteDeadline(time.Now().Add(d.ss.srv.timeouts.data))
	n, err := d.Conn.Write(b)
	d.ss.noteTimeout(err)
	return n, err
}

func (ss *session) noteTimeout(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		ss.dataTimeout = true
	}
}

// transfer runs fn on the data connection, which it opens with mark,
// and closes it afterwards, whatever fn did. It reports false when no
// connection could be made.
func (ss *session) transfer(ctx context.Context, mark string, fn func(d dataIO)) bool {
	defer ss.closeData()
	c := ss.openData(ctx, mark)
	if c == nil {
		return false
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	fn(dataIO{Conn: c, ss: ss})
	return true
}

// list is LIST, NLST and STAT with an argument, as vsftpd's
// handle_dir_common: options first ("-la"), then a directory or a
// filter on the last path component.
func (ss *session) list(ctx context.Context, arg string, long, stat bool) {
	if !stat && !ss.dataReady() {
		return
	}
	var opts, filter string
	if strings.HasPrefix(arg, "-") {
		opts, filter, _ = strings.Cut(arg[1:], " ")
	} else {
		filter = arg
	}
	dir := "."
	var ents []entry
	var err error = errNotExist
	if filter != "" {
		filter = ss.tilde(filter)
		if ents, err = ss.view.readDir(ss.path(filter)); err == nil {
			dir, filter = filter, ""
		} else if i := strings.LastIndexByte(filter, '/'); i >= 0 {
			dir, filter = filter[:i], filter[i+1:]
			if dir == "" {
				dir = "/"
			}
		}
	}
	if err != nil {
		ents, err = ss.view.readDir(ss.path(dir))
	}
	o := parseListOpts(opts, long)
	if stat {
		o.all = true
		ss.sendHyphen(213, "Status follows:")
		if err == nil {
			ss.raw(string(listing(ents, dir, filter, o, ss.srv.now())))
		}
		ss.send(213, "End of status")
		return
	}
	var werr error
	if !ss.transfer(ctx, "Here comes the directory listing.", func(d dataIO) {
		if err == nil {
			_, werr = d.Write(listing(ents, dir, filter, o, ss.srv.now()))
		}
	}) {
		return
	}
	switch {
	case werr != nil:
		if !ss.dataTimeout {
			ss.send(426, "Failure writing network stream.")
		}
	case err != nil:
		ss.send(226, "Transfer done (but failed to open directory).")
	default:
		ss.send(226, "Directory send OK.")
	}
}

// retr is RETR: a bait file from memory, or an upload from the artifact
// store, from the REST offset on.
func (ss *session) retr(ctx context.Context, arg string) {
	offset := ss.restart
	ss.restart = 0
	if !ss.dataReady() {
		return
	}
	if ss.ascii && offset != 0 {
		ss.send(550, "No support for resume of ASCII transfer.")
		return
	}
	arg = ss.tilde(arg)
	p := ss.path(arg)
	c, err := ss.view.open(p)
	// anon_world_readable_only: anonymous users get only what all may read.
	if err != nil || (ss.anon && c.mode.Perm()&0o004 == 0) {
		ss.send(550, "Failed to open file.")
		return
	}
	var sent int64
	var rerr, werr error
	mark := fmt.Sprintf("Opening BINARY mode data connection for %s (%d bytes).", arg, c.size)
	if !ss.transfer(ctx, mark, func(d dataIO) { sent, rerr, werr = ss.sendContent(d, c, offset) }) {
		return
	}
	switch {
	case rerr != nil:
		ss.send(451, "Failure reading local file.")
	case werr != nil:
		if !ss.dataTimeout {
			ss.send(426, "Failure writing network stream.")
		}
	default:
		ss.send(226, "Transfer complete.")
	}
	ss.srv.emit("download", event.Notice, ss.fields, map[string]string{event.FieldPath: truncate(p, 1024),
		event.FieldUsername: ss.name, "size": strconv.FormatInt(c.size, 10), "offset": strconv.FormatInt(offset, 10),
		"bytes_sent": strconv.FormatInt(sent, 10), "complete": strconv.FormatBool(rerr == nil && werr == nil)})
}

// sendContent writes a file's bytes from offset: bait bytes, then each
// stored part. It tells a local read error from a network write error.
func (ss *session) sendContent(w io.Writer, c content, offset int64) (sent int64, rerr, werr error) {
	readers := []io.Reader{bytes.NewReader(c.data)}
	for _, p := range c.parts {
		readers = append(readers, &partReader{srv: ss.srv, p: p})
	}
	r := io.MultiReader(readers...)
	defer func() {
		for _, rd := range readers {
			if pr, ok := rd.(*partReader); ok && pr.f != nil {
				pr.f.Close()
			}
		}
	}()
	if _, err := io.CopyN(io.Discard, r, offset); err != nil && !errors.Is(err, io.EOF) {
		return 0, err, nil
	}
	buf := make([]byte, ioChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, err := w.Write(buf[:n])
			sent += int64(m)
			if err != nil {
				return sent, nil, err
			}
		}
		if errors.Is(err, io.EOF) {
			return sent, nil, nil
		}
		if err != nil {
			return sent, err, nil
		}
	}
}

// partReader reads one stored part of an upload, opening it on first use.
type partReader struct {
	srv  *Server
	p    part
	f    *os.File
	left int64
}

func (r *partReader) Read(b []byte) (int, error) {
	if r.f == nil {
		f, err := r.srv.artifactFile(r.p.stored)
		if err != nil {
			return 0, fmt.Errorf("stored part: %w", err)
		}
		r.f, r.left = f, r.p.size
	}
	if r.left <= 0 {
		return 0, io.EOF
	}
	n, err := r.f.Read(b[:min(int64(len(b)), r.left)])
	r.left -= int64(n)
	if errors.Is(err, io.EOF) && r.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// upload is STOR, APPE and STOU (vsftpd's handle_upload_common): the
// file appears in the tree at once, and the bytes received are kept as
// an artifact, up to maxUpload.
func (ss *session) upload(ctx context.Context, cmd, arg string) {
	offset := ss.restart
	ss.restart = 0
	if !ss.dataReady() {
		return
	}
	name := ss.tilde(arg)
	if cmd == "STOU" {
		name = ss.uniqueName(name)
	}
	p := ss.path(name)
	appendTo := cmd == "APPE" || offset > 0
	excl := cmd == "STOU" || (ss.anon && !ss.srv.p.AnonOtherWriteEnable)
	now := ss.srv.now()
	n, err := ss.view.create(p, 0o666&^ss.umask, excl, !appendTo && !excl, now)
	if err != nil {
		ss.send(553, "Could not create file.")
		return
	}
	mark := "Ok to send data."
	if cmd == "STOU" {
		mark = "FILE: " + name
	}
	var data []byte
	var res recvResult
	if !ss.transfer(ctx, mark, func(d dataIO) { data, res = ss.receive(d) }) {
		return
	}
	defer ss.srv.mem.release(int64(cap(data)))
	switch res {
	case recvOK:
		ss.send(226, "Transfer complete.")
	case recvFull:
		ss.send(451, "Failure writing to local file.")
	case recvNetErr:
		if !ss.dataTimeout {
			ss.send(426, "Failure reading network stream.")
		}
	}
	kept := ss.srv.art.Keep(p, data, ss.srv.now())
	if kept.NotStored == artifact.NotStoredError {
		ss.srv.cfg.Log.Warn("ftp: an upload could not be kept", "dir", ss.srv.artDir, "sha256", kept.SHA256)
	}
	ss.view.t.write(n, part{stored: kept.StoredAs, size: int64(len(data))}, appendTo, ss.srv.now())
	f := kept.Fields(p)
	f[event.FieldUsername] = ss.name
	f["cmd"] = cmd
	f["complete"] = strconv.FormatBool(res == recvOK)
	if res == recvFull {
		f["truncated"] = "true"
	}
	ss.srv.emit(event.TypeFileCaptured, event.Warning, ss.fields, f)
}

// recvResult is how an upload's data connection ended.
type recvResult int

const (
	recvOK     recvResult = iota // the client closed it: the file is whole
	recvFull                     // over maxUpload or the memory budget
	recvNetErr                   // reset or timed out
)

// receive reads an upload, holding at most maxUpload bytes and taking
// its memory from the server's budget (the caller releases cap(data)).
func (ss *session) receive(r io.Reader) ([]byte, recvResult) {
	var data []byte
	buf := make([]byte, ioChunk)
	for {
		n, err := r.Read(buf)
		full := len(data)+n > maxUpload
		if full {
			n = maxUpload - len(data)
		}
		if len(data)+n > cap(data) {
			grown := min(max(2*cap(data), len(data)+n, ioChunk), maxUpload)
			if !ss.srv.mem.acquire(int64(grown - cap(data))) {
				return data, recvFull
			}
			data = append(make([]byte, 0, grown), data...)
		}
		data = append(data, buf[:n]...)
		if full {
			return data, recvFull
		}
		switch {
		case errors.Is(err, io.EOF):
			return data, recvOK
		case err != nil:
			return data, recvNetErr
		}
	}
}

// uniqueName is vsftpd's get_unique_filename (wu-ftpd's scheme): the
// name itself if free, else name.1, name.2...; "STOU" as the base when
// the client gave none.
func (ss *session) uniqueName(base string) string {
	if base != "" && !ss.view.exists(ss.path(base)) {
		return base
	}
	if base == "" {
		base = "STOU"
	}
	for i := 1; i <= maxNodes; i++ {
		name := base + "." + strconv.Itoa(i)
		if !ss.view.exists(ss.path(name)) {
			return name
		}
	}
	return base + "." + strconv.Itoa(maxNodes+1) // the tree is full: creating it fails
}
