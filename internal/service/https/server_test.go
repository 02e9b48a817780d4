package https

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/http"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
	"decnet/internal/tlscert"
)

// newTestServer builds the https server of a decky named name with the
// persona keys.
func newTestServer(t *testing.T, name string, keys map[string]string) (service.Server, *testutil.Events) {
	t.Helper()
	return servicetest.New(t, Service{}, service.Host{Name: name, Hostname: name, Distro: "debian", IP: "127.0.110.1", DataDir: t.TempDir()}, keys)
}

// TestCurl: curl gets the Apache default page over TLS 1.3 with
// http/1.1, and its request, credentials and handshake are recorded.
func TestCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	srv, ev := newTestServer(t, "web01", nil)
	addr := servicetest.ServeTCP(t, srv, "127.0.110.2", http.HTTPSPort)
	out, err := exec.Command(curl, "-skv", "-u", "admin:hunter2", "https://"+addr+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	for _, want := range []string{"SSL connection using TLSv1.3", "ALPN: server accepted http/1.1", "subject: CN=web01",
		"issuer: CN=web01", "< Server: Apache/2.4", "Apache2 Debian Default Page"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("curl output lacks %q:\n%s", want, out)
		}
	}
	testutil.Eventually(t, "the request's events", func() bool { return len(ev.OfType(event.TypeAuth)) == 1 })
	if f := ev.OfType(event.TypeAuth)[0].Fields; f["username"] != "admin" || f["password"] != "hunter2" || f["src_ip"] != "127.0.0.1" {
		t.Errorf("auth event %v", f)
	}
	hs := ev.OfType("tls")
	if len(hs) != 1 || hs[0].Fields["version"] != "TLS 1.3" || hs[0].Fields["alpn"] != "http/1.1" || hs[0].Fields["client_ciphers"] == "" {
		t.Errorf("tls events %v", hs)
	}
	if reqs := ev.OfType(event.TypeRequest); len(reqs) != 1 || reqs[0].Fields["dst_port"] == "" || reqs[0].Fields["path"] != "/" {
		t.Errorf("request events %v", reqs)
	}
}

// TestCertificates: each product's certificate has its install's shape,
// is kept, and no two deckies share one.
func TestCertificates(t *testing.T) {
	dial := func(t *testing.T, srv service.Server, cfg *tls.Config) tls.ConnectionState {
		t.Helper()
		addr := servicetest.ServeTCP(t, srv, "127.0.110.3", http.HTTPSPort)
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.InsecureSkipVerify = true
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState()
	}
	t.Run("snakeoil", func(t *testing.T) {
		srv, _ := newTestServer(t, "web01", nil)
		st := dial(t, srv, nil)
		c := st.PeerCertificates[0]
		if c.Subject.CommonName != "web01" || c.Issuer.CommonName != "web01" || len(c.DNSNames) != 1 ||
			c.NotAfter.Sub(c.NotBefore) != 3650*24*time.Hour {
			t.Errorf("certificate %v issued by %v, names %v, %v to %v", c.Subject, c.Issuer, c.DNSNames, c.NotBefore, c.NotAfter)
		}
		other, _ := newTestServer(t, "web01", nil)
		if string(dial(t, other, nil).PeerCertificates[0].Raw) == string(c.Raw) {
			t.Error("two deckies present the same certificate")
		}
	})
	t.Run("internal CA", func(t *testing.T) {
		srv, _ := newTestServer(t, "intranet", map[string]string{"tls_cn": "intranet.corp.example", "tls_issuer": "CORP-SUB-CA"})
		st := dial(t, srv, nil)
		if len(st.PeerCertificates) != 2 || st.PeerCertificates[0].Issuer.CommonName != "CORP-SUB-CA" {
			t.Fatalf("chain %d, issuer %v", len(st.PeerCertificates), st.PeerCertificates[0].Issuer)
		}
		pool := x509.NewCertPool()
		pool.AddCert(st.PeerCertificates[1])
		if _, err := st.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: "intranet.corp.example"}); err != nil {
			t.Errorf("chain does not verify: %v", err)
		}
	})
	t.Run("the persona's own certificate", func(t *testing.T) {
		dir := t.TempDir()
		own, err := tlscert.Load(dir, "own", tlscert.Snakeoil("www.example.org"))
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "own.pem") // certificate and key in one file
		srv, _ := newTestServer(t, "web04", map[string]string{"tls_cert": file, "tls_key": file})
		if got := dial(t, srv, nil).PeerCertificates[0]; string(got.Raw) != string(own.Certificate[0]) {
			t.Errorf("served %v, want the persona's certificate", got.Subject)
		}
	})
	t.Run("iis speaks TLS 1.0 and no 1.3", func(t *testing.T) {
		srv, _ := newTestServer(t, "WEB02", map[string]string{"fake_app": "iis_default"})
		st := dial(t, srv, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
		if st.Version != tls.VersionTLS10 || st.PeerCertificates[0].Subject.CommonName != "WEB02" {
			t.Errorf("version %x, subject %v", st.Version, st.PeerCertificates[0].Subject)
		}
		if st := dial(t, srv, nil); st.Version != tls.VersionTLS12 {
			t.Errorf("best version %x, want TLS 1.2", st.Version)
		}
	})
	t.Run("debian refuses TLS 1.1", func(t *testing.T) {
		srv, ev := newTestServer(t, "web03", nil)
		addr := servicetest.ServeTCP(t, srv, "127.0.110.4", http.HTTPSPort)
		if c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
			c.Close()
			t.Fatal("a TLS 1.1 handshake succeeded")
		}
		testutil.Eventually(t, "the failed handshake's event", func() bool {
			hs := ev.OfType("tls")
			return len(hs) == 1 && hs[0].Fields["error"] != "" && strings.HasPrefix(hs[0].Fields["client_versions"], "0x302")
		})
	})
}

// TestNmapVersion: nmap's version scan names the product behind TLS.
func TestNmapVersion(t *testing.T) {
	srv, _ := newTestServer(t, "web01", nil)
	host, port, _ := net.SplitHostPort(servicetest.ServeTCP(t, srv, "127.0.110.5", http.HTTPSPort))
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", port, host)
	testutil.MatchAll(t, out, regexp.MustCompile(`/tcp open  ssl/http Apache httpd 2\.4\.\d+ \(\(Debian\)\)`))
}
