package tlsrecord

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// gcmSalt is the implicit part of the GCM nonce (RFC 5288 §3).
const gcmSalt = 4

// ErrBadRecordMAC is any record that fails to decrypt or authenticate.
var ErrBadRecordMAC = errors.New("tlsrecord: bad record MAC")

// Suite is what the record layer needs of a cipher suite with AES.
type Suite struct {
	KeyLen int              // of the AES key: 16 or 32
	MAC    func() hash.Hash // CBC's HMAC hash; nil for GCM
	PRF    func() hash.Hash // TLS 1.2's PRF hash
}

// Keys is one direction's share of the key block.
type Keys struct{ MAC, Key, IV []byte }

// KeyBlock derives both directions' keys from the master secret. The IVs
// are a CBC block, which only TLS 1.0 uses, or GCM's implicit nonce.
func (s Suite) KeyBlock(version uint16, master, clientRandom, serverRandom []byte) (client, server Keys) {
	macLen, ivLen := 0, gcmSalt
	if s.MAC != nil {
		macLen, ivLen = s.MAC().Size(), aes.BlockSize
	}
	seed := append(append([]byte{}, serverRandom...), clientRandom...)
	kb := PRF(version, s.PRF, master, "key expansion", seed, 2*(macLen+s.KeyLen+ivLen))
	take := func(n int) []byte { v := kb[:n:n]; kb = kb[n:]; return v }
	client.MAC, server.MAC = take(macLen), take(macLen)
	client.Key, server.Key = take(s.KeyLen), take(s.KeyLen)
	client.IV, server.IV = take(ivLen), take(ivLen)
	return client, server
}

// Protection is one direction's record protection at TLS 1.0 to 1.2. It
// is not safe for concurrent use.
type Protection struct {
	version uint16 // of the record headers and the MAC
	seq     uint64
	// CBC with HMAC, MAC-then-encrypt unless etm (RFC 7366). TLS 1.0
	// chains the IV from record to record (chain); later versions send a
	// random IV with each record.
	block cipher.Block
	mac   hash.Hash
	etm   bool
	chain []byte
	// GCM, with the key block's IV as the implicit nonce.
	aead cipher.AEAD
	salt []byte
}

// Protect keys one direction at version. etm (encrypt-then-MAC) applies
// to CBC only. At TLS 1.0, k.IV is the next CBC record's IV: the key
// block's for the first record, or else the last ciphertext block sent.
func (s Suite) Protect(version uint16, k Keys, etm bool) (*Protection, error) {
	b, err := aes.NewCipher(k.Key)
	if err != nil {
		return nil, fmt.Errorf("tlsrecord: %w", err)
	}
	if s.MAC == nil {
		if len(k.IV) != gcmSalt {
			return nil, fmt.Errorf("tlsrecord: GCM implicit nonce of %d bytes", len(k.IV))
		}
		a, err := cipher.NewGCM(b)
		if err != nil {
			return nil, fmt.Errorf("tlsrecord: %w", err)
		}
		return &Protection{version: version, aead: a, salt: k.IV}, nil
	}
	p := &Protection{version: version, block: b, mac: hmac.New(s.MAC, k.MAC), etm: etm}
	if version == tls.VersionTLS10 {
		if len(k.IV) != aes.BlockSize {
			return nil, fmt.Errorf("tlsrecord: CBC IV of %d bytes", len(k.IV))
		}
		p.chain = append([]byte{}, k.IV...)
	}
	return p, nil
}

// SetSequence sets the next record's sequence number, for keys under
// which another implementation sealed the records before.
func (p *Protection) SetSequence(seq uint64) { p.seq = seq }

// additional is the MAC and AEAD header: seq_num, type, version, length.
func (p *Protection) additional(typ byte, n int) []byte {
	b := binary.BigEndian.AppendUint64(nil, p.seq)
	b = append(b, typ, byte(p.version>>8), byte(p.version))
	return binary.BigEndian.AppendUint16(b, uint16(n))
}

func (p *Protection) sum(parts ...[]byte) []byte {
	p.mac.Reset()
	for _, b := range parts {
		p.mac.Write(b)
	}
	return p.mac.Sum(nil)
}

// Seal protects data, at most 2^14 bytes, as one record of type typ,
// header included. rand supplies the explicit CBC IVs.
func (p *Protection) Seal(rand io.Reader, typ byte, data []byte) ([]byte, error) {
	payload, err := p.seal(rand, typ, data)
	if err != nil {
		return nil, err
	}
	return Record(typ, p.version, payload), nil
}

// seal protects one fragment.
func (p *Protection) seal(rand io.Reader, typ byte, data []byte) ([]byte, error) {
	defer func() { p.seq++ }()
	if p.aead != nil {
		explicit := binary.BigEndian.AppendUint64(nil, p.seq)
		nonce := append(append([]byte{}, p.salt...), explicit...)
		return p.aead.Seal(explicit, nonce, data, p.additional(typ, len(data))), nil
	}
	bs := p.block.BlockSize()
	plain := append([]byte{}, data...)
	if !p.etm {
		plain = append(plain, p.sum(p.additional(typ, len(data)), data)...)
	}
	// The least padding that fills the block, as GnuTLS and crypto/tls
	// send.
	pad := bs - 1 - len(plain)%bs
	for range pad + 1 {
		plain = append(plain, byte(pad))
	}
	var out, iv []byte
	if p.chain != nil {
		iv = p.chain
	} else {
		iv = make([]byte, bs)
		if _, err := io.ReadFull(rand, iv); err != nil {
			return nil, fmt.Errorf("tlsrecord: IV: %w", err)
		}
		out = iv
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(p.block, iv).CryptBlocks(ct, plain)
	if p.chain != nil {
		p.chain = ct[len(ct)-bs:]
	}
	out = append(out, ct...)
	if p.etm {
		out = append(out, p.sum(p.additional(typ, len(out)), out)...)
	}
	return out, nil
}

// decrypt CBC-decrypts a record body: the explicit IV and ciphertext, or
// the ciphertext alone under TLS 1.0's chained IV.
func (p *Protection) decrypt(body []byte) []byte {
	bs := p.block.BlockSize()
	iv := p.chain
	if iv == nil {
		iv, body = body[:bs], body[bs:]
	}
	plain := make([]byte, len(body))
	cipher.NewCBCDecrypter(p.block, iv).CryptBlocks(plain, body)
	if p.chain != nil {
		p.chain = append([]byte{}, body[len(body)-bs:]...)
	}
	return plain
}

// Open authenticates and decrypts the payload of one record of type typ.
// Any failure is ErrBadRecordMAC.
func (p *Protection) Open(typ byte, payload []byte) ([]byte, error) {
	defer func() { p.seq++ }()
	if p.aead != nil {
		if len(payload) < 8+p.aead.Overhead() {
			return nil, ErrBadRecordMAC
		}
		nonce := append(append([]byte{}, p.salt...), payload[:8]...)
		n := len(payload) - 8 - p.aead.Overhead()
		out, err := p.aead.Open(nil, nonce, payload[8:], p.additional(typ, n))
		if err != nil {
			return nil, ErrBadRecordMAC
		}
		return out, nil
	}
	bs, ms := p.block.BlockSize(), p.mac.Size()
	ivLen := bs
	if p.chain != nil {
		ivLen = 0
	}
	if p.etm {
		if len(payload) < ivLen+bs+ms || (len(payload)-ivLen-ms)%bs != 0 {
			return nil, ErrBadRecordMAC
		}
		body, tag := payload[:len(payload)-ms], payload[len(payload)-ms:]
		if !hmac.Equal(tag, p.sum(p.additional(typ, len(body)), body)) {
			return nil, ErrBadRecordMAC
		}
		return unpad(p.decrypt(body), 0)
	}
	if len(payload) < ivLen+max(bs, ms+1) || (len(payload)-ivLen)%bs != 0 {
		return nil, ErrBadRecordMAC
	}
	plain := p.decrypt(payload)
	// A bad padding and a bad MAC give the same error; the MAC is computed
	// either way so that the two take about as long.
	data, padErr := unpad(plain, ms)
	if padErr != nil {
		data = plain
	}
	body, tag := data[:len(data)-ms], data[len(data)-ms:]
	ok := hmac.Equal(tag, p.sum(p.additional(typ, len(body)), body))
	if padErr != nil || !ok {
		return nil, ErrBadRecordMAC
	}
	return body, nil
}

// unpad strips CBC padding, leaving at least keep bytes.
func unpad(b []byte, keep int) ([]byte, error) {
	pad := int(b[len(b)-1])
	if pad+1+keep > len(b) {
		return nil, ErrBadRecordMAC
	}
	good := 1
	for _, v := range b[len(b)-1-pad:] {
		good &= subtle.ConstantTimeByteEq(v, byte(pad))
	}
	if good != 1 {
		return nil, ErrBadRecordMAC
	}
	return b[:len(b)-1-pad], nil
}

// Record frames a payload as a record of type typ.
func Record(typ byte, version uint16, payload []byte) []byte {
	b := []byte{typ, byte(version >> 8), byte(version)}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}
