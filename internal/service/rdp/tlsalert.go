package rdp

import (
	"bytes"
	"crypto/aes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"decnet/internal/tlsrecord"
)

// Windows ends a CredSSP logon that failed for a client older than
// CredSSP 3, which has no errorCode field, with a fatal TLS alert
// access_denied; impacket's rdp_check.py reads exactly that as "Access
// Denied". crypto/tls cannot send an alert of our choosing, so the
// session records what it needs to seal one itself: the master secret
// (through the key log), the server random and the number of records the
// server has sent (from the bytes it writes), and seals it with
// internal/tlsrecord. TLS 1.0 to 1.2 with AES suites are covered;
// anything else ends the connection without an alert.

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

// alertSuites are the AES suites of the Windows persona, for which the
// alert is sealed.
var alertSuites = map[uint16]tlsrecord.Suite{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: {KeyLen: 32, PRF: sha512.New384},
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384:       {KeyLen: 32, PRF: sha512.New384},
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: {KeyLen: 16, PRF: sha256.New},
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256:       {KeyLen: 16, PRF: sha256.New},
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: {KeyLen: 16, MAC: sha256.New, PRF: sha256.New},
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256:       {KeyLen: 16, MAC: sha256.New, PRF: sha256.New},
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:    {KeyLen: 32, MAC: sha1.New, PRF: sha256.New},
	tls.TLS_RSA_WITH_AES_256_CBC_SHA:          {KeyLen: 32, MAC: sha1.New, PRF: sha256.New},
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:    {KeyLen: 16, MAC: sha1.New, PRF: sha256.New},
	tls.TLS_RSA_WITH_AES_128_CBC_SHA:          {KeyLen: 16, MAC: sha1.New, PRF: sha256.New},
}

var errNoAlert = errors.New("rdp: cannot seal a TLS alert for this connection")

// accessDenied builds the fatal access_denied alert record the server
// would send next on the connection whose state is st.
func (t *recordTap) accessDenied(st tls.ConnectionState) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	suite, ok := alertSuites[st.CipherSuite]
	if !ok || st.Version > tls.VersionTLS12 || !t.ccsSeen || t.left != 0 || len(t.hdr) != 0 ||
		len(t.hello) < serverHelloRandom+randomLen || t.hello[0] != handshakeServerHello {
		return nil, errNoAlert
	}
	clientRandom, master, err := parseKeyLog(t.keyLog.String())
	if err != nil {
		return nil, err
	}
	_, keys := suite.KeyBlock(st.Version, master, clientRandom, t.hello[serverHelloRandom:])
	if suite.MAC != nil {
		keys.IV = t.tail // TLS 1.0 chains the CBC IV; later versions send their own
	}
	p, err := suite.Protect(st.Version, keys, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoAlert, err)
	}
	p.SetSequence(t.sent)
	return p.Seal(rand.Reader, recordTypeAlert, []byte{alertFatal, alertAccessDenied})
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
