package rdp

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Security header flags (MS-RDPBCGR 2.2.8.1.1.2.1).
const (
	secExchangePkt = 0x0001
	secEncrypt     = 0x0008
	secInfoPkt     = 0x0040
	secLicensePkt  = 0x0080
)

// TS_INFO_PACKET flags (MS-RDPBCGR 2.2.1.11.1.1) the events name.
const (
	infoAutologon = 0x00000008
	infoUnicode   = 0x00000010
)

// Limits on the Client Info PDU's strings: MS-RDPBCGR 2.2.1.11.1.1 allows
// up to 512 bytes for each (52 for the domain before RDP 5.1).
const (
	maxInfoString = 512
	// maxClientAddress and maxClientDir bound the extra info's strings.
	maxClientAddress = 80
	maxClientDir     = 512
	// infoFixedLen is CodePage, flags and the five cb fields.
	infoFixedLen = 18
)

// ClientInfo is what a Client Info PDU (TS_INFO_PACKET) says: the logon
// the client asks for, the password in clear among it.
type ClientInfo struct {
	CodePage       uint32
	Flags          uint32
	Domain         string
	UserName       string
	Password       string
	AlternateShell string
	WorkingDir     string
	// ClientAddress and ClientDir come from TS_EXTENDED_INFO_PACKET, sent
	// by RDP 5.0 and later clients; HasExtra reports it.
	HasExtra      bool
	ClientAddress string
	ClientDir     string
}

// Autologon reports INFO_AUTOLOGON: the client wants to be logged on
// with the credentials it sent.
func (ci ClientInfo) Autologon() bool { return ci.Flags&infoAutologon != 0 }

// ParseClientInfo reads the payload of a send data request on the I/O
// channel as a Client Info PDU: a basic security header with
// SEC_INFO_PKT and no encryption, then TS_INFO_PACKET. Strings are
// UTF-16LE with INFO_UNICODE and ANSI (read as Latin-1) without; each
// must fit the PDU and carry its terminating NUL.
func ParseClientInfo(b []byte) (ClientInfo, error) {
	var ci ClientInfo
	if len(b) < 4 {
		return ci, fmt.Errorf("security header of %d bytes: %w", len(b), ErrMalformed)
	}
	flags := binary.LittleEndian.Uint16(b)
	switch {
	case flags&secEncrypt != 0:
		return ci, fmt.Errorf("encrypted Client Info PDU (flags 0x%04x): %w", flags, ErrMalformed)
	case flags&secInfoPkt == 0:
		return ci, fmt.Errorf("security header flags 0x%04x lack SEC_INFO_PKT: %w", flags, ErrMalformed)
	}
	r := infoReader{b: b[4:]}
	if len(r.b) < infoFixedLen {
		return ci, fmt.Errorf("TS_INFO_PACKET of %d bytes: %w", len(r.b), ErrMalformed)
	}
	ci.CodePage = r.u32()
	ci.Flags = r.u32()
	r.unicode = ci.Flags&infoUnicode != 0
	var cb [5]int
	for i := range cb {
		cb[i] = int(r.u16())
	}
	for i, dst := range []*string{&ci.Domain, &ci.UserName, &ci.Password, &ci.AlternateShell, &ci.WorkingDir} {
		s, err := r.str(cb[i], false, maxInfoString)
		if err != nil {
			return ci, fmt.Errorf("TS_INFO_PACKET string %d: %w", i, err)
		}
		*dst = s
	}
	// TS_EXTENDED_INFO_PACKET: clientAddressFamily, cbClientAddress,
	// clientAddress, cbClientDir, clientDir; what follows (time zone,
	// session id, performance flags, reconnect cookie) is not needed.
	if len(r.b) < 4 {
		return ci, nil
	}
	r.u16()
	addr, err := r.str(int(r.u16()), true, maxClientAddress)
	if err != nil {
		return ci, fmt.Errorf("client address: %w", err)
	}
	if len(r.b) < 2 {
		return ci, fmt.Errorf("TS_EXTENDED_INFO_PACKET without cbClientDir: %w", ErrMalformed)
	}
	dir, err := r.str(int(r.u16()), true, maxClientDir)
	if err != nil {
		return ci, fmt.Errorf("client dir: %w", err)
	}
	ci.HasExtra, ci.ClientAddress, ci.ClientDir = true, addr, dir
	return ci, nil
}

// infoReader walks a TS_INFO_PACKET; callers check the length of fixed
// fields first.
type infoReader struct {
	b       []byte
	unicode bool
}

func (r *infoReader) u16() uint16 {
	v := binary.LittleEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *infoReader) u32() uint32 {
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

// str reads a string of cb bytes. In TS_INFO_PACKET cb leaves out the
// NUL that follows (withNUL false); the extra info's counts include it
// (and clients send 0 for an absent string). Text after an early NUL is
// dropped, as the server's C string handling drops it.
func (r *infoReader) str(cb int, withNUL bool, limit int) (string, error) {
	nul := 1
	if r.unicode {
		nul = 2
	}
	total := cb
	if !withNUL {
		total += nul
	}
	switch {
	case cb > limit:
		return "", fmt.Errorf("%d bytes, over %d: %w", cb, limit, ErrMalformed)
	case r.unicode && cb%2 != 0:
		return "", fmt.Errorf("odd length %d of a UTF-16 string: %w", cb, ErrMalformed)
	case total > len(r.b):
		return "", fmt.Errorf("%d bytes announced, %d left: %w", total, len(r.b), ErrMalformed)
	}
	raw := r.b[:total]
	r.b = r.b[total:]
	if r.unicode {
		return utf16z(raw), nil
	}
	var s strings.Builder
	for _, c := range raw {
		if c == 0 {
			break
		}
		s.WriteRune(rune(c))
	}
	return s.String(), nil
}
