package dockerapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// clientCert writes a client certificate and key as the docker CLI
// reads them, issued by a CA of its own named issuerCN (a forgery of the
// daemon's CA, so the CLI offers it when the daemon asks for that CA),
// and returns the directory and its fingerprint.
func clientCert(t *testing.T, issuerCN string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: issuerCN}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ops-admin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	sum := sha256.Sum256(der)
	return dir, hex.EncodeToString(sum[:])
}

// TestTLSClientCert connects the docker CLI over TLS (2376) with a client
// certificate: its fingerprint is recorded as a client_cert token; without
// tls_verify the session goes on, with it the handshake is refused.
func TestTLSClientCert(t *testing.T) {
	for _, tc := range []struct {
		name   string
		keys   map[string]string
		passes bool
	}{
		{"tls", nil, true},
		{"tlsverify", map[string]string{"tls_verify": "true"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := start(t, "127.0.106.40", tc.keys)
			dir, fp := clientCert(t, testHost.Hostname+"-ca")
			out, err := dockerCLI(t, nil, "-H", "tcp://"+d.tls, "--tls", "--tlscert", filepath.Join(dir, "cert.pem"),
				"--tlskey", filepath.Join(dir, "key.pem"), "--tlscacert", filepath.Join(d.host.DataDir, certName+"-ca.pem"), "version", "--format", "{{.Server.Version}}")
			if tc.passes && (err != nil || strings.TrimSpace(out) != "24.0.5") {
				t.Fatalf("docker --tls version: %v\n%s", err, out)
			}
			if !tc.passes && err == nil {
				t.Fatalf("untrusted certificate accepted:\n%s", out)
			}
			testutil.Eventually(t, "the client_cert token", func() bool {
				for _, e := range d.ev.OfType(event.TypeAuth) {
					if e.Fields[event.FieldToken] == fp && e.Fields[event.FieldTokenType] == "client_cert" && e.Fields["cn"] == "ops-admin" {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestNmap checks that a version scan names Docker on both ports (the
// table of cmd/decnet/nmap_test.go takes the text after "open ").
func TestNmap(t *testing.T) {
	d := start(t, "127.0.106.50", nil)
	_, p1, _ := strings.Cut(d.plain, ":")
	_, p2, _ := strings.Cut(d.tls, ":")
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", p1+","+p2, "127.0.106.50")
	for _, want := range []string{p1 + "/tcp open  docker     Docker 24.0.5", p2 + "/tcp open  ssl/docker Docker 24.0.5"} {
		if !strings.Contains(out, want) {
			t.Errorf("nmap output lacks %q:\n%s", want, out)
		}
	}
}
