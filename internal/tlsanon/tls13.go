package tlsanon

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/chacha20poly1305"

	"decnet/internal/tlsrecord"
)

// tls13Suite is a TLS 1.3 suite of GnuTLS's NORMAL that the server can
// encrypt with.
type tls13Suite struct {
	hash   func() hash.Hash
	keyLen int
	aead   func(key []byte) (cipher.AEAD, error)
}

func aesGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// tls13Suites are TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256 and
// TLS_AES_128_GCM_SHA256; GnuTLS's fourth, TLS_AES_128_CCM_SHA256, has no
// Go implementation.
var tls13Suites = map[uint16]tls13Suite{
	0x1302: {sha512.New384, 32, aesGCM},
	0x1303: {sha256.New, 32, chacha20poly1305.New},
	0x1301: {sha256.New, 16, aesGCM},
}

// refuseTLS13 answers a TLS 1.3 ClientHello as GnuTLS does without a
// certificate: a ServerHello, the middlebox ChangeCipherSpec when the
// client sent a session ID, and then, from Close, a close_notify under the
// server's handshake traffic key, all in one write. A client this cannot answer (a CCM
// suite, a HelloRetryRequest) gets the close_notify in clear instead.
// clientHello is the whole ClientHello message.
func (c *Conn) refuseTLS13(ch *clientHello, clientHello []byte) error {
	var (
		s     tls13Suite
		suite uint16
	)
	for _, id := range ch.suites {
		if v, ok := tls13Suites[id]; ok {
			s, suite = v, id
			break
		}
	}
	var share *keyShare
	for i, ks := range ch.keyShares {
		if curve := ecGroups[ks.group]; curve != nil {
			share = &ch.keyShares[i]
			break
		}
	}
	if s.aead == nil || share == nil {
		return ErrTLS13
	}
	curve := ecGroups[share.group]
	peer, err := curve.NewPublicKey(share.key)
	if err != nil {
		return fmt.Errorf("tlsanon: TLS 1.3 key share: %w", err)
	}
	priv, err := curve.GenerateKey(c.rand)
	if err != nil {
		return fmt.Errorf("tlsanon: ECDH key: %w", err)
	}
	shared, err := priv.ECDH(peer)
	if err != nil {
		return fmt.Errorf("tlsanon: TLS 1.3 key share: %w", err)
	}
	random := make([]byte, 32)
	if _, err := io.ReadFull(c.rand, random); err != nil {
		return fmt.Errorf("tlsanon: random: %w", err)
	}
	pub := priv.PublicKey().Bytes()
	b := binary.BigEndian.AppendUint16(nil, versionTLS12)
	b = append(b, random...)
	b = append(b, byte(len(ch.sessionID)))
	b = append(b, ch.sessionID...)
	b = binary.BigEndian.AppendUint16(b, suite)
	b = append(b, 0)
	ext := binary.BigEndian.AppendUint16(nil, extKeyShare)
	ext = binary.BigEndian.AppendUint16(ext, uint16(4+len(pub)))
	ext = binary.BigEndian.AppendUint16(ext, share.group)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(pub)))
	ext = append(ext, pub...)
	ext = append(ext, 0x00, extSupportedVersions, 0, 2, 3, 4)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
	b = append(b, ext...)
	serverHello := c.message(msgServerHello, b)

	// RFC 8446 §7.1, up to the server's handshake traffic secret.
	hl := s.hash().Size()
	early, err := hkdf.Extract(s.hash, make([]byte, hl), nil)
	if err != nil {
		return err
	}
	derived, err := expandLabel(s.hash, early, "derived", s.hash().Sum(nil), hl)
	if err != nil {
		return err
	}
	hs, err := hkdf.Extract(s.hash, shared, derived)
	if err != nil {
		return err
	}
	th := s.hash()
	th.Write(clientHello)
	th.Write(serverHello)
	traffic, err := expandLabel(s.hash, hs, "s hs traffic", th.Sum(nil), hl)
	if err != nil {
		return err
	}
	key, err := expandLabel(s.hash, traffic, "key", nil, s.keyLen)
	if err != nil {
		return err
	}
	iv, err := expandLabel(s.hash, traffic, "iv", nil, 12)
	if err != nil {
		return err
	}
	aead, err := s.aead(key)
	if err != nil {
		return fmt.Errorf("tlsanon: %w", err)
	}
	out := tlsrecord.Record(recordHandshake, versionTLS12, serverHello)
	if len(ch.sessionID) > 0 {
		out = append(out, tlsrecord.Record(recordChangeCipherSpec, versionTLS12, []byte{1})...)
	}
	// GnuTLS's flight leaves with the close_notify, in one segment.
	c.pending = out
	c.out13 = &sealer13{aead: aead, iv: iv}
	return ErrTLS13
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, n int) ([]byte, error) {
	info := binary.BigEndian.AppendUint16(nil, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "+label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	return hkdf.Expand(h, secret, string(info), n)
}

// sealer13 is TLS 1.3's record protection (RFC 8446 §5.2), which only
// seals: the server's one record under it is the close_notify.
type sealer13 struct {
	aead cipher.AEAD
	iv   []byte // of 12 bytes
	seq  uint64
}

// seal frames data as a record of inner type typ.
func (s *sealer13) seal(typ byte, data []byte) []byte {
	inner := append(append([]byte{}, data...), typ)
	nonce := append([]byte{}, s.iv...)
	for i := range 8 {
		nonce[len(nonce)-1-i] ^= byte(s.seq >> (8 * i))
	}
	s.seq++
	n := len(inner) + s.aead.Overhead()
	ad := []byte{recordApplicationData, 3, 3, byte(n >> 8), byte(n)}
	return tlsrecord.Record(recordApplicationData, versionTLS12, s.aead.Seal(nil, nonce, inner, ad))
}
