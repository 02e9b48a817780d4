package rdp

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"sync"
	"time"

	"decnet/internal/atomicfile"
)

// certKind is the certificate a product presents.
type certKind int

const (
	// certWindows is the self-signed certificate the Remote Desktop
	// service makes for itself: CN = the computer's DNS name, no SAN, RSA
	// 2048, SHA-256, valid 6 months, extended key usage server
	// authentication then key usage key and data encipherment, both not
	// critical, and a 16-byte random serial. Windows renews it when it
	// expires.
	certWindows certKind = iota
	// certSnakeoil is Debian's ssl-cert snakeoil, which xrdp uses: CN and
	// SAN DNS = the host name, RSA 2048, SHA-256, valid 10 years, basic
	// constraints CA:FALSE, SAN and subject key identifier in OpenSSL's
	// order, a 159-bit random serial.
	certSnakeoil
)

var (
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstraints    = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectAltName      = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSubjectKeyID        = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidServerAuth          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	keyAndDataEncipherment = asn1.BitString{Bytes: []byte{0x30}, BitLength: 4}
)

// Certificate lifetimes, and how far back a first certificate is dated so
// that a new decky does not present one made minutes ago.
const (
	windowsCertMonths   = 6
	snakeoilCertDays    = 3650
	windowsMaxBackdate  = 120 * 24 * time.Hour
	snakeoilMaxBackdate = 700 * 24 * time.Hour
	rsaBits             = 2048
)

// certStore holds a decky's certificate, kept in a PEM file when path is
// set, and renews a Windows certificate once it has expired, as the
// Remote Desktop service does.
type certStore struct {
	kind certKind
	cn   string
	path string
	now  func() time.Time
	rand io.Reader

	mu   sync.Mutex
	cert *tls.Certificate
}

// loadCertStore reads the certificate at path, or makes (and saves) one
// when the file is missing, unreadable, for another name or kind, or an
// expired Windows one. An empty path keeps the certificate in memory.
func loadCertStore(kind certKind, cn, path string, now func() time.Time) (*certStore, error) {
	s := &certStore{kind: kind, cn: cn, path: path, now: now, rand: rand.Reader}
	if path != "" {
		if c, err := s.read(); err == nil {
			s.cert = c
			return s, nil
		}
	}
	if err := s.renew(true); err != nil {
		return nil, err
	}
	return s, nil
}

// get is the tls.Config's GetCertificate.
func (s *certStore) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kind == certWindows && !s.now().Before(s.cert.Leaf.NotAfter) {
		if err := s.renew(false); err != nil {
			return nil, err
		}
	}
	return s.cert, nil
}

// read loads the saved certificate if it still fits.
func (s *certStore) read() (*tls.Certificate, error) {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	var certDER, keyDER []byte
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			certDER = blk.Bytes
		case "PRIVATE KEY":
			keyDER = blk.Bytes
		}
	}
	c, err := tls.X509KeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		return nil, err
	}
	leaf := c.Leaf
	switch {
	case leaf.Subject.CommonName != s.cn:
		return nil, errors.New("certificate for another name")
	case (s.kind == certSnakeoil) != (len(leaf.DNSNames) > 0):
		return nil, errors.New("certificate of another kind")
	case s.kind == certWindows && !s.now().Before(leaf.NotAfter):
		return nil, errors.New("certificate expired")
	}
	return &c, nil
}

// renew makes a new certificate, dated back when it is the decky's first,
// and saves it when the store has a path.
func (s *certStore) renew(first bool) error {
	key, err := rsa.GenerateKey(s.rand, rsaBits)
	if err != nil {
		return fmt.Errorf("rdp certificate key: %w", err)
	}
	tmpl, err := s.template(key, first)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(s.rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("rdp certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("rdp certificate: %w", err)
	}
	s.cert = &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	if s.path == "" {
		return nil
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("rdp certificate key: %w", err)
	}
	var out bytes.Buffer
	pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&out, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := atomicfile.Write(s.path, out.Bytes(), 0o600); err != nil {
		return fmt.Errorf("rdp certificate: %w", err)
	}
	return nil
}

// template is the certificate of the store's kind for key.
func (s *certStore) template(key *rsa.PrivateKey, first bool) (*x509.Certificate, error) {
	now := s.now().UTC().Truncate(time.Second)
	maxBack := windowsMaxBackdate
	serialLen, serialTopMask := 16, byte(0xff)
	if s.kind == certSnakeoil {
		maxBack, serialLen, serialTopMask = snakeoilMaxBackdate, 20, 0x7f
	}
	if first {
		back, err := rand.Int(s.rand, big.NewInt(int64(maxBack/time.Second)))
		if err != nil {
			return nil, fmt.Errorf("rdp certificate date: %w", err)
		}
		now = now.Add(-time.Duration(back.Int64()) * time.Second)
	}
	serial := make([]byte, serialLen)
	if _, err := io.ReadFull(s.rand, serial); err != nil {
		return nil, fmt.Errorf("rdp certificate serial: %w", err)
	}
	serial[0] &= serialTopMask
	t := &x509.Certificate{
		SerialNumber:       new(big.Int).SetBytes(serial),
		Subject:            pkix.Name{CommonName: s.cn},
		NotBefore:          now,
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	if s.kind == certWindows {
		t.NotAfter = now.AddDate(0, windowsCertMonths, 0)
		eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{oidServerAuth})
		ku, _ := asn1.Marshal(keyAndDataEncipherment)
		t.ExtraExtensions = []pkix.Extension{{Id: oidExtKeyUsage, Value: eku}, {Id: oidKeyUsage, Value: ku}}
		return t, nil
	}
	t.NotAfter = now.AddDate(0, 0, snakeoilCertDays)
	bc, _ := asn1.Marshal(struct{}{}) // BasicConstraints with cA FALSE left out (DER default)
	san, err := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(s.cn)}})
	if err != nil {
		return nil, fmt.Errorf("rdp certificate SAN: %w", err)
	}
	ski := sha1.Sum(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	skiDER, _ := asn1.Marshal(ski[:])
	t.ExtraExtensions = []pkix.Extension{
		{Id: oidBasicConstraints, Value: bc}, {Id: oidSubjectAltName, Value: san}, {Id: oidSubjectKeyID, Value: skiDER},
	}
	return t, nil
}
