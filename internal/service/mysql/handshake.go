package mysql

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Capability flags (include/mysql_com.h).
const (
	capLongPassword           = 1 << 0 // MariaDB clears it to say "read the extended flags"
	capConnectWithDB          = 1 << 3
	capProtocol41             = 1 << 9
	capSSL                    = 1 << 11
	capSecureConnection       = 1 << 15
	capPluginAuth             = 1 << 19
	capConnectAttrs           = 1 << 20
	capPluginAuthLenenc       = 1 << 21
	capSessionTrack           = 1 << 23
	capDeprecateEOF           = 1 << 24
	mariadbCacheMetadata      = 1 << 4 // MariaDB extended capabilities
	mariadbExtMetadata        = 1 << 3
	saltLen                   = 20
	nativePlugin              = "mysql_native_password"
	sha2Plugin                = "caching_sha2_password"
	sslRequestLen             = 32
	statusAutocommit          = 0x0002
	statusSessionStateChanged = 0x4000
	maxAttrs                  = 64
	maxAttrLen                = 256
	charsetUTF8MB4General     = 45
	charsetUTF8MB40900        = 255
)

// product is what differs between MariaDB's and MySQL's handshakes.
type product struct {
	versionPrefix string // MariaDB's "5.5.5-" for old clients
	caps          uint32 // without capSSL
	charset       byte
	extCaps       uint32 // MariaDB extended capabilities
	plugin        string
	// decimals of computed string columns in text results.
	decimals byte
}

// products are the measured greetings: MariaDB 10.11 (real-products.md
// §6) and MySQL 8.0.
var products = map[string]product{
	MariaDB: {versionPrefix: "5.5.5-", caps: 0x81fff7fe, charset: charsetUTF8MB4General, extCaps: 0x1d, plugin: nativePlugin, decimals: 0x27},
	MySQL:   {caps: 0xdffff7ff, charset: charsetUTF8MB40900, plugin: sha2Plugin, decimals: 0x1f},
}

// greeting is the Handshake v10 payload.
func (pr product) greeting(version string, connID uint32, salt []byte, ssl bool) []byte {
	caps := pr.caps
	if ssl {
		caps |= capSSL
	}
	b := append([]byte{10}, pr.versionPrefix...)
	b = append(append(b, version...), 0)
	b = binary.LittleEndian.AppendUint32(b, connID)
	b = append(append(b, salt[:8]...), 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(caps))
	b = append(b, pr.charset)
	b = binary.LittleEndian.AppendUint16(b, statusAutocommit)
	b = binary.LittleEndian.AppendUint16(b, uint16(caps>>16))
	b = append(b, saltLen+1)
	if pr.extCaps != 0 {
		b = append(b, make([]byte, 6)...)
		b = binary.LittleEndian.AppendUint32(b, pr.extCaps)
	} else {
		b = append(b, make([]byte, 10)...)
	}
	b = append(append(b, salt[8:]...), 0)
	return append(append(b, pr.plugin...), 0)
}

// newSalt fills a scramble as the product makes it: MariaDB picks
// printable ASCII (create_random_string), MySQL any 7-bit byte but NUL
// and '$' (generate_user_salt).
func (pr product) newSalt(r io.Reader) ([]byte, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return nil, err
	}
	for i, c := range salt {
		if pr.extCaps != 0 {
			salt[i] = 33 + c%94
			continue
		}
		c &= 0x7f
		if c == 0 || c == '$' {
			c++
		}
		salt[i] = c
	}
	return salt, nil
}

// response is a HandshakeResponse41, or an SSLRequest (its first 32
// bytes) when ssl is set.
type response struct {
	caps     uint32
	extCaps  uint32 // MariaDB's, when the client cleared capLongPassword
	charset  byte
	ssl      bool
	user     string
	auth     []byte
	database string
	plugin   string
	attrs    map[string]string
	attrKeys []string // in the client's order
}

// errBadHandshake is a login packet that is not a HandshakeResponse41.
var errBadHandshake = errors.New("bad handshake")

// parseResponse reads a HandshakeResponse41 or SSLRequest with strict
// bounds: every length is checked against what the packet holds.
func parseResponse(p []byte) (*response, error) {
	r := &reader{b: p}
	res := &response{caps: r.u32()}
	r.u32() // max packet size
	res.charset = r.u8()
	filler := r.take(23)
	if r.err != nil || res.caps&capProtocol41 == 0 {
		return nil, errBadHandshake
	}
	if res.caps&capLongPassword == 0 {
		res.extCaps = binary.LittleEndian.Uint32(filler[19:])
	}
	if len(r.b) == 0 && res.caps&capSSL != 0 {
		res.ssl = true
		return res, nil
	}
	res.user = r.nulStr()
	switch {
	case res.caps&capPluginAuthLenenc != 0:
		res.auth = r.lenencBytes()
	case res.caps&capSecureConnection != 0:
		res.auth = r.take(int(r.u8()))
	default:
		res.auth = []byte(r.nulStr())
	}
	if res.caps&capConnectWithDB != 0 && len(r.b) > 0 {
		res.database = r.nulStr()
	}
	if res.caps&capPluginAuth != 0 && len(r.b) > 0 {
		res.plugin = r.nulStr()
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", errBadHandshake, r.err)
	}
	if res.caps&capConnectAttrs != 0 && len(r.b) > 0 {
		// Attributes are informational: a malformed block is dropped.
		if b := r.lenencBytes(); r.err == nil {
			res.parseAttrs(b)
		}
	}
	return res, nil
}

// parseAttrs reads the connection attributes, keeping at most maxAttrs
// pairs clipped to maxAttrLen bytes; a malformed tail is ignored, as the
// servers ignore it.
func (res *response) parseAttrs(b []byte) {
	r := &reader{b: b}
	res.attrs = map[string]string{}
	for len(r.b) > 0 && len(res.attrs) < maxAttrs {
		k, v := r.lenencBytes(), r.lenencBytes()
		if r.err != nil {
			return
		}
		key := clip(k)
		if _, dup := res.attrs[key]; !dup {
			res.attrKeys = append(res.attrKeys, key)
		}
		res.attrs[key] = clip(v)
	}
}

func clip(b []byte) string {
	if len(b) > maxAttrLen {
		b = b[:maxAttrLen]
	}
	return string(b)
}

// authSwitch asks the client to answer with another plugin.
func authSwitch(plugin string, salt []byte) []byte {
	b := append([]byte{0xfe}, plugin...)
	b = append(append(b, 0), salt...)
	return append(b, 0)
}

// nativeScramble is what a mysql_native_password client sends:
// SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))).
func nativeScramble(salt []byte, password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h3 := sha1.Sum(append(append([]byte{}, salt...), h2[:]...))
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3[:]
}

// sha2Scramble is what a caching_sha2_password client sends first:
// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + salt).
func sha2Scramble(salt []byte, password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha256.Sum256([]byte(password))
	h2 := sha256.Sum256(h1[:])
	h3 := sha256.Sum256(append(h2[:], salt...))
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3[:]
}

// hashcatNative is the hashcat mode 11200 line of a native login.
func hashcatNative(salt, scramble []byte) string {
	return "$mysqlna$" + hex.EncodeToString(salt) + "*" + hex.EncodeToString(scramble)
}

// HashFormatNative names hashcatNative's format.
const HashFormatNative = "mysql native (hashcat 11200)"

// matches says whether scramble is password's answer to salt under plugin.
func matches(plugin string, salt, scramble []byte, password string) bool {
	if plugin == sha2Plugin {
		return bytes.Equal(sha2Scramble(salt, password), scramble)
	}
	return bytes.Equal(nativeScramble(salt, password), scramble)
}

// charsetWidth is the most bytes a character of a collation takes:
// column lengths in results count bytes of the client's character set.
func charsetWidth(c byte) uint32 {
	switch {
	case c == 33 || c == 83 || c >= 192 && c <= 215 || c == 223:
		return 3 // utf8mb3
	case c == 45 || c == 46 || c >= 224:
		return 4 // utf8mb4
	}
	return 1
}
