package smb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// smb1Negotiate is the command code of SMB_COM_NEGOTIATE.
const smb1Negotiate = 0x72

// smb1HeaderSize is the SMB1 header's size (MS-CIFS 2.2.3.1).
const smb1HeaderSize = 32

// maxSMB1Dialects bounds the dialects read from one negotiate; real
// clients send at most a dozen.
const maxSMB1Dialects = 64

// SMB1 dialect strings that lead to SMB2 (MS-SMB2 3.3.5.3.1).
const (
	dialectSMB2002     = "SMB 2.002"
	dialectSMB2Unknown = "SMB 2.???"
)

// smb1Request is an SMB1 message: its header and, for SMB_COM_NEGOTIATE,
// the dialect strings.
type smb1Request struct {
	header   []byte // the 32 header bytes
	command  byte
	dialects []string
}

// parseSMB1 reads an SMB1 header and, for a negotiate, its dialects
// (WordCount 0, then ByteCount bytes of 0x02-prefixed NUL-terminated
// strings).
func parseSMB1(b []byte) (smb1Request, error) {
	if len(b) < smb1HeaderSize+1 || string(b[:4]) != magicSMB1 {
		return smb1Request{}, fmt.Errorf("SMB1 header: %w", errMalformed)
	}
	req := smb1Request{header: b[:smb1HeaderSize], command: b[4]}
	if req.command != smb1Negotiate {
		return req, nil
	}
	wc := int(b[smb1HeaderSize])
	rest := b[smb1HeaderSize+1:]
	if len(rest) < 2*wc+2 {
		return req, fmt.Errorf("SMB1 negotiate: %w", errMalformed)
	}
	rest = rest[2*wc:]
	bc := int(binary.LittleEndian.Uint16(rest))
	if len(rest) < 2+bc {
		return req, fmt.Errorf("SMB1 negotiate byte count: %w", errMalformed)
	}
	data := rest[2 : 2+bc]
	for len(data) > 0 {
		if data[0] != 0x02 || len(req.dialects) == maxSMB1Dialects {
			return req, fmt.Errorf("SMB1 negotiate dialects: %w", errMalformed)
		}
		end := bytes.IndexByte(data, 0)
		if end < 0 {
			return req, fmt.Errorf("SMB1 negotiate dialect: %w", errMalformed)
		}
		req.dialects = append(req.dialects, latin1(data[1:end]))
		data = data[end+1:]
	}
	return req, nil
}

// smb2Upgrade is the SMB2 dialect an SMB1 negotiate leads to: the
// wildcard 0x02FF when the client lists "SMB 2.???" (it then sends an SMB2
// NEGOTIATE), 0x0202 when it lists only "SMB 2.002", 0 when it offers
// SMB1 alone.
func smb2Upgrade(dialects []string) uint16 {
	switch {
	case slices.Contains(dialects, dialectSMB2Unknown):
		return dialectWildcard
	case slices.Contains(dialects, dialectSMB2002):
		return dialect202
	}
	return 0
}

// smb1NoDialect is Samba's answer to an SMB1-only negotiate once SMB1 is
// off: an SMB_COM_NEGOTIATE response with DialectIndex 0xFFFF. Like
// Samba's construct_reply_common, it keeps the request's TID, PID, UID and
// MID, the caseless flag and the client's Unicode and signing flags2.
func smb1NoDialect(req smb1Request) []byte {
	h := req.header
	le := binary.LittleEndian
	flags2 := uint16(0x4003) | le.Uint16(h[10:])&0x8014
	out := make([]byte, 0, smb1HeaderSize+5)
	out = append(out, magicSMB1...)
	out = append(out, smb1Negotiate, 0, 0, 0, 0, 0x80|h[9]&0x08)
	out = le.AppendUint16(out, flags2)
	out = append(out, h[12:14]...)         // PIDHigh
	out = append(out, make([]byte, 10)...) // security features, reserved
	out = append(out, h[24:32]...)         // TID, PIDLow, UID, MID
	return append(out, 1, 0xff, 0xff, 0, 0)
}
