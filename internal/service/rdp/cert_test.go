package rdp

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"decnet/internal/tlscert"
)

// loadCert opens a product's certificate as the server does.
func loadCert(t *testing.T, dir string, p tlscert.Profile, now func() time.Time) *tlscert.Store {
	t.Helper()
	s, err := tlscert.Open(dir, "windows-cert", p, now)
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
	first := loadCert(t, dir, tlscert.WindowsSelfSigned("HOST"), clock).Certificate()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved certificate: %v, %v", fi, err)
	}
	if again := loadCert(t, dir, tlscert.WindowsSelfSigned("HOST"), clock).Certificate(); !bytes.Equal(again.Certificate[0], first.Certificate[0]) {
		t.Error("certificate not kept across a restart")
	}
	if renamed := loadCert(t, dir, tlscert.WindowsSelfSigned("OTHER"), clock).Certificate(); renamed.Leaf.Subject.CommonName != "OTHER" {
		t.Error("no new certificate for a new name")
	}
	if kind := loadCert(t, dir, tlscert.Snakeoil("OTHER"), clock).Certificate(); len(kind.Leaf.DNSNames) != 1 {
		t.Error("certificate of another kind kept")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	loadCert(t, dir, tlscert.WindowsSelfSigned("HOST"), clock) // a damaged file is replaced

	// Expiry: on load, and while serving.
	s := loadCert(t, dir, tlscert.WindowsSelfSigned("HOST"), clock)
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
	reloaded := loadCert(t, dir, tlscert.WindowsSelfSigned("HOST"), clock).Certificate()
	if bytes.Equal(reloaded.Certificate[0], got.Certificate[0]) {
		t.Error("expired certificate loaded")
	}
	if !reloaded.Leaf.NotBefore.Equal(now.UTC().Truncate(time.Second)) {
		t.Errorf("certificate renewed at load from %s, want now (%s)", reloaded.Leaf.NotBefore, now)
	}
}
