package smtp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// errBase64 is a SASL response that is not base64.
var errBase64 = errors.New("invalid base64")

// decodeB64 decodes a client's SASL response; "=" is an empty one.
func decodeB64(s string) ([]byte, error) {
	if s == "=" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}

// credentials are what a SASL exchange revealed.
type credentials struct {
	authzid, user, password string
	// hash is CRAM-MD5's crackable exchange; password is then empty.
	hash string
}

// decodePlain reads a PLAIN response: authzid NUL authcid NUL password.
func decodePlain(b []byte) (credentials, error) {
	parts := bytes.SplitN(b, []byte{0}, 3)
	if len(parts) != 3 {
		return credentials{}, errors.New("PLAIN: want three NUL-separated fields")
	}
	return credentials{authzid: string(parts[0]), user: string(parts[1]), password: string(parts[2])}, nil
}

// cramFormat names the hash of a CRAM-MD5 exchange: hashcat's mode 10200,
// $cram_md5$<base64 challenge>$<base64 "user hexdigest">, which john's
// hmac-md5 format also reads.
const cramFormat = "cram-md5 (hashcat 10200)"

// decodeCRAM reads a CRAM-MD5 response, "user hexdigest", to the hash
// hashcat cracks.
func decodeCRAM(challenge string, resp []byte) (credentials, error) {
	i := bytes.LastIndexByte(resp, ' ')
	if i < 0 || len(resp)-i-1 != 32 {
		return credentials{}, errors.New("CRAM-MD5: want user and a 32-digit digest")
	}
	if _, err := hex.DecodeString(string(resp[i+1:])); err != nil {
		return credentials{}, fmt.Errorf("CRAM-MD5 digest: %w", err)
	}
	return credentials{user: string(resp[:i]), hash: "$cram_md5$" + base64.StdEncoding.EncodeToString([]byte(challenge)) +
		"$" + base64.StdEncoding.EncodeToString(resp)}, nil
}

// cramChallenge is Dovecot's CRAM-MD5 challenge: sixteen random digits,
// the Unix time and the host name.
func cramChallenge(random []byte, now time.Time, host string) string {
	var b strings.Builder
	b.WriteByte('<')
	for i := 0; i < 16; i++ {
		b.WriteByte('0' + random[i%len(random)]%10)
	}
	fmt.Fprintf(&b, ".%d@%s>", now.Unix(), host)
	return b.String()
}

// The prompts of AUTH LOGIN, as Dovecot sends them.
var (
	promptUser = base64.StdEncoding.EncodeToString([]byte("Username:"))
	promptPass = base64.StdEncoding.EncodeToString([]byte("Password:"))
)
