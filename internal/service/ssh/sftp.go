package ssh

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"decnet/internal/event"
	"decnet/internal/shell"
)

// The SFTP server speaks protocol version 3 (draft-ietf-secsh-filexfer-02)
// the way OpenSSH 9.2's sftp-server does: the same extensions in the same
// order, status texts, handle encoding, ls -l long names, READDIR batches
// of 100 and limits, one request at a time, on the decky's fake
// filesystem as the logged-in user.

// SFTP packet types.
const (
	fxpInit          = 1
	fxpVersion       = 2
	fxpOpen          = 3
	fxpClose         = 4
	fxpRead          = 5
	fxpWrite         = 6
	fxpLstat         = 7
	fxpFstat         = 8
	fxpSetstat       = 9
	fxpFsetstat      = 10
	fxpOpendir       = 11
	fxpReaddir       = 12
	fxpRemove        = 13
	fxpMkdir         = 14
	fxpRmdir         = 15
	fxpRealpath      = 16
	fxpStat          = 17
	fxpRename        = 18
	fxpReadlink      = 19
	fxpSymlink       = 20
	fxpStatus        = 101
	fxpHandle        = 102
	fxpData          = 103
	fxpName          = 104
	fxpAttrs         = 105
	fxpExtended      = 200
	fxpExtendedReply = 201
)

// SFTP status codes.
const (
	fxOK = iota
	fxEOF
	fxNoSuchFile
	fxPermissionDenied
	fxFailure
	fxBadMessage
	fxNoConnection
	fxConnectionLost
	fxOpUnsupported
)

// statusText is sftp-server's status_to_message.
var statusText = [...]string{"Success", "End of file", "No such file", "Permission denied", "Failure", "Bad message",
	"No connection", "Connection lost", "Operation unsupported"}

// Attribute flags and open flags.
const (
	attrSize     = 0x1
	attrUIDGID   = 0x2
	attrPerm     = 0x4
	attrACModTim = 0x8
	attrExtended = 0x80000000

	fxfRead   = 0x01
	fxfWrite  = 0x02
	fxfAppend = 0x04
	fxfCreat  = 0x08
	fxfTrunc  = 0x10
	fxfExcl   = 0x20
)

// Limits, as sftp-server's limits@openssh.com reports them: message and
// read sizes of sftp.h, and the open-file limit of a systemd service
// (1024) minus the five descriptors sftp-server keeps for itself.
const (
	sftpMaxMsg    = 256 << 10
	sftpMaxRead   = sftpMaxMsg - 1024
	sftpAdvHandle = 1019
	// sftpMaxHandles is what we really allow: each handle may hold a file.
	sftpMaxHandles = 64
	// sftpReaddirBatch is the most names one READDIR answer carries.
	sftpReaddirBatch = 100
)

// sftpExtensions are advertised in SSH_FXP_VERSION, in sftp-server's order.
// Each release appended to the list, so a release's list is a prefix of
// 9.2's (sftpExtensionsOf).
var sftpExtensions = [][2]string{{"posix-rename@openssh.com", "1"}, {"statvfs@openssh.com", "2"}, {"fstatvfs@openssh.com", "2"},
	{"hardlink@openssh.com", "1"}, {"fsync@openssh.com", "1"}, {"lsetstat@openssh.com", "1"}, {"limits@openssh.com", "1"},
	{"expand-path@openssh.com", "1"}, {"copy-data", "1"}, {"home-directory", "1"}, {"users-groups-by-id@openssh.com", "1"}}

// sftpExtensionsOf is how many of sftpExtensions the sftp-server of an
// OpenSSH release (its software version, "OpenSSH_8.2p1 …") has: 5 before
// 8.0, lsetstat in 8.0, limits in 8.5, expand-path in 8.7, copy-data in
// 9.0, home-directory and users-groups-by-id in 9.1. A version it cannot
// read gets them all.
func sftpExtensionsOf(version string) int {
	var major, minor int
	if _, err := fmt.Sscanf(version, "OpenSSH_%d.%d", &major, &minor); err != nil {
		return len(sftpExtensions)
	}
	v := major*100 + minor
	switch {
	case v < 800:
		return 5
	case v < 805:
		return 6
	case v < 807:
		return 7
	case v < 900:
		return 8
	case v < 901:
		return 9
	}
	return len(sftpExtensions)
}

// Exit statuses of sftp-server: input ended, a message over the size
// limit, a message it could not parse.
const (
	sftpExitOK       = 0
	sftpExitTooLong  = 11
	sftpExitProtocol = 255
)

// sftpLog receives one record per request: the operation, the
// filesystem change it asks for (for the severity), and its fields.
type sftpLog func(op string, change bool, fields map[string]string)

// sftpServer is one sftp-server process.
type sftpServer struct {
	sess    *shell.Session
	out     io.Writer
	log     sftpLog
	budget  *budget
	exts    int // how many of sftpExtensions this release has
	inited  bool
	handles map[uint32]*sftpHandle
	free    []uint32 // released handle numbers, reused last-freed first
	next    uint32
	now     func() time.Time
}

// sftpHandle is an open file or directory.
type sftpHandle struct {
	dir     bool
	name    string // as the client gave it
	path    string // where the bytes go at close
	pos     int    // directory entries sent so far
	flags   uint32
	isDir   bool   // a directory opened as a file: reads fail
	data    []byte // the file's bytes: read at open, written at close
	dirty   bool
	held    int64 // bytes of budget data holds
	read    uint64
	written uint64
}

// errFatal ends the server as sftp-server's fatal() does.
var errFatal = errors.New("sftp: malformed request")

// serveSFTP runs an sftp server with the first exts extensions on rw
// until the client closes its side or breaks the protocol, and returns
// sftp-server's exit status.
func serveSFTP(sess *shell.Session, rw io.ReadWriter, b *budget, exts int, log sftpLog) int {
	s := &sftpServer{sess: sess, out: rw, log: log, budget: b, exts: min(exts, len(sftpExtensions)), handles: map[uint32]*sftpHandle{}, now: time.Now}
	defer s.closeAll()
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(rw, hdr[:]); err != nil {
			return sftpExitOK
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > sftpMaxMsg {
			// sftp-server looks at a message once five bytes are in.
			if _, err := io.ReadFull(rw, hdr[:1]); err != nil {
				return sftpExitOK
			}
			return sftpExitTooLong
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(rw, msg); err != nil {
			return sftpExitOK
		}
		if err := s.process(msg); err != nil {
			return sftpExitProtocol
		}
	}
}

// closeAll commits what open handles hold when the session ends, as the
// bytes a real server wrote are on disk whether or not CLOSE came.
func (s *sftpServer) closeAll() {
	for id, h := range s.handles {
		s.closeHandle(id, h, "forced")
	}
}

// sftpReader reads the fields of one request. Any short field is fatal.
type sftpReader struct {
	b   []byte
	err error
}

func (r *sftpReader) take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errFatal
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *sftpReader) u8() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *sftpReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *sftpReader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *sftpReader) bytes() []byte {
	n := r.u32()
	if r.err != nil || n > uint32(len(r.b)) {
		r.err = errFatal
		return nil
	}
	return r.take(int(n))
}

// cstring is sshbuf_get_cstring: a string without NUL bytes.
func (r *sftpReader) cstring() string {
	b := r.bytes()
	for _, c := range b {
		if c == 0 {
			r.err = errFatal
			return ""
		}
	}
	return string(b)
}

// sftpAttrs are the attributes of a request; flags says which are set.
type sftpAttrs struct {
	flags        uint32
	size         uint64
	uid, gid     uint32
	perm         uint32
	atime, mtime uint32
}

func (r *sftpReader) attrs() sftpAttrs {
	var a sftpAttrs
	a.flags = r.u32()
	if a.flags&attrSize != 0 {
		a.size = r.u64()
	}
	if a.flags&attrUIDGID != 0 {
		a.uid, a.gid = r.u32(), r.u32()
	}
	if a.flags&attrPerm != 0 {
		a.perm = r.u32()
	}
	if a.flags&attrACModTim != 0 {
		a.atime, a.mtime = r.u32(), r.u32()
	}
	if a.flags&attrExtended != 0 {
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.cstring()
			r.bytes()
		}
	}
	return a
}

// sftpWriter builds one reply.
type sftpWriter struct{ b []byte }

func (w *sftpWriter) u8(v byte)     { w.b = append(w.b, v) }
func (w *sftpWriter) u32(v uint32)  { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *sftpWriter) u64(v uint64)  { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *sftpWriter) str(v string)  { w.u32(uint32(len(v))); w.b = append(w.b, v...) }
func (w *sftpWriter) data(v []byte) { w.u32(uint32(len(v))); w.b = append(w.b, v...) }

func (w *sftpWriter) attrs(fi *shell.FileInfo) {
	if fi == nil {
		w.u32(0)
		return
	}
	w.u32(attrSize | attrUIDGID | attrPerm | attrACModTim)
	w.u64(uint64(fi.Size))
	w.u32(uint32(fi.UID))
	w.u32(uint32(fi.GID))
	w.u32(unixMode(fi.Mode))
	t := uint32(fi.MTime.Unix())
	w.u32(t)
	w.u32(t)
}

func (s *sftpServer) send(w *sftpWriter) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(w.b)))
	s.out.Write(append(hdr[:], w.b...))
}

func reply(typ byte, id uint32) *sftpWriter {
	w := &sftpWriter{b: make([]byte, 0, 64)}
	w.u8(typ)
	w.u32(id)
	return w
}

func (s *sftpServer) status(id uint32, code uint32) { s.statusMsg(id, code, "") }

func (s *sftpServer) statusMsg(id uint32, code uint32, msg string) {
	if msg == "" {
		msg = "Unknown error"
		if int(code) < len(statusText) {
			msg = statusText[code]
		}
	}
	w := reply(fxpStatus, id)
	w.u32(code)
	w.str(msg)
	w.str("")
	s.send(w)
}

// fxCode is sftp-server's errno_to_portable for the shell's errors.
func fxCode(err error) uint32 {
	switch {
	case err == nil:
		return fxOK
	case errors.Is(err, shell.ErrNotExist), errors.Is(err, shell.ErrNotDir), errors.Is(err, shell.ErrLoop):
		return fxNoSuchFile
	case errors.Is(err, shell.ErrPermission), errors.Is(err, shell.ErrNotPermitted):
		return fxPermissionDenied
	case errors.Is(err, shell.ErrInvalid), errors.Is(err, shell.ErrNameTooLong):
		return fxBadMessage
	}
	return fxFailure
}

// statusName is the status for a log record.
func statusName(code uint32) string {
	if int(code) < len(statusText) {
		return strings.ToLower(statusText[code])
	}
	return strconv.Itoa(int(code))
}

// process handles one request. A returned error ends the server.
func (s *sftpServer) process(msg []byte) error {
	r := &sftpReader{b: msg}
	typ := r.u8()
	if typ == fxpInit {
		version := r.u32()
		if r.err != nil {
			return r.err
		}
		s.log("init", false, map[string]string{"version": strconv.Itoa(int(version))})
		w := &sftpWriter{}
		w.u8(fxpVersion)
		w.u32(3)
		for _, e := range sftpExtensions[:s.exts] {
			w.str(e[0])
			w.str(e[1])
		}
		s.send(w)
		s.inited = true
		return nil
	}
	if !s.inited {
		return errFatal
	}
	id := r.u32()
	if r.err != nil {
		return r.err
	}
	switch typ {
	case fxpOpen:
		return s.open(id, r)
	case fxpClose:
		return s.close(id, r)
	case fxpRead:
		return s.read(id, r)
	case fxpWrite:
		return s.write(id, r)
	case fxpLstat, fxpStat:
		return s.stat(id, r, typ == fxpStat)
	case fxpFstat:
		return s.fstat(id, r)
	case fxpSetstat:
		name, a := r.cstring(), r.attrs()
		if r.err != nil {
			return r.err
		}
		s.result("setstat", id, s.setstat(name, a, true), true, map[string]string{"path": name, "attrs": a.String()})
	case fxpFsetstat:
		return s.fsetstat(id, r)
	case fxpOpendir:
		return s.opendir(id, r)
	case fxpReaddir:
		return s.readdir(id, r)
	case fxpRemove:
		name := r.cstring()
		if r.err != nil {
			return r.err
		}
		s.result("remove", id, s.sess.Remove(name), true, map[string]string{"path": name})
	case fxpMkdir:
		name, a := r.cstring(), r.attrs()
		if r.err != nil {
			return r.err
		}
		mode := fs.FileMode(0o777)
		if a.flags&attrPerm != 0 {
			mode = fs.FileMode(a.perm & 0o7777)
		}
		s.result("mkdir", id, s.sess.Mkdir(name, mode&^shell.DefaultUmask), true,
			map[string]string{"path": name, "mode": fmt.Sprintf("0%o", mode)})
	case fxpRmdir:
		name := r.cstring()
		if r.err != nil {
			return r.err
		}
		s.result("rmdir", id, s.sess.Rmdir(name), true, map[string]string{"path": name})
	case fxpRealpath:
		name := r.cstring()
		if r.err != nil {
			return r.err
		}
		if name == "" {
			name = "."
		}
		s.nameReply("realpath", id, name, func() (string, error) { return s.sess.RealPath(name) })
	case fxpRename:
		from, to := r.cstring(), r.cstring()
		if r.err != nil {
			return r.err
		}
		s.result("rename", id, s.sess.Rename(from, to, false), true, map[string]string{"path": from, "target": to})
	case fxpReadlink:
		name := r.cstring()
		if r.err != nil {
			return r.err
		}
		s.nameReply("readlink", id, name, func() (string, error) { return s.sess.Readlink(name) })
	case fxpSymlink:
		target, link := r.cstring(), r.cstring()
		if r.err != nil {
			return r.err
		}
		s.result("symlink", id, s.sess.Symlink(target, link), true, map[string]string{"path": link, "target": target})
	case fxpExtended:
		return s.extended(id, r)
	default:
		s.log("unknown", false, map[string]string{"type": strconv.Itoa(int(typ))})
	}
	return nil
}

// result logs a request that answers with a status and sends it.
func (s *sftpServer) result(op string, id uint32, err error, change bool, f map[string]string) {
	code := fxCode(err)
	f["status"] = statusName(code)
	s.log(op, change, f)
	s.status(id, code)
}

// nameReply answers with one name (realpath, readlink, expand-path,
// home-directory): the name is also the long name, attributes empty.
func (s *sftpServer) nameReply(op string, id uint32, name string, resolve func() (string, error)) {
	v, err := resolve()
	f := map[string]string{"path": name}
	if err != nil {
		code := fxCode(err)
		f["status"] = statusName(code)
		s.log(op, false, f)
		s.status(id, code)
		return
	}
	f["status"], f["result"] = statusName(fxOK), v
	s.log(op, false, f)
	w := reply(fxpName, id)
	w.u32(1)
	w.str(v)
	w.str(v)
	w.attrs(nil)
	s.send(w)
}

// handle reads a handle string and returns the open handle it names, or
// nil (sftp-server takes only 4-byte handles it issued).
func (s *sftpServer) handle(r *sftpReader) (uint32, *sftpHandle) {
	b := r.bytes()
	if len(b) != 4 {
		return 0, nil
	}
	id := binary.BigEndian.Uint32(b)
	return id, s.handles[id]
}

func (s *sftpServer) newHandle(h *sftpHandle) (uint32, bool) {
	if len(s.handles) >= sftpMaxHandles {
		return 0, false
	}
	var id uint32
	if n := len(s.free); n > 0 {
		id, s.free = s.free[n-1], s.free[:n-1]
	} else {
		id = s.next
		s.next++
	}
	s.handles[id] = h
	return id, true
}

func (s *sftpServer) sendHandle(id, hid uint32) {
	w := reply(fxpHandle, id)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], hid)
	w.data(b[:])
	s.send(w)
}

func openFlags(pf uint32) string {
	var out []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{fxfRead, "READ"}, {fxfWrite, "WRITE"}, {fxfAppend, "APPEND"}, {fxfCreat, "CREATE"}, {fxfTrunc, "TRUNCATE"}, {fxfExcl, "EXCL"}} {
		if pf&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return strings.Join(out, ",")
}

func (s *sftpServer) open(id uint32, r *sftpReader) error {
	name, pf, a := r.cstring(), r.u32(), r.attrs()
	if r.err != nil {
		return r.err
	}
	mode := fs.FileMode(0o666)
	if a.flags&attrPerm != 0 {
		mode = fs.FileMode(a.perm & 0o7777)
	}
	f := map[string]string{"path": name, "flags": openFlags(pf), "mode": fmt.Sprintf("0%o", mode)}
	change := pf&(fxfWrite|fxfCreat|fxfTrunc) != 0
	h, err := s.openFile(name, pf, mode)
	if err == nil {
		hid, ok := s.newHandle(h)
		if !ok {
			s.budget.give(h.held)
			err = errTooManyHandles
		} else {
			f["status"] = statusName(fxOK)
			s.log("open", change, f)
			s.sendHandle(id, hid)
			return nil
		}
	}
	s.result("open", id, err, change, f)
	return nil
}

var errTooManyHandles = errors.New("too many open files")

// openFile is open(2) with sftp's flags.
func (s *sftpServer) openFile(name string, pf uint32, mode fs.FileMode) (*sftpHandle, error) {
	h := &sftpHandle{name: name, flags: pf, path: s.sess.Abs(name)}
	writing := pf&(fxfWrite|fxfCreat|fxfTrunc) != 0
	fi, err := s.sess.Stat(name)
	switch {
	case err != nil && (pf&fxfCreat == 0 || !errors.Is(err, shell.ErrNotExist)):
		return nil, err
	case err == nil && fi.Mode.IsDir():
		if writing {
			return nil, shell.ErrIsDir
		}
		h.isDir = true
		return h, nil
	}
	if writing {
		p, err := s.sess.CreateFile(name, mode&^shell.DefaultUmask, pf&fxfExcl != 0, pf&fxfTrunc != 0)
		if err != nil {
			return nil, err
		}
		h.path = p
	}
	if pf&fxfRead != 0 || pf&fxfWrite != 0 && pf&fxfTrunc == 0 {
		data, err := s.sess.ReadFile(name)
		if err != nil && pf&fxfRead != 0 {
			return nil, err
		}
		if !s.budget.take(int64(len(data))) {
			return nil, shell.ErrNoSpace
		}
		h.data, h.held = data, int64(len(data))
	}
	return h, nil
}

// closeHandle releases a handle, committing a written file.
func (s *sftpServer) closeHandle(id uint32, h *sftpHandle, how string) error {
	delete(s.handles, id)
	s.free = append(s.free, id)
	defer s.budget.give(h.held)
	op := "close"
	f := map[string]string{"path": h.name}
	if h.dir {
		op = "closedir"
	} else {
		f["bytes_read"] = strconv.FormatUint(h.read, 10)
		f["bytes_written"] = strconv.FormatUint(h.written, 10)
	}
	if how != "" {
		f["forced"] = "true"
	}
	var err error
	if h.dirty {
		err = uploadError(s.sess.Upload(h.path, h.data))
	}
	f["status"] = statusName(fxCode(err))
	s.log(op, h.dirty, f)
	return err
}

// uploadError is how a refused upload shows: a file bigger than the fake
// filesystem takes looks like a full disk, not a size limit.
func uploadError(err error) error {
	if errors.Is(err, shell.ErrTooBig) {
		return shell.ErrNoSpace
	}
	return err
}

func (s *sftpServer) close(id uint32, r *sftpReader) error {
	hid, h := s.handle(r)
	if r.err != nil {
		return r.err
	}
	if h == nil {
		s.log("close", false, map[string]string{"status": "no such file"})
		s.status(id, fxNoSuchFile)
		return nil
	}
	s.status(id, fxCode(s.closeHandle(hid, h, "")))
	return nil
}

func (s *sftpServer) read(id uint32, r *sftpReader) error {
	_, h := s.handle(r)
	off, n := r.u64(), r.u32()
	if r.err != nil {
		return r.err
	}
	switch {
	case h == nil || h.dir:
		s.status(id, fxFailure)
		return nil
	case h.isDir:
		s.status(id, fxFailure) // EISDIR
		return nil
	case h.flags&fxfRead == 0:
		s.status(id, fxNoSuchFile) // EBADF
		return nil
	}
	n = min(n, sftpMaxRead)
	if n > 0 && off >= uint64(len(h.data)) {
		s.status(id, fxEOF)
		return nil
	}
	var chunk []byte
	if n > 0 {
		chunk = h.data[off:min(off+uint64(n), uint64(len(h.data)))]
	}
	h.read += uint64(len(chunk))
	w := reply(fxpData, id)
	w.data(chunk)
	s.send(w)
	return nil
}

func (s *sftpServer) write(id uint32, r *sftpReader) error {
	_, h := s.handle(r)
	off, data := r.u64(), r.bytes()
	if r.err != nil {
		return r.err
	}
	switch {
	case h == nil || h.dir || h.isDir:
		s.status(id, fxFailure)
		return nil
	case h.flags&fxfWrite == 0:
		s.status(id, fxNoSuchFile) // EBADF
		return nil
	}
	if h.flags&fxfAppend != 0 {
		off = uint64(len(h.data))
	}
	end := off + uint64(len(data))
	if off > maxUpload || end > maxUpload {
		s.status(id, fxFailure) // EFBIG
		return nil
	}
	if grow := int64(end) - int64(len(h.data)); grow > 0 {
		if !s.budget.take(grow) {
			s.status(id, fxFailure) // ENOSPC
			return nil
		}
		h.held += grow
		h.data = append(h.data, make([]byte, grow)...)
	}
	copy(h.data[off:], data)
	h.written += uint64(len(data))
	h.dirty = true
	s.status(id, fxOK)
	return nil
}

func (s *sftpServer) stat(id uint32, r *sftpReader, follow bool) error {
	name := r.cstring()
	if r.err != nil {
		return r.err
	}
	op, st := "lstat", s.sess.Lstat
	if follow {
		op, st = "stat", s.sess.Stat
	}
	fi, err := st(name)
	s.attrsReply(op, id, map[string]string{"path": name}, &fi, err)
	return nil
}

func (s *sftpServer) attrsReply(op string, id uint32, f map[string]string, fi *shell.FileInfo, err error) {
	code := fxCode(err)
	f["status"] = statusName(code)
	s.log(op, false, f)
	if err != nil {
		s.status(id, code)
		return
	}
	w := reply(fxpAttrs, id)
	w.attrs(fi)
	s.send(w)
}

func (s *sftpServer) fstat(id uint32, r *sftpReader) error {
	_, h := s.handle(r)
	if r.err != nil {
		return r.err
	}
	if h == nil || h.dir {
		s.status(id, fxFailure)
		return nil
	}
	fi, err := s.sess.Stat(h.path)
	if err == nil && h.dirty {
		fi.Size = int64(len(h.data))
	}
	s.attrsReply("fstat", id, map[string]string{"path": h.name}, &fi, err)
	return nil
}

// setstat applies attributes as sftp-server does: each in turn, the last
// failure being the answer.
func (s *sftpServer) setstat(name string, a sftpAttrs, follow bool) error {
	var last error
	if a.flags&attrSize != 0 {
		if !follow {
			return shell.ErrInvalid // lsetstat: nonsensical for links
		}
		if a.size > uint64(shell.MaxFileSize) {
			last = shell.ErrTooBig
		} else if err := s.sess.Truncate(name, int64(a.size)); err != nil {
			last = err
		}
	}
	if a.flags&attrPerm != 0 {
		if err := s.sess.Chmod(name, fs.FileMode(a.perm&0o777), follow); err != nil {
			last = err
		}
	}
	if a.flags&attrACModTim != 0 {
		if err := s.sess.Chtimes(name, time.Unix(int64(a.mtime), 0), follow); err != nil {
			last = err
		}
	}
	if a.flags&attrUIDGID != 0 {
		if err := s.sess.Chown(name, int(a.uid), int(a.gid), follow); err != nil {
			last = err
		}
	}
	return last
}

// String describes the attributes a request sets, for the log.
func (a sftpAttrs) String() string {
	var out []string
	if a.flags&attrSize != 0 {
		out = append(out, "size="+strconv.FormatUint(a.size, 10))
	}
	if a.flags&attrPerm != 0 {
		out = append(out, fmt.Sprintf("mode=%04o", a.perm&0o7777))
	}
	if a.flags&attrACModTim != 0 {
		out = append(out, "mtime="+strconv.Itoa(int(a.mtime)))
	}
	if a.flags&attrUIDGID != 0 {
		out = append(out, fmt.Sprintf("owner=%d:%d", a.uid, a.gid))
	}
	return strings.Join(out, " ")
}

func (s *sftpServer) fsetstat(id uint32, r *sftpReader) error {
	_, h := s.handle(r)
	a := r.attrs()
	if r.err != nil {
		return r.err
	}
	if h == nil || h.dir {
		s.status(id, fxFailure)
		return nil
	}
	if a.flags&attrSize != 0 && h.flags&fxfWrite != 0 {
		// The open file's bytes are ours until close: cut or pad them.
		size := int64(min(a.size, uint64(maxUpload)))
		if grow := size - int64(len(h.data)); grow > 0 && s.budget.take(grow) {
			h.held += grow
			h.data = append(h.data, make([]byte, grow)...)
		} else if grow < 0 {
			h.data = h.data[:size]
		}
		h.dirty = true
		a.flags &^= attrSize
	}
	s.result("fsetstat", id, s.setstat(h.path, a, true), true, map[string]string{"path": h.name, "attrs": a.String()})
	return nil
}

func (s *sftpServer) opendir(id uint32, r *sftpReader) error {
	name := r.cstring()
	if r.err != nil {
		return r.err
	}
	f := map[string]string{"path": name}
	if _, err := s.sess.ReadDir(name); err != nil {
		s.result("opendir", id, err, false, f)
		return nil
	}
	hid, ok := s.newHandle(&sftpHandle{dir: true, name: name, path: s.sess.Abs(name)})
	if !ok {
		s.result("opendir", id, errTooManyHandles, false, f)
		return nil
	}
	f["status"] = statusName(fxOK)
	s.log("opendir", false, f)
	s.sendHandle(id, hid)
	return nil
}

// readdir sends the next batch of a directory: ".", "..", then its names.
func (s *sftpServer) readdir(id uint32, r *sftpReader) error {
	_, h := s.handle(r)
	if r.err != nil {
		return r.err
	}
	if h == nil || !h.dir {
		s.status(id, fxFailure)
		return nil
	}
	var entries []shell.FileInfo
	if self, err := s.sess.Stat(h.path); err == nil {
		self.Name = "."
		parent, _ := s.sess.Stat(path.Dir(h.path))
		parent.Name = ".."
		entries = append(entries, self, parent)
	}
	names, _ := s.sess.ReadDir(h.path)
	entries = append(entries, names...)
	if h.pos >= len(entries) {
		s.status(id, fxEOF)
		return nil
	}
	batch := entries[h.pos:min(h.pos+sftpReaddirBatch, len(entries))]
	h.pos += len(batch)
	now := s.now()
	w := reply(fxpName, id)
	w.u32(uint32(len(batch)))
	for i := range batch {
		fi := &batch[i]
		w.str(fi.Name)
		w.str(s.longName(fi, now))
		w.attrs(fi)
	}
	s.send(w)
	return nil
}

// longName is sftp-server's ls_file: ls -l with at least 8 columns for
// owner and group and the year for files older than six months.
func (s *sftpServer) longName(fi *shell.FileInfo, now time.Time) string {
	user, group := s.sess.UserName(fi.UID), s.sess.GroupName(fi.GID)
	t := fi.MTime.UTC()
	when := t.Format("Jan _2  2006")
	if now.Add(-365*24*time.Hour/2).Before(t) && !t.After(now) {
		when = t.Format("Jan _2 15:04")
	}
	return fmt.Sprintf("%s  %3d %-*s %-*s %8d %s %s", shell.ModeString(fi.Mode), fi.Nlink, max(len(user), 8), user,
		max(len(group), 8), group, fi.Size, when, fi.Name)
}

// unixMode is st_mode for an io/fs mode.
func unixMode(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	switch {
	case m.IsDir():
		v |= 0o040000
	case m&fs.ModeSymlink != 0:
		v |= 0o120000
	case m&fs.ModeNamedPipe != 0:
		v |= 0o010000
	case m&fs.ModeSocket != 0:
		v |= 0o140000
	case m&fs.ModeCharDevice != 0:
		v |= 0o020000
	case m&fs.ModeDevice != 0:
		v |= 0o060000
	default:
		v |= 0o100000
	}
	return v
}

func (s *sftpServer) extended(id uint32, r *sftpReader) error {
	name := r.cstring()
	if r.err != nil {
		return r.err
	}
	req := name
	known := false
	for _, e := range sftpExtensions[:s.exts] {
		known = known || e[0] == name
	}
	if !known {
		name = "" // unknown, or an extension of a later release
	}
	switch name {
	case "posix-rename@openssh.com":
		from, to := r.cstring(), r.cstring()
		if r.err != nil {
			return r.err
		}
		s.result("posix-rename", id, s.sess.Rename(from, to, true), true, map[string]string{"path": from, "target": to})
	case "statvfs@openssh.com":
		p := r.cstring()
		if r.err != nil {
			return r.err
		}
		_, err := s.sess.Stat(p)
		s.statvfs("statvfs", id, p, err)
	case "fstatvfs@openssh.com":
		_, h := s.handle(r)
		if r.err != nil {
			return r.err
		}
		if h == nil || h.dir {
			s.status(id, fxFailure)
			return nil
		}
		s.statvfs("fstatvfs", id, h.name, nil)
	case "hardlink@openssh.com":
		from, to := r.cstring(), r.cstring()
		if r.err != nil {
			return r.err
		}
		s.result("hardlink", id, s.sess.Link(from, to), true, map[string]string{"path": from, "target": to})
	case "fsync@openssh.com":
		_, h := s.handle(r)
		if r.err != nil {
			return r.err
		}
		code := uint32(fxOK)
		if h == nil || h.dir {
			code = fxNoSuchFile
		}
		s.status(id, code)
	case "lsetstat@openssh.com":
		p, a := r.cstring(), r.attrs()
		if r.err != nil {
			return r.err
		}
		s.result("lsetstat", id, s.setstat(p, a, false), true, map[string]string{"path": p, "attrs": a.String()})
	case "limits@openssh.com":
		s.log("limits", false, map[string]string{})
		w := reply(fxpExtendedReply, id)
		w.u64(sftpMaxMsg)
		w.u64(sftpMaxRead)
		w.u64(sftpMaxMsg - 1024)
		w.u64(sftpAdvHandle)
		s.send(w)
	case "expand-path@openssh.com":
		p := r.cstring()
		if r.err != nil {
			return r.err
		}
		s.expandPath(id, p)
	case "copy-data":
		return s.copyData(id, r)
	case "home-directory":
		user := r.cstring()
		if r.err != nil {
			return r.err
		}
		// 9.2 answers with the logged-in user's home for any known user.
		if _, ok := s.sess.LookupUser(user); !ok {
			s.log("home-directory", false, map[string]string{"path": user, "status": "failure"})
			s.status(id, fxFailure)
			return nil
		}
		s.nameReply("home-directory", id, user, func() (string, error) { return s.sess.Home(), nil })
	case "users-groups-by-id@openssh.com":
		uids, gids := r.bytes(), r.bytes()
		if r.err != nil || len(uids)%4 != 0 || len(gids)%4 != 0 {
			return errFatal
		}
		names := func(ids []byte, lookup func(int) string) []byte {
			var out sftpWriter
			for ; len(ids) >= 4; ids = ids[4:] {
				id := int(binary.BigEndian.Uint32(ids))
				name := lookup(id)
				if name == strconv.Itoa(id) {
					name = ""
				}
				out.str(name)
			}
			return out.b
		}
		s.log("users-groups-by-id", false, map[string]string{})
		w := reply(fxpExtendedReply, id)
		w.data(names(uids, s.sess.UserName))
		w.data(names(gids, s.sess.GroupName))
		s.send(w)
	default:
		s.log("extended", false, map[string]string{"request": event.Clip(req, 100), "status": statusName(fxOpUnsupported)})
		s.status(id, fxOpUnsupported)
	}
	return nil
}

// statvfs answers with the root filesystem df shows: 4 KiB blocks, 5 %
// reserved for root, a quarter as many inodes as blocks.
func (s *sftpServer) statvfs(op string, id uint32, p string, err error) {
	f := map[string]string{"path": p}
	if err != nil {
		s.result(op, id, err, false, f)
		return
	}
	f["status"] = statusName(fxOK)
	s.log(op, false, f)
	sizeKB, usedKB := s.sess.DiskUsage()
	blocks, free := uint64(sizeKB/4), uint64(max(sizeKB-usedKB, 0)/4)
	avail := uint64(max(sizeKB*95/100-usedKB, 0) / 4)
	files := blocks / 4
	w := reply(fxpExtendedReply, id)
	for _, v := range []uint64{4096, 4096, blocks, free, avail, files, files * 9 / 10, files * 9 / 10,
		uint64(hashFSID(s.sess.Home())), 0, 255} {
		w.u64(v)
	}
	s.send(w)
}

// hashFSID gives the filesystem a stable id.
func hashFSID(seed string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(seed))
	return h.Sum32()
}

// expandPath is expand-path@openssh.com: ~ and relative paths against the
// server's working directory (the home), then realpath.
func (s *sftpServer) expandPath(id uint32, p string) {
	home := s.sess.Home()
	switch {
	case p == "":
		p = "."
	case p == "~":
		p = home
	case strings.HasPrefix(p, "~/"):
		p = home + "/" + p[2:]
	case strings.HasPrefix(p, "~"):
		user, rest, _ := strings.Cut(p[1:], "/")
		h, ok := s.sess.LookupUser(user)
		if !ok {
			s.log("expand-path", false, map[string]string{"path": p, "status": "no such file"})
			s.statusMsg(id, fxNoSuchFile, "no such user")
			return
		}
		p = path.Join(h, rest)
	case !path.IsAbs(p):
		p = home + "/" + p
	}
	s.nameReply("expand-path", id, p, func() (string, error) { return s.sess.RealPath(p) })
}

// copyData is copy-data: bytes from one open file to another.
func (s *sftpServer) copyData(id uint32, r *sftpReader) error {
	_, rh := s.handle(r)
	roff, rlen := r.u64(), r.u64()
	_, wh := s.handle(r)
	woff := r.u64()
	if r.err != nil {
		return r.err
	}
	if rh == nil || wh == nil || rh == wh || rh.dir || wh.dir || rh.isDir || wh.isDir || rh.path == wh.path {
		s.status(id, fxFailure)
		return nil
	}
	f := map[string]string{"path": rh.name, "target": wh.name}
	if rh.flags&fxfRead == 0 || wh.flags&fxfWrite == 0 {
		s.result("copy-data", id, shell.ErrNotExist, true, f) // EBADF
		return nil
	}
	untilEOF := rlen == 0
	var src []byte
	if roff < uint64(len(rh.data)) {
		src = rh.data[roff:]
	}
	if !untilEOF && uint64(len(src)) > rlen {
		src = src[:rlen]
	}
	if wh.flags&fxfAppend != 0 {
		woff = uint64(len(wh.data))
	}
	end := woff + uint64(len(src))
	if woff > maxUpload || end > maxUpload {
		s.result("copy-data", id, shell.ErrNoSpace, true, f)
		return nil
	}
	if grow := int64(end) - int64(len(wh.data)); grow > 0 {
		if !s.budget.take(grow) {
			s.result("copy-data", id, shell.ErrNoSpace, true, f)
			return nil
		}
		wh.held += grow
		wh.data = append(wh.data, make([]byte, grow)...)
	}
	copy(wh.data[woff:], src)
	rh.read += uint64(len(src))
	wh.written += uint64(len(src))
	wh.dirty = true
	code := uint32(fxOK)
	if !untilEOF && uint64(len(src)) < rlen {
		code = fxEOF
	}
	f["status"] = statusName(code)
	s.log("copy-data", true, f)
	s.status(id, code)
	return nil
}
