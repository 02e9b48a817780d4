package tlscert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSelfSignedKept(t *testing.T) {
	dir := t.TempDir()
	p := Profile{Subject: pkix.Name{CommonName: "db01"}, DNSNames: []string{"db01"}, Lifetime: 365 * 24 * time.Hour,
		Backdate: 30 * 24 * time.Hour, ServerAuth: true}
	before := time.Now()
	c1, err := Load(dir, "mysql", p)
	if err != nil {
		t.Fatal(err)
	}
	leaf := c1.Leaf
	if leaf.Subject.CommonName != "db01" || leaf.Issuer.CommonName != "db01" || len(c1.Certificate) != 1 {
		t.Errorf("subject %v issuer %v chain %d", leaf.Subject, leaf.Issuer, len(c1.Certificate))
	}
	if leaf.NotBefore.After(before) || leaf.NotBefore.Before(before.Add(-31*24*time.Hour)) {
		t.Errorf("NotBefore %v not within the backdate", leaf.NotBefore)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != p.Lifetime {
		t.Errorf("lifetime %v", got)
	}
	if _, ok := c1.PrivateKey.(crypto.Signer); !ok {
		t.Error("no signer key")
	}
	if fi, err := os.Stat(filepath.Join(dir, "mysql.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kept file: %v %v", fi, err)
	}
	c2, err := Load(dir, "mysql", p)
	if err != nil {
		t.Fatal(err)
	}
	if string(c2.Certificate[0]) != string(c1.Certificate[0]) {
		t.Error("a second Load made a new certificate")
	}
	// Another decky (directory) never gets the same one.
	c3, _ := Load(t.TempDir(), "mysql", p)
	if string(c3.Certificate[0]) == string(c1.Certificate[0]) {
		t.Error("two deckies share a certificate")
	}
	// A changed persona gets a new certificate.
	p.Subject.CommonName = "db02"
	c4, err := Load(dir, "mysql", p)
	if err != nil || c4.Leaf.Subject.CommonName != "db02" {
		t.Errorf("profile change: %v %v", c4.Leaf.Subject, err)
	}
}

// TestIssuedByCA: a kubeadm-like chain verifies for its names against the
// CA pool, and the CA stays when the certificate is remade.
func TestIssuedByCA(t *testing.T) {
	dir := t.TempDir()
	p := Profile{Subject: pkix.Name{CommonName: "kube-apiserver"}, Issuer: &pkix.Name{CommonName: "kubernetes"},
		DNSNames: []string{"kubernetes", "kubernetes.default"}, IPs: []net.IP{net.ParseIP("10.96.0.1")},
		Lifetime: 365 * 24 * time.Hour, ServerAuth: true, ECDSA: true}
	c, err := Load(dir, "apiserver", p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Certificate) != 2 || c.Leaf.Issuer.CommonName != "kubernetes" {
		t.Fatalf("chain %d, issuer %v", len(c.Certificate), c.Leaf.Issuer)
	}
	if _, ok := c.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("key %T, want ECDSA", c.PrivateKey)
	}
	pool, err := CAPool(dir, "apiserver")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kubernetes.default", "10.96.0.1"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	ca1, _ := os.ReadFile(filepath.Join(dir, "apiserver-ca.pem"))
	p.DNSNames = append(p.DNSNames, "kubernetes.default.svc")
	if _, err := Load(dir, "apiserver", p); err != nil {
		t.Fatal(err)
	}
	ca2, _ := os.ReadFile(filepath.Join(dir, "apiserver-ca.pem"))
	if string(ca1) != string(ca2) {
		t.Error("remaking the certificate remade its CA")
	}
}

// TestRenew: a Windows-like certificate is renewed once expired, a
// forgotten server's is kept.
func TestRenew(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	for _, renew := range []bool{true, false} {
		p := Profile{Subject: pkix.Name{CommonName: "WS01"}, Lifetime: time.Hour, Renew: renew}
		s, err := Open(t.TempDir(), "rdp", p, clock)
		if err != nil {
			t.Fatal(err)
		}
		first := s.Certificate().Certificate[0]
		now = now.Add(2 * time.Hour)
		c, err := s.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		if renewed := string(c.Certificate[0]) != string(first); renewed != renew {
			t.Errorf("Renew %v: renewed %v", renew, renewed)
		}
	}
}

// TestExtensionsInOrder: a product's own extensions, in its order.
func TestExtensionsInOrder(t *testing.T) {
	oidEKU := asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKU := asn1.ObjectIdentifier{2, 5, 29, 15}
	p := Profile{Subject: pkix.Name{CommonName: "WS01"}, Lifetime: time.Hour,
		Extensions: func(crypto.PublicKey) ([]pkix.Extension, error) {
			eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}})
			ku, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{0x30}, BitLength: 4})
			return []pkix.Extension{{Id: oidEKU, Value: eku}, {Id: oidKU, Value: ku}}, nil
		}}
	c, err := Load("", "rdp", p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range c.Leaf.Extensions {
		ids = append(ids, e.Id.String())
	}
	if len(ids) != 2 || ids[0] != oidEKU.String() || ids[1] != oidKU.String() {
		t.Errorf("extensions %v, want EKU then KU only", ids)
	}
}
