package mongodb

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// The SCRAM mechanisms mongod offers, with its default iteration counts
// (scramIterationCount, scramSHA256IterationCount) and salt lengths (the
// hash length less 4).
var mechanisms = map[string]struct {
	hash    func() hash.Hash
	iter    int
	saltLen int
	variant int // the first field of the logged line: 0 SHA-1, 1 SHA-256
}{
	"SCRAM-SHA-1":   {sha1.New, 10000, 16, 0},
	"SCRAM-SHA-256": {sha256.New, 15000, 28, 1},
}

// scramConv is one SCRAM conversation after the server's first message.
type scramConv struct {
	mech        string
	user        string
	db          string
	nonce       string // client nonce + server nonce
	salt        []byte
	iter        int
	clientFirst string // client-first-message-bare
	serverFirst string
}

var errSCRAM = errors.New("bad SCRAM message")

// startSCRAM parses the client-first message and makes the server-first
// one. Every user is answered with a fresh salt, as if it existed, so the
// client goes on to send its proof.
func startSCRAM(mech, db string, payload []byte) (*scramConv, error) {
	m, ok := mechanisms[mech]
	if !ok {
		return nil, fmt.Errorf("%w: mechanism %q", errSCRAM, mech)
	}
	msg := string(payload)
	// gs2 header: "n,," (no channel binding, no authzid) or "y,,".
	if !strings.HasPrefix(msg, "n,") && !strings.HasPrefix(msg, "y,") {
		return nil, fmt.Errorf("%w: gs2 header", errSCRAM)
	}
	rest := msg[2:]
	i := strings.IndexByte(rest, ',')
	if i < 0 {
		return nil, fmt.Errorf("%w: gs2 header", errSCRAM)
	}
	bare := rest[i+1:]
	attrs := scramAttrs(bare)
	user, err := scramName(attrs["n"])
	if err != nil {
		return nil, err
	}
	cnonce := attrs["r"]
	if cnonce == "" || strings.ContainsRune(cnonce, ',') {
		return nil, fmt.Errorf("%w: client nonce", errSCRAM)
	}
	c := &scramConv{mech: mech, user: user, db: db, iter: m.iter, clientFirst: bare, salt: make([]byte, m.saltLen)}
	rand.Read(c.salt)
	snonce := make([]byte, 24)
	rand.Read(snonce)
	c.nonce = cnonce + base64.StdEncoding.EncodeToString(snonce)
	c.serverFirst = "r=" + c.nonce + ",s=" + base64.StdEncoding.EncodeToString(c.salt) + ",i=" + strconv.Itoa(c.iter)
	return c, nil
}

// scramAttrs splits "a=1,b=2" into its attributes (the first of each).
func scramAttrs(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && len(k) == 1 {
			if _, dup := out[k]; !dup {
				out[k] = v
			}
		}
	}
	return out
}

// scramName decodes a saslname (RFC 5802: "=2C" is ",", "=3D" is "=").
func scramName(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty user name", errSCRAM)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", fmt.Errorf("%w: bad escape in user name", errSCRAM)
		}
		i += 2
	}
	return b.String(), nil
}

// finalSCRAM parses the client-final message and returns the client proof
// and the AuthMessage it signs.
func (c *scramConv) finalSCRAM(payload []byte) (proof []byte, authMessage string, err error) {
	msg := string(payload)
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return nil, "", fmt.Errorf("%w: no proof", errSCRAM)
	}
	withoutProof := msg[:i]
	attrs := scramAttrs(withoutProof)
	if attrs["r"] != c.nonce {
		return nil, "", fmt.Errorf("%w: nonce mismatch", errSCRAM)
	}
	proof, err = base64.StdEncoding.DecodeString(msg[i+3:])
	if err != nil || len(proof) != mechanisms[c.mech].hash().Size() {
		return nil, "", fmt.Errorf("%w: proof", errSCRAM)
	}
	return proof, c.clientFirst + "," + c.serverFirst + "," + withoutProof, nil
}

// hashFormat names the logged line. No hashcat mode takes a SCRAM
// exchange (24100/24200 crack the ServerKey stored in system.users, which
// never crosses the wire), so the line carries what a cracker needs to
// test a guess: see verifyProofLine.
func hashFormat(mech string) string {
	return "mongodb " + strings.ToLower(mech) + " client proof"
}

// proofLine is the crackable record of a conversation:
// $mongodb-scram-proof$*<0 SHA-1|1 SHA-256>*<b64 user>*<iterations>*<b64 salt>*<b64 AuthMessage>*<b64 proof>.
func (c *scramConv) proofLine(authMessage string, proof []byte) string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("$mongodb-scram-proof$*%d*%s*%d*%s*%s*%s", mechanisms[c.mech].variant,
		b64([]byte(c.user)), c.iter, b64(c.salt), b64([]byte(authMessage)), b64(proof))
}
