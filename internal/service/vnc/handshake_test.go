package vnc

import (
	"bytes"
	"decnet/internal/testutil"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// The server's bytes for each client, per product. TigerVNC's are the
// captures of Debian 12's Xtigervnc in ../shared/personas/real-products.md
// §16; the others follow the products' sources (see products).
var handshakeCases = []struct {
	name    string
	persona Persona
	client  []byte
	want    []byte
}{
	// TigerVNC, default security types: VeNCrypt (TLSVnc, VncAuth), VncAuth.
	{"tigervnc 3.8 wrong password", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("02 13 02"), testChallenge, h("000000010000001641757468656e7469636174696f6e206661696c757265"))},
	{"tigervnc 3.7 has no reason", Persona{Product: TigerVNC},
		cat("RFB 003.007\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("02 13 02"), testChallenge, h("00000001"))},
	{"tigervnc 3.3 server picks VncAuth", Persona{Product: TigerVNC},
		cat("RFB 003.003\n", wrongResponse),
		cat("RFB 003.008\n", h("00000002"), testChallenge, h("00000001"))},
	{"tigervnc apple 3.889 is 3.8", Persona{Product: TigerVNC},
		cat("RFB 003.889\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("02 13 02"), testChallenge, h("00000001 00000016"), "Authentication failure")},
	{"tigervnc ultravnc 3.6 is 3.3", Persona{Product: TigerVNC},
		cat("RFB 003.006\n", wrongResponse),
		cat("RFB 003.008\n", h("00000002"), testChallenge, h("00000001"))},
	{"tigervnc sscanf leniency", Persona{Product: TigerVNC},
		cat("RFB  3.8\n\x00\x00\x00", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("02 13 02"), testChallenge, h("00000001 00000016"), "Authentication failure")},
	{"tigervnc 4.0 refused", Persona{Product: TigerVNC},
		cat("RFB 004.000\n"),
		cat("RFB 003.008\n", h("00 00000031"), "Client needs protocol version 4.0, server has 3.8")},
	{"tigervnc 5.0 refused", Persona{Product: TigerVNC},
		cat("RFB 005.000\n"),
		cat("RFB 003.008\n", h("00 00000031"), "Client needs protocol version 5.0, server has 3.8")},
	{"tigervnc not rfb", Persona{Product: TigerVNC},
		cat("GET / HTTP/1.1\r\n"),
		cat("RFB 003.008\n")},
	{"tigervnc type not offered", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("01")),
		cat("RFB 003.008\n", h("02 13 02"))},
	{"tigervnc vencrypt vncauth", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("13"), h("00 02"), h("00000002"), wrongResponse),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000102 00000002"), testChallenge,
			h("00000001 00000016"), "Authentication failure")},
	{"tigervnc vencrypt 0.1", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("13"), h("00 01")),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("ff"), h("00000001 0000004f"), "Authentication failure: The client cannot support the server's VeNCrypt version")},
	{"tigervnc vencrypt 0.3", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("13"), h("00 03")),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("ff"), h("00000001 0000004b"), "Authentication failure: The client returned an unsupported VeNCrypt version")},
	{"tigervnc vencrypt bad subtype", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("13"), h("00 02"), h("00000100")),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000102 00000002"), h("00000001 00000032"), "Authentication failure: No valid VeNCrypt sub-type")},
	// A ClientHello that does not parse: GnuTLS's close_notify in clear,
	// then the failure in clear, as Xtigervnc answered this very input.
	{"tigervnc vencrypt tlsvnc bad clienthello", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("13"), h("00 02"), h("00000102"), h("16 0301 0004 01000000")),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000102 00000002"), h("01"),
			h("15 0303 0002 01 00"), h("00000001 0000002c"), "Authentication failure: TLS Handshake failed")},
	{"tigervnc vencrypt tlsvnc not tls", Persona{Product: TigerVNC},
		cat("RFB 003.008\n", h("13"), h("00 02"), h("00000102"), "GET / HTTP/1.0\r\n\r\n"),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000102 00000002"), h("01"),
			h("15 0303 0002 01 00"), h("00000001 0000002c"), "Authentication failure: TLS Handshake failed")},
	// No X509Cert or X509Key: Xtigervnc refuses the subtype with 00.
	{"tigervnc vencrypt x509vnc", Persona{Product: TigerVNC, SecurityTypes: []string{"X509Vnc", "VncAuth"}},
		cat("RFB 003.008\n", h("13"), h("00 02"), h("00000105")),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000105 00000002"), h("00"),
			h("00000001 0000003d"), "Authentication failure: Error loading X509 certificate or key")},
	{"tigervnc plain", Persona{Product: TigerVNC, SecurityTypes: []string{"Plain", "VncAuth"}},
		cat("RFB 003.008\n", h("13"), h("00 02"), h("00000100"), h("00000005 00000006"), "adminsecret"),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000100 00000002"), h("00000001 00000034"), "Authentication failure: invalid password or username")},
	{"tigervnc plain too long username", Persona{Product: TigerVNC, SecurityTypes: []string{"Plain", "VncAuth"}},
		cat("RFB 003.008\n", h("13"), h("00 02"), h("00000100"), h("00001000 00000006")),
		cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000100 00000002"), h("00000001 00000029"), "Authentication failure: Too long username")},
	{"tigervnc vncauth only", Persona{Product: TigerVNC, SecurityTypes: []string{"VncAuth"}},
		cat("RFB 003.008\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("01 02"), testChallenge, h("00000001 00000016"), "Authentication failure")},
	{"tigervnc tls only refuses 3.3", Persona{Product: TigerVNC, SecurityTypes: []string{"TLSVnc"}},
		cat("RFB 003.003\n"),
		cat("RFB 003.008\n", h("00000000 00000029"), "No supported security type for 3.3 client")},
	// RealVNC 4.1: VncAuth only, the failure at once.
	{"realvnc 3.8 wrong password", Persona{Product: RealVNC},
		cat("RFB 003.008\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("01 02"), testChallenge, h("00000001 00000016"), "Authentication failure")},
	{"realvnc 3.3", Persona{Product: RealVNC},
		cat("RFB 003.003\n", wrongResponse),
		cat("RFB 003.008\n", h("00000002"), testChallenge, h("00000001"))},
	{"realvnc 4.0 refused", Persona{Product: RealVNC},
		cat("RFB 004.000\n"),
		cat("RFB 003.008\n", h("00 00000038"), "Error: client needs protocol version 4.0, server has 3.8")},

	// TightVNC 2.x: VncAuth and Tight; the failure names the address.
	{"tightvnc 3.8 wrong password", Persona{Product: TightVNC},
		cat("RFB 003.008\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("02 02 10"), testChallenge, h("00000001 00000024"), "Authentication failed from 127.0.0.1")},
	{"tightvnc 3.7 closes without a result", Persona{Product: TightVNC},
		cat("RFB 003.007\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("02 02 10"), testChallenge)},
	{"tightvnc 3.3", Persona{Product: TightVNC},
		cat("RFB 003.003\n", wrongResponse),
		cat("RFB 003.008\n", h("00000002"), testChallenge)},
	{"tightvnc 3.889", Persona{Product: TightVNC},
		cat("RFB 003.889\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("02 02 10"), testChallenge, h("00000001 00000024"), "Authentication failed from 127.0.0.1")},
	{"tightvnc tight security", Persona{Product: TightVNC},
		cat("RFB 003.008\n", h("10"), h("00000002"), wrongResponse),
		cat("RFB 003.008\n", h("02 02 10"), h("00000000 00000001 00000002"), "STDVVNCAUTH_", testChallenge,
			h("00000001 00000024"), "Authentication failed from 127.0.0.1")},
	{"tightvnc types do not match", Persona{Product: TightVNC},
		cat("RFB 003.008\n", h("01")),
		cat("RFB 003.008\n", h("02 02 10"))},
	{"tightvnc 4.0 closes", Persona{Product: TightVNC},
		cat("RFB 004.000\n"),
		cat("RFB 003.008\n")},
	{"tightvnc strict format", Persona{Product: TightVNC},
		cat("RFB  3.8\n\x00\x00\x00"),
		cat("RFB 003.008\n")},

	// LibVNCServer: VncAuth only; 3.8 clients hear "password check failed!".
	{"libvncserver 3.8 wrong password", Persona{Product: LibVNCServer},
		cat("RFB 003.008\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("01 02"), testChallenge, h("00000001 00000016"), "password check failed!")},
	{"libvncserver 3.7", Persona{Product: LibVNCServer},
		cat("RFB 003.007\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("01 02"), testChallenge, h("00000001"))},
	{"libvncserver 3.3", Persona{Product: LibVNCServer},
		cat("RFB 003.003\n", wrongResponse),
		cat("RFB 003.008\n", h("00000002"), testChallenge, h("00000001"))},
	{"libvncserver 3.5 is 3.3", Persona{Product: LibVNCServer},
		cat("RFB 003.005\n", wrongResponse),
		cat("RFB 003.008\n", h("00000002"), testChallenge, h("00000001"))},
	{"libvncserver 3.889 gets the reason", Persona{Product: LibVNCServer},
		cat("RFB 003.889\n", h("02"), wrongResponse),
		cat("RFB 003.008\n", h("01 02"), testChallenge, h("00000001 00000016"), "password check failed!")},
	{"libvncserver 4.0 closes", Persona{Product: LibVNCServer},
		cat("RFB 004.000\n"),
		cat("RFB 003.008\n")},
	{"libvncserver wrong type closes", Persona{Product: LibVNCServer},
		cat("RFB 003.008\n", h("01")),
		cat("RFB 003.008\n", h("01 02"))},
}

func TestHandshakeGolden(t *testing.T) {
	for _, tc := range handshakeCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.persona
			_, addr, _ := startServer(t, &p)
			if got := converse(t, addr, tc.client); !bytes.Equal(got, tc.want) {
				t.Fatalf("server sent\n%x (%q)\nwant\n%x (%q)", got, got, tc.want, tc.want)
			}
		})
	}
}

// serverInit is ServerInit of a 1024x768 TigerVNC named root@web01.
var serverInit = cat(h("0400 0300 20 18 00 01 00ff 00ff 00ff 10 08 00 000000 0000000a"), "root@web01")

// A login keeps the connection open for the client's messages.
func TestLoginGolden(t *testing.T) {
	secret := vncResponse("secret", testChallenge)
	for _, tc := range []struct {
		name    string
		persona Persona
		client  []byte
		want    []byte
	}{
		{"tigervnc password 3.8", Persona{Product: TigerVNC, Password: "secret"},
			cat("RFB 003.008\n", h("02"), secret, h("01")),
			cat("RFB 003.008\n", h("02 13 02"), testChallenge, h("00000000"), serverInit)},
		{"tigervnc password 3.3", Persona{Product: TigerVNC, Password: "secret"},
			cat("RFB 003.003\n", secret, h("00")),
			cat("RFB 003.008\n", h("00000002"), testChallenge, h("00000000"), serverInit)},
		{"tigervnc password over vencrypt", Persona{Product: TigerVNC, Password: "secret"},
			cat("RFB 003.008\n", h("13 0002 00000002"), secret, h("01")),
			cat("RFB 003.008\n", h("02 13 02"), h("00 02"), h("00 02 00000102 00000002"), testChallenge, h("00000000"), serverInit)},
		{"only 8 bytes of a password count", Persona{Product: TigerVNC, Password: "secret12345"},
			cat("RFB 003.008\n", h("02"), vncResponse("secret12", testChallenge), h("01")),
			cat("RFB 003.008\n", h("02 13 02"), testChallenge, h("00000000"), serverInit)},
		{"tigervnc none 3.8", Persona{Product: TigerVNC, SecurityTypes: []string{"None"}},
			cat("RFB 003.008\n", h("01"), h("01")),
			cat("RFB 003.008\n", h("01 01"), h("00000000"), serverInit)},
		{"tigervnc none 3.7 has no result", Persona{Product: TigerVNC, SecurityTypes: []string{"None"}},
			cat("RFB 003.007\n", h("01"), h("01")),
			cat("RFB 003.008\n", h("01 01"), serverInit)},
		{"tigervnc none 3.3 has no result", Persona{Product: TigerVNC, SecurityTypes: []string{"None"}},
			cat("RFB 003.003\n", h("01")),
			cat("RFB 003.008\n", h("00000001"), serverInit)},
		{"realvnc", Persona{Product: RealVNC, Password: "secret"},
			cat("RFB 003.008\n", h("02"), secret, h("01")),
			cat("RFB 003.008\n", h("01 02"), testChallenge, h("00000000"),
				h("0400 0300 20 18 00 01 00ff 00ff 00ff 10 08 00 000000 0000000e"), "web01:0 (root)")},
		{"tightvnc tight", Persona{Product: TightVNC, Password: "secret", Geometry: "1280x800"},
			cat("RFB 003.008\n", h("10 00000002"), secret, h("00")),
			cat("RFB 003.008\n", h("02 02 10"), h("00000000 00000001 00000002"), "STDVVNCAUTH_", testChallenge, h("00000000"),
				h("0500 0320 20 18 00 01 00ff 00ff 00ff 10 08 00 000000 00000005"), "WEB01", h("0000 0000 0000 0000"))},
		{"tightvnc 3.3", Persona{Product: TightVNC, Password: "secret"},
			cat("RFB 003.003\n", secret, h("01")),
			cat("RFB 003.008\n", h("00000002"), testChallenge, h("00000000"),
				h("0780 0438 20 18 00 01 00ff 00ff 00ff 10 08 00 000000 00000005"), "WEB01")},
		{"libvncserver", Persona{Product: LibVNCServer, Password: "secret", DesktopName: "x11"},
			cat("RFB 003.008\n", h("02"), secret, h("01")),
			cat("RFB 003.008\n", h("01 02"), testChallenge, h("00000000"),
				h("0400 0300 20 18 00 01 00ff 00ff 00ff 00 08 10 000000 00000003"), "x11")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.persona
			_, addr, _ := startServer(t, &p)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write(tc.client)
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			got := make([]byte, len(tc.want))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("server sent\n%x (%q), %v\nwant\n%x (%q)", got, got, err, tc.want, tc.want)
			}
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("after ServerInit: %d bytes, %v; want the server to wait", n, err)
			}
		})
	}
}

// TigerVNC holds a failure back for 100 ms; the others answer at once.
func TestFailureDelay(t *testing.T) {
	for _, tc := range []struct {
		product  string
		min, max time.Duration
	}{{TigerVNC, 100 * time.Millisecond, time.Second}, {RealVNC, 0, 80 * time.Millisecond}, {LibVNCServer, 0, 80 * time.Millisecond}} {
		t.Run(tc.product, func(t *testing.T) {
			_, addr, _ := startServer(t, &Persona{Product: tc.product})
			c := testutil.Dial(t, addr, 3*time.Second)
			defer c.Close()
			io.ReadFull(c, make([]byte, 12))
			c.Write([]byte("RFB 003.008\n"))
			n := make([]byte, 1)
			io.ReadFull(c, n)
			io.ReadFull(c, make([]byte, int(n[0])))
			c.Write([]byte{secVncAuth})
			io.ReadFull(c, make([]byte, challengeLen))
			c.Write(wrongResponse)
			start := time.Now()
			if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < tc.min || d > tc.max {
				t.Errorf("SecurityResult after %v, want %v to %v", d, tc.min, tc.max)
			}
		})
	}
}

// During TigerVNC's failure delay the server drops what the client sends;
// a client that closes in that time gets no SecurityResult, as Xtigervnc
// answered this very exchange.
func TestFailDelayClientGone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []byte
		close bool
		want  []byte
	}{
		{"junk", []byte("junk"), false, cat(h("00000001 00000016"), "Authentication failure")},
		{"closed", nil, true, nil},
		{"junk and closed", []byte("junk"), true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, _ := startServer(t, &Persona{Product: TigerVNC})
			c := testutil.Dial(t, addr, 5*time.Second)
			defer c.Close()
			head := cat("RFB 003.008\n", h("02 13 02"), testChallenge)
			if _, err := c.Write(cat("RFB 003.008\n", h("02"), wrongResponse, tc.extra)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, make([]byte, len(head))); err != nil {
				t.Fatal(err)
			}
			if tc.close {
				c.(*net.TCPConn).CloseWrite()
			}
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("after the challenge: %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
