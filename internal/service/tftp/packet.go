package tftp

import (
	"encoding/binary"
	"strings"
)

// TFTP opcodes (RFC 1350, RFC 2347).
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// The TFTP error codes tftp-hpa sends (RFC 1350, RFC 2347). It never
// sends 2, 3, 5, 6 or 7: access and disk errors come as code 0 with
// strerror's text, its writes never report failure, and its connected
// socket never sees another transfer's datagrams.
const (
	errUndef    = 0
	errNotFound = 1
	errBadOp    = 4
	errOptNeg   = 8
)

// The texts tftp-hpa 5.2 sends. Those of errors that come from the
// filesystem are strerror(3) texts under code 0, as its nak() sends them.
const (
	msgNotFound       = "File not found"
	msgNotTerminated  = "Request not null-terminated"
	msgUnknownMode    = "Unknown mode"
	msgMissingMode    = "Missing mode"
	msgUnsupportedOpt = "Unsupported option(s) requested"
	msgOptionSpace    = "Insufficient space for options"
	msgIsDir          = "Is a directory"
	msgDenied         = "Permission denied"
	msgNameTooLong    = "File name too long"
)

// maxPacket is tftp-hpa's PKTSIZE: its largest block (65464) plus the
// DATA header, the size of its request and OACK buffers.
const maxPacket = maxBlksize + 4

// tftpError is an ERROR packet's code and text.
type tftpError struct {
	code uint16
	msg  string
}

// errorPacket is an ERROR packet.
func errorPacket(e tftpError) []byte {
	b := make([]byte, 0, 5+len(e.msg))
	b = binary.BigEndian.AppendUint16(b, opERROR)
	b = binary.BigEndian.AppendUint16(b, e.code)
	b = append(b, e.msg...)
	return append(b, 0)
}

// ackPacket is an ACK of block.
func ackPacket(block uint16) []byte {
	return []byte{0, opACK, byte(block >> 8), byte(block)}
}

// dataPacket is a DATA packet of block carrying p.
func dataPacket(block uint16, p []byte) []byte {
	b := make([]byte, 4, 4+len(p))
	b[1] = opDATA
	binary.BigEndian.PutUint16(b[2:], block)
	return append(b, p...)
}

// header returns a packet's opcode and block (or error code) fields, ok
// false when it is too short to have both.
func header(p []byte) (op, block uint16, ok bool) {
	if len(p) < 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), true
}

// errorText is the text of an ERROR packet, empty when it has none.
func errorText(p []byte) string {
	if len(p) <= 4 {
		return ""
	}
	s, _, _ := strings.Cut(string(p[4:]), "\x00")
	return s
}

// option is one option of a request, as the client spelt it.
type option struct {
	name, value string
}

// request is an RRQ or WRQ as tftp-hpa reads it: the file name, the mode
// (lower-cased), and the options up to the first empty string.
type request struct {
	op       uint16
	filename string
	mode     string
	options  []option
	// headErr is an error found before the mode was read: the request is
	// answered with it before anything else is looked at.
	headErr *tftpError
	// tailErr is an error found after the last whole option: tftp-hpa
	// checks the mode, opens the file and negotiates those options before
	// it reaches it.
	tailErr *tftpError
}

// parseRequest reads the body of an RRQ or WRQ (the bytes after the
// opcode) with tftp-hpa's loop: NUL-terminated strings, stopping at the
// first empty one or at the end. A last string that runs to the end of the
// datagram unterminated is refused: tftp-hpa reads the byte after the
// datagram, which in its long-lived buffer is usually left over from an
// earlier, longer request.
func parseRequest(op uint16, body []byte) request {
	r := request{op: op}
	var strs []string
	for pos := 0; pos < len(body) && body[pos] != 0; {
		end := pos
		for end < len(body) && body[end] != 0 {
			end++
		}
		if end == len(body) {
			e := tftpError{errBadOp, msgNotTerminated}
			if len(strs) < 2 {
				r.headErr = &e
			} else {
				r.tailErr = &e
			}
			break
		}
		strs = append(strs, string(body[pos:end]))
		pos = end + 1
	}
	if len(strs) > 0 {
		r.filename = strs[0]
	}
	if len(strs) < 2 {
		if r.headErr == nil {
			r.headErr = &tftpError{errBadOp, msgMissingMode}
		}
		return r
	}
	r.mode = asciiLower(strs[1])
	for i := 2; i+1 < len(strs); i += 2 {
		r.options = append(r.options, option{strs[i], strs[i+1]})
	}
	return r
}

// modeError is tftp-hpa's answer to a mode it does not know, nil for
// netascii and octet.
func modeError(mode string) *tftpError {
	if mode == modeNetascii || mode == modeOctet {
		return nil
	}
	return &tftpError{errBadOp, msgUnknownMode}
}

// The transfer modes tftp-hpa knows (mail is not one of them).
const (
	modeNetascii = "netascii"
	modeOctet    = "octet"
)

// asciiLower lower-cases like C's tolower in the C locale: ASCII only.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
