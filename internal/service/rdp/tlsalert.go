package rdp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net"
	"strings"
	"sync"
)

// Windows ends a CredSSP logon that failed for a client older than
// CredSSP 3, which has no errorCode field, with a fatal TLS alert
// access_denied; impacket's rdp_check.py reads exactly that as "Access
// Denied". crypto/tls cannot send an alert of our choosing, so the
// session records what it needs to seal one itself: the master secret
// (through the key log), the server random and the number of records the
// server has sent (from the bytes it writes). TLS 1.0 to 1.2 with AES
// suites are covered; anything else ends the connection without an alert.

const (
	recordTypeCCS        = 20
	recordTypeAlert      = 21
	recordTypeHandshake  = 22
	handshakeServerHello = 2
	alertFatal           = 2
	alertAccessDenied    = 49
	recordHeaderLen      = 5
	serverHelloRandom    = 6 // handshake header 4, version 2
	randomLen            = 32
	keyLogLabel          = "CLIENT_RANDOM "
)

// recordTap sits between the TLS server and the TCP connection and keeps
// what sealing an alert takes.
type recordTap struct {
	net.Conn

	mu sync.Mutex
	// The record being written: header bytes so far, body bytes left.
	hdr     []byte
	left    int
	typ     byte
	vers    uint16
	hello   []byte // start of the first handshake record's body
	ccsSeen bool
	// sent counts the records started after ChangeCipherSpec: the next
	// record's sequence number.
	sent uint64
	// tail is the last ciphertext block written: TLS 1.0's CBC IV.
	tail []byte
	// keyLog receives the key log line of this connection.
	keyLog bytes.Buffer
}

func newRecordTap(c net.Conn) *recordTap { return &recordTap{Conn: c} }

// Write passes b on and follows the record framing in it.
func (t *recordTap) Write(b []byte) (int, error) {
	n, err := t.Conn.Write(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	for p := b[:n]; len(p) > 0; {
		if t.left == 0 {
			k := min(recordHeaderLen-len(t.hdr), len(p))
			t.hdr, p = append(t.hdr, p[:k]...), p[k:]
			if len(t.hdr) < recordHeaderLen {
				break
			}
			if t.ccsSeen {
				t.sent++
			}
			t.typ, t.vers = t.hdr[0], binary.BigEndian.Uint16(t.hdr[1:])
			t.left = int(binary.BigEndian.Uint16(t.hdr[3:]))
			t.hdr = t.hdr[:0]
			if t.typ == recordTypeCCS {
				t.ccsSeen = true
			}
			continue
		}
		k := min(t.left, len(p))
		body := p[:k]
		if t.typ == recordTypeHandshake && len(t.hello) < serverHelloRandom+randomLen {
			t.hello = append(t.hello, body[:min(len(body), serverHelloRandom+randomLen-len(t.hello))]...)
		}
		t.tail = append(t.tail, body[max(0, len(body)-aes.BlockSize):]...)
		if over := len(t.tail) - aes.BlockSize; over > 0 {
			t.tail = append(t.tail[:0], t.tail[over:]...) // stays within its first 32 bytes
		}
		t.left -= k
		p = p[k:]
	}
	return n, err
}

// suiteKeys describes a cipher suite's record protection.
type suiteKeys struct {
	gcm    bool
	keyLen int
	mac    func() hash.Hash // CBC's HMAC hash
	prf    func() hash.Hash // TLS 1.2 PRF hash
}

var alertSuites = map[uint16]suiteKeys{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: {gcm: true, keyLen: 32, prf: sha512.New384},
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:       {gcm: true, keyLen: 32, prf: sha512.New384},
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: {gcm: true, keyLen: 16, prf: sha256.New},
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:       {gcm: true, keyLen: 16, prf: sha256.New},
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: {keyLen: 16, mac: sha256.New, prf: sha256.New},
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:       {keyLen: 16, mac: sha256.New, prf: sha256.New},
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:    {keyLen: 32, mac: sha1.New, prf: sha256.New},
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:          {keyLen: 32, mac: sha1.New, prf: sha256.New},
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:    {keyLen: 16, mac: sha1.New, prf: sha256.New},
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:          {keyLen: 16, mac: sha1.New, prf: sha256.New},
}

var errNoAlert = errors.New("rdp: cannot seal a TLS alert for this connection")

// accessDenied builds the fatal access_denied alert record the server
// would send next on the connection whose state is st.
func (t *recordTap) accessDenied(st tls.ConnectionState) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sk, ok := alertSuites[st.CipherSuite]
	if !ok || st.Version > tls.VersionTLS12 || !t.ccsSeen || t.left != 0 || len(t.hdr) != 0 ||
		len(t.hello) < serverHelloRandom+randomLen || t.hello[0] != handshakeServerHello {
		return nil, errNoAlert
	}
	clientRandom, master, err := parseKeyLog(t.keyLog.String())
	if err != nil {
		return nil, err
	}
	serverRandom := t.hello[serverHelloRandom:]
	macLen := 0
	ivLen := aes.BlockSize
	if sk.gcm {
		ivLen = 4
	} else {
		macLen = sk.mac().Size()
	}
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	kb := prf(st.Version, sk.prf, master, "key expansion", seed, 2*macLen+2*sk.keyLen+2*ivLen)
	macKey := kb[macLen : 2*macLen]
	key := kb[2*macLen+sk.keyLen : 2*macLen+2*sk.keyLen]
	iv := kb[2*macLen+2*sk.keyLen+ivLen:]

	block, _ := aes.NewCipher(key) // the key is 16 or 32 bytes
	seq := binary.BigEndian.AppendUint64(nil, t.sent)
	plain := []byte{alertFatal, alertAccessDenied}
	hdr := []byte{recordTypeAlert, byte(st.Version >> 8), byte(st.Version), 0, 0}
	var body []byte
	if sk.gcm {
		aead, _ := cipher.NewGCM(block)
		nonce := append(append([]byte(nil), iv...), seq...)
		aad := append(append(append([]byte(nil), seq...), hdr[:3]...), 0, byte(len(plain)))
		body = aead.Seal(append([]byte(nil), seq...), nonce, plain, aad)
	} else {
		mac := hmac.New(sk.mac, macKey)
		mac.Write(seq)
		mac.Write(hdr[:3])
		mac.Write([]byte{0, byte(len(plain))})
		mac.Write(plain)
		data := mac.Sum(plain)
		pad := aes.BlockSize - len(data)%aes.BlockSize
		data = append(data, bytes.Repeat([]byte{byte(pad - 1)}, pad)...)
		cbcIV := t.tail
		if st.Version >= tls.VersionTLS11 {
			cbcIV = make([]byte, aes.BlockSize)
			if _, err := io.ReadFull(rand.Reader, cbcIV); err != nil {
				return nil, err
			}
			body = append(body, cbcIV...)
		} else if len(cbcIV) != aes.BlockSize {
			return nil, errNoAlert
		}
		enc := make([]byte, len(data))
		cipher.NewCBCEncrypter(block, cbcIV).CryptBlocks(enc, data)
		body = append(body, enc...)
	}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(body)))
	return append(hdr, body...), nil
}

// parseKeyLog reads the NSS key log line crypto/tls writes for TLS 1.2.
func parseKeyLog(s string) (clientRandom, master []byte, err error) {
	line, ok := strings.CutPrefix(strings.TrimSpace(s), keyLogLabel)
	cr, ms, ok2 := strings.Cut(line, " ")
	if !ok || !ok2 {
		return nil, nil, errNoAlert
	}
	clientRandom, err1 := hex.DecodeString(cr)
	master, err2 := hex.DecodeString(ms)
	if err1 != nil || err2 != nil || len(clientRandom) != randomLen {
		return nil, nil, errNoAlert
	}
	return clientRandom, master, nil
}

// prf is the TLS PRF: P_hash of TLS 1.2, or TLS 1.0 and 1.1's P_MD5 xor
// P_SHA1 over the halves of the secret (RFC 5246 5, RFC 2246 5).
func prf(version uint16, h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	labelSeed := append([]byte(label), seed...)
	if version >= tls.VersionTLS12 {
		return pHash(h, secret, labelSeed, n)
	}
	half := (len(secret) + 1) / 2
	out := pHash(md5.New, secret[:half], labelSeed, n)
	for i, b := range pHash(sha1.New, secret[len(secret)-half:], labelSeed, n) {
		out[i] ^= b
	}
	return out
}

func pHash(h func() hash.Hash, secret, seed []byte, n int) []byte {
	out := make([]byte, 0, n+64)
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:n]
}
