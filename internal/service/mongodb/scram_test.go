package mongodb

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"strings"
)

// verifyProofLine tells whether password is the one that made a proof
// line, computing as a cracker does: SaltedPassword by PBKDF2 (of
// hex(MD5(user:mongo:password)) for SHA-1, as MongoDB digests it), then
// ClientKey = proof XOR HMAC(H(ClientKey'), AuthMessage) must hash to the
// StoredKey of the guess.
func verifyProofLine(line, password string) (bool, error) {
	f := strings.Split(strings.TrimPrefix(line, "$mongodb-scram-proof$*"), "*")
	if len(f) != 6 || !strings.HasPrefix(line, "$mongodb-scram-proof$*") {
		return false, errors.New("not a proof line")
	}
	dec := base64.StdEncoding.DecodeString
	user, err1 := dec(f[1])
	iter, err2 := strconv.Atoi(f[2])
	salt, err3 := dec(f[3])
	am, err4 := dec(f[4])
	proof, err5 := dec(f[5])
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return false, err
	}
	h, secret := sha256.New, password
	if f[0] == "0" {
		sum := md5.Sum([]byte(string(user) + ":mongo:" + password))
		h, secret = sha1.New, hex.EncodeToString(sum[:])
	}
	salted, err := pbkdf2.Key(h, secret, salt, iter, h().Size())
	if err != nil {
		return false, err
	}
	clientKey := hmacSum(h, salted, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	sig := hmacSum(h, stored.Sum(nil), am)
	if len(sig) != len(proof) {
		return false, nil
	}
	for i := range sig {
		sig[i] ^= proof[i]
	}
	return hmac.Equal(sig, clientKey), nil
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}
