package mysql

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"decnet/internal/atomicfile"
)

// caching_sha2_password's AuthMoreData messages.
const (
	sha2FastOK          = 3
	sha2FullAuth        = 4
	sha2RequestKey      = 2
	authMoreData        = 1
	rsaKeyFile          = "private_key.pem"
	maxClearPasswordLen = 1024
)

// sha2FullAuth makes a caching_sha2_password client, whose scramble is in
// no cache, send its password: in clear over TLS, or encrypted with the
// server's RSA key (asked for with 0x02) otherwise. An empty scramble
// means no password was given.
func (ss *session) sha2FullAuth(scramble []byte) (string, error) {
	if len(scramble) == 0 {
		return "", nil
	}
	if err := ss.write([]byte{authMoreData, sha2FullAuth}); err != nil {
		return "", err
	}
	p, err := ss.read()
	if err != nil {
		return "", err
	}
	if _, isTLS := ss.conn.(*tls.Conn); isTLS {
		return trimNul(p), nil
	}
	if len(p) == 1 && p[0] == sha2RequestKey {
		der, err := x509.MarshalPKIXPublicKey(&ss.s.rsaKey.PublicKey)
		if err != nil {
			return "", err
		}
		key := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		if err := ss.write(append([]byte{authMoreData}, key...)); err != nil {
			return "", err
		}
		if p, err = ss.read(); err != nil {
			return "", err
		}
	}
	return decryptPassword(ss.s.rsaKey, ss.salt, p)
}

// decryptPassword undoes the client's RSA-OAEP(SHA-1) encryption of the
// NUL-terminated password XOR the salt.
func decryptPassword(k *rsa.PrivateKey, salt, ct []byte) (string, error) {
	pt, err := rsa.DecryptOAEP(sha1.New(), nil, k, ct, nil)
	if err != nil {
		return "", fmt.Errorf("caching_sha2_password: %w", err)
	}
	for i := range pt {
		pt[i] ^= salt[i%len(salt)]
	}
	return trimNul(pt), nil
}

func trimNul(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) > maxClearPasswordLen {
		b = b[:maxClearPasswordLen]
	}
	return string(b)
}

// loadRSAKey returns the decky's caching_sha2_password key, made at the
// first start and kept in dir as MySQL keeps private_key.pem in its data
// directory; an empty dir keeps it in memory.
func loadRSAKey(dir string) (*rsa.PrivateKey, error) {
	path := filepath.Join(dir, rsaKeyFile)
	if dir != "" {
		if b, err := os.ReadFile(path); err == nil {
			if blk, _ := pem.Decode(b); blk != nil {
				if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
					return k, nil
				}
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("mysql rsa key: %w", err)
		}
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("mysql rsa key: %w", err)
		}
		b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		if err := atomicfile.Write(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("mysql rsa key: %w", err)
		}
	}
	return k, nil
}
