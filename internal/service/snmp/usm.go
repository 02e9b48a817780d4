package snmp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync/atomic"
	"time"
)

// Authentication and privacy protocols of v3 users.
const (
	authMD5 = "MD5"
	authSHA = "SHA"
	privDES = "DES"
	privAES = "AES"
)

// authProtocol is an authentication protocol of USM (RFC 3414, RFC 7860):
// its hash and the length of its truncated HMAC.
type authProtocol struct {
	hash   func() hash.Hash
	digest int
}

// authProtocols are net-snmp 5.9's, by the names snmpget's -a takes.
var authProtocols = map[string]authProtocol{
	authMD5:   {md5.New, 12},
	authSHA:   {sha1.New, 12},
	"SHA-224": {sha256.New224, 16},
	"SHA-256": {sha256.New, 24},
	"SHA-384": {sha512.New384, 32},
	"SHA-512": {sha512.New, 48},
}

// v3user is a configured user with keys localised to the agent's engine.
type v3user struct {
	name               string
	auth, priv         string
	authPass, privPass string
	authKey, privKey   []byte
}

// users parses the persona's v3_users.
func (p *Persona) users() ([]v3user, error) {
	var out []v3user
	seen := map[string]bool{}
	for _, s := range p.V3Users {
		f := strings.Split(s, ":")
		if len(f) != 3 && len(f) != 5 {
			return nil, fmt.Errorf("v3_users %q: want name:auth:authpass[:priv:privpass]", s)
		}
		u := v3user{name: f[0], auth: strings.ToUpper(f[1]), authPass: f[2]}
		if u.name == "" || len(u.name) > 32 || seen[u.name] {
			return nil, fmt.Errorf("v3_users %q: want a distinct name of 1 to 32 bytes", s)
		}
		seen[u.name] = true
		if _, ok := authProtocols[u.auth]; !ok {
			return nil, fmt.Errorf("v3_users %q: auth must be MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512", s)
		}
		if len(u.authPass) < 8 {
			return nil, fmt.Errorf("v3_users %q: the auth password is under 8 characters", s)
		}
		if len(f) == 5 {
			u.priv, u.privPass = strings.ToUpper(f[3]), f[4]
			if u.priv != privDES && u.priv != privAES {
				return nil, fmt.Errorf("v3_users %q: priv must be DES or AES", s)
			}
			if len(u.privPass) < 8 {
				return nil, fmt.Errorf("v3_users %q: the priv password is under 8 characters", s)
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// passwordToKey is RFC 3414's key localisation (A.2): the password
// repeated over one megabyte and hashed, then hashed again around the
// engine ID.
func passwordToKey(h func() hash.Hash, password string, engineID []byte) []byte {
	d := h()
	const total = 1 << 20
	pw := []byte(password)
	buf := make([]byte, 64)
	for n := 0; n < total; n += 64 {
		for i := range buf {
			buf[i] = pw[(n+i)%len(pw)]
		}
		d.Write(buf)
	}
	ku := d.Sum(nil)
	d = h()
	d.Write(ku)
	d.Write(engineID)
	d.Write(ku)
	return d.Sum(nil)
}

// digest is the truncated HMAC of msg (HMAC-MD5-96, HMAC-SHA-96,
// HMAC-SHA-2 of RFC 7860).
func (a authProtocol) sum(key, msg []byte) []byte {
	m := hmac.New(a.hash, key)
	m.Write(msg)
	return m.Sum(nil)[:a.digest]
}

// zeroAuth returns msg with its authentication parameters zeroed, as they
// are when the digest is computed.
func zeroAuth(msg []byte, off, n int) []byte {
	z := append([]byte(nil), msg...)
	clear(z[off : off+n])
	return z
}

// engine is the agent's SNMP engine: its ID, boots and time, its users
// and the USM statistics snmpd reports.
type engine struct {
	id    []byte
	boots int64
	start time.Time
	users []v3user
	// usmStats are the counters of usmStatsUnsupportedSecLevels (1) to
	// usmStatsDecryptionErrors (6).
	usmStats [7]atomic.Uint32
	salt     atomic.Uint64
}

// newEngine derives the engine of a device: its ID (id, or one in the
// vendor's format: see engineID), its boot count from the decky, its time
// from the boot of the agent.
func newEngine(key string, dev Device, users []v3user, id []byte) *engine {
	seed := seedOf(key, "engine")
	if id == nil {
		id = engineID(seed, dev)
	}
	e := &engine{id: id, boots: 1 + int64(seed%23), start: dev.Boot, users: users}
	e.salt.Store(seed)
	for i := range e.users {
		u := &e.users[i]
		h := authProtocols[u.auth].hash
		u.authKey = passwordToKey(h, u.authPass, e.id)
		if u.priv != "" {
			u.privKey = passwordToKey(h, u.privPass, e.id)[:16]
		}
	}
	return e
}

// engineID is the device's snmpEngineID: net-snmp's own format
// (80001f88 80, eight random bytes, then four zero bytes, as snmpd 5.9
// writes it) when the device is net-snmp, else its vendor's enterprise
// number with the MAC format (RFC 3411 format 3), as Cisco IOS and HP
// Jetdirect show.
func engineID(seed uint64, dev Device) []byte {
	ent := enterpriseOf(dev.ObjectID)
	if ent == 8072 || ent == 0 {
		id := []byte{0x80, 0x00, 0x1f, 0x88, 0x80}
		id = binary.BigEndian.AppendUint64(id, seed*0x9e3779b97f4a7c15)
		return append(id, 0, 0, 0, 0)
	}
	id := binary.BigEndian.AppendUint32(nil, 0x80000000|uint32(ent))
	id = append(id, 0x03)
	mac := []byte{0x00, 0x00, 0x00, byte(seed), byte(seed >> 8), byte(seed >> 16)}
	for _, ifc := range dev.Interfaces {
		if len(ifc.MAC) == 6 {
			mac = ifc.MAC
			break
		}
	}
	return append(id, mac...)
}

// enterpriseOf is the private enterprise number in a sysObjectID.
func enterpriseOf(objectID string) uint32 {
	o, err := parseOID(objectID)
	if err != nil || len(o) < 7 || !o.hasPrefix(oid{1, 3, 6, 1, 4, 1}) {
		return 0
	}
	return o[6]
}

// time is snmpEngineTime at now, in seconds.
func (e *engine) time(now time.Time) int64 {
	return max(0, int64(now.Sub(e.start)/time.Second))
}

func (e *engine) user(name []byte) *v3user {
	for i := range e.users {
		if e.users[i].name == string(name) {
			return &e.users[i]
		}
	}
	return nil
}

// The USM statistics (1.3.6.1.6.3.15.1.1.<n>.0) of the reports.
const (
	statUnsupportedSecLevels = 1
	statNotInTimeWindows     = 2
	statUnknownUserNames     = 3
	statUnknownEngineIDs     = 4
	statWrongDigests         = 5
	statDecryptionErrors     = 6
)

var errDecrypt = errors.New("decryption error")

// decrypt decrypts a scoped PDU with u's privacy key (RFC 3826 CFB for
// AES, RFC 3414 CBC for DES).
func (u *v3user) decrypt(data []byte, p usmParams) ([]byte, error) {
	if len(p.privParams) != 8 {
		return nil, errDecrypt
	}
	out := make([]byte, len(data))
	switch u.priv {
	case privAES:
		block, err := aes.NewCipher(u.privKey)
		if err != nil {
			return nil, err
		}
		iv := binary.BigEndian.AppendUint32(nil, uint32(p.boots))
		iv = binary.BigEndian.AppendUint32(iv, uint32(p.time))
		iv = append(iv, p.privParams...)
		//lint:ignore SA1019 RFC 3826 defines SNMP's AES privacy as CFB-128.
		cipher.NewCFBDecrypter(block, iv).XORKeyStream(out, data)
	case privDES:
		if len(data)%8 != 0 || len(data) == 0 {
			return nil, errDecrypt
		}
		block, err := des.NewCipher(u.privKey[:8])
		if err != nil {
			return nil, err
		}
		iv := make([]byte, 8)
		for i := range iv {
			iv[i] = u.privKey[8+i] ^ p.privParams[i]
		}
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	default:
		return nil, errDecrypt
	}
	return out, nil
}

// encrypt encrypts a reply's scoped PDU; it returns the ciphertext and
// the salt for msgPrivacyParameters.
func (u *v3user) encrypt(data []byte, e *engine, boots, t int64) ([]byte, []byte) {
	salt := binary.BigEndian.AppendUint64(nil, e.salt.Add(1))
	switch u.priv {
	case privAES:
		block, _ := aes.NewCipher(u.privKey)
		iv := binary.BigEndian.AppendUint32(nil, uint32(boots))
		iv = binary.BigEndian.AppendUint32(iv, uint32(t))
		iv = append(iv, salt...)
		out := make([]byte, len(data))
		//lint:ignore SA1019 RFC 3826 defines SNMP's AES privacy as CFB-128.
		cipher.NewCFBEncrypter(block, iv).XORKeyStream(out, data)
		return out, salt
	default:
		binary.BigEndian.PutUint32(salt, uint32(boots))
		block, _ := des.NewCipher(u.privKey[:8])
		padded := append(append([]byte(nil), data...), make([]byte, (8-len(data)%8)%8)...)
		iv := make([]byte, 8)
		for i := range iv {
			iv[i] = u.privKey[8+i] ^ salt[i]
		}
		out := make([]byte, len(padded))
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, padded)
		return out, salt
	}
}

// maxHashMsg is the longest message hashcat's SNMPv3 modes take.
const maxHashMsg = 1500

// hashcatLine is the crackable form of an authenticated message for
// hashcat's SNMPv3 modes: the message with its authentication parameters
// zeroed, the engine ID the key was localised to and the digest. format
// names the mode, chosen from the digest's length (12 bytes: MD5 or SHA-1,
// mode 25000 tries both).
func hashcatLine(msg []byte, p usmParams, packet int64) (line, format string) {
	if len(msg) > maxHashMsg {
		return "", ""
	}
	mode, typ := "", 0
	switch len(p.authParams) {
	case 12:
		mode, typ = "25000", 0
	case 16:
		mode, typ = "26700", 3
	case 24:
		mode, typ = "26800", 4
	case 32:
		mode, typ = "26900", 5
	case 48:
		mode, typ = "27300", 6
	default:
		return "", ""
	}
	z := zeroAuth(msg, p.authOff, len(p.authParams))
	line = fmt.Sprintf("$SNMPv3$%d$%d$%x$%x$%x", typ, packet%100000000, z, p.engineID, p.authParams)
	return line, "snmpv3 (hashcat " + mode + ")"
}
