package conpot

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// MBAP header: transaction id, protocol id, length, unit id.
const (
	mbapLen = 7
	// maxPDU is the largest Modbus PDU (function code and data).
	maxPDU = 253
)

// mbapFrame is one Modbus TCP request.
type mbapFrame struct {
	tid, pid uint16
	unit     byte
	pdu      []byte
}

// errBadLength is an MBAP length no Modbus server accepts (under 2, or
// over the largest PDU and unit id): the device closes the connection.
var errBadLength = errors.New("bad MBAP length")

// splitFrame takes the first whole frame off buf. need is how many more
// bytes a partial frame wants (0 with a frame or an error).
func splitFrame(buf []byte) (f mbapFrame, rest []byte, need int, err error) {
	if len(buf) < mbapLen {
		return f, buf, mbapLen - len(buf), nil
	}
	n := int(binary.BigEndian.Uint16(buf[4:6]))
	if n < 2 || n > maxPDU+1 {
		return f, nil, 0, errBadLength
	}
	if len(buf) < 6+n {
		return f, buf, 6 + n - len(buf), nil
	}
	f = mbapFrame{
		tid:  binary.BigEndian.Uint16(buf[0:2]),
		pid:  binary.BigEndian.Uint16(buf[2:4]),
		unit: buf[6],
		pdu:  buf[7 : 6+n],
	}
	return f, buf[6+n:], 0, nil
}

// mbapReply frames a response PDU for request f.
func mbapReply(f mbapFrame, pdu []byte) []byte {
	out := make([]byte, mbapLen, mbapLen+len(pdu))
	binary.BigEndian.PutUint16(out[0:2], f.tid)
	binary.BigEndian.PutUint16(out[2:4], f.pid)
	binary.BigEndian.PutUint16(out[4:6], uint16(len(pdu)+1))
	out[6] = f.unit
	return append(out, pdu...)
}

// shortFrameReply is the device's answer to a TCP segment too short for
// an MBAP header (nmap's "\r\n\r\n" probe): the embedded stack takes the
// segment as a frame of its own, echoes the transaction and protocol
// fields it got, and refuses function 0 as an illegal function. This is
// the answer nmap's modbus match lines describe.
func shortFrameReply(seg []byte) []byte {
	var head [4]byte
	copy(head[:], seg)
	return []byte{head[0], head[1], head[2], head[3], 0x00, 0x03, 0x00, 0x80, exIllegalFunction}
}

func itoa(n int) string { return strconv.Itoa(n) }
