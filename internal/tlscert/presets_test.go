package tlscert

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"sync"
	"testing"
	"time"
)

// open makes a certificate of profile p in memory.
func open(t *testing.T, p Profile, now func() time.Time) *x509.Certificate {
	t.Helper()
	s, err := Open("", "", p, now)
	if err != nil {
		t.Fatal(err)
	}
	return s.Certificate().Leaf
}

// TestWindowsSelfSigned: the shape of the Remote Desktop service's own certificate.
func TestWindowsSelfSigned(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c := open(t, WindowsSelfSigned("SRV-FILES-42.corp.example.com"), func() time.Time { return now })
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
	if back := now.Sub(c.NotBefore); back < 0 || back > WindowsMaxBackdate {
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

// TestSnakeoil: the shape of Debian's make-ssl-cert.
func TestSnakeoil(t *testing.T) {
	now := time.Now()
	c := open(t, Snakeoil("files-nova"), func() time.Time { return now })
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
	if c.NotAfter != c.NotBefore.AddDate(0, 0, 3650) || now.Sub(c.NotBefore) > SnakeoilMaxBackdate {
		t.Errorf("valid %s to %s", c.NotBefore, c.NotAfter)
	}
	if c.SerialNumber.BitLen() > 159 {
		t.Errorf("serial of %d bits", c.SerialNumber.BitLen())
	}
}

// The services of one decky, each building its TLS side at once (the
// docker runtime runs them as separate processes), present one snakeoil.
func TestHostSnakeoilIsShared(t *testing.T) {
	dir := t.TempDir()
	const services = 5
	certs := make([]tls.Certificate, services)
	var wg sync.WaitGroup
	for i := range services {
		wg.Go(func() {
			c, err := HostSnakeoil(dir, "mail-33")
			if err != nil {
				t.Error(err)
			}
			certs[i] = c
		})
	}
	wg.Wait()
	for i, c := range certs {
		if len(c.Certificate) == 0 || !bytes.Equal(c.Certificate[0], certs[0].Certificate[0]) {
			t.Fatalf("service %d got another certificate", i)
		}
	}
	if cn := certs[0].Leaf.Subject.CommonName; cn != "mail-33" {
		t.Errorf("CN %q", cn)
	}
	if c, err := HostSnakeoil(t.TempDir(), ""); err != nil || c.Leaf.Subject.CommonName != "localhost" {
		t.Errorf("a host without a name: %v, %v", c.Leaf.Subject.CommonName, err)
	}
}
