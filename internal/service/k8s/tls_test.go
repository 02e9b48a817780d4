package k8s

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestCertificateShape checks the handshake against kubeadm's: the leaf
// alone, CN kube-apiserver issued by "kubernetes", kubeadm's SANs, a
// client certificate requested from either cluster CA, h2 first.
func TestCertificateShape(t *testing.T) {
	ts := start(t, nil, testIP)
	var acceptable []string
	c, err := tls.Dial("tcp", ts.secure, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"},
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			for _, raw := range cri.AcceptableCAs {
				var n pkix.RDNSequence
				if _, err := asn1.Unmarshal(raw, &n); err == nil {
					var name pkix.Name
					name.FillFromRDNSequence(&n)
					acceptable = append(acceptable, name.CommonName)
				}
			}
			return &tls.Certificate{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := c.ConnectionState()
	if len(st.PeerCertificates) != 1 || st.NegotiatedProtocol != "h2" {
		t.Fatalf("chain %d, alpn %q", len(st.PeerCertificates), st.NegotiatedProtocol)
	}
	leaf := st.PeerCertificates[0]
	wantDNS := []string{"kube-master-01", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	if leaf.Subject.CommonName != "kube-apiserver" || leaf.Issuer.CommonName != "kubernetes" || !slices.Equal(leaf.DNSNames, wantDNS) ||
		len(leaf.IPAddresses) != 2 || leaf.IPAddresses[0].String() != "10.96.0.1" || leaf.IPAddresses[1].String() != testIP ||
		leaf.NotAfter.Sub(leaf.NotBefore) != 365*24*time.Hour {
		t.Fatalf("leaf: %v issued by %v, %v %v, %v..%v", leaf.Subject, leaf.Issuer, leaf.DNSNames, leaf.IPAddresses, leaf.NotBefore, leaf.NotAfter)
	}
	if !slices.Equal(acceptable, []string{"kubernetes", "front-proxy-ca"}) {
		t.Fatalf("acceptable client CAs: %v", acceptable)
	}
	// Go 1.20's defaults still had the RSA key exchange; today's do not.
	rsa, err := tls.Dial("tcp", ts.secure, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}})
	if err != nil {
		t.Fatalf("RSA key exchange refused: %v", err)
	}
	rsa.Close()
}

// TestClientCertificate: curl with a client certificate of its own; the
// certificate is captured as a client_cert credential with its subject.
func TestClientCertificate(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	ts := start(t, nil, testIP)
	dir := t.TempDir()
	certPath, keyPath, fp := clientCert(t, dir, "kubernetes-admin", "system:masters")
	out, err := exec.Command(curl, "-sk", "--max-time", "10", "--cert", certPath, "--key", keyPath, "https://"+ts.secure+"/api/v1/namespaces").Output()
	if err != nil || !strings.Contains(string(out), `"kind": "NamespaceList"`) {
		t.Fatalf("%v\n%s", err, out)
	}
	a := ts.events.OfType(event.TypeAuth)
	if len(a) != 1 || a[0].Fields[event.FieldTokenType] != "client_cert" || a[0].Fields[event.FieldToken] != fp ||
		a[0].Fields[event.FieldUsername] != "kubernetes-admin" || a[0].Fields["groups"] != `["system:masters"]` {
		t.Fatalf("auth: %+v", a)
	}
}

// clientCert writes a self-signed client certificate and returns its
// paths and SHA-256 fingerprint.
func clientCert(t *testing.T, dir, cn, org string) (string, string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	cp, kp := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	sum := sha256.Sum256(der)
	return cp, kp, hex.EncodeToString(sum[:])
}
