package tlsanon

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Record content types (RFC 5246 §6.2.1).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
)

// Record size bounds: a plaintext fragment is at most 2^14 bytes and a
// protected record at most 2^14+2048 (RFC 5246 §6.2.3).
const (
	maxPlaintext = 1 << 14
	maxRecord    = maxPlaintext + 2048
)

// readRecord reads one record's header and payload from r.
func readRecord(r io.Reader) (typ byte, payload []byte, err error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	typ, n := h[0], int(binary.BigEndian.Uint16(h[3:]))
	if typ < recordChangeCipherSpec || typ > recordApplicationData || h[1] != 3 {
		return 0, nil, fmt.Errorf("tlsanon: not a TLS record: % x", h)
	}
	if n > maxRecord {
		return 0, nil, fmt.Errorf("tlsanon: record of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return typ, payload, nil
}
