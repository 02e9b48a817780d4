package smb

import (
	"encoding/binary"
	"fmt"
	"strings"

	"decnet/internal/event"
)

// Tree connect response values for IPC$ (MS-SMB2 2.2.10).
const (
	shareTypePipe     = 0x02
	shareNoCaching    = 0x00000030 // what Windows sets on IPC$
	ipcMaximalAccess  = 0x001f00a9 // read, execute, read attributes and EAs, standard rights
	filePipeAllocSize = 4096
)

// FSCTLs the server knows (MS-FSCC 2.3, MS-SMB2 2.2.31).
const (
	fsctlDFSGetReferrals   = 0x00060194
	fsctlDFSGetReferralsEx = 0x000601b0
	fsctlPipeWait          = 0x00110018
	fsctlPipeTransceive    = 0x0011c017
	fsctlValidateNegotiate = 0x00140204
)

// statusPipeDisconnected answers operations on a pipe whose client wrote
// what is not DCE/RPC: the RPC runtime has closed its end.
const statusPipeDisconnected ntStatus = 0xC00000B0

// treeConnect connects IPC$ and refuses every other share: those the
// persona lists with ACCESS_DENIED, the rest with BAD_NETWORK_NAME.
func (c *conn) treeConnect(r *call, s *session) (ntStatus, []byte) {
	r.typ = "tree_connect"
	body, ok := field(r.msg, headerSize, 8)
	if !ok {
		return statusInvalidParameter, nil
	}
	le := binary.LittleEndian
	raw, ok := field(r.msg, int(le.Uint16(body[4:])), int(le.Uint16(body[6:])))
	if !ok {
		return statusInvalidParameter, nil
	}
	path := decodeUTF16(raw)
	name := shareName(path)
	r.note("share", path, "session_type", sessionType(s))
	sh, found := c.pr.findShare(name)
	switch {
	case !found:
		return statusBadNetworkName, nil
	case !sh.ipc():
		r.sev = event.Notice
		return statusAccessDenied, nil
	case len(c.trees) >= maxTrees:
		return statusInsufficientResources, nil
	}
	t := &tree{id: c.nextTree, session: s.id, share: sh}
	c.nextTree++
	c.trees[t.id] = t
	r.treeID = t.id
	flags := uint32(shareNoCaching)
	if c.pr.samba {
		flags = 0
	}
	b := le.AppendUint16(nil, 16)
	b = append(b, shareTypePipe, 0)
	b = le.AppendUint32(b, flags)
	b = le.AppendUint32(b, 0) // capabilities
	return statusSuccess, le.AppendUint32(b, ipcMaximalAccess)
}

// shareName takes the share out of \\server\share.
func shareName(path string) string {
	rest := strings.TrimLeft(path, `\`)
	if _, after, ok := strings.Cut(rest, `\`); ok {
		rest = after
	}
	name, _, _ := strings.Cut(rest, `\`)
	return name
}

func sessionType(s *session) string {
	switch {
	case s.flags&sessionNull != 0:
		return "anonymous"
	case s.flags&sessionGuest != 0:
		return "guest"
	}
	return "user"
}

// create opens a named pipe on IPC$. A null session opens none unless the
// persona allows anonymous access (Windows's empty NullSessionPipes).
func (c *conn) create(r *call, s *session, t *tree) (ntStatus, []byte) {
	r.typ = "create"
	body, ok := field(r.msg, headerSize, 56)
	if !ok {
		return statusInvalidParameter, nil
	}
	le := binary.LittleEndian
	raw, ok := field(r.msg, int(le.Uint16(body[44:])), int(le.Uint16(body[46:])))
	if !ok {
		return statusInvalidParameter, nil
	}
	name := decodeUTF16(raw)
	pipe := strings.ToLower(strings.TrimLeft(name, `\`))
	r.note("path", name, "session_type", sessionType(s))
	switch _, known := pipeEndpoints[pipe]; {
	case !t.share.ipc():
		return statusAccessDenied, nil
	case !known:
		return statusObjectNameNotFound, nil
	case s.flags&sessionNull != 0 && !c.pr.anonymous:
		r.sev = event.Notice
		return statusAccessDenied, nil
	case len(c.opens) >= maxOpens:
		return statusInsufficientResources, nil
	}
	o := &open{session: s.id, tree: t.id, pipe: newPipe(pipe)}
	vol := c.randomUint64()
	le.PutUint64(o.id[:], c.nextFile)
	le.PutUint64(o.id[8:], vol)
	c.nextFile++
	c.opens[vol] = o
	r.ch.file = o.id
	b := le.AppendUint16(nil, 89)
	b = append(b, 0, 0)                // oplock level, flags
	b = le.AppendUint32(b, 1)          // FILE_OPENED
	b = append(b, make([]byte, 32)...) // creation, access, write, change times
	b = le.AppendUint64(b, filePipeAllocSize)
	b = le.AppendUint64(b, 0)    // end of file
	b = le.AppendUint32(b, 0x80) // FILE_ATTRIBUTE_NORMAL
	b = le.AppendUint32(b, 0)
	b = append(b, o.id[:]...)
	return statusSuccess, append(b, make([]byte, 8)...) // no create contexts
}

// openOf finds the open a request's FileId names; in a related request
// the FileId of all ones means the one the compound created or used.
func (c *conn) openOf(r *call, id []byte) *open {
	fid := [16]byte(id)
	if fid == [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff} && r.h.Flags&flagRelated != 0 {
		fid = r.ch.file
	}
	o := c.opens[binary.LittleEndian.Uint64(fid[8:])]
	if o == nil || o.id != fid || o.session != r.sessionID || o.tree != r.treeID {
		return nil
	}
	r.ch.file = fid
	r.note("path", o.pipe.name)
	return o
}

// fileCommand answers CLOSE, FLUSH, READ and WRITE on an open pipe.
func (c *conn) fileCommand(r *call) (ntStatus, []byte) {
	// The fixed parts' sizes and where their FileId lies.
	var size, idAt int
	switch r.h.Command {
	case cmdClose:
		size, idAt = 24, 8
	case cmdFlush:
		size, idAt = 24, 8
	default: // READ and WRITE
		size, idAt = 48, 16
	}
	body, ok := field(r.msg, headerSize, size)
	if !ok {
		return statusInvalidParameter, nil
	}
	o := c.openOf(r, body[idAt:idAt+16])
	if o == nil {
		return statusFileClosed, nil
	}
	le := binary.LittleEndian
	switch r.h.Command {
	case cmdClose:
		delete(c.opens, le.Uint64(o.id[8:]))
		return statusSuccess, append(le.AppendUint16(nil, 60), make([]byte, 58)...)
	case cmdFlush:
		return statusSuccess, []byte{4, 0, 0, 0}
	case cmdRead:
		return c.readPipe(o, int(le.Uint32(body[4:])))
	}
	data, ok := field(r.msg, int(le.Uint16(body[2:])), int(le.Uint32(body[4:])))
	if !ok {
		return statusInvalidParameter, nil
	}
	if st := c.writePipe(o, data); st != statusSuccess {
		return st, nil
	}
	b := le.AppendUint16(nil, 17)
	b = append(b, 0, 0)
	b = le.AppendUint32(b, uint32(len(data)))
	return statusSuccess, append(b, make([]byte, 8)...) // remaining, channel info
}

// writePipe passes bytes to the pipe's DCE/RPC server and logs what it did.
func (c *conn) writePipe(o *open, data []byte) ntStatus {
	if o.broken {
		return statusPipeDisconnected
	}
	evs, err := o.pipe.write(data, srvsvc{shares: c.pr.shares}, func() uint32 { return uint32(c.randomUint64()) & 0x0000ffff })
	for _, ev := range evs {
		c.emit(ev.typ, event.Info, ev.kv...)
	}
	if err != nil {
		o.broken = true
		c.emit("rpc", event.Notice, "pipe", o.pipe.name, "error", err.Error())
		return statusPipeDisconnected
	}
	return statusSuccess
}

// readPipe returns the pipe's next message, or as much as fits with
// STATUS_BUFFER_OVERFLOW, as a message-mode pipe does.
func (c *conn) readPipe(o *open, length int) (ntStatus, []byte) {
	if o.broken {
		return statusPipeDisconnected, nil
	}
	if length > maxSizeLarge {
		return statusInvalidParameter, nil
	}
	data, more := o.pipe.read(length)
	if data == nil {
		return statusPipeEmpty, nil
	}
	le := binary.LittleEndian
	b := append([]byte{17, 0, headerSize + 16, 0}, le.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, make([]byte, 8)...) // remaining, reserved
	st := statusSuccess
	if more {
		st = statusBufferOverflow
	}
	return st, append(b, data...)
}

// statusPipeEmpty answers a read of a pipe with nothing to read.
const statusPipeEmpty ntStatus = 0xC00000D9

// ioctl answers FSCTLs: the pipe transceive that carries DCE/RPC, the
// validation of the negotiation (SMB 3.0 and 3.0.2), waits on pipes and
// DFS referrals, which a standalone server has none of.
func (c *conn) ioctl(r *call) (ntStatus, []byte, bool) {
	body, ok := field(r.msg, headerSize, 56)
	if !ok {
		return statusInvalidParameter, nil, true
	}
	le := binary.LittleEndian
	code := le.Uint32(body[4:])
	fileID := body[8:24]
	r.note("fsctl", fmt.Sprintf("0x%08x", code))
	input, ok := field(r.msg, int(le.Uint32(body[24:])), int(le.Uint32(body[28:])))
	if !ok {
		return statusInvalidParameter, nil, true
	}
	maxOut := int(le.Uint32(body[44:]))
	var out []byte
	st := statusSuccess
	switch code {
	case fsctlPipeTransceive:
		o := c.openOf(r, fileID)
		if o == nil {
			return statusFileClosed, nil, true
		}
		if st = c.writePipe(o, input); st != statusSuccess {
			return st, nil, true
		}
		if len(o.pipe.out) > 0 {
			var more bool
			out, more = o.pipe.read(min(maxOut, maxSizeLarge))
			if more {
				st = statusBufferOverflow
			}
		}
	case fsctlValidateNegotiate:
		if c.dialect == dialect311 {
			// 3.1.1 protects the negotiation with preauth integrity; both
			// products drop a client that validates anyway.
			return statusInvalidDeviceRequest, nil, false
		}
		out = le.AppendUint32(nil, c.neg.capabilities)
		out = append(out, c.pr.guid[:]...)
		out = le.AppendUint16(out, 0x0001)
		out = le.AppendUint16(out, c.dialect)
	case fsctlPipeWait:
	case fsctlDFSGetReferrals, fsctlDFSGetReferralsEx:
		return statusNotFound, nil, true
	default:
		if c.opens[le.Uint64(fileID[8:])] != nil {
			return statusInvalidDeviceRequest, nil, true
		}
		return statusNotSupported, nil, true
	}
	b := le.AppendUint16(nil, 49)
	b = append(b, 0, 0)
	b = le.AppendUint32(b, code)
	b = append(b, fileID...)
	b = le.AppendUint32(b, headerSize+48) // input offset, no input echoed
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, headerSize+48)
	b = le.AppendUint32(b, uint32(len(out)))
	b = append(b, make([]byte, 8)...) // flags, reserved
	return st, append(b, out...), true
}
