package tlsanon

import (
	"crypto/ecdh"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"math/big"
	"strconv"

	"decnet/internal/tlsrecord"
)

// suite is an anonymous cipher suite the server carries out.
type suite struct {
	id     uint16
	name   string // IANA's
	dh     bool   // DH_anon; otherwise ECDH_anon
	gcm    bool   // AES-GCM; otherwise AES-CBC with HMAC-SHA1
	keyLen int
	sha384 bool // the PRF and transcript hash is SHA-384
}

// suites are the anonymous suites of GnuTLS 3.7's NORMAL:+ANON-ECDH:+ANON-DH.
var suites = map[uint16]*suite{
	0xc019: {id: 0xc019, name: "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", keyLen: 32},
	0xc018: {id: 0xc018, name: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", keyLen: 16},
	0x00a7: {id: 0x00a7, name: "TLS_DH_anon_WITH_AES_256_GCM_SHA384", dh: true, gcm: true, keyLen: 32, sha384: true},
	0x003a: {id: 0x003a, name: "TLS_DH_anon_WITH_AES_256_CBC_SHA", dh: true, keyLen: 32},
	0x00a6: {id: 0x00a6, name: "TLS_DH_anon_WITH_AES_128_GCM_SHA256", dh: true, gcm: true, keyLen: 16},
	0x0034: {id: 0x0034, name: "TLS_DH_anon_WITH_AES_128_CBC_SHA", dh: true, keyLen: 16},
}

// certSuites are the suites of GnuTLS 3.7's NORMAL that need a
// certificate, true for those that need TLS 1.2 (AEAD). GnuTLS picks them
// by the client's order without checking for credentials, so a client
// that lists one before the anonymous ones fails the handshake
// ("Insufficient credentials for that request").
var certSuites = map[uint16]bool{
	0xc02c: true, 0xcca9: true, 0xc0ad: true, 0xc00a: false, 0xc02b: true, 0xc0ac: true, 0xc009: false,
	0xc030: true, 0xcca8: true, 0xc014: false, 0xc02f: true, 0xc013: false, 0x009d: true, 0xc09d: true,
	0x0035: false, 0x009c: true, 0xc09c: true, 0x002f: false, 0x009f: true, 0xccaa: true, 0xc09f: true,
	0x0039: false, 0x009e: true, 0xc09e: true, 0x0033: false,
}

// Named groups (RFC 8422, RFC 7919).
const (
	groupP256      = 23
	groupP384      = 24
	groupP521      = 25
	groupX25519    = 29
	groupX448      = 30
	groupFFDHE2048 = 256
)

// ecGroups are the curves GnuTLS offers, by number; x448 has no Go
// implementation, so nil.
var ecGroups = map[uint16]ecdh.Curve{
	groupP256:   ecdh.P256(),
	groupP384:   ecdh.P384(),
	groupP521:   ecdh.P521(),
	groupX25519: ecdh.X25519(),
	groupX448:   nil,
}

// ffdhe2048 is RFC 7919's group, as GnuTLS sends it (generator 2).
var ffdhe2048, _ = new(big.Int).SetString(
	"ffffffffffffffffadf85458a2bb4a9aafdc5620273d3cf1d8b9c583ce2d3695"+
		"a9e13641146433fbcc939dce249b3ef97d2fe363630c75d8f681b202aec4617a"+
		"d3df1ed5d5fd65612433f51f5f066ed0856365553ded1af3b557135e7f57c935"+
		"984f0c70e0e68b77e2a689daf3efe8721df158a136ade73530acca4f483a797a"+
		"bc0ab182b324fb61d108a94bb2c8e3fbb96adab760d7f4681d4f42a3de394df4"+
		"ae56ede76372bb190b07a7c8ee0a6d709e02fce1cdf7e2ecc03404cd28342f61"+
		"9172fe9ce98583ff8e4f1232eef28183c3fe3b1b4c6fad733bb5fcbc2ec22005"+
		"c58ef1837d1683b2c6f34a26c1b2effa886b423861285c97ffffffffffffffff", 16)

// choose picks the suite and group as GnuTLS's server does: the client's
// order decides, a suite the version cannot carry or whose key exchange
// has no group in common is skipped, and a certificate suite met first
// ends the handshake. It returns nil when no suite fits.
func choose(ch *clientHello, version uint16) (*suite, uint16) {
	for _, id := range ch.suites {
		if tls12, ok := certSuites[id]; ok && (version >= versionTLS12 || !tls12) {
			return nil, 0
		}
		s, ok := suites[id]
		if !ok || (s.gcm && version < versionTLS12) {
			continue
		}
		if g, ok := chooseGroup(ch, s.dh); ok {
			return s, g
		}
	}
	return nil, 0
}

// chooseGroup is the client's first group of the key exchange's kind;
// without supported_groups ECDH uses P-256. A choice this server cannot
// compute (x448, the larger FFDHE groups, DH without supported_groups)
// reports false.
func chooseGroup(ch *clientHello, dh bool) (uint16, bool) {
	if !ch.hasGroups {
		return groupP256, !dh
	}
	for _, g := range ch.groups {
		if dh && g >= groupFFDHE2048 && g <= groupFFDHE2048+4 {
			return g, g == groupFFDHE2048
		}
		if curve, ok := ecGroups[g]; ok && !dh {
			return g, curve != nil
		}
	}
	return 0, false
}

// recordSuite is what the record layer needs of the suite.
func (s *suite) recordSuite() tlsrecord.Suite {
	r := tlsrecord.Suite{KeyLen: s.keyLen, PRF: s.hash()}
	if !s.gcm {
		r.MAC = sha1.New
	}
	return r
}

// hash is the suite's PRF and transcript hash.
func (s *suite) hash() func() hash.Hash {
	if s.sha384 {
		return sha512.New384
	}
	return sha256.New
}

// groupNames are the IANA names of the groups GnuTLS offers.
var groupNames = map[uint16]string{
	groupP256: "secp256r1", groupP384: "secp384r1", groupP521: "secp521r1",
	groupX25519: "x25519", groupX448: "x448", groupFFDHE2048: "ffdhe2048",
}

// versionNames are the versions' names, as GnuTLS writes them.
var versionNames = map[uint16]string{versionTLS10: "TLS1.0", versionTLS11: "TLS1.1", versionTLS12: "TLS1.2"}

// groupName is a named group's IANA name, or its number.
func groupName(g uint16) string {
	if n, ok := groupNames[g]; ok {
		return n
	}
	return strconv.Itoa(int(g))
}
