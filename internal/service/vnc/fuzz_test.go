package vnc

import (
	"bytes"
	"context"
	"io"
	"testing"

	"decnet/internal/event"
)

// fuzzPersonas are the servers FuzzHandshake talks to, chosen by its first
// argument. The password lets a seed that answers testChallenge reach the
// desktop's message loop.
var fuzzPersonas = []Persona{
	{Product: TigerVNC, SecurityTypes: []string{"TLSVnc", "Plain", "None", "VncAuth"}, Password: "secret", Geometry: "64x48"},
	{Product: RealVNC, Password: "secret", Geometry: "64x48"},
	{Product: TightVNC, Password: "secret", Geometry: "64x48"},
	{Product: LibVNCServer, Password: "secret", Geometry: "64x48"},
}

// FuzzHandshake feeds arbitrary client bytes to a session, from the
// ProtocolVersion through security types, VeNCrypt, Plain, Tight and VNC
// authentication to the desktop's messages. The seeds in testdata include
// vncsnapshot's whole session (RFB 3.3, its response to testChallenge for
// "secret", ClientInit, SetPixelFormat, SetEncodings and an update request).
func FuzzHandshake(f *testing.F) {
	secret := vncResponse("secret", testChallenge)
	f.Add(uint8(0), cat("RFB 003.008\n", h("13 0002 00000100 00000005 00000006"), "adminsecret"))
	f.Add(uint8(0), cat("RFB 003.007\n", h("01 01 02 00 000d 00000000"), h("03 00 0000 0000 0040 0030")))
	f.Add(uint8(2), cat("RFB 003.008\n", h("10 00000002"), secret, h("01 05 00 0001 0001 06 000000 00000003"), "abc"))
	f.Add(uint8(3), cat("RFB 003.889\n", h("02"), secret, h("01 fb 00 0400 0300 01 00 00000000 00000000 04000300 00000000")))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		p := fuzzPersonas[int(which)%len(fuzzPersonas)]
		s, _ := newTestServer(t, &p)
		s.prod.failDelay = 0
		var out bytes.Buffer
		rw := struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(data), &out}
		s.serveConn(context.Background(), rw, map[string]string{event.FieldSrcIP: "192.0.2.1"})
		if !bytes.HasPrefix(out.Bytes(), []byte("RFB 003.00")) {
			t.Fatalf("the server's first bytes are %q", out.Bytes()[:min(out.Len(), 12)])
		}
	})
}
