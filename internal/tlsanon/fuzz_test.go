package tlsanon

import (
	"bytes"
	"testing"
)

// FuzzHandshake feeds arbitrary client bytes to the server: the record
// layer, ClientHello parsing, the suite and group choice, the TLS 1.3
// refusal, ClientKeyExchange and the encrypted Finished. The seeds in
// testdata are ClientHellos of TigerVNC's viewer and of gnutls-cli with
// several priorities, and the viewer's whole first flight.
func FuzzHandshake(f *testing.F) {
	f.Add(viewerHello)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		c := Server(rw{bytes.NewReader(data), &out}, &counting{})
		if err := c.Handshake(); err == nil {
			t.Fatal("a handshake completed without the server's keys")
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		// Every record the server sends is a TLS 1.0 to 1.2 record.
		for b := out.Bytes(); len(b) > 0; {
			if len(b) < 5 || b[1] != 3 || b[2] < 1 || b[2] > 3 || b[0] < recordChangeCipherSpec || b[0] > recordApplicationData {
				t.Fatalf("server sent %x", out.Bytes())
			}
			n := 5 + (int(b[3])<<8 | int(b[4]))
			if n > len(b) {
				t.Fatalf("server sent a short record: %x", out.Bytes())
			}
			b = b[n:]
		}
	})
}
