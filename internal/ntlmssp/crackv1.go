package ntlmssp

import (
	"bytes"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// CracksV1 reports whether password cracks a NetNTLMv1 line in hashcat's
// 5500 form (user::domain:lmresponse:ntresponse:challenge), as hashcat
// would, NTLMv1 with extended session security included (its LM response
// is the client challenge and 16 zero bytes). Cyrus SASL's NTLM client
// (LDAP SASL/NTLM) still sends NTLMv1. A line that is not 5500 is an
// error.
func CracksV1(line, password string) (bool, error) {
	f := strings.Split(line, ":")
	if len(f) != 6 || f[1] != "" || (len(f[3]) != 0 && len(f[3]) != 48) || len(f[4]) != 48 || len(f[5]) != 16 {
		return false, fmt.Errorf("ntlmssp: not a hashcat 5500 line: %q", line)
	}
	lm, err1 := hex.DecodeString(f[3])
	nt, err2 := hex.DecodeString(f[4])
	challenge, err3 := hex.DecodeString(f[5])
	if err := errors.Join(err1, err2, err3); err != nil {
		return false, fmt.Errorf("ntlmssp: hashcat 5500 line: %w", err)
	}
	if len(lm) == 24 && bytes.Equal(lm[8:], make([]byte, 16)) {
		sum := md5.Sum(append(challenge, lm[:8]...))
		challenge = sum[:8]
	}
	ntHash := md4Sum(encodeUTF16(password))
	key := append(ntHash[:], 0, 0, 0, 0, 0)
	var resp []byte
	for i := range 3 {
		block, err := des.NewCipher(desKey(key[7*i : 7*i+7]))
		if err != nil {
			return false, err
		}
		out := make([]byte, 8)
		block.Encrypt(out, challenge)
		resp = append(resp, out...)
	}
	return hmac.Equal(resp, nt), nil
}

// desKey spreads 7 key bytes over the 8 of a DES key (the parity bits,
// which DES ignores, left clear), as DESL does (MS-NLMP §6).
func desKey(k []byte) []byte {
	return []byte{k[0], k[0]<<7 | k[1]>>1, k[1]<<6 | k[2]>>2, k[2]<<5 | k[3]>>3,
		k[3]<<4 | k[4]>>4, k[4]<<3 | k[5]>>5, k[5]<<2 | k[6]>>6, k[6] << 1}
}
