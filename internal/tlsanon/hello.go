package tlsanon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// errDecode is a ClientHello that does not parse.
var errDecode = errors.New("tlsanon: malformed ClientHello")

// TLS versions.
const (
	versionTLS10 = 0x0301
	versionTLS11 = 0x0302
	versionTLS12 = 0x0303
	versionTLS13 = 0x0304
)

// Extension numbers the server reads or answers.
const (
	extSupportedGroups   = 10
	extECPointFormats    = 11
	extEncryptThenMAC    = 22
	extExtendedMaster    = 23
	extRecordSizeLimit   = 28
	extSupportedVersions = 43
	extKeyShare          = 51
	extRenegotiationInfo = 0xff01
	scsvRenegotiation    = 0x00ff
)

// clientHello is what the server uses of a ClientHello.
type clientHello struct {
	version   uint16
	random    []byte
	sessionID []byte
	keyShares []keyShare // TLS 1.3's, in the client's order
	suites    []uint16
	versions  []uint16 // supported_versions, when sent
	groups    []uint16
	hasGroups,
	pointFormats,
	etm,
	ems,
	renegotiation bool // renegotiation_info or its SCSV
	recordLimit int // record_size_limit, 0 when not sent
}

// keyShare is a TLS 1.3 key share.
type keyShare struct {
	group uint16
	key   []byte
}

// cursor reads a hostile message; every read checks its bounds and a
// short read sets bad instead of panicking.
type cursor struct {
	b   []byte
	bad bool
}

func (c *cursor) bytes(n int) []byte {
	if c.bad || n > len(c.b) {
		c.bad = true
		return nil
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u8() int {
	b := c.bytes(1)
	if b == nil {
		return 0
	}
	return int(b[0])
}

func (c *cursor) u16() int {
	b := c.bytes(2)
	if b == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(b))
}

// vec reads a vector with an n-byte length.
func (c *cursor) vec(n int) cursor {
	l := c.u8()
	if n == 2 {
		l = l<<8 | c.u8()
	}
	return cursor{b: c.bytes(l), bad: c.bad}
}

// u16s reads a vector of 16-bit values with an n-byte length.
func (c *cursor) u16s(n int) []uint16 {
	v := c.vec(n)
	if len(v.b)%2 != 0 || len(v.b) == 0 {
		c.bad = true
		return nil
	}
	var out []uint16
	for len(v.b) > 0 {
		out = append(out, uint16(v.u16()))
	}
	return out
}

// parseClientHello parses a ClientHello body as GnuTLS's server does,
// refusing trailing bytes, a missing null compression and repeated
// extensions.
func parseClientHello(body []byte) (*clientHello, error) {
	c := &cursor{b: body}
	ch := &clientHello{version: uint16(c.u16()), random: c.bytes(32)}
	sid := c.vec(1)
	if len(sid.b) > 32 {
		return nil, errDecode
	}
	ch.sessionID = sid.b
	ch.suites = c.u16s(2)
	comp := c.vec(1)
	if c.bad || !slices.Contains(comp.b, 0) {
		return nil, errDecode
	}
	if slices.Contains(ch.suites, scsvRenegotiation) {
		ch.renegotiation = true
	}
	if len(c.b) == 0 {
		return ch, nil
	}
	exts := c.vec(2)
	if c.bad || len(c.b) != 0 {
		return nil, errDecode
	}
	seen := map[int]bool{}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		data := exts.vec(2)
		if exts.bad || seen[typ] {
			return nil, errDecode
		}
		seen[typ] = true
		if err := ch.extension(typ, &data); err != nil {
			return nil, err
		}
	}
	if exts.bad {
		return nil, errDecode
	}
	return ch, nil
}

// extension reads one extension's data.
func (ch *clientHello) extension(typ int, d *cursor) error {
	switch typ {
	case extSupportedGroups:
		ch.groups, ch.hasGroups = d.u16s(2), true
	case extECPointFormats:
		f := d.vec(1)
		ch.pointFormats = len(f.b) > 0 && !f.bad
		d.bad = d.bad || !ch.pointFormats
	case extEncryptThenMAC:
		ch.etm = true
	case extExtendedMaster:
		ch.ems = true
	case extRecordSizeLimit:
		ch.recordLimit = d.u16()
		if ch.recordLimit < 64 {
			return fmt.Errorf("tlsanon: record_size_limit %d", ch.recordLimit)
		}
	case extSupportedVersions:
		ch.versions = d.u16s(1)
	case extKeyShare:
		list := d.vec(2)
		for len(list.b) > 0 && !list.bad {
			g := uint16(list.u16())
			ch.keyShares = append(ch.keyShares, keyShare{g, list.vec(2).b})
		}
		d.bad = d.bad || list.bad
	case extRenegotiationInfo:
		// An initial handshake carries an empty renegotiated_connection.
		if v := d.vec(1); len(v.b) != 0 {
			return errors.New("tlsanon: renegotiation_info of a renegotiation")
		}
		ch.renegotiation = true
	default:
		return nil
	}
	if d.bad || len(d.b) != 0 {
		return errDecode
	}
	return nil
}

// offersTLS13 reports whether the client can do TLS 1.3, which GnuTLS
// would choose over 1.2.
func (ch *clientHello) offersTLS13() bool { return slices.Contains(ch.versions, versionTLS13) }

// version12 is the version GnuTLS's NORMAL negotiates below TLS 1.3: the
// client's highest of TLS 1.0 to 1.2. It reports false for a client that
// offers none of them.
func (ch *clientHello) version12() (uint16, bool) {
	if ch.versions == nil {
		v := min(ch.version, versionTLS12)
		return v, v >= versionTLS10
	}
	for v := uint16(versionTLS12); v >= versionTLS10; v-- {
		if slices.Contains(ch.versions, v) {
			return v, true
		}
	}
	return 0, false
}
