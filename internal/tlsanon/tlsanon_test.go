package tlsanon

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"decnet/internal/testutil"
)

// viewerHello is TigerVNC 1.12's viewer's ClientHello record (GnuTLS
// 3.7.9, anonymous credentials only), captured on Debian 12.
var viewerHello = testutil.Hex(`16030100c5010000c10303064406221b5fa4789b35f80788e8e4bbb25287da4f529ff298713aa678ff01c9202b54dbb11437
340e0a317b3b63c711204006f94f2aeccc233b131c4df6e5fb3900141302130313011304c019c01800a7003a00a600340100
0064000a00160014001700180019001d001e01000101010201030104000b00020100000d0022002004010809080404030807
0501080a0805050308080601080b0806060302010203001600000017000000230000ff01000100002d0003020100001c0002
4001`)

// counting reads as 0, 1, 2, ... so that the server's random and session
// ID are known.
type counting struct{ n byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

// rw is a transport made of the client's bytes and a buffer for the
// server's.
type rw struct {
	io.Reader
	*bytes.Buffer
}

func (r rw) Read(p []byte) (int, error) { return r.Reader.Read(p) }

// The server's first flight to the viewer is Xtigervnc's: the ServerHello
// with GnuTLS's extensions in its order and the TLS 1.3 downgrade
// sentinel, an unsigned P-256 ServerKeyExchange and ServerHelloDone, each
// in its own record.
func TestFirstFlightGolden(t *testing.T) {
	var out bytes.Buffer
	c := Server(rw{bytes.NewReader(viewerHello), &out}, &counting{})
	if err := c.Handshake(); !errors.Is(err, io.EOF) {
		t.Fatalf("handshake: %v, want EOF after the first flight", err)
	}
	var random, sid []byte
	for i := range 32 {
		random = append(random, byte(i))
		sid = append(sid, byte(32+i))
	}
	copy(random[24:], "DOWNGRD\x01")
	want := append(testutil.Hex("16 0303 0065 02 000061 0303"), random...)
	want = append(want, 0x20)
	want = append(want, sid...)
	want = append(want, testutil.Hex("c019 00 0019 000b 0002 0100 0016 0000 0017 0000 ff01 0001 00 001c 0002 4000")...)
	want = append(want, testutil.Hex("16 0303 0049 0c 000045 03 0017 41 04")...)
	got := out.Bytes()
	if !bytes.HasPrefix(got, want) {
		t.Fatalf("first flight\n%x\nwant prefix\n%x", got, want)
	}
	if tail := got[len(want)+64:]; !bytes.Equal(tail, testutil.Hex("16 0303 0004 0e 000000")) {
		t.Errorf("after the key: %x, want ServerHelloDone", tail)
	}
	if st := c.State(); st != (State{"TLS1.2", "TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "secp256r1"}) {
		t.Errorf("state %+v", st)
	}
}

// hello builds a ClientHello body from hex parts.
func hello(suites, exts string) []byte {
	b := append(testutil.Hex("0303"), make([]byte, 32)...)
	b = append(b, 0)
	s := testutil.Hex(suites)
	b = append(b, byte(len(s)>>8), byte(len(s)))
	b = append(b, s...)
	b = append(b, 1, 0)
	if exts != "-" {
		e := testutil.Hex(exts)
		b = append(b, byte(len(e)>>8), byte(len(e)))
		b = append(b, e...)
	}
	return b
}

func TestParseClientHello(t *testing.T) {
	viewer, err := parseClientHello(viewerHello[9:])
	if err != nil {
		t.Fatal(err)
	}
	if !viewer.etm || !viewer.ems || !viewer.renegotiation || !viewer.pointFormats || viewer.recordLimit != 16385 ||
		len(viewer.sessionID) != 32 || len(viewer.suites) != 10 || len(viewer.groups) != 10 || viewer.offersTLS13() {
		t.Errorf("viewer's ClientHello read as %+v", viewer)
	}
	for _, tc := range []struct {
		name string
		body []byte
		ok   bool
	}{
		{"no extensions", hello("c019", "-"), true},
		{"empty extensions", hello("c019", ""), true},
		{"unknown extension", hello("c019", "fafa 0001 00"), true},
		{"short", hello("c019", "-")[:40], false},
		{"odd suites", hello("c0", "-"), false},
		{"no suites", hello("", "-"), false},
		{"no null compression", append(hello("c019", "-")[:38], 1, 1), false},
		{"trailing byte", append(hello("c019", ""), 0), false},
		{"extension overruns", hello("c019", "0017 0005 00"), false},
		{"repeated extension", hello("c019", "0017 0000 0017 0000"), false},
		{"extra byte in an extension", hello("c019", "0017 0001 00"), false},
		{"odd groups", hello("c019", "000a 0003 0001 00"), false},
		{"empty point formats", hello("c019", "000b 0001 00"), false},
		{"renegotiating", hello("c019", "ff01 0002 01 00"), false},
		{"record limit below 64", hello("c019", "001c 0002 003f"), false},
		{"key share overruns", hello("c019", "0033 0006 0004 0017 0005"), false},
		{"long session ID", append(append(testutil.Hex("0303"), make([]byte, 32)...), 33), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseClientHello(tc.body)
			if (err == nil) != tc.ok {
				t.Errorf("parse: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// GnuTLS's server picks by the client's order, fails on a certificate
// suite met first, and skips a suite with no group in common.
func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		name, suites, exts string
		suite, group       uint16
	}{
		{"viewer", "1302 c019 c018 00a7", "000a 0006 0004 0017 001d", 0xc019, groupP256},
		{"client's group order", "c019", "000a 0006 0004 001d 0017", 0xc019, groupX25519},
		{"no supported_groups", "c019", "-", 0xc019, groupP256},
		{"DH first", "003a c019", "000a 0006 0004 0017 0100", 0x003a, groupFFDHE2048},
		{"DH without FFDHE is skipped", "00a7 c018", "000a 0004 0002 0017", 0xc018, groupP256},
		{"certificate suite first", "c02f c019", "-", 0, 0},
		{"x448 first", "c019", "000a 0004 0002 001e", 0, 0},
		{"ffdhe3072 first", "0034", "000a 0006 0004 0101 0100", 0, 0},
		{"DH without supported_groups", "0034", "-", 0, 0},
		{"nothing anonymous", "1301 0a0a", "-", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := parseClientHello(hello(tc.suites, tc.exts))
			if err != nil {
				t.Fatal(err)
			}
			s, g := choose(ch, versionTLS12)
			var id uint16
			if s != nil {
				id = s.id
			}
			if id != tc.suite || (s != nil && g != tc.group) {
				t.Errorf("chose %#04x group %d, want %#04x group %d", id, g, tc.suite, tc.group)
			}
		})
	}
}

// Below TLS 1.3 the client's highest version of 1.0 to 1.2 is taken, from
// supported_versions when it is there.
func TestVersion12(t *testing.T) {
	for _, tc := range []struct {
		name, legacy, exts string
		want               uint16
	}{
		{"TLS 1.2", "0303", "-", versionTLS12},
		{"TLS 1.1", "0302", "-", versionTLS11},
		{"TLS 1.0", "0301", "-", versionTLS10},
		{"SSL 3", "0300", "-", 0},
		{"higher legacy version", "0304", "-", versionTLS12},
		{"supported_versions", "0303", "002b 0005 04 0302 0301", versionTLS11},
		{"supported_versions without ours", "0303", "002b 0003 02 0300", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := hello("c019", tc.exts)
			copy(body, testutil.Hex(tc.legacy))
			ch, err := parseClientHello(body)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := ch.version12()
			if !ok {
				v = 0
			}
			if v != tc.want {
				t.Errorf("version %#04x, want %#04x", v, tc.want)
			}
		})
	}
}

// Below TLS 1.2 GnuTLS skips the AEAD suites, its certificate ones too.
func TestChooseTLS11(t *testing.T) {
	for _, tc := range []struct {
		name, suites string
		want         uint16
	}{
		{"GCM skipped", "00a7 0034", 0x0034},
		{"AEAD certificate suite skipped", "c02f c019", 0xc019},
		{"CBC certificate suite fails", "c013 c019", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := parseClientHello(hello(tc.suites, "000a 0006 0004 0017 0100"))
			if err != nil {
				t.Fatal(err)
			}
			var id uint16
			if s, _ := choose(ch, versionTLS11); s != nil {
				id = s.id
			}
			if id != tc.want {
				t.Errorf("chose %#04x, want %#04x", id, tc.want)
			}
		})
	}
}
