package conpot

import (
	"encoding/binary"
	"errors"
)

// TPKT (RFC 1006) and COTP (ISO 8073 class 0) framing of S7comm.
const (
	tpktVersion = 0x03
	tpktHeader  = 4
	// maxTPKT bounds one TPKT: the S7-1200 negotiates 240-byte S7 PDUs
	// and 1024-byte TPDUs; a longer frame is not a client of it.
	maxTPKT = 2048

	cotpCR = 0xe0 // connection request
	cotpCC = 0xd0 // connection confirm
	cotpDR = 0x80 // disconnect request
	cotpDT = 0xf0 // data
)

var errNotTPKT = errors.New("not a TPKT frame")

// splitTPKT takes the first whole TPKT off buf: its payload (the COTP
// TPDU), the rest, and how many bytes a partial one still needs.
func splitTPKT(buf []byte) (payload, rest []byte, need int, err error) {
	if len(buf) < tpktHeader {
		return nil, buf, tpktHeader - len(buf), nil
	}
	if buf[0] != tpktVersion {
		return nil, nil, 0, errNotTPKT
	}
	n := int(binary.BigEndian.Uint16(buf[2:4]))
	if n < tpktHeader+2 || n > maxTPKT {
		return nil, nil, 0, errNotTPKT
	}
	if len(buf) < n {
		return nil, buf, n - len(buf), nil
	}
	return buf[tpktHeader:n], buf[n:], 0, nil
}

// tpkt frames a COTP TPDU.
func tpkt(tpdu []byte) []byte {
	out := make([]byte, tpktHeader, tpktHeader+len(tpdu))
	out[0] = tpktVersion
	binary.BigEndian.PutUint16(out[2:], uint16(tpktHeader+len(tpdu)))
	return append(out, tpdu...)
}

// cotpPDU is a parsed COTP TPDU.
type cotpPDU struct {
	typ byte
	// srcRef, srcTSAP and dstTSAP come with a connection request.
	srcRef           uint16
	srcTSAP, dstTSAP []byte
	tpduSize         byte
	// data is a DT TPDU's user data (the S7 PDU); last marks EOT.
	data []byte
	last bool
}

var errBadCOTP = errors.New("malformed COTP")

// parseCOTP reads one TPDU (the payload of a TPKT).
func parseCOTP(b []byte) (cotpPDU, error) {
	if len(b) < 2 {
		return cotpPDU{}, errBadCOTP
	}
	li := int(b[0])
	if li < 1 || li+1 > len(b) {
		return cotpPDU{}, errBadCOTP
	}
	p := cotpPDU{typ: b[1] & 0xf0}
	switch p.typ {
	case cotpDT:
		if li < 2 {
			return p, errBadCOTP
		}
		p.last = b[2]&0x80 != 0
		p.data = b[li+1:]
	case cotpCR:
		if li < 6 {
			return p, errBadCOTP
		}
		p.srcRef = binary.BigEndian.Uint16(b[4:6])
		for params := b[7 : li+1]; len(params) > 0; {
			if len(params) < 2 || int(params[1])+2 > len(params) {
				return p, errBadCOTP
			}
			code, val := params[0], params[2:2+params[1]]
			switch code {
			case 0xc0:
				if len(val) == 1 {
					p.tpduSize = val[0]
				}
			case 0xc1:
				p.srcTSAP = val
			case 0xc2:
				p.dstTSAP = val
			}
			params = params[2+len(val):]
		}
	}
	return p, nil
}

// cotpConfirm is the connection confirm for request r.
func cotpConfirm(r cotpPDU) []byte {
	size := r.tpduSize
	if size == 0 || size > 0x0a {
		size = 0x0a // 1024-byte TPDUs
	}
	cc := []byte{0, cotpCC, byte(r.srcRef >> 8), byte(r.srcRef), 0x00, 0x01, 0x00, 0xc0, 0x01, size}
	cc = append(cc, 0xc1, byte(len(r.srcTSAP)))
	cc = append(cc, r.srcTSAP...)
	cc = append(cc, 0xc2, byte(len(r.dstTSAP)))
	cc = append(cc, r.dstTSAP...)
	cc[0] = byte(len(cc) - 1)
	return tpkt(cc)
}

// cotpData wraps an S7 PDU in a last DT TPDU.
func cotpData(s7 []byte) []byte {
	return tpkt(append([]byte{0x02, cotpDT, 0x80}, s7...))
}
