package tlsrecord

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps the bytes that pass through a connection each way.
type recorder struct {
	net.Conn
	mu      sync.Mutex
	in, out bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.in.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

// records splits a byte stream into records.
func records(t *testing.T, b []byte) (recs [][]byte) {
	t.Helper()
	for len(b) > 0 {
		if len(b) < 5 || len(b) < 5+(int(b[3])<<8|int(b[4])) {
			t.Fatalf("short record: %x", b)
		}
		n := 5 + (int(b[3])<<8 | int(b[4]))
		recs, b = append(recs, b[:n]), b[n:]
	}
	return recs
}

// ecdsaCert is a throwaway self-signed certificate.
func ecdsaCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// crypto/tls is the independent implementation: the client's records
// open under the key block derived from its key log, and a record sealed
// under the client's keys after them reads at crypto/tls's server as the
// client's data.
func TestCryptoTLS(t *testing.T) {
	cert := ecdsaCert(t)
	cbc128 := Suite{KeyLen: 16, MAC: sha1.New, PRF: sha256.New}
	cbc256 := Suite{KeyLen: 32, MAC: sha1.New, PRF: sha256.New}
	for _, tc := range []struct {
		id    uint16
		suite Suite
	}{
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, cbc128},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, cbc256},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, Suite{KeyLen: 16, MAC: sha256.New, PRF: sha256.New}},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, Suite{KeyLen: 16, PRF: sha256.New}},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, Suite{KeyLen: 32, PRF: sha512.New384}},
	} {
		versions := []uint16{tls.VersionTLS12}
		if tc.suite.MAC != nil && tc.suite.MAC().Size() == sha1.Size {
			versions = append(versions, tls.VersionTLS11, tls.VersionTLS10)
		}
		for _, version := range versions {
			t.Run(tls.CipherSuiteName(tc.id)+"/"+tls.VersionName(version), func(t *testing.T) {
				cryptoTLSExchange(t, cert, tc.id, tc.suite, version)
			})
		}
	}
}

func cryptoTLSExchange(t *testing.T, cert tls.Certificate, id uint16, suite Suite, version uint16) {
	cc, sc := net.Pipe()
	defer cc.Close()
	defer sc.Close()
	deadline := time.Now().Add(10 * time.Second)
	cc.SetDeadline(deadline)
	sc.SetDeadline(deadline)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, CipherSuites: []uint16{id}, MinVersion: version, MaxVersion: version}
	messages := []string{"first", strings.Repeat("second", 50), "third"}
	const injected = "sealed by tlsrecord"
	got := make(chan string, 1)
	go func() {
		server := tls.Server(sc, cfg)
		var b []byte
		want := len(strings.Join(messages, "")) + len(injected)
		buf := make([]byte, 1024)
		for len(b) < want {
			n, err := server.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- string(b)
	}()

	tap := &recorder{Conn: cc}
	var keyLog bytes.Buffer
	client := tls.Client(tap, &tls.Config{InsecureSkipVerify: true, CipherSuites: []uint16{id},
		MinVersion: version, MaxVersion: version, KeyLogWriter: &keyLog})
	for _, m := range messages {
		if _, err := client.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}

	fields := strings.Fields(keyLog.String())
	if len(fields) != 3 || fields[0] != "CLIENT_RANDOM" {
		t.Fatalf("key log %q", keyLog.String())
	}
	clientRandom, _ := hex.DecodeString(fields[1])
	master, _ := hex.DecodeString(fields[2])
	hello := records(t, tap.in.Bytes())[0]
	if hello[0] != 22 || hello[5] != 2 {
		t.Fatalf("first server record %x", hello)
	}
	serverRandom := hello[5+6 : 5+6+32]
	keys, _ := suite.KeyBlock(version, master, clientRandom, serverRandom)
	open, err := suite.Protect(version, keys, false)
	if err != nil {
		t.Fatal(err)
	}

	var protected [][]byte
	for i, rec := range records(t, tap.out.Bytes()) {
		if rec[0] == 20 {
			protected = records(t, tap.out.Bytes())[i+1:]
		}
	}
	var data []byte
	for i, rec := range protected {
		plain, err := open.Open(rec[0], rec[5:])
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		switch {
		case i == 0 && (rec[0] != 22 || plain[0] != 20):
			t.Fatalf("first protected record %x, want Finished", plain)
		case i > 0:
			data = append(data, plain...)
		}
	}
	if want := strings.Join(messages, ""); string(data) != want {
		t.Errorf("opened %q, want %q", data, want)
	}

	if suite.MAC != nil {
		keys.IV = protected[len(protected)-1][len(protected[len(protected)-1])-16:]
	}
	seal, err := suite.Protect(version, keys, false)
	if err != nil {
		t.Fatal(err)
	}
	seal.SetSequence(uint64(len(protected)))
	rec, err := seal.Seal(rand.Reader, 23, []byte(injected))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Write(rec); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != strings.Join(messages, "")+injected {
		t.Errorf("server read %q", s)
	}
}
