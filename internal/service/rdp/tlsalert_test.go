package rdp

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/tlsstack"

	"decnet/internal/tlscert"
)

// testCert is one certificate for the TLS tests, made once.
func testCert(t *testing.T) *tlscert.Store {
	t.Helper()
	s, err := tlscert.Open("", "", tlscert.WindowsSelfSigned("TEST"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The sealed access_denied alert is read by a client as the peer's alert,
// for every suite and version the Windows persona offers with AES, after
// records both ways have moved the sequence numbers on.
func TestAccessDeniedAlert(t *testing.T) {
	certs := testCert(t)
	versions := []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12}
	for suite := range alertSuites {
		for _, v := range versions {
			if tls12Only[suite] && v < tls.VersionTLS12 {
				continue
			}
			t.Run(tls.CipherSuiteName(suite)+"/"+tls.VersionName(v), func(t *testing.T) {
				err := alertExchange(t, certs, suite, v)
				if err == nil || !strings.Contains(err.Error(), "access denied") {
					t.Errorf("client read %v, want the access denied alert", err)
				}
			})
		}
	}
	// 3DES has no sealer: the server reports it instead of guessing.
	if err := alertExchange(t, certs, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, tls.VersionTLS12); !errors.Is(err, io.EOF) {
		t.Errorf("3DES: client read %v, want EOF", err)
	}
}

// alertExchange runs a TLS connection with suite and version, exchanges
// a few records, makes the server send access_denied (or close, when it
// cannot) and returns the client's read error.
func alertExchange(t *testing.T, certs *tlscert.Store, suite, version uint16) error {
	t.Helper()
	cc, sc := net.Pipe()
	defer cc.Close()
	tap := newRecordTap(sc)
	scfg := tlsstack.Schannel2019()
	scfg.GetCertificate = certs.GetCertificate
	scfg.KeyLogWriter = &tap.keyLog
	server := tls.Server(tap, scfg)
	done := make(chan error, 1)
	go func() {
		defer sc.Close()
		for i := range 3 {
			// TLS 1.0 CBC splits the client's writes 1/n-1: read them whole.
			if _, err := io.ReadFull(server, make([]byte, 10+i)); err != nil {
				done <- err
				return
			}
			if _, err := server.Write(bytes.Repeat([]byte{'s'}, 100)); err != nil {
				done <- err
				return
			}
		}
		alert, err := tap.accessDenied(server.ConnectionState())
		if err == nil {
			_, err = sc.Write(alert)
		}
		done <- err
	}()
	client := tls.Client(cc, &tls.Config{InsecureSkipVerify: true, CipherSuites: []uint16{suite},
		MinVersion: version, MaxVersion: version})
	client.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 100)
	for i := range 3 {
		if _, err := client.Write(bytes.Repeat([]byte{'c'}, 10+i)); err != nil {
			t.Fatalf("client write: %v", err)
		}
		if _, err := io.ReadFull(client, buf); err != nil {
			t.Fatalf("client read: %v", err)
		}
	}
	if st := client.ConnectionState(); st.CipherSuite != suite || st.Version != version {
		t.Fatalf("negotiated %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	_, err := client.Read(buf)
	if serr := <-done; serr != nil && !errors.Is(serr, errNoAlert) {
		t.Errorf("server: %v", serr)
	}
	return err
}

func TestParseKeyLog(t *testing.T) {
	random := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"CLIENT_RANDOM " + random + " " + strings.Repeat("01", 48) + "\n", true},
		{"", false},
		{"CLIENT_TRAFFIC_SECRET_0 " + random + " 01", false},
		{"CLIENT_RANDOM " + random[:10] + " 01", false},
		{"CLIENT_RANDOM " + random + " zz", false},
		{"CLIENT_RANDOM " + random, false},
	} {
		_, _, err := parseKeyLog(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parseKeyLog(%q) = %v", tc.in, err)
		}
	}
}
