package rdp

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"os"
	"path/filepath"
	"testing"
	"time"

	"decnet/internal/tlscert"
)

// The Windows certificate has the Remote Desktop service's shape.
func TestWindowsCertificate(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c := loadCert(t, "", certWindows, "SRV-FILES-42.corp.example.com", func() time.Time { return now }).Certificate().Leaf
	if c.Subject.String() != "CN=SRV-FILES-42.corp.example.com" || c.Issuer.String() != c.Subject.String() {
		t.Errorf("subject %s, issuer %s", c.Subject, c.Issuer)
	}
	if k, ok := c.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 || k.E != 65537 {
		t.Errorf("public key %T", c.PublicKey)
	}
	if c.SignatureAlgorithm != x509.SHA256WithRSA || c.Version != 3 {
		t.Errorf("signature %s, version %d", c.SignatureAlgorithm, c.Version)
	}
	if len(c.DNSNames) != 0 || len(c.IPAddresses) != 0 || c.BasicConstraintsValid || len(c.SubjectKeyId) != 0 {
		t.Errorf("SAN %v %v, basic constraints %v, SKI %x", c.DNSNames, c.IPAddresses, c.BasicConstraintsValid, c.SubjectKeyId)
	}
	if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 {
		t.Errorf("serial %x", c.SerialNumber)
	}
	if back := now.Sub(c.NotBefore); back < 0 || back > windowsMaxBackdate {
		t.Errorf("notBefore %s is %s before now", c.NotBefore, back)
	}
	if c.NotAfter != c.NotBefore.AddDate(0, 6, 0) {
		t.Errorf("valid %s to %s, want 6 months", c.NotBefore, c.NotAfter)
	}
	wantExt := []asn1.ObjectIdentifier{oidExtKeyUsage, oidKeyUsage}
	if len(c.Extensions) != len(wantExt) {
		t.Fatalf("extensions %v", c.Extensions)
	}
	for i, e := range c.Extensions {
		if !e.Id.Equal(wantExt[i]) || e.Critical {
			t.Errorf("extension %d: %v critical %v, want %v not critical", i, e.Id, e.Critical, wantExt[i])
		}
	}
	if c.KeyUsage != x509.KeyUsageKeyEncipherment|x509.KeyUsageDataEncipherment ||
		len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("key usage %v, extended %v", c.KeyUsage, c.ExtKeyUsage)
	}
}

// The snakeoil certificate has the shape of Debian's make-ssl-cert.
func TestSnakeoilCertificate(t *testing.T) {
	now := time.Now()
	c := loadCert(t, "", certSnakeoil, "files-nova", func() time.Time { return now }).Certificate().Leaf
	if c.Subject.String() != "CN=files-nova" || len(c.DNSNames) != 1 || c.DNSNames[0] != "files-nova" {
		t.Errorf("subject %s, SAN %v", c.Subject, c.DNSNames)
	}
	if !c.BasicConstraintsValid || c.IsCA {
		t.Errorf("basic constraints %v CA %v", c.BasicConstraintsValid, c.IsCA)
	}
	ski := sha1.Sum(x509.MarshalPKCS1PublicKey(c.PublicKey.(*rsa.PublicKey)))
	if !bytes.Equal(c.SubjectKeyId, ski[:]) {
		t.Errorf("SKI %x, want %x", c.SubjectKeyId, ski)
	}
	wantExt := []asn1.ObjectIdentifier{oidBasicConstraints, oidSubjectAltName, oidSubjectKeyID}
	for i, e := range c.Extensions {
		if i >= len(wantExt) || !e.Id.Equal(wantExt[i]) || e.Critical {
			t.Errorf("extension %d: %v", i, e.Id)
		}
	}
	if c.NotAfter != c.NotBefore.AddDate(0, 0, 3650) || now.Sub(c.NotBefore) > snakeoilMaxBackdate {
		t.Errorf("valid %s to %s", c.NotBefore, c.NotAfter)
	}
	if c.SerialNumber.BitLen() > 159 {
		t.Errorf("serial of %d bits", c.SerialNumber.BitLen())
	}
}

// loadCert opens a product's certificate as the server does.
func loadCert(t *testing.T, dir string, kind certKind, cn string, now func() time.Time) *tlscert.Store {
	t.Helper()
	s, err := tlscert.Open(dir, "windows-cert", certProfile(kind, cn), now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The certificate outlives a restart, is made anew for another name or
// when the file is damaged, and a Windows one is renewed when it expires.
func TestCertificateStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "windows-cert.pem")
	now := time.Now()
	clock := func() time.Time { return now }
	first := loadCert(t, dir, certWindows, "HOST", clock).Certificate()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved certificate: %v, %v", fi, err)
	}
	if again := loadCert(t, dir, certWindows, "HOST", clock).Certificate(); !bytes.Equal(again.Certificate[0], first.Certificate[0]) {
		t.Error("certificate not kept across a restart")
	}
	if renamed := loadCert(t, dir, certWindows, "OTHER", clock).Certificate(); renamed.Leaf.Subject.CommonName != "OTHER" {
		t.Error("no new certificate for a new name")
	}
	if kind := loadCert(t, dir, certSnakeoil, "OTHER", clock).Certificate(); len(kind.Leaf.DNSNames) != 1 {
		t.Error("certificate of another kind kept")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	loadCert(t, dir, certWindows, "HOST", clock) // a damaged file is replaced

	// Expiry: on load, and while serving.
	s := loadCert(t, dir, certWindows, "HOST", clock)
	old := s.Certificate()
	now = old.Leaf.NotAfter.Add(time.Second)
	got, err := s.GetCertificate(nil)
	if err != nil || bytes.Equal(got.Certificate[0], old.Certificate[0]) {
		t.Fatalf("expired certificate served (%v)", err)
	}
	if !got.Leaf.NotBefore.Equal(now.UTC().Truncate(time.Second)) {
		t.Errorf("renewed certificate from %s, want now (%s)", got.Leaf.NotBefore, now)
	}
	if same, _ := s.GetCertificate(nil); same != got {
		t.Errorf("certificate renewed again")
	}
	now = now.AddDate(1, 0, 0)
	reloaded := loadCert(t, dir, certWindows, "HOST", clock).Certificate()
	if bytes.Equal(reloaded.Certificate[0], got.Certificate[0]) {
		t.Error("expired certificate loaded")
	}
	if !reloaded.Leaf.NotBefore.Equal(now.UTC().Truncate(time.Second)) {
		t.Errorf("certificate renewed at load from %s, want now (%s)", reloaded.Leaf.NotBefore, now)
	}
}
