package tlsstack

import (
	"crypto/tls"
	"net"
	"testing"

	"decnet/internal/tlscert"
)

// TestVersions: each stack completes exactly the versions its library
// does, a client at any other gets no session.
func TestVersions(t *testing.T) {
	cert, err := tlscert.Load("", "", tlscert.Snakeoil("web01"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cfg   *tls.Config
		works map[uint16]bool
	}{
		{"schannel 2019", Schannel2019(), map[uint16]bool{tls.VersionTLS10: true, tls.VersionTLS11: true, tls.VersionTLS12: true}},
		{"openssl 3", OpenSSL3(), map[uint16]bool{tls.VersionTLS12: true, tls.VersionTLS13: true}},
	} {
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
			srv := tc.cfg.Clone()
			srv.Certificates = []tls.Certificate{cert}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				a, err := ln.Accept()
				if err != nil {
					return
				}
				s := tls.Server(a, srv)
				s.Handshake()
				s.Close()
			}()
			b, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c := tls.Client(b, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			err = c.Handshake()
			c.Close()
			ln.Close()
			if (err == nil) != tc.works[v] {
				t.Errorf("%s, %s: handshake error %v", tc.name, tls.VersionName(v), err)
			}
		}
	}
}
