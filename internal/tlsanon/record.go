package tlsanon

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Record content types (RFC 5246 §6.2.1).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
)

// Record size bounds: a plaintext fragment is at most 2^14 bytes and a
// protected record at most 2^14+2048 (RFC 5246 §6.2.3).
const (
	maxPlaintext = 1 << 14
	maxRecord    = maxPlaintext + 2048
)

// errBadRecordMAC is any record that fails to decrypt or authenticate.
var errBadRecordMAC = errors.New("tlsanon: bad record MAC")

// protection is one direction's record protection; a nil one passes
// records in clear, as before ChangeCipherSpec.
type protection struct {
	version uint16 // of the record headers and the MAC
	seq     uint64
	// CBC with HMAC-SHA1, MAC-then-encrypt unless etm (RFC 7366). TLS 1.0
	// chains the IV from record to record (chain); later versions send a
	// random IV with each record.
	block cipher.Block
	mac   hash.Hash
	etm   bool
	chain []byte
	// AES-GCM with a 4-byte implicit nonce (RFC 5288), or TLS 1.3's AEAD
	// with a 12-byte IV (RFC 8446 §5.3).
	aead  cipher.AEAD
	fixed []byte
	tls13 bool
}

// newProtection keys one direction for suite s at version.
func newProtection(s *suite, version uint16, macKey, key, iv []byte, etm bool) (*protection, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tlsanon: %w", err)
	}
	if s.gcm {
		a, err := cipher.NewGCM(b)
		if err != nil {
			return nil, fmt.Errorf("tlsanon: %w", err)
		}
		return &protection{version: version, aead: a, fixed: iv}, nil
	}
	p := &protection{version: version, block: b, mac: hmac.New(sha1.New, macKey), etm: etm}
	if version == versionTLS10 {
		p.chain = append([]byte{}, iv...)
	}
	return p, nil
}

// additional is the MAC and AEAD header: seq_num, type, version, length.
func (p *protection) additional(typ byte, n int) []byte {
	b := binary.BigEndian.AppendUint64(nil, p.seq)
	b = append(b, typ, byte(p.version>>8), byte(p.version))
	return binary.BigEndian.AppendUint16(b, uint16(n))
}

func (p *protection) sum(parts ...[]byte) []byte {
	p.mac.Reset()
	for _, b := range parts {
		p.mac.Write(b)
	}
	return p.mac.Sum(nil)
}

// sealRecord frames data as a record of type typ under p. rand supplies
// the CBC IVs.
func (p *protection) sealRecord(rand io.Reader, typ byte, data []byte) ([]byte, error) {
	if p.tls13 {
		inner := append(append([]byte{}, data...), typ)
		nonce := append([]byte{}, p.fixed...)
		for i := range 8 {
			nonce[len(nonce)-1-i] ^= byte(p.seq >> (8 * i))
		}
		p.seq++
		n := len(inner) + p.aead.Overhead()
		ad := []byte{recordApplicationData, 3, 3, byte(n >> 8), byte(n)}
		return record(recordApplicationData, versionTLS12, p.aead.Seal(nil, nonce, inner, ad)), nil
	}
	payload, err := p.seal(rand, typ, data)
	if err != nil {
		return nil, err
	}
	return record(typ, p.version, payload), nil
}

// seal protects one fragment.
func (p *protection) seal(rand io.Reader, typ byte, data []byte) ([]byte, error) {
	defer func() { p.seq++ }()
	if p.aead != nil {
		explicit := binary.BigEndian.AppendUint64(nil, p.seq)
		nonce := append(append([]byte{}, p.fixed...), explicit...)
		return p.aead.Seal(explicit, nonce, data, p.additional(typ, len(data))), nil
	}
	bs := p.block.BlockSize()
	plain := append([]byte{}, data...)
	if !p.etm {
		plain = append(plain, p.sum(p.additional(typ, len(data)), data)...)
	}
	// The least padding that fills the block, as GnuTLS sends.
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
			return nil, fmt.Errorf("tlsanon: IV: %w", err)
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
func (p *protection) decrypt(body []byte) []byte {
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

// open authenticates and decrypts one record's payload.
func (p *protection) open(typ byte, rec []byte) ([]byte, error) {
	defer func() { p.seq++ }()
	if p.aead != nil {
		if len(rec) < 8+p.aead.Overhead() {
			return nil, errBadRecordMAC
		}
		nonce := append(append([]byte{}, p.fixed...), rec[:8]...)
		n := len(rec) - 8 - p.aead.Overhead()
		out, err := p.aead.Open(nil, nonce, rec[8:], p.additional(typ, n))
		if err != nil {
			return nil, errBadRecordMAC
		}
		return out, nil
	}
	bs, ms := p.block.BlockSize(), p.mac.Size()
	ivLen := bs
	if p.chain != nil {
		ivLen = 0
	}
	if p.etm {
		if len(rec) < ivLen+bs+ms || (len(rec)-ivLen-ms)%bs != 0 {
			return nil, errBadRecordMAC
		}
		body, tag := rec[:len(rec)-ms], rec[len(rec)-ms:]
		if !hmac.Equal(tag, p.sum(p.additional(typ, len(body)), body)) {
			return nil, errBadRecordMAC
		}
		return unpad(p.decrypt(body), 0)
	}
	if len(rec) < ivLen+max(bs, ms+1) || (len(rec)-ivLen)%bs != 0 {
		return nil, errBadRecordMAC
	}
	plain := p.decrypt(rec)
	// A bad padding and a bad MAC give the same error; the MAC is computed
	// either way so that the two take about as long.
	data, padErr := unpad(plain, ms)
	if padErr != nil {
		data = plain
	}
	body, tag := data[:len(data)-ms], data[len(data)-ms:]
	ok := hmac.Equal(tag, p.sum(p.additional(typ, len(body)), body))
	if padErr != nil || !ok {
		return nil, errBadRecordMAC
	}
	return body, nil
}

// unpad strips CBC padding, leaving at least keep bytes.
func unpad(b []byte, keep int) ([]byte, error) {
	pad := int(b[len(b)-1])
	if pad+1+keep > len(b) {
		return nil, errBadRecordMAC
	}
	good := 1
	for _, v := range b[len(b)-1-pad:] {
		good &= subtle.ConstantTimeByteEq(v, byte(pad))
	}
	if good != 1 {
		return nil, errBadRecordMAC
	}
	return b[:len(b)-1-pad], nil
}

// readRecord reads one record's header and payload from r.
func readRecord(r io.Reader) (typ byte, payload []byte, err error) {
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	typ, n := h[0], int(binary.BigEndian.Uint16(h[3:]))
	if typ < recordChangeCipherSpec || typ > recordApplicationData || h[1] != 3 {
		return 0, nil, fmt.Errorf("tlsanon: not a TLS record: % x", h)
	}
	if n > maxRecord {
		return 0, nil, fmt.Errorf("tlsanon: record of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return typ, payload, nil
}

// record frames a payload.
func record(typ byte, version uint16, payload []byte) []byte {
	b := []byte{typ, byte(version >> 8), byte(version)}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}
