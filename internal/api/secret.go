package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables the API's setup reads.
const (
	EnvJWTSecret     = "DECNET_JWT_SECRET"
	EnvAdminUser     = "DECNET_ADMIN_USER"
	EnvAdminPassword = "DECNET_ADMIN_PASSWORD"
)

// SecretFile is the name of the generated JWT secret in the data directory.
const SecretFile = "jwt.secret"

// minSecretBytes is HS256's key size: a shorter key is brute-forceable
// from any one token.
const minSecretBytes = 32

// maxSecretFileBytes bounds what is read of a secret file.
const maxSecretFileBytes = 4096

// minDistinctBytes rejects long but trivial secrets ("aaaa…",
// "changemechangeme…"); random text of 32 bytes has far more.
const minDistinctBytes = 8

// weakSecrets are placeholders seen in sample configs, refused even when
// repeated to reach the minimum length.
var weakSecrets = []string{"admin", "secret", "password", "changeme", "fallback-secret-key-change-me"}

// LoadOrCreateJWTSecret returns the key that signs access tokens: the
// DECNET_JWT_SECRET environment variable when set, else the content of
// <dataDir>/jwt.secret, else a new random secret written there (mode
// 0600, atomically) so tokens survive restarts. A weak secret from either
// source is an error, as is a secret file other users can read.
func LoadOrCreateJWTSecret(dataDir string) ([]byte, error) {
	if v, ok := os.LookupEnv(EnvJWTSecret); ok {
		if err := checkSecret([]byte(v)); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvJWTSecret, err)
		}
		return []byte(v), nil
	}
	path := filepath.Join(dataDir, SecretFile)
	secret, err := readSecret(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createSecret(dataDir, path)
	}
	return secret, err
}

func checkSecret(s []byte) error {
	if len(s) < minSecretBytes {
		return fmt.Errorf("secret shorter than %d bytes", minSecretBytes)
	}
	lower := strings.ToLower(string(s))
	for _, w := range weakSecrets {
		if strings.Count(lower, w)*len(w) == len(lower) {
			return fmt.Errorf("secret is the placeholder %q", w)
		}
	}
	var seen [256]bool
	distinct := 0
	for _, c := range s {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	if distinct < minDistinctBytes {
		return fmt.Errorf("secret has only %d distinct characters; use random bytes", distinct)
	}
	return nil
}

// readSecret reads a secret file, refusing one that group or others can
// read or write (as ssh refuses such keys).
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("jwt secret %s: mode %04o lets other users read it; chmod 600 it", path, perm)
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwt secret %s: %w", path, err)
	}
	if len(buf) > maxSecretFileBytes {
		return nil, fmt.Errorf("jwt secret %s: larger than %d bytes", path, maxSecretFileBytes)
	}
	secret := bytes.TrimSpace(buf)
	if err := checkSecret(secret); err != nil {
		return nil, fmt.Errorf("jwt secret %s: %w", path, err)
	}
	return secret, nil
}

// createSecret writes 32 random bytes, hex-encoded, to path. The file is
// written under a temporary name and linked into place, so a reader never
// sees half a secret and two processes racing agree on one secret.
func createSecret(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	raw := make([]byte, minSecretBytes)
	rand.Read(raw)
	secret := []byte(hex.EncodeToString(raw))

	tmp, err := os.CreateTemp(dataDir, SecretFile+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file mode 0600 (less with a strict umask).
	_, werr := tmp.Write(append(secret, '\n'))
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readSecret(path)
	} else if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	if d, err := os.Open(dataDir); err == nil {
		d.Sync()
		d.Close()
	}
	return secret, nil
}
