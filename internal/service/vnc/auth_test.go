package vnc

import (
	"bytes"
	"crypto/des"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service/servicetest"
)

// parseJohn splits a John the Ripper vnc hash into challenge and response.
func parseJohn(t *testing.T, hash string) (challenge, response []byte) {
	t.Helper()
	rest, ok := strings.CutPrefix(hash, "$vnc$*")
	c, r, ok2 := strings.Cut(rest, "*")
	if !ok || !ok2 || len(c) != 32 || len(r) != 32 || strings.ToUpper(rest) != rest {
		t.Fatalf("%q is not $vnc$*<32 upper-case hex>*<32 upper-case hex>", hash)
	}
	challenge, err1 := hex.DecodeString(c)
	response, err2 := hex.DecodeString(r)
	if err1 != nil || err2 != nil {
		t.Fatalf("%q: bad hex", hash)
	}
	return challenge, response
}

// mirroredKey is VNC's DES key written out independently of vncKey: the
// first 8 bytes of key, zero-padded, each mirrored bit by bit.
func mirroredKey(key []byte) []byte {
	out := make([]byte, 8)
	for i := 0; i < len(key) && i < 8; i++ {
		for bit := 0; bit < 8; bit++ {
			if key[i]&(1<<bit) != 0 {
				out[i] |= 0x80 >> bit
			}
		}
	}
	return out
}

// desWithMirroredKey is the response to challenge for password: DES-ECB on
// both halves under the mirrored key.
func desWithMirroredKey(t *testing.T, password string, challenge []byte) []byte {
	t.Helper()
	c, err := des.NewCipher(mirroredKey([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	c.Encrypt(out, challenge[:8])
	c.Encrypt(out[8:], challenge[8:])
	return out
}

// John the Ripper's own test vectors for its vnc format (vnc_fmt_plug.c).
func TestVncResponseMatchesJohn(t *testing.T) {
	for _, tc := range []struct{ hash, password string }{
		{"$vnc$*2F7532B3EFD17EEA5DD3A0949FFDF1D8*0EB42D4D9AC1EF1B6EF6647B9594A621", "1234567890"}, // cut to 12345678
		{"$vnc$*7963F9BB7BA6A42A085763808156F570*475B10D05648E4110D77F03916106F98", "123"},
		{"$vnc$*84076F040550EEA9341967633B5F3855*DD96D21781A70DA49443279975404DD0", "pass1234"},
		{"$vnc$*0805B790B58E967F2A350A0C99DE3881*AECB26FAEAAA62D79636A5934BAC1078", "Password"},
		{"$vnc$*ADDC021F444F999B8E27144C0DCE7389*AFAF1BB57588784333962A124668A2C6", "openwall"},
		{"$vnc$*84076F040550EEA9341967633B5F3855*807575689582379F7D807F736DE9E434", "pass\xc2\xa3"},
	} {
		challenge, response := parseJohn(t, tc.hash)
		if got := vncResponse(tc.password, challenge); !bytes.Equal(got, response) {
			t.Errorf("%q: response %X, want %X", tc.password, got, response)
		}
		if got := johnHash(challenge, response); got != tc.hash {
			t.Errorf("johnHash = %q, want %q", got, tc.hash)
		}
	}
}

// The auth event carries the challenge and response, and a John hash
// that a known password cracks.
func TestAuthEvent(t *testing.T) {
	for _, tc := range []struct {
		name, password, sent string
		success              bool
	}{
		{"wrong password", "", "secret", false},
		{"right password", "secret", "secret", true},
		{"other password", "letmein", "secret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, ev := startServer(t, &Persona{Product: RealVNC, Password: tc.password})
			response := desWithMirroredKey(t, tc.sent, testChallenge)
			client := cat("RFB 003.008\n", h("02"), response)
			if tc.success {
				client = append(client, 1, 9) // ClientInit, then a message TigerVNC does not know
			}
			converse(t, addr, client)
			f := fieldsOf(t, ev, event.TypeAuth)
			want := map[string]string{
				event.FieldMethod: "VncAuth", "security_type": "VncAuth",
				"challenge": "000102030405060708090a0b0c0d0e0f", "response": hex.EncodeToString(response),
				event.FieldHash: johnHash(testChallenge, response), event.FieldHashFormat: "vnc (john)",
				event.FieldSuccess: map[bool]string{true: "true", false: "false"}[tc.success],
				event.FieldSrcIP:   "127.0.0.1",
			}
			for k, v := range want {
				if f[k] != v {
					t.Errorf("%s = %q, want %q", k, f[k], v)
				}
			}
			challenge, resp := parseJohn(t, f[event.FieldHash])
			if !bytes.Equal(desWithMirroredKey(t, tc.sent, challenge), resp) {
				t.Errorf("the hash's response is not DES(challenge) under %q", tc.sent)
			}
			for _, k := range []string{event.FieldSrcPort, event.FieldSession, "dst_port"} {
				if f[k] == "" {
					t.Errorf("no %s", k)
				}
			}
		})
	}
}

func TestSessionEvents(t *testing.T) {
	t.Run("version and choice", func(t *testing.T) {
		_, addr, ev := startServer(t, &Persona{Product: TigerVNC})
		converse(t, addr, cat("RFB 003.889\n", h("02"), wrongResponse))
		if f := fieldsOf(t, ev, typeVersion); f["client_version"] != "RFB 003.889" || f["negotiated"] != "3.8" {
			t.Errorf("version event %v", f)
		}
		if f := fieldsOf(t, ev, typeSecurityChoice); f["type"] != "2" || f["name"] != "VncAuth" {
			t.Errorf("security_choice event %v", f)
		}
	})
	t.Run("not rfb", func(t *testing.T) {
		_, addr, ev := startServer(t, &Persona{Product: TigerVNC})
		converse(t, addr, []byte("GET / HTTP/1.0\r\n\r\n"))
		if f := fieldsOf(t, ev, typeProtocolError); f["stage"] != "version" || f["data"] != `GET / HTTP/1` {
			t.Errorf("protocol_error event %v", f)
		}
		if n := len(ev.OfType(typeVersion)); n != 0 {
			t.Errorf("%d version events for a non-RFB client", n)
		}
	})
	t.Run("plain", func(t *testing.T) {
		_, addr, ev := startServer(t, &Persona{Product: TigerVNC, SecurityTypes: []string{"Plain"}})
		converse(t, addr, cat("RFB 003.008\n", h("13 0002 00000100 00000005 00000006"), "adminsecret"))
		f := fieldsOf(t, ev, event.TypeAuth)
		if f[event.FieldUsername] != "admin" || f[event.FieldPassword] != "secret" || f[event.FieldSuccess] != "false" || f[event.FieldMethod] != "Plain" {
			t.Errorf("auth event %v", f)
		}
		if f := ev.OfType(typeSecurityChoice); len(f) != 2 || f[1].Fields["subtype_name"] != "Plain" {
			t.Errorf("security_choice events %v", f)
		}
	})
	t.Run("desktop", func(t *testing.T) {
		_, addr, ev := startServer(t, &Persona{Product: TigerVNC, Password: "secret", Geometry: "32x16"})
		client := cat("RFB 003.008\n", h("02"), vncResponse("secret", testChallenge), h("00"),
			h("02 00 0003 00000010 00000002 ffffff21"),                             // SetEncodings: Tight, RRE, DesktopSize
			h("03 00 0000 0000 ffff ffff"),                                         // FramebufferUpdateRequest, full
			h("04 01 0000 00000069 04 00 0000 00000069"), h("04 01 0000 0000ff0d"), // "i", Return
			h("05 01 0010 0008"),
			h("06 000000 00000006"), "hello\xa3",
			h("09")) // unknown message type: TigerVNC closes
		got := converse(t, addr, client)
		// ServerInit, then one black RRE rectangle of the whole screen.
		update := h("00 00 0001 0000 0000 0020 0010 00000002 00000000 00000000")
		if !bytes.HasSuffix(got, update) {
			t.Errorf("server sent %x, want it to end with %x", got, update)
		}
		if f := fieldsOf(t, ev, typeClientInit); f["shared"] != "false" {
			t.Errorf("client_init %v", f)
		}
		if f := fieldsOf(t, ev, typeEncodings); f["encodings"] != "[16,2,-223]" || f["count"] != "3" {
			t.Errorf("client_encodings %v", f)
		}
		if f := fieldsOf(t, ev, typeClipboard); f["text"] != "hello£" || f["length"] != "6" {
			t.Errorf("clipboard %v", f)
		}
		want := map[string]string{"key_events": "2", "pointer_events": "1", "update_requests": "1", "typed": "i\n"}
		f := fieldsOf(t, ev, typeDesktopSession)
		for k, v := range want {
			if f[k] != v {
				t.Errorf("desktop_session %s = %q, want %q", k, f[k], v)
			}
		}
	})
	t.Run("raw update", func(t *testing.T) {
		_, addr, _ := startServer(t, &Persona{Product: TigerVNC, Password: "secret", Geometry: "4x2"})
		got := converse(t, addr, cat("RFB 003.008\n", h("02"), vncResponse("secret", testChallenge), h("01"),
			h("00 000000 10 10 00 01 001f 003f 001f 0b 05 00 000000"), // 16 bits per pixel
			h("03 00 0001 0000 ffff ffff"), h("09")))
		update := cat(h("00 00 0001 0001 0000 0003 0002 00000000"), make([]byte, 3*2*2))
		if !bytes.HasSuffix(got, update) {
			t.Errorf("server sent %x, want it to end with %x", got, update)
		}
	})
}

// clock is a settable time source for the blacklists.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Blacklist::isBlackmarked, step by step: the first four connections
// count, the fifth starts a 10 s block, each lapse lets one connection
// through and doubles the block.
func TestBlacklistUnit(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	b := newBlacklist(clk.now)
	steps := []struct {
		after   time.Duration
		refused bool
	}{
		{0, false}, {0, false}, {0, false}, {0, false}, {0, false}, // marks 2..5; the 5th starts the block
		{0, true}, {9 * time.Second, true},
		{time.Second, false}, // 10 s: let through, blocked for 20 s
		{0, true}, {19 * time.Second, true},
		{time.Second, false}, // 20 s later: let through, blocked for 40 s
		{39 * time.Second, true},
	}
	for i, st := range steps {
		clk.advance(st.after)
		if got := b.isBlackmarked("192.0.2.7"); got != st.refused {
			t.Fatalf("connection %d: refused %v, want %v", i+1, got, st.refused)
		}
	}
	if b.isBlackmarked("192.0.2.8") {
		t.Error("another address is refused")
	}
	b.clear("192.0.2.7")
	if b.isBlackmarked("192.0.2.7") {
		t.Error("refused after a login cleared it")
	}
}

// TigerVNC counts every connection, failed or abandoned, per address, and
// refuses with a 3.3 banner and "Too many security failures".
func TestBlacklistServer(t *testing.T) {
	refused := cat("RFB 003.003\n", h("00000000 0000001a"), "Too many security failures")
	failLogin := cat("RFB 003.008\n", h("02"), wrongResponse)
	abandon := func(t *testing.T, addr string) []byte {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		banner := make([]byte, 12)
		io.ReadFull(c, banner)
		return banner
	}
	for _, tc := range []struct {
		name    string
		attempt func(t *testing.T, addr string) []byte
	}{
		{"failed logins", func(t *testing.T, addr string) []byte { return converse(t, addr, failLogin) }},
		{"abandoned connections", abandon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := newTestServer(t, &Persona{Product: TigerVNC})
			clk := &clock{t: time.Now()}
			s.blacklist.now = clk.now
			addr := servicetest.ServeTCP(t, s, "127.0.0.1", Port)
			for i := range 5 {
				if got := tc.attempt(t, addr); !bytes.HasPrefix(got, []byte("RFB 003.008\n")) {
					t.Fatalf("attempt %d refused: %q", i+1, got)
				}
			}
			if got := converse(t, addr, failLogin); !bytes.Equal(got, refused) {
				t.Fatalf("6th connection got %q, want %q", got, refused)
			}
			if f := fieldsOf(t, ev, typeRefused); f["reason"] != "Too many security failures" {
				t.Errorf("refused event %v", f)
			}
			clk.advance(10 * time.Second)
			if got := converse(t, addr, failLogin); !bytes.HasPrefix(got, []byte("RFB 003.008\n")) {
				t.Fatalf("after the timeout: %q", got)
			}
			if got := converse(t, addr, failLogin); !bytes.Equal(got, refused) {
				t.Fatalf("after the second chance: %q, want %q", got, refused)
			}
		})
	}
	t.Run("login clears", func(t *testing.T) {
		s, _ := newTestServer(t, &Persona{Product: TigerVNC, Password: "secret"})
		clk := &clock{t: time.Now()}
		s.blacklist.now = clk.now
		addr := servicetest.ServeTCP(t, s, "127.0.0.1", Port)
		for range 4 {
			converse(t, addr, failLogin)
		}
		converse(t, addr, cat("RFB 003.008\n", h("02"), vncResponse("secret", testChallenge), h("01 09")))
		for i := range 5 {
			if got := converse(t, addr, failLogin); !bytes.HasPrefix(got, []byte("RFB 003.008\n")) {
				t.Fatalf("attempt %d after a login refused: %q", i+1, got)
			}
		}
	})
}

// TightVNC bans an address after 11 wrong passwords within 30 s of the
// first, telling it so after its version message.
func TestTightBan(t *testing.T) {
	s, _ := newTestServer(t, &Persona{Product: TightVNC})
	clk := &clock{t: time.Now()}
	s.bans.now = clk.now
	addr := servicetest.ServeTCP(t, s, "127.0.0.1", Port)
	fail := cat("RFB 003.008\n", h("02"), wrongResponse)
	for i := range 11 {
		if got := converse(t, addr, fail); !bytes.HasSuffix(got, []byte("Authentication failed from 127.0.0.1")) {
			t.Fatalf("attempt %d: %q", i+1, got)
		}
		clk.advance(time.Second)
	}
	if got, want := converse(t, addr, fail), cat("RFB 003.008\n", h("00 00000021"), "Your connection has been rejected"); !bytes.Equal(got, want) {
		t.Fatalf("banned 3.8 client got %q, want %q", got, want)
	}
	if got, want := converse(t, addr, []byte("RFB 003.003\n")), cat("RFB 003.008\n", h("00000000 00000021"), "Your connection has been rejected"); !bytes.Equal(got, want) {
		t.Fatalf("banned 3.3 client got %q, want %q", got, want)
	}
	clk.advance(19 * time.Second) // 30 s after the first failure
	if got := converse(t, addr, fail); !bytes.HasSuffix(got, []byte("Authentication failed from 127.0.0.1")) {
		t.Fatalf("after the ban: %q", got)
	}
}
