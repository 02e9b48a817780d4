package postgres

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Hash formats of the auth event's hash field.
const (
	// FormatMD5 is hashcat's "PostgreSQL CRAM (MD5)":
	// $postgres$<user>*<salt hex>*<response hex>.
	FormatMD5 = "postgres md5 (hashcat 11100)"
	// FormatSCRAM is a captured SCRAM-SHA-256 exchange. hashcat's 28600
	// takes a stored verifier (StoredKey:ServerKey), which an exchange
	// does not reveal; this line holds what a guess is checked against
	// instead (see scramLine and README).
	FormatSCRAM = "postgres scram-sha-256 exchange (scram-sha-256 challenge-response)"
)

// scramIterations is PostgreSQL's scram_iterations default.
const scramIterations = 4096

// md5Line is the hashcat 11100 line of an MD5 response ("md5" and 32 hex
// digits) to salt.
func md5Line(user string, salt [4]byte, response string) string {
	return "$postgres$" + user + "*" + hex.EncodeToString(salt[:]) + "*" + strings.TrimPrefix(response, "md5")
}

// md5Response is what a client that knows password answers to salt.
func md5Response(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt[:]...))
	return "md5" + hex.EncodeToString(outer[:])
}

// scramKeys are the verifier of one password: what pg_authid keeps.
type scramKeys struct {
	salt                 []byte
	storedKey, serverKey []byte
}

func newSCRAMKeys(password string, salt []byte) scramKeys {
	// SASLprep is the identity for the ASCII passwords brute-force lists
	// hold; PostgreSQL also uses the raw bytes of one it cannot prepare.
	salted, _ := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	clientKey := hmacSHA256(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return scramKeys{salt: salt, storedKey: stored[:], serverKey: hmacSHA256(salted, "Server Key")}
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// verifyProof checks a client proof against the verifier, as the server
// does: H(proof XOR HMAC(StoredKey, AuthMessage)) == StoredKey.
func (k scramKeys) verifyProof(authMessage string, proof []byte) bool {
	sig := hmacSHA256(k.storedKey, authMessage)
	if len(proof) != len(sig) {
		return false
	}
	clientKey := make([]byte, len(sig))
	for i := range sig {
		clientKey[i] = proof[i] ^ sig[i]
	}
	got := sha256.Sum256(clientKey)
	return subtle.ConstantTimeCompare(got[:], k.storedKey) == 1
}

// scramLine renders an exchange as
// $scram-sha-256$<iterations>$<salt b64>$<AuthMessage b64>$<proof b64>.
// A guess cracks it when ClientKey XOR HMAC(SHA256(ClientKey), AuthMessage)
// equals the proof, ClientKey being HMAC(PBKDF2(guess, salt, iterations),
// "Client Key") (RFC 5802).
func scramLine(salt []byte, authMessage string, proof []byte) string {
	b := base64.StdEncoding
	return fmt.Sprintf("$scram-sha-256$%d$%s$%s$%s", scramIterations, b.EncodeToString(salt),
		b.EncodeToString([]byte(authMessage)), b.EncodeToString(proof))
}

// mockSalt is the salt the server shows for a role: derived from a
// per-decky secret and the name, as PostgreSQL derives an unknown role's
// mock salt, so one role always shows the same salt.
func mockSalt(secret []byte, user string) []byte {
	h := sha256.New()
	h.Write(secret)
	h.Write([]byte(user))
	return h.Sum(nil)[:16]
}

// serverNonce is the server's part of the SCRAM nonce: 18 random bytes
// in base64, 24 characters.
func serverNonce() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
