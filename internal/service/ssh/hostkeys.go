package ssh

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"decnet/internal/atomicfile"

	gossh "golang.org/x/crypto/ssh"
)

// hostKeys are a decky's three host keys, generated once like a Debian
// postinst does (RSA 3072, ECDSA P-256, Ed25519) and kept in its data
// directory so they survive restarts: a changed key is a tell.
type hostKeys struct {
	rsa, ecdsa, ed25519 gossh.Signer
}

var keyFiles = []struct {
	name string
	gen  func() (crypto.Signer, error)
}{
	{"ssh_host_rsa_key", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 3072) }},
	{"ssh_host_ecdsa_key", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }},
	{"ssh_host_ed25519_key", func() (crypto.Signer, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}},
}

// loadHostKeys reads the keys in dir, creating the missing ones (mode 0600).
func loadHostKeys(dir string) (*hostKeys, error) {
	var signers []gossh.Signer
	for _, kf := range keyFiles {
		path := filepath.Join(dir, kf.name)
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			k, gerr := kf.gen()
			if gerr != nil {
				return nil, fmt.Errorf("ssh: generate %s: %w", kf.name, gerr)
			}
			blk, merr := gossh.MarshalPrivateKey(k, "root@localhost")
			if merr != nil {
				return nil, fmt.Errorf("ssh: encode %s: %w", kf.name, merr)
			}
			b = pem.EncodeToMemory(blk)
			if werr := writeKey(path, b); werr != nil {
				return nil, werr
			}
		} else if err != nil {
			return nil, fmt.Errorf("ssh: %w", err)
		}
		s, err := gossh.ParsePrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("ssh: parse %s: %w", kf.name, err)
		}
		signers = append(signers, s)
	}
	return &hostKeys{rsa: signers[0], ecdsa: signers[1], ed25519: signers[2]}, nil
}

func writeKey(path string, b []byte) error {
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return fmt.Errorf("ssh: %w", err)
	}
	return nil
}

// signers returns the host keys to add to the server config, in the order
// that makes x/crypto advertise algos exactly. Each RSA algorithm gets its
// own pinned signer because x/crypto otherwise lists rsa-sha2-256 before
// rsa-sha2-512 and adds ssh-rsa.
func (h *hostKeys) signers(algos []string) []gossh.Signer {
	var out []gossh.Signer
	for _, a := range algos {
		switch a {
		case "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa":
			out = append(out, pinnedSigner{s: h.rsa.(gossh.AlgorithmSigner), algo: a})
		case "ecdsa-sha2-nistp256":
			out = append(out, h.ecdsa)
		case "ssh-ed25519":
			out = append(out, h.ed25519)
		}
	}
	return out
}

// blobs are the public keys for the hostkeys-00@openssh.com announcement.
func (h *hostKeys) blobs() [][]byte {
	return [][]byte{h.rsa.PublicKey().Marshal(), h.ecdsa.PublicKey().Marshal(), h.ed25519.PublicKey().Marshal()}
}

// pinnedSigner signs with one RSA algorithm and reports it as its key
// type; it deliberately is not an AlgorithmSigner, so x/crypto advertises
// exactly that one name for it.
type pinnedSigner struct {
	s    gossh.AlgorithmSigner
	algo string
}

func (p pinnedSigner) PublicKey() gossh.PublicKey {
	return pinnedKey{PublicKey: p.s.PublicKey(), algo: p.algo}
}

func (p pinnedSigner) Sign(r io.Reader, data []byte) (*gossh.Signature, error) {
	return p.s.SignWithAlgorithm(r, data, p.algo)
}

type pinnedKey struct {
	gossh.PublicKey
	algo string
}

func (k pinnedKey) Type() string { return k.algo }
