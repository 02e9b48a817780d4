package smb

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// NetBIOS session service packet types (RFC 1002 4.3). Port 445 frames
// SMB the same way, with a 24-bit length.
const (
	nbssMessage        = 0x00
	nbssSessionRequest = 0x81
	nbssPositive       = 0x82
	nbssNegative       = 0x83
	nbssKeepAlive      = 0x85
	nbssCalledNotThere = 0x82 // negative response: called name not present
	smbServerName      = "*SMBSERVER"
)

// maxMessage bounds one SMB message (an NBSS frame's payload). The largest
// legitimate requests here are SESSION_SETUPs with Kerberos tickets and
// writes to a pipe, well under this; Windows also drops a connection
// whose frame exceeds what it advertised.
const maxMessage = 1 << 20

// errTooLarge ends a connection whose frame exceeds maxMessage.
var errTooLarge = errors.New("frame too large")

// readFrame reads one NBSS frame. The payload grows with the bytes that
// arrive, so a length announced but never sent costs no memory.
func readFrame(r io.Reader) (typ byte, payload []byte, err error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	if n > maxMessage {
		return h[0], nil, fmt.Errorf("%w: %d bytes", errTooLarge, n)
	}
	payload = make([]byte, min(n, 4096))
	got := 0
	for {
		if _, err := io.ReadFull(r, payload[got:]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return h[0], nil, err
		}
		if got = len(payload); got == n {
			break
		}
		payload = append(payload, make([]byte, min(n-got, got))...)
	}
	return h[0], payload, nil
}

// frame prefixes an SMB message with its NBSS session message header.
func frame(msg []byte) []byte {
	n := len(msg)
	return append([]byte{nbssMessage, byte(n >> 16), byte(n >> 8), byte(n)}, msg...)
}

// sessionRequest is an NBSS SESSION REQUEST's two NetBIOS names.
type sessionRequest struct {
	called, calling       string
	calledSfx, callingSfx byte
}

// parseSessionRequest reads the called and calling names, each a
// first-level encoded NetBIOS name (RFC 1001 14.1) with an optional scope.
func parseSessionRequest(b []byte) (sessionRequest, error) {
	var sr sessionRequest
	var err error
	var rest []byte
	if sr.called, sr.calledSfx, rest, err = decodeNetBIOSName(b); err != nil {
		return sr, fmt.Errorf("called name: %w", err)
	}
	if sr.calling, sr.callingSfx, _, err = decodeNetBIOSName(rest); err != nil {
		return sr, fmt.Errorf("calling name: %w", err)
	}
	return sr, nil
}

// decodeNetBIOSName decodes one name and skips its scope labels: the
// 16-byte name is 15 space-padded characters and a suffix byte.
func decodeNetBIOSName(b []byte) (name string, suffix byte, rest []byte, err error) {
	if len(b) < 1+32 || b[0] != 32 {
		return "", 0, nil, errMalformed
	}
	var raw [16]byte
	for i := range raw {
		hi, lo := b[1+2*i]-'A', b[2+2*i]-'A'
		if hi > 15 || lo > 15 {
			return "", 0, nil, errMalformed
		}
		raw[i] = hi<<4 | lo
	}
	b = b[33:]
	for {
		if len(b) == 0 {
			return "", 0, nil, errMalformed
		}
		l := int(b[0])
		if l == 0 {
			b = b[1:]
			break
		}
		if l > 63 || len(b) < 1+l {
			return "", 0, nil, errMalformed
		}
		b = b[1+l:]
	}
	return strings.TrimRight(latin1(raw[:15]), " \x00"), raw[15], b, nil
}

// latin1 decodes bytes of an unknown OEM code page as Latin-1, which keeps
// every byte as one character and always makes valid UTF-8.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
