// Package tlsrecord is the TLS 1.0 to 1.2 machinery shared by the servers
// that speak TLS by hand where crypto/tls cannot: tlsanon's anonymous
// suites and the RDP server's sealed alert. It holds the PRF of every
// version (RFC 2246 §5, RFC 5246 §5), the key block (RFC 5246 §6.3) and
// record protection with AES: CBC with HMAC, MAC-then-encrypt or
// encrypt-then-MAC (RFC 7366), with TLS 1.0's chained IVs or explicit
// ones, and GCM with an implicit nonce (RFC 5288).
package tlsrecord

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/tls"
	"hash"
)

// PRF is the PRF of version: P_hash with h from TLS 1.2, and before it
// P_MD5 on the secret's first half XORed with P_SHA1 on its second, h
// unused.
func PRF(version uint16, h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	if version >= tls.VersionTLS12 {
		return pHash(h, secret, ls, n)
	}
	half := (len(secret) + 1) / 2
	out := pHash(md5.New, secret[:half], ls, n)
	for i, b := range pHash(sha1.New, secret[len(secret)-half:], ls, n) {
		out[i] ^= b
	}
	return out
}

// pHash is P_hash (RFC 5246 §5) over the label and seed ls.
func pHash(h func() hash.Hash, secret, ls []byte, n int) []byte {
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil)
	var out []byte
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:n]
}
