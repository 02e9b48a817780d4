package rdp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

// ConnectInitial is what the server learns from a client's MCS
// Connect-Initial (T.125) and the GCC Conference Create Request inside it
// (MS-RDPBCGR 2.2.1.3): the client's own description of itself.
type ConnectInitial struct {
	// HasCore reports TS_UD_CS_CORE, which the fields up to
	// ClientDigProductID come from; it is false when the block is missing
	// or too short.
	HasCore bool
	// RDPVersion is the client's RDP version code (0x00080004 is RDP 5.0
	// and later, 0x000800xx the RDP 10 family).
	RDPVersion uint32
	// DesktopWidth and DesktopHeight are the requested screen size.
	DesktopWidth, DesktopHeight uint16
	// KeyboardLayout is the client's input locale (0x409 is US English).
	KeyboardLayout uint32
	// ClientBuild is the client's build number (FreeRDP 2 says 18363).
	ClientBuild uint32
	// ClientName is the client machine's NetBIOS-style name.
	ClientName string
	// HighColorDepth, SupportedColorDepths and EarlyCapabilityFlags are
	// what the client says of its colour depth (zero when not sent).
	HighColorDepth, SupportedColorDepths, EarlyCapabilityFlags uint16
	// ClientDigProductID is a per-installation identifier mstsc sends.
	ClientDigProductID string
	// ServerSelectedProtocol echoes the CC's selection, when sent.
	ServerSelectedProtocol    uint32
	HasServerSelectedProtocol bool
	// EncryptionMethods is TS_UD_CS_SEC's encryptionMethods.
	EncryptionMethods    uint32
	HasEncryptionMethods bool
	// Channels are the static virtual channels of TS_UD_CS_NET.
	Channels []string
	// MsgChannel reports TS_UD_CS_MCS_MSGCHANNEL: the client can use a
	// message channel for auto-detection and multitransport.
	MsgChannel bool
}

// Client data block types (MS-RDPBCGR 2.2.1.3.1).
const (
	csCore     = 0xc001
	csSecurity = 0xc002
	csNet      = 0xc003
	csMsgChan  = 0xc006
)

// TS_UD_CS_CORE offsets, from the end of the block header.
const (
	coreMinLen          = 128 // through imeFileName
	coreNameOff         = 20
	coreNameLen         = 32
	coreHighColorOff    = 136
	coreEarlyCapsOff    = 140
	coreDigProductIDOff = 142
	coreDigProductIDLen = 64
	coreSelectedOff     = 208
	maxChannels         = 31 // CHANNEL_MAX_COUNT
	channelDefLen       = 12
)

// gccKey is the H.221 non-standard key of a client's conference create
// request; its user data follow it.
var gccKey = []byte("Duca")

// ParseConnectInitial reads an X.224 Data TPDU carrying an MCS
// Connect-Initial. The GCC layer is found by its "Duca" key rather than by
// decoding T.124's PER in full; blocks shorter than their fixed part are
// skipped, as Windows skips what it does not understand.
func ParseConnectInitial(b []byte) (ConnectInitial, error) {
	var ci ConnectInitial
	data, err := parseX224Data(b)
	if err != nil {
		return ci, err
	}
	tag, body, _, err := readTLV(data)
	if err != nil {
		return ci, fmt.Errorf("MCS: %w", err)
	}
	if tag != tagConnectInitial {
		return ci, fmt.Errorf("MCS PDU tag 0x%x is not Connect-Initial: %w", tag, ErrMalformed)
	}
	// callingDomainSelector, calledDomainSelector, upwardFlag, and three
	// DomainParameters, then userData.
	for range 6 {
		if _, _, body, err = readTLV(body); err != nil {
			return ci, fmt.Errorf("MCS Connect-Initial: %w", err)
		}
	}
	tag, userData, _, err := readTLV(body)
	if err != nil || tag != tagOctetString {
		return ci, fmt.Errorf("MCS Connect-Initial userData: %w", ErrMalformed)
	}
	i := bytes.Index(userData, gccKey)
	if i < 0 {
		return ci, fmt.Errorf("GCC conference create request without the Duca key: %w", ErrMalformed)
	}
	blocks, err := perLengthPrefixed(userData[i+len(gccKey):])
	if err != nil {
		return ci, err
	}
	for len(blocks) >= 4 {
		typ := binary.LittleEndian.Uint16(blocks)
		n := int(binary.LittleEndian.Uint16(blocks[2:]))
		if n < 4 || n > len(blocks) {
			return ci, fmt.Errorf("client data block 0x%04x of %d bytes in %d: %w", typ, n, len(blocks), ErrMalformed)
		}
		ci.addBlock(typ, blocks[4:n])
		blocks = blocks[n:]
	}
	return ci, nil
}

// perLengthPrefixed returns the bytes a PER length determinant announces,
// cut to what is there: clients state it exactly, and a short message
// still yields the blocks it holds.
func perLengthPrefixed(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("GCC user data: no length: %w", ErrMalformed)
	}
	n, hdr := int(b[0]), 1
	if b[0]&0x80 != 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("GCC user data: short length: %w", ErrMalformed)
		}
		n, hdr = int(b[0]&0x3f)<<8|int(b[1]), 2
	}
	b = b[hdr:]
	return b[:min(n, len(b))], nil
}

func (ci *ConnectInitial) addBlock(typ uint16, v []byte) {
	switch typ {
	case csCore:
		if len(v) < coreMinLen {
			return
		}
		ci.HasCore = true
		ci.RDPVersion = binary.LittleEndian.Uint32(v)
		ci.DesktopWidth = binary.LittleEndian.Uint16(v[4:])
		ci.DesktopHeight = binary.LittleEndian.Uint16(v[6:])
		ci.KeyboardLayout = binary.LittleEndian.Uint32(v[12:])
		ci.ClientBuild = binary.LittleEndian.Uint32(v[16:])
		ci.ClientName = utf16z(v[coreNameOff : coreNameOff+coreNameLen])
		if len(v) >= coreEarlyCapsOff+2 {
			ci.HighColorDepth = binary.LittleEndian.Uint16(v[coreHighColorOff:])
			ci.SupportedColorDepths = binary.LittleEndian.Uint16(v[coreHighColorOff+2:])
			ci.EarlyCapabilityFlags = binary.LittleEndian.Uint16(v[coreEarlyCapsOff:])
		}
		if len(v) >= coreDigProductIDOff+coreDigProductIDLen {
			ci.ClientDigProductID = utf16z(v[coreDigProductIDOff : coreDigProductIDOff+coreDigProductIDLen])
		}
		if len(v) >= coreSelectedOff+4 {
			ci.ServerSelectedProtocol = binary.LittleEndian.Uint32(v[coreSelectedOff:])
			ci.HasServerSelectedProtocol = true
		}
	case csSecurity:
		if len(v) >= 4 {
			ci.EncryptionMethods = binary.LittleEndian.Uint32(v)
			ci.HasEncryptionMethods = true
		}
	case csMsgChan:
		ci.MsgChannel = true
	case csNet:
		if len(v) < 4 {
			return
		}
		count := int(binary.LittleEndian.Uint32(v))
		defs := v[4:]
		for i := 0; i < count && i < maxChannels && len(defs) >= channelDefLen; i++ {
			name, _, _ := bytes.Cut(defs[:8], []byte{0})
			ci.Channels = append(ci.Channels, string(name))
			defs = defs[channelDefLen:]
		}
	}
}

// utf16z decodes a fixed, NUL-padded UTF-16LE field.
func utf16z(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return strings.ToValidUTF8(string(utf16.Decode(u)), "\uFFFD")
}

// Colour depth flags of TS_UD_CS_CORE.
const (
	rnsSupport32BPP   = 0x0008 // supportedColorDepths: RNS_UD_32BPP_SUPPORT
	rnsWant32BPP      = 0x0002 // earlyCapabilityFlags: RNS_UD_CS_WANT_32BPP_SESSION
	defaultColorDepth = 8
)

// ColorDepth is the session colour depth the client asks for, as a server
// reads it: 32 when it wants and supports 32 bpp, else highColorDepth,
// else 8.
func (ci ConnectInitial) ColorDepth() uint16 {
	switch {
	case ci.EarlyCapabilityFlags&rnsWant32BPP != 0 && ci.SupportedColorDepths&rnsSupport32BPP != 0:
		return 32
	case ci.HighColorDepth != 0:
		return ci.HighColorDepth
	}
	return defaultColorDepth
}
