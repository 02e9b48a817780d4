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
	smbServerName      = "*SMBSERVER"
)

// Error codes of a NEGATIVE SESSION RESPONSE (RFC 1002 4.3.4).
const (
	nbssCalledNotThere = 0x82 // called name not present
	nbssUnspecified    = 0x8f // unspecified error
)

// negativeResponse is a NEGATIVE SESSION RESPONSE with its error code.
func negativeResponse(code byte) []byte { return []byte{nbssNegative, 0, 0, 1, code} }

// negativeResult names a negative response's code in events.
func negativeResult(code byte) string {
	if code == nbssCalledNotThere {
		return "called name not present"
	}
	return "unspecified error"
}

// Length masks of an NBSS header. RFC 1002 has a 17-bit length (the
// low bit of the flags byte and two length bytes); SMB over TCP and
// SMB2 read 24 bits. Samba reads its first packets, up to the SMB2
// negotiation, with the 17-bit mask.
const (
	lengthMaskNBT = 0x1ffff
	lengthMaskTCP = 0xffffff
)

// maxMessage bounds one SMB message (an NBSS frame's payload). The largest
// legitimate requests here are SESSION_SETUPs with Kerberos tickets and
// writes to a pipe, well under this; Windows also drops a connection
// whose frame exceeds what it advertised.
const maxMessage = 1 << 20

// errTooLarge ends a connection whose frame exceeds maxMessage.
var errTooLarge = errors.New("frame too large")

// readFrame reads one NBSS frame whose length is the header's bits under
// mask. The payload grows with the bytes that arrive, so a length
// announced but never sent costs no memory.
func readFrame(r io.Reader, mask int) (typ byte, payload []byte, err error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := (int(h[1])<<16 | int(h[2])<<8 | int(h[3])) & mask
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

// sambaRefusal is why Samba's reply_special answers a SESSION REQUEST
// (whose payload is msg) "called name not present", or "" when it
// accepts it. Samba reads the names loosely (name_len, name_extract):
// any called name will do, characters outside A-P end a name early,
// compressed pointers are followed; it refuses only names that run past
// the packet and a calling name of type 'R' (PATHWORKS).
func sambaRefusal(msg []byte) string {
	// Offsets are the packet's, header included, as Samba's pointers are.
	pkt := append([]byte{nbssSessionRequest, 0, 0, 0}, msg...)
	n1 := sambaNameLen(pkt[4:])
	if n1 <= 0 {
		return "called name runs past the packet"
	}
	n2 := sambaNameLen(pkt[4+n1:])
	if n2 <= 0 {
		return "calling name runs past the packet"
	}
	t1, t2 := sambaNameType(pkt, 4), sambaNameType(pkt, 4+n1)
	switch {
	case t1 < 0 || t2 < 0:
		return "name type runs past the packet"
	case t2 == 'R':
		return "calling name of type R (PATHWORKS)"
	}
	return ""
}

// sambaNameLen is the length of the encoded name at the start of b,
// labels and terminator, or -1 when they run past b; a compressed
// pointer takes 2 bytes.
func sambaNameLen(b []byte) int {
	switch {
	case len(b) < 1 || b[0]&0xc0 == 0xc0 && len(b) < 2:
		return -1
	case b[0]&0xc0 == 0xc0:
		return 2
	}
	n := 1
	for i := 0; b[i] != 0; i = n - 1 {
		if n += int(b[i]) + 1; n > len(b) {
			return -1
		}
	}
	return n
}

// sambaNameType is the suffix of the name at off in pkt, following one
// compressed pointer: 0 when a character outside A-P ends it, -1 when it
// runs past pkt.
func sambaNameType(pkt []byte, off int) int {
	if off < len(pkt)-1 && pkt[off]&0xc0 == 0xc0 {
		off = int(pkt[off]&0x3f)<<8 | int(pkt[off+1])
	}
	if off >= len(pkt) || pkt[off] < 2 {
		return -1
	}
	suffix := 0
	for i, in := 0, off+1; i < int(pkt[off])/2; i, in = i+1, in+2 {
		if in+1 >= len(pkt) {
			return -1
		}
		hi, lo := pkt[in]-'A', pkt[in+1]-'A'
		if hi > 15 || lo > 15 {
			return 0
		}
		suffix = int(hi<<4 | lo)
	}
	return suffix
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
