// Package tlscert makes and keeps the TLS certificates of a decky's
// services. Each product makes its certificate its own way (self-signed by
// the server at install time, issued by a private CA such as kubeadm's
// "kubernetes", with its own extensions, key and validity), and a scanner
// that prints certificates sees those choices; every decky keeps its own
// certificates, so no two deckies ever present the same one.
package tlscert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"decnet/internal/atomicfile"
	"decnet/internal/flock"
)

// Profile is how a product makes its certificate.
type Profile struct {
	Subject  pkix.Name
	DNSNames []string
	IPs      []net.IP
	// Issuer is nil for a self-signed certificate; otherwise a CA with
	// this subject is made once per decky, kept beside the certificate,
	// and signs it (a company's internal CA, kubeadm's "kubernetes").
	Issuer *pkix.Name
	// ECDSA asks for a P-256 key instead of RSA 2048.
	ECDSA bool
	// Lifetime is the validity from NotBefore, plus Months calendar
	// months (Windows makes certificates valid for six).
	Lifetime time.Duration
	Months   int
	// Backdate is how far back, at most, the first certificate is dated,
	// so that a new decky does not present one made minutes ago. The date
	// is drawn once and kept with the certificate.
	Backdate time.Duration
	// ServerAuth and ClientAuth are the extended key usages.
	ServerAuth, ClientAuth bool
	// SerialBytes is the length of the random serial number (16 unless
	// set; OpenSSL's 20 has its top bit cleared).
	SerialBytes int
	// Renew makes a new certificate once this one has expired, as
	// Windows services do; otherwise an expired one is kept, as a
	// forgotten server keeps it.
	Renew bool
	// Extensions, when set, are the certificate's extensions in the
	// product's order (scanners print the order) instead of those
	// crypto/x509 writes from the fields above; it gets the new public key.
	Extensions func(pub crypto.PublicKey) ([]pkix.Extension, error)
}

// Default validities.
const (
	caLifetime = 10 * 365 * 24 * time.Hour
	rsaBits    = 2048
)

// Store holds one certificate of a decky, kept as <dir>/<name>.pem (the
// certificate and its key, mode 0600) with the issuing CA, if any, in
// <dir>/<name>-ca.pem. An empty dir keeps it in memory.
type Store struct {
	dir, name string
	p         Profile
	id        string // the profile's fingerprint, kept in the file
	now       func() time.Time
	rand      io.Reader

	mu   sync.Mutex
	cert *tls.Certificate
	ca   *tls.Certificate
}

// Open loads the certificate kept under dir, or makes and keeps a new
// one when there is none, it is unreadable, it was made for another
// profile (the persona changed), or it expired and p.Renew is set.
func Open(dir, name string, p Profile, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	if p.Lifetime <= 0 && p.Months <= 0 {
		return nil, errors.New("tlscert: profile without a lifetime")
	}
	s := &Store{dir: dir, name: name, p: p, id: fingerprint(p), now: now, rand: rand.Reader}
	first := true
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("tlscert: %w", err)
		}
		// Services of one decky may share a certificate from separate
		// processes (HostSnakeoil): one makes it while the others wait,
		// then read it.
		release, err := flock.Lock(context.Background(), filepath.Join(dir, name+".lock"))
		if err != nil {
			return nil, fmt.Errorf("tlscert: %w", err)
		}
		defer release()
		// The CA outlives the certificates it signs: a persona change
		// remakes the certificate under the same CA.
		if p.Issuer != nil {
			if ca, err := s.read(s.caPath(), ""); err == nil && ca.Leaf.Subject.String() == p.Issuer.String() {
				s.ca = ca
			}
		}
		c, err := s.read(s.path(), s.id)
		if err == nil && !s.expired(c) && (p.Issuer == nil || s.ca != nil) {
			s.cert = c
			return s, nil
		}
		// An expired certificate is renewed as of now, not dated back.
		first = err != nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.makeLocked(first); err != nil {
		return nil, err
	}
	return s, nil
}

// Load is Open's certificate, for a service that never renews.
func Load(dir, name string, p Profile) (tls.Certificate, error) {
	s, err := Open(dir, name, p, nil)
	if err != nil {
		return tls.Certificate{}, err
	}
	return s.Certificate(), nil
}

// Certificate returns the current certificate, with its chain.
func (s *Store) Certificate() tls.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.cert
}

// GetCertificate is a tls.Config's GetCertificate: the current
// certificate, renewed first when it has expired and the profile says so.
func (s *Store) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expired(s.cert) {
		if err := s.makeLocked(false); err != nil {
			return nil, err
		}
	}
	return s.cert, nil
}

// CAPool returns a pool holding the CA that issued the certificate, or the
// certificate itself when it is self-signed: what a client that trusts the
// decky would hold.
func (s *Store) CAPool() *x509.CertPool {
	s.mu.Lock()
	defer s.mu.Unlock()
	pool := x509.NewCertPool()
	if s.ca != nil {
		pool.AddCert(s.ca.Leaf)
	} else {
		pool.AddCert(s.cert.Leaf)
	}
	return pool
}

func (s *Store) path() string   { return filepath.Join(s.dir, s.name+".pem") }
func (s *Store) caPath() string { return filepath.Join(s.dir, s.name+"-ca.pem") }

func (s *Store) expired(c *tls.Certificate) bool {
	return s.p.Renew && !s.now().Before(c.Leaf.NotAfter)
}

// fingerprint names what a certificate was made from, so that one made
// for another profile is replaced.
func fingerprint(p Profile) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%q|%v|%v|%v|%v|%v|%d|%v|%d|%v", p.Subject.String(), p.DNSNames, p.IPs, p.ECDSA,
		p.ServerAuth, p.ClientAuth, p.Extensions != nil, p.SerialBytes, p.Lifetime, p.Months, p.Renew)
	if p.Issuer != nil {
		fmt.Fprintf(h, "|issuer %s", p.Issuer.String())
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// read loads a certificate and key from path; a non-empty id must match
// the one kept with it.
func (s *Store) read(path, id string) (*tls.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs [][]byte
	var keyDER []byte
	kept := ""
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			certs = append(certs, blk.Bytes)
			if v := blk.Headers["Profile"]; v != "" {
				kept = v
			}
		case "PRIVATE KEY":
			keyDER = blk.Bytes
		}
	}
	if id != "" && kept != id {
		return nil, errors.New("tlscert: made for another profile")
	}
	if len(certs) == 0 || keyDER == nil {
		return nil, errors.New("tlscert: no certificate and key")
	}
	key, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	leaf, err := x509.ParseCertificate(certs[0])
	if err != nil {
		return nil, fmt.Errorf("tlscert: %w", err)
	}
	return &tls.Certificate{Certificate: certs, PrivateKey: key, Leaf: leaf}, nil
}

// makeLocked makes a new certificate (and the CA when there is none yet
// or it is not the profile's), dated back when it is the decky's first.
func (s *Store) makeLocked(first bool) error {
	now := s.now().UTC().Truncate(time.Second)
	if first && s.p.Backdate > 0 {
		back, err := rand.Int(s.rand, big.NewInt(int64(s.p.Backdate/time.Second)))
		if err != nil {
			return fmt.Errorf("tlscert: %w", err)
		}
		now = now.Add(-time.Duration(back.Int64()) * time.Second)
	}
	if s.p.Issuer != nil && (s.ca == nil || s.ca.Leaf.Subject.String() != s.p.Issuer.String()) {
		ca, err := s.makeCA(now)
		if err != nil {
			return err
		}
		s.ca = ca
	}
	key, err := s.key()
	if err != nil {
		return err
	}
	pub := key.(crypto.Signer).Public()
	serial, err := s.serial(s.p.SerialBytes)
	if err != nil {
		return err
	}
	t := &x509.Certificate{
		SerialNumber: serial, Subject: s.p.Subject, NotBefore: now, NotAfter: now.AddDate(0, s.p.Months, 0).Add(s.p.Lifetime),
		DNSNames: s.p.DNSNames, IPAddresses: s.p.IPs,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if !s.p.ECDSA {
		t.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if s.p.ServerAuth {
		t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if s.p.ClientAuth {
		t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	if s.p.Extensions != nil {
		ext, err := s.p.Extensions(pub)
		if err != nil {
			return fmt.Errorf("tlscert: extensions: %w", err)
		}
		// ExtraExtensions take the place of what the fields would write.
		t.KeyUsage, t.ExtKeyUsage, t.DNSNames, t.IPAddresses = 0, nil, nil, nil
		t.ExtraExtensions = ext
	}
	parent, signer := t, crypto.Signer(key.(crypto.Signer))
	var chain [][]byte
	if s.ca != nil {
		parent, signer = s.ca.Leaf, s.ca.PrivateKey.(crypto.Signer)
		chain = s.ca.Certificate
	}
	der, err := x509.CreateCertificate(s.rand, t, parent, pub, signer)
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	s.cert = &tls.Certificate{Certificate: append([][]byte{der}, chain...), PrivateKey: key, Leaf: leaf}
	return s.save(s.path(), s.cert, s.id)
}

// makeCA makes the profile's issuing CA, valid from well before the
// certificates it signs.
func (s *Store) makeCA(notBefore time.Time) (*tls.Certificate, error) {
	key, err := s.key()
	if err != nil {
		return nil, err
	}
	serial, err := s.serial(16)
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{
		SerialNumber: serial, Subject: *s.p.Issuer,
		NotBefore: notBefore.Add(-24 * time.Hour), NotAfter: notBefore.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true, IsCA: true,
	}
	signer := key.(crypto.Signer)
	der, err := x509.CreateCertificate(s.rand, t, t, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("tlscert: CA: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlscert: CA: %w", err)
	}
	ca := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return ca, s.save(s.caPath(), ca, "")
}

func (s *Store) key() (crypto.PrivateKey, error) {
	var key crypto.PrivateKey
	var err error
	if s.p.ECDSA {
		key, err = ecdsa.GenerateKey(elliptic.P256(), s.rand)
	} else {
		key, err = rsa.GenerateKey(s.rand, rsaBits)
	}
	if err != nil {
		return nil, fmt.Errorf("tlscert: key: %w", err)
	}
	return key, nil
}

// serial draws a positive serial number of n bytes (16 when n is 0); 20
// bytes get the top bit cleared, as OpenSSL's do.
func (s *Store) serial(n int) (*big.Int, error) {
	if n <= 0 {
		n = 16
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("tlscert: serial: %w", err)
	}
	if n >= 20 {
		b[0] &= 0x7f
	}
	if b[0] == 0 {
		b[0] = 1 // keep the length
	}
	return new(big.Int).SetBytes(b), nil
}

// save writes c (its chain and key) to path, unless the store is in
// memory.
func (s *Store) save(path string, c *tls.Certificate, id string) error {
	if s.dir == "" {
		return nil
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	var out bytes.Buffer
	for i, der := range c.Certificate {
		blk := &pem.Block{Type: "CERTIFICATE", Bytes: der}
		if i == 0 && id != "" {
			blk.Headers = map[string]string{"Profile": id}
		}
		pem.Encode(&out, blk)
	}
	pem.Encode(&out, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := atomicfile.Write(path, out.Bytes(), 0o600); err != nil {
		return fmt.Errorf("tlscert: %w", err)
	}
	return nil
}

// CAPool returns the pool a client that trusts the certificate kept as
// <dir>/<name>.pem would hold: its issuing CA, or the certificate itself
// when it is self-signed.
func CAPool(dir, name string) (*x509.CertPool, error) {
	s := &Store{dir: dir, name: name}
	c, err := s.read(s.caPath(), "")
	if errors.Is(err, os.ErrNotExist) {
		c, err = s.read(s.path(), "")
	}
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.Leaf)
	return pool, nil
}
