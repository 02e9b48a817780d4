package tlsrecord

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"errors"
	"hash"
	"testing"

	"decnet/internal/testutil"
)

// counting reads as 0, 1, 2, ... for known IVs.
type counting struct{ n byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

// The TLS 1.2 PRF vectors for SHA-256 and SHA-384 from the IETF TLS
// working group, and a TLS 1.0 master secret GnuTLS derived (the first
// of crypto/tls's testKeysFromTests, from `gnutls-cli -d 9`).
func TestPRF(t *testing.T) {
	for _, tc := range []struct {
		name                string
		version             uint16
		h                   func() hash.Hash
		secret, label, seed string
		want                string
	}{
		{"TLS1.2/SHA-256", tls.VersionTLS12, sha256.New, "9bbe436ba940f017b17652849a71db35", "test label", "a0ba9f936cda311827a6f796ffd5198c",
			`e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af
			0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66`},
		{"TLS1.2/SHA-384", tls.VersionTLS12, sha512.New384, "b80b733d6ceefcdc71566ea48e5567df", "test label", "cd665cf6a8447dd6ff8b27555edb7465",
			`7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0
			e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b
			5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73
			e56f`},
		{"TLS1.0", tls.VersionTLS10, nil,
			"0302cac83ad4b1db3b9ab49ad05957de2a504a634a386fc600889321e1a971f57479466830ac3e6f468e87f5385fa0c5", "master secret",
			"4ae66303755184a3917fcb44880605fcc53baa01912b22ed94473fc69cebd558 4ae663020ec16e6bb5130be918cfcafd4d765979a3136a5d50c593446e4e44db",
			"3d851bab6e5556e959a16bc36d66cfae32f672bfa9ecdef6096cbb1b23472df1da63dbbd9827606413221d149ed08ceb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := testutil.Hex(tc.want)
			if got := PRF(tc.version, tc.h, testutil.Hex(tc.secret), tc.label, testutil.Hex(tc.seed), len(want)); !bytes.Equal(got, want) {
				t.Errorf("PRF\n%x\nwant\n%x", got, want)
			}
		})
	}
}

// The key block of the same GnuTLS TLS 1.0 connection: its MAC keys and
// 16-byte keys.
func TestKeyBlock(t *testing.T) {
	s := Suite{KeyLen: 16, MAC: sha1.New}
	client, server := s.KeyBlock(tls.VersionTLS10,
		testutil.Hex("3d851bab6e5556e959a16bc36d66cfae32f672bfa9ecdef6096cbb1b23472df1da63dbbd9827606413221d149ed08ceb"),
		testutil.Hex("4ae66303755184a3917fcb44880605fcc53baa01912b22ed94473fc69cebd558"),
		testutil.Hex("4ae663020ec16e6bb5130be918cfcafd4d765979a3136a5d50c593446e4e44db"))
	for _, kv := range []struct {
		name      string
		got, want []byte
	}{
		{"client MAC", client.MAC, testutil.Hex("805aaa19b3d2c0a0759a4b6c9959890e08480119")},
		{"server MAC", server.MAC, testutil.Hex("2d22f9fe519c075c16448305ceee209fc24ad109")},
		{"client key", client.Key, testutil.Hex("d50b5771244f850cd8117a9ccafe2cf1")},
		{"server key", server.Key, testutil.Hex("e076e33206b30507a85c32855acd0919")},
	} {
		if !bytes.Equal(kv.got, kv.want) {
			t.Errorf("%s %x, want %x", kv.name, kv.got, kv.want)
		}
	}
	if len(client.IV) != 16 || len(server.IV) != 16 {
		t.Errorf("IVs of %d and %d bytes", len(client.IV), len(server.IV))
	}
	client, server = Suite{KeyLen: 32, PRF: sha512.New384}.KeyBlock(tls.VersionTLS12, make([]byte, 48), nil, nil)
	if len(client.MAC) != 0 || len(server.Key) != 32 || len(client.IV) != 4 || len(server.IV) != 4 {
		t.Errorf("GCM keys %+v %+v", client, server)
	}
}

// The protections the servers use: tlsanon's anonymous suites (HMAC-SHA1
// with or without encrypt-then-MAC, GCM) and the RDP server's
// (HMAC-SHA256 too).
var protections = []struct {
	name  string
	suite Suite
	etm   bool
}{
	{"AES-128-CBC-SHA1", Suite{KeyLen: 16, MAC: sha1.New, PRF: sha256.New}, false},
	{"AES-256-CBC-SHA1/etm", Suite{KeyLen: 32, MAC: sha1.New, PRF: sha256.New}, true},
	{"AES-128-CBC-SHA256", Suite{KeyLen: 16, MAC: sha256.New, PRF: sha256.New}, false},
	{"AES-128-CBC-SHA256/etm", Suite{KeyLen: 16, MAC: sha256.New, PRF: sha256.New}, true},
	{"AES-128-GCM", Suite{KeyLen: 16, PRF: sha256.New}, false},
	{"AES-256-GCM", Suite{KeyLen: 32, PRF: sha512.New384}, false},
}

// Every record protection opens what its twin sealed, and refuses a
// record with any byte changed.
func TestRecordProtection(t *testing.T) {
	for _, p := range protections {
		for _, version := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12} {
			if p.suite.MAC == nil && version < tls.VersionTLS12 {
				continue
			}
			t.Run(p.name+"/"+tls.VersionName(version), func(t *testing.T) {
				_, keys := p.suite.KeyBlock(version, bytes.Repeat([]byte{1}, 48), nil, nil)
				seal, err := p.suite.Protect(version, keys, p.etm)
				if err != nil {
					t.Fatal(err)
				}
				open, _ := p.suite.Protect(version, keys, p.etm)
				broken, _ := p.suite.Protect(version, keys, p.etm)
				for _, n := range []int{0, 1, 15, 16, 17, 100} {
					data := bytes.Repeat([]byte{'x'}, n)
					rec, err := seal.Seal(&counting{}, 23, data)
					if err != nil {
						t.Fatal(err)
					}
					if rec[0] != 23 || rec[1] != byte(version>>8) || rec[2] != byte(version) || int(rec[3])<<8|int(rec[4]) != len(rec)-5 {
						t.Fatalf("record header % x", rec[:5])
					}
					bad := append([]byte{}, rec[5:]...)
					bad[len(bad)/2] ^= 1
					if _, err := broken.Open(23, bad); !errors.Is(err, ErrBadRecordMAC) {
						t.Errorf("%d bytes, tampered: %v", n, err)
					}
					if _, err := broken.Open(22, rec[5:]); !errors.Is(err, ErrBadRecordMAC) {
						t.Errorf("%d bytes, other type: %v", n, err)
					}
					got, err := open.Open(23, rec[5:])
					if err != nil || !bytes.Equal(got, data) {
						t.Errorf("%d bytes: %q, %v", n, got, err)
					}
				}
			})
		}
	}
}

// A protection that takes over keys from another implementation starts at
// its sequence number and, at TLS 1.0, at its last ciphertext block.
func TestSetSequence(t *testing.T) {
	for _, p := range protections {
		t.Run(p.name, func(t *testing.T) {
			_, keys := p.suite.KeyBlock(tls.VersionTLS12, bytes.Repeat([]byte{1}, 48), nil, nil)
			version := uint16(tls.VersionTLS12)
			if p.suite.MAC != nil {
				version = tls.VersionTLS10
			}
			first, _ := p.suite.Protect(version, keys, p.etm)
			open, _ := p.suite.Protect(version, keys, p.etm)
			var last []byte
			for range 3 {
				rec, err := first.Seal(&counting{}, 23, []byte("earlier"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := open.Open(23, rec[5:]); err != nil {
					t.Fatal(err)
				}
				if p.etm {
					last = rec[len(rec)-p.suite.MAC().Size()-16 : len(rec)-p.suite.MAC().Size()]
				} else {
					last = rec[len(rec)-16:]
				}
			}
			if p.suite.MAC != nil {
				keys.IV = last
			}
			next, err := p.suite.Protect(version, keys, p.etm)
			if err != nil {
				t.Fatal(err)
			}
			next.SetSequence(3)
			rec, err := next.Seal(&counting{}, 21, []byte{2, 49})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := open.Open(21, rec[5:]); err != nil || !bytes.Equal(got, []byte{2, 49}) {
				t.Errorf("opened %x, %v", got, err)
			}
		})
	}
}

// Keys of the wrong size are refused rather than panicking later.
func TestProtectBadKeys(t *testing.T) {
	cbc := Suite{KeyLen: 16, MAC: sha1.New}
	gcm := Suite{KeyLen: 16}
	key := make([]byte, 16)
	for _, tc := range []struct {
		name    string
		suite   Suite
		version uint16
		keys    Keys
	}{
		{"short key", cbc, tls.VersionTLS12, Keys{Key: key[:15]}},
		{"TLS 1.0 without IV", cbc, tls.VersionTLS10, Keys{Key: key}},
		{"GCM nonce of 12", gcm, tls.VersionTLS12, Keys{Key: key, IV: make([]byte, 12)}},
	} {
		if _, err := tc.suite.Protect(tc.version, tc.keys, false); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
