package vnc

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// Client message types (RFC 6143 §7.5 and the extensions TigerVNC reads).
const (
	msgSetPixelFormat           = 0
	msgSetEncodings             = 2
	msgFramebufferUpdateRequest = 3
	msgKeyEvent                 = 4
	msgPointerEvent             = 5
	msgClientCutText            = 6
	msgEnableContinuousUpdates  = 150
	msgClientFence              = 248
	msgSetDesktopSize           = 251
	msgQEMU                     = 255
)

// Encodings the blank desktop is sent in.
const (
	encRaw = 0
	encRRE = 2
)

// Bounds on what a session records.
const (
	maxLoggedEncodings = 64
	maxEncodingEvents  = 4
	maxClipboardEvents = 16
	maxClipboardLogged = 1024
	maxTyped           = 1024
)

// desktop is the session after a login: ClientInit, ServerInit, then the
// client's messages, answered with a blank (black) framebuffer, until the
// client leaves or breaks the protocol.
type desktop struct {
	ss        *session
	bpp       int
	rre       bool
	encEvents int
	cutEvents int
	keys      int
	pointers  int
	updates   int
	typed     strings.Builder
}

func (ss *session) runDesktop() {
	d := &desktop{ss: ss, bpp: int(ss.srv.prod.format.bpp)}
	defer d.summary()
	b, err := ss.read(1)
	if err != nil {
		return
	}
	ss.emit(typeClientInit, event.Info, "shared", strconv.FormatBool(b[0] != 0))
	s := ss.srv
	out := binary.BigEndian.AppendUint16(nil, uint16(s.width))
	out = binary.BigEndian.AppendUint16(out, uint16(s.height))
	out = s.prod.format.appendTo(out)
	out = append(out, reasonString(s.desktopName)...)
	if ss.tight {
		// TightVNC's interaction capabilities: none offered.
		out = append(out, make([]byte, 8)...)
	}
	if err := ss.write(out); err != nil {
		return
	}
	for {
		if err := d.message(); err != nil {
			return
		}
	}
}

// message reads and answers one client message.
func (d *desktop) message() error {
	ss := d.ss
	t, err := ss.read(1)
	if err != nil {
		return err
	}
	switch t[0] {
	case msgSetPixelFormat:
		b, err := ss.read(19)
		if err != nil {
			return err
		}
		bpp, depth := int(b[3]), int(b[4])
		if (bpp != 8 && bpp != 16 && bpp != 32) || depth > bpp {
			ss.protocolError("set_pixel_format", b[3:], "invalid pixel format")
			return io.EOF
		}
		d.bpp = bpp
	case msgSetEncodings:
		return d.setEncodings()
	case msgFramebufferUpdateRequest:
		b, err := ss.read(9)
		if err != nil {
			return err
		}
		d.updates++
		if b[0] == 0 { // non-incremental: the blank screen has no changes to send
			return d.sendUpdate(b[1:])
		}
	case msgKeyEvent:
		b, err := ss.read(7)
		if err != nil {
			return err
		}
		d.key(b[0] != 0, binary.BigEndian.Uint32(b[3:]))
	case msgPointerEvent:
		d.pointers++
		_, err = ss.read(5)
	case msgClientCutText:
		return d.cutText()
	case msgEnableContinuousUpdates:
		_, err = ss.read(9)
	case msgClientFence:
		b, err := ss.read(8)
		if err != nil {
			return err
		}
		_, err = ss.read(int(b[7]))
		return err
	case msgSetDesktopSize:
		b, err := ss.read(7)
		if err != nil {
			return err
		}
		_, err = ss.read(16 * int(b[5]))
		return err
	case msgQEMU:
		b, err := ss.read(1)
		if err != nil {
			return err
		}
		if b[0] != 0 {
			ss.protocolError("qemu", b, "unknown QEMU submessage type")
			return io.EOF
		}
		k, err := ss.read(10)
		if err != nil {
			return err
		}
		d.key(binary.BigEndian.Uint16(k) != 0, binary.BigEndian.Uint32(k[2:]))
	default:
		ss.protocolError("message", t, "unknown message type")
		return io.EOF
	}
	return err
}

func (d *desktop) setEncodings() error {
	ss := d.ss
	b, err := ss.read(3)
	if err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint16(b[1:]))
	list, err := ss.read(4 * n)
	if err != nil {
		return err
	}
	encs := make([]int32, 0, min(n, maxLoggedEncodings))
	d.rre = false
	for i := range n {
		e := int32(binary.BigEndian.Uint32(list[4*i:]))
		d.rre = d.rre || e == encRRE
		if len(encs) < maxLoggedEncodings {
			encs = append(encs, e)
		}
	}
	if d.encEvents < maxEncodingEvents {
		d.encEvents++
		j, _ := json.Marshal(encs)
		ss.emit(typeEncodings, event.Info, "encodings", string(j), "count", strconv.Itoa(n))
	}
	return nil
}

// sendUpdate answers a full FramebufferUpdateRequest (x, y, w, h) with the
// requested area, clipped to the screen, all black: one RRE rectangle
// without subrectangles when the client takes RRE, else raw zeros.
func (d *desktop) sendUpdate(req []byte) error {
	s := d.ss.srv
	x, y := int(binary.BigEndian.Uint16(req)), int(binary.BigEndian.Uint16(req[2:]))
	w, h := int(binary.BigEndian.Uint16(req[4:])), int(binary.BigEndian.Uint16(req[6:]))
	w, h = min(w, s.width-x), min(h, s.height-y)
	if w <= 0 || h <= 0 {
		return nil
	}
	out := []byte{0, 0, 0, 1}
	for _, v := range []int{x, y, w, h} {
		out = binary.BigEndian.AppendUint16(out, uint16(v))
	}
	pixel := d.bpp / 8
	if d.rre {
		out = binary.BigEndian.AppendUint32(out, encRRE)
		out = append(out, make([]byte, 4+pixel)...) // no subrectangles, black background
		return d.ss.write(out)
	}
	out = binary.BigEndian.AppendUint32(out, encRaw)
	if err := d.ss.write(out); err != nil {
		return err
	}
	_, err := io.CopyN(d.ss.rw, zeros{}, int64(w*h*pixel))
	return err
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// key counts a key event and keeps what was typed: printable characters
// and Return.
func (d *desktop) key(down bool, keysym uint32) {
	if !down {
		return
	}
	d.keys++
	if d.typed.Len() >= maxTyped {
		return
	}
	switch {
	case keysym >= 0x20 && keysym <= 0x7e:
		d.typed.WriteByte(byte(keysym))
	case keysym == 0xff0d: // XK_Return
		d.typed.WriteByte('\n')
	}
}

// cutText reads ClientCutText and records its first KiB. A negative length is
// the extended clipboard, which this server never offers, so it is read
// and dropped.
func (d *desktop) cutText() error {
	ss := d.ss
	b, err := ss.read(7)
	if err != nil {
		return err
	}
	n := int64(int32(binary.BigEndian.Uint32(b[3:])))
	if n < 0 {
		_, err = io.CopyN(io.Discard, ss.rw, -n)
		return err
	}
	head, err := ss.read(int(min(n, maxClipboardLogged)))
	if err != nil {
		return err
	}
	if _, err := io.CopyN(io.Discard, ss.rw, n-int64(len(head))); err != nil {
		return err
	}
	if d.cutEvents < maxClipboardEvents {
		d.cutEvents++
		ss.emit(typeClipboard, event.Notice, "text", latin1(head), "length", strconv.FormatInt(n, 10))
	}
	return nil
}

// latin1 decodes ClientCutText, which RFC 6143 says is ISO 8859-1.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// summary records what the client did on the desktop.
func (d *desktop) summary() {
	kv := []string{"key_events", strconv.Itoa(d.keys), "pointer_events", strconv.Itoa(d.pointers),
		"update_requests", strconv.Itoa(d.updates)}
	if d.typed.Len() > 0 {
		kv = append(kv, "typed", d.typed.String())
	}
	d.ss.emit(typeDesktopSession, event.Info, kv...)
}
