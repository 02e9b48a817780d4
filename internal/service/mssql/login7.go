package mssql

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// LOGIN7 layout (MS-TDS 2.2.6.4): a fixed part, then offset/length pairs
// into the variable part, counted from the message's start.
const (
	login7MinLen  = 86 // TDS 7.0 and 7.1: up to ibAtchDBFile/cchAtchDBFile
	login7Len72   = 94 // TDS 7.2+: ibChangePassword, cchChangePassword, cbSSPILong
	intSecurity   = 0x80
	fExtension    = 0x10
	readOnlyFlag  = 0x20 // TypeFlags.fReadOnlyIntent
	maxLoginField = 128  // characters kept of a name in events
)

// Login7 is a parsed LOGIN7 message.
type Login7 struct {
	// TDSVersion is the raw DWORD; Major is its TDS version byte (0x74
	// for 7.4), in whichever byte order the client wrote it.
	TDSVersion     uint32
	Major          byte
	PacketSize     uint32
	ClientProgVer  uint32
	ClientPID      uint32
	ConnectionID   uint32
	OptionFlags1   byte
	OptionFlags2   byte
	TypeFlags      byte
	OptionFlags3   byte
	TimeZone       int32
	LCID           uint32
	HostName       string
	UserName       string
	Password       string
	AppName        string
	ServerName     string
	Library        string // CltIntName: the client interface library
	Language       string
	Database       string
	ClientID       string // the client's MAC address
	AttachDBFile   string
	ChangePassword string
	// SSPI is the integrated authentication token (NTLMSSP or SPNEGO).
	SSPI []byte
	// Features are the IDs of the FeatureExt block (TDS 7.4), in order.
	Features []byte
	// FedAuthToken is the access token (an Entra ID JWT) of a client
	// that logs in with the FEDAUTH feature's security-token library.
	FedAuthToken string
}

// IntegratedSecurity is whether the client logs in with Windows
// authentication (fIntSecurity).
func (l Login7) IntegratedSecurity() bool { return l.OptionFlags2&intSecurity != 0 }

// ParseLogin7 reads a LOGIN7 message; every field must lie inside it.
func ParseLogin7(b []byte) (Login7, error) {
	var l Login7
	if len(b) < login7MinLen {
		return l, fmt.Errorf("LOGIN7 of %d bytes: %w", len(b), ErrMalformed)
	}
	le := binary.LittleEndian
	if n := le.Uint32(b); int(n) != len(b) {
		return l, fmt.Errorf("LOGIN7 length %d in a message of %d bytes: %w", n, len(b), ErrMalformed)
	}
	l.TDSVersion = le.Uint32(b[4:])
	l.Major = tdsMajor(b[4:8])
	l.PacketSize = le.Uint32(b[8:])
	l.ClientProgVer = le.Uint32(b[12:])
	l.ClientPID = le.Uint32(b[16:])
	l.ConnectionID = le.Uint32(b[20:])
	l.OptionFlags1, l.OptionFlags2, l.TypeFlags, l.OptionFlags3 = b[24], b[25], b[26], b[27]
	l.TimeZone = int32(le.Uint32(b[28:]))
	l.LCID = le.Uint32(b[32:])

	field := func(at int, bytesPerUnit int) ([]byte, error) {
		off, n := int(le.Uint16(b[at:])), int(le.Uint16(b[at+2:]))*bytesPerUnit
		if n == 0 {
			return nil, nil
		}
		if off+n > len(b) || off < login7MinLen {
			return nil, fmt.Errorf("LOGIN7 field at %d+%d outside the message's %d bytes: %w", off, n, len(b), ErrMalformed)
		}
		return b[off : off+n], nil
	}
	texts := []struct {
		at  int
		dst *string
		pw  bool
	}{
		{36, &l.HostName, false}, {40, &l.UserName, false}, {44, &l.Password, true},
		{48, &l.AppName, false}, {52, &l.ServerName, false}, {60, &l.Library, false},
		{64, &l.Language, false}, {68, &l.Database, false}, {82, &l.AttachDBFile, false},
	}
	long := len(b) >= login7Len72 && l.Major >= 0x72
	if long {
		texts = append(texts, struct {
			at  int
			dst *string
			pw  bool
		}{86, &l.ChangePassword, true})
	}
	for _, t := range texts {
		v, err := field(t.at, 2)
		if err != nil {
			return l, err
		}
		if t.pw {
			v = deobfuscate(v)
		}
		*t.dst = utf16String(v, maxLoginField)
	}
	mac := b[72:78]
	l.ClientID = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5])

	sspi, err := field(78, 1)
	if err != nil {
		return l, err
	}
	if le.Uint16(b[80:]) == 0xffff && long {
		// cbSSPI's maximum means the length is cbSSPILong's.
		off, n := int(le.Uint16(b[78:])), le.Uint32(b[90:])
		if off < login7MinLen || uint64(off)+uint64(n) > uint64(len(b)) {
			return l, fmt.Errorf("LOGIN7 SSPI at %d+%d outside the message's %d bytes: %w", off, n, len(b), ErrMalformed)
		}
		sspi = b[off : off+int(n)]
	}
	l.SSPI = sspi
	if l.OptionFlags3&fExtension != 0 && long {
		ext, err := field(56, 1)
		if err != nil {
			return l, err
		}
		if l.Features, l.FedAuthToken, err = features(b, ext); err != nil {
			return l, err
		}
	}
	return l, nil
}

// maxFeatures bounds a FeatureExt block: about ten features are defined.
const maxFeatures = 32

// Feature IDs (MS-TDS 2.2.6.4, FeatureExt).
const (
	featureFedAuth       = 0x02
	featureTerminator    = 0xff
	fedAuthSecurityToken = 0x01 // bFedAuthLibrary: the client brings a token
	maxTokenChars        = 8192
)

// features reads the FeatureExt block that ext, the 4-byte extension
// field, points to: features of an ID and a DWORD length each, up to the
// terminator. It returns their IDs and the FEDAUTH security token, if
// any.
func features(b, ext []byte) (ids []byte, token string, err error) {
	if len(ext) < 4 {
		return nil, "", fmt.Errorf("LOGIN7 extension of %d bytes: %w", len(ext), ErrMalformed)
	}
	off := uint64(binary.LittleEndian.Uint32(ext))
	for {
		if off >= uint64(len(b)) {
			return ids, token, fmt.Errorf("LOGIN7 FeatureExt past the message's end: %w", ErrMalformed)
		}
		id := b[off]
		if id == featureTerminator {
			return ids, token, nil
		}
		if len(ids) == maxFeatures || off+5 > uint64(len(b)) {
			return ids, token, fmt.Errorf("LOGIN7 FeatureExt cut short or too long: %w", ErrMalformed)
		}
		n := uint64(binary.LittleEndian.Uint32(b[off+1:]))
		if off+5+n > uint64(len(b)) {
			return ids, token, fmt.Errorf("LOGIN7 feature 0x%02x of %d bytes past the message's end: %w", id, n, ErrMalformed)
		}
		if id == featureFedAuth {
			token = fedAuthToken(b[off+5 : off+5+n])
		}
		ids = append(ids, id)
		off += 5 + n
	}
}

// fedAuthToken is the token in FEDAUTH feature data of the security-token
// library: options, then a DWORD length and the token in UTF-16LE.
func fedAuthToken(d []byte) string {
	if len(d) < 5 || d[0]>>1 != fedAuthSecurityToken {
		return ""
	}
	n := uint64(binary.LittleEndian.Uint32(d[1:]))
	if n > uint64(len(d)-5) {
		return ""
	}
	return utf16String(d[5:5+n], maxTokenChars)
}

// tdsMajor finds the TDS version byte (0x70 to 0x74) of a LOGIN7
// TDSVersion: clients write it last (04 00 00 74 for 7.4, 00 00 00 71 for
// impacket's 7.1); MS-TDS's table of values shows it first.
func tdsMajor(v []byte) byte {
	if v[3]&0xf0 == 0x70 {
		return v[3]
	}
	if v[0]&0xf0 == 0x70 {
		return v[0]
	}
	return 0
}

// deobfuscate undoes LOGIN7's password scrambling: each byte had its
// nibbles swapped and was XORed with 0xA5.
func deobfuscate(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		c ^= 0xa5
		out[i] = c<<4 | c>>4
	}
	return out
}

// utf16String decodes UTF-16LE, keeping at most max characters, made fit
// for an event field.
func utf16String(b []byte, max int) string {
	u := make([]uint16, 0, min(len(b)/2, max))
	for i := 0; i+1 < len(b) && len(u) < max; i += 2 {
		u = append(u, binary.LittleEndian.Uint16(b[i:]))
	}
	return clean([]byte(string(utf16.Decode(u))), 4*max)
}

// utf16Units is s in UTF-16 code units.
func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }

// appendUTF16 appends s as UTF-16LE.
func appendUTF16(b []byte, s string) []byte {
	for _, r := range utf16Units(s) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

// maxField bounds other attacker-chosen event fields, in bytes.
const maxField = 512

// clean makes attacker bytes fit for an event field: printable UTF-8 is
// kept, cut to max bytes; control bytes and invalid UTF-8 are escaped.
func clean(b []byte, max int) string {
	var s strings.Builder
	for len(b) > 0 && s.Len() < max {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&s, `\x%02x`, b[0])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&s, `\x%02x`, r)
		case r == '\\':
			s.WriteString(`\\`)
		default:
			s.Write(b[:n])
		}
		b = b[n:]
	}
	out := s.String()
	if len(out) > max {
		out = out[:max]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	return out
}
