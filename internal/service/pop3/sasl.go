package pop3

import (
	"bytes"
	"encoding/base64"
	"errors"
)

// The challenges of Dovecot's LOGIN mechanism.
const (
	loginUserPrompt = "VXNlcm5hbWU6" // "Username:"
	loginPassPrompt = "UGFzc3dvcmQ6" // "Password:"
)

var errBase64 = errors.New("invalid base64")

// decodeSASL decodes a SASL response as Dovecot does: strict base64 with
// padding, "=" for an empty one.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errBase64
	}
	return b, nil
}

// plainCreds splits a PLAIN response, authzid NUL authcid NUL password
// (RFC 4616). ok is false when it does not hold exactly two NULs, which
// Dovecot's mech-plain rejects as invalid input (a failed login); the
// names it could read are still returned, for the record.
func plainCreds(b []byte) (authz, user, pass string, ok bool) {
	parts := bytes.Split(b, []byte{0})
	switch len(parts) {
	case 3:
		return string(parts[0]), string(parts[1]), string(parts[2]), true
	case 1:
		return "", "", string(parts[0]), false
	case 2:
		return string(parts[0]), string(parts[1]), "", false
	}
	return string(parts[0]), string(parts[1]), string(bytes.Join(parts[2:], []byte{0})), false
}
