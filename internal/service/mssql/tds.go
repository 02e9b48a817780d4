package mssql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is wrapped by every error about bytes that are not the TDS
// message they claim to be.
var ErrMalformed = errors.New("malformed TDS")

// TDS packet types (MS-TDS 2.2.3.1.1).
const (
	pktSQLBatch = 0x01
	pktPreTDS7  = 0x02
	pktRPC      = 0x03
	pktReply    = 0x04 // tabular result: every server message
	pktAttn     = 0x06
	pktBulk     = 0x07
	pktTransMgr = 0x0e
	pktLogin7   = 0x10
	pktSSPI     = 0x11
	pktPrelogin = 0x12
)

// packetTypeNames name the packet types in events.
var packetTypeNames = map[byte]string{
	pktSQLBatch: "SQLBatch", pktPreTDS7: "PreTDS7Login", pktRPC: "RPC", pktReply: "TabularResult",
	pktAttn: "Attention", pktBulk: "BulkLoad", pktTransMgr: "TransactionManager",
	pktLogin7: "Login7", pktSSPI: "SSPI", pktPrelogin: "PreLogin",
}

func packetTypeName(t byte) string {
	if n, ok := packetTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", t)
}

// statusEOM marks a message's last packet.
const statusEOM = 0x01

const (
	headerLen = 8
	// maxPacket is the largest packet TDS allows (a 32767-byte negotiated
	// packet size); maxMessage bounds a message reassembled from packets,
	// which for LOGIN7 the protocol caps at 128 KiB of which a client
	// never needs more than a few.
	maxPacket  = 32767
	maxMessage = 64 << 10
	// prePacket is the packet size before LOGIN7 sets one: what the
	// server uses for its pre-login answers (and TLS handshake packets).
	prePacket = 4096
)

// header is a packet header (MS-TDS 2.2.3.1).
type header struct {
	Type, Status byte
	Length       uint16
	SPID         uint16
	PacketID     byte
	Window       byte
}

func parseHeader(b []byte) (header, error) {
	h := header{Type: b[0], Status: b[1], Length: binary.BigEndian.Uint16(b[2:]),
		SPID: binary.BigEndian.Uint16(b[4:]), PacketID: b[6], Window: b[7]}
	if h.Length < headerLen || int(h.Length) > maxPacket {
		return h, fmt.Errorf("packet length %d: %w", h.Length, ErrMalformed)
	}
	return h, nil
}

// readPacket reads one packet; got holds what was read, for the record
// when the packet is not TDS.
func readPacket(r io.Reader) (h header, payload, got []byte, err error) {
	var hb [headerLen]byte
	n, err := io.ReadFull(r, hb[:])
	if err != nil {
		return h, nil, hb[:n], err
	}
	if h, err = parseHeader(hb[:]); err != nil {
		return h, nil, hb[:], err
	}
	buf := make([]byte, int(h.Length))
	copy(buf, hb[:])
	if n, err = io.ReadFull(r, buf[headerLen:]); err != nil {
		return h, nil, buf[:headerLen+n], err
	}
	return h, buf[headerLen:], buf, nil
}

// readMessage reads packets up to the one marked end of message; all must
// be of the first one's type and together hold at most maxMessage bytes.
func readMessage(r io.Reader) (typ byte, msg, got []byte, err error) {
	for {
		h, payload, raw, err := readPacket(r)
		got = append(got, raw...)
		if err != nil {
			return typ, msg, got, err
		}
		if len(got) == len(raw) {
			typ = h.Type
		} else if h.Type != typ {
			return typ, msg, got, fmt.Errorf("packet of type %s inside a %s message: %w",
				packetTypeName(h.Type), packetTypeName(typ), ErrMalformed)
		}
		if len(msg)+len(payload) > maxMessage {
			return typ, msg, got, fmt.Errorf("message over %d bytes: %w", maxMessage, ErrMalformed)
		}
		msg = append(msg, payload...)
		if h.Status&statusEOM != 0 {
			return typ, msg, got, nil
		}
	}
}

// appendMessage appends msg as packets of type typ, each at most size
// bytes, the last marked end of message. The server numbers its packets
// from 1, as SQL Server does.
func appendMessage(b []byte, typ byte, spid uint16, size int, msg []byte) []byte {
	id := byte(1)
	for {
		n := min(len(msg), size-headerLen)
		status := byte(0)
		if n == len(msg) {
			status = statusEOM
		}
		b = append(b, typ, status)
		b = binary.BigEndian.AppendUint16(b, uint16(headerLen+n))
		b = binary.BigEndian.AppendUint16(b, spid)
		b = append(b, id, 0)
		b = append(b, msg[:n]...)
		msg = msg[n:]
		id++
		if status == statusEOM {
			return b
		}
	}
}
