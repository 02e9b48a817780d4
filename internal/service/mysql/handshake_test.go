package mysql

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// mariadbLogin is the mariadb 10.11 client's HandshakeResponse41 for root
// with a password, captured on the wire.
const mariadbLogin = `84a2bf00 00000010 21 000000000000000000000000000000000000001d000000
	726f6f7400 14 204ea5591056e05e730da57460e61dee1eed70e6
	6d7973716c5f6e61746976655f70617373776f726400
	81 035f6f73054c696e75780c5f636c69656e745f6e616d650a6c69626d617269616462045f7069640532303337390f5f636c69656e745f76657273696f6e06332e332e3230095f706c6174666f726d067838365f36340c70726f6772616d5f6e616d65056d7973716c0c5f7365727665725f686f73740b3132372e302e3130312e31`

// realGreeting is Debian 12's MariaDB greeting (real-products.md §6).
const realGreeting = `640000000a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310003000000247b666a622f617b00fef72d0200ff81150000000000001d000000656a63316b475f294b7d5571006d7973716c5f6e61746976655f70617373776f726400`

// saltOf takes the connection id and salt out of a MariaDB greeting packet.
func saltOf(t *testing.T, pkt []byte) (uint32, []byte) {
	t.Helper()
	r := &reader{b: pkt[5:]}
	r.nulStr()
	id := r.u32()
	s1 := r.take(8)
	r.take(1 + 2 + 1 + 2 + 2 + 1 + 10)
	s2 := r.take(12)
	if r.err != nil {
		t.Fatalf("greeting %x: %v", pkt, r.err)
	}
	return id, append(append([]byte{}, s1...), s2...)
}

// TestGreetingGolden checks the greeting byte for byte against the real
// server's, for the same connection id and salt, and MySQL 8's against
// its golden file.
func TestGreetingGolden(t *testing.T) {
	want := testutil.Hex(realGreeting)
	id, salt := saltOf(t, want)
	got := appendPacket(nil, 0, products[MariaDB].greeting("10.11.19-MariaDB-0+deb12u1", id, salt, false))
	if !bytes.Equal(got, want) {
		t.Errorf("MariaDB greeting\n got %x\nwant %x", got, want)
	}
	golden := filepath.Join("testdata", "greeting-mysql8.hex")
	got = appendPacket(nil, 0, products[MySQL].greeting("8.0.44", id, salt, true))
	file, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, testutil.Hex(string(file))) {
		t.Errorf("MySQL greeting\n got %x\nwant %s", got, file)
	}
}

// realAccounts reads the real server's account list as root over its
// Unix socket.
func realAccounts(t *testing.T) []account {
	t.Helper()
	out, rc := run(t, "mariadb", "-N", "-B", "-u", "root", "-e", "select user, host, priv from mysql.global_priv")
	if rc != 0 {
		testutil.Skip(t, "cannot read the real server's accounts: "+out)
	}
	var list []account
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) == 3 {
			list = append(list, account{user: f[0], host: f[1], socket: strings.Contains(f[2], "unix_socket"), locked: strings.Contains(f[2], `"account_locked":true`)})
		}
	}
	sortAccounts(list)
	return list
}

// TestDifferentialMariaDB sends the mariadb client's login, under many
// user names, with and without a password, to the real MariaDB and to
// the honeypot given the real server's accounts, and compares the
// greetings (but for id and salt) and the refusals byte for byte.
func TestDifferentialMariaDB(t *testing.T) {
	login := testutil.Hex(mariadbLogin)
	scramble := login[38:58]
	rest := login[58:] // plugin name and attributes
	s, _ := newTestServer(t, nil)
	s.acl = realAccounts(t)
	addr := servicetest.ServeTCP(t, s, testIP(1), Port)
	names := []string{"nosuch", "root", "mysql", "mariadb.sys", "ab", "x'y", "", "admin", "sa", "postgres", strings.Repeat("a", 80), strings.Repeat("a", 99), strings.Repeat("a", 128), strings.Repeat("a", 150), "a\xff\xfeb", "Root "}
	for _, name := range names {
		for _, pw := range []bool{true, false} {
			p := append(append([]byte{}, login[:32]...), name+"\x00"...)
			if pw {
				p = append(append(p, 20), scramble...)
			} else {
				p = append(p, 0)
			}
			p = append(p, rest...)
			theirs := exchange(t, "127.0.0.1:3306", p)
			ours := exchange(t, addr, p)
			if !bytes.Equal(theirs.greetingMasked, ours.greetingMasked) {
				t.Errorf("greeting\n real %x\n ours %x", theirs.greetingMasked, ours.greetingMasked)
			}
			if !bytes.Equal(theirs.answer, ours.answer) {
				t.Errorf("user %q password %v:\n real %q\n ours %q", name, pw, theirs.answer, ours.answer)
			}
		}
	}
	// An SSLRequest to a server without SSL.
	ssl := append([]byte{login[0], login[1] | capSSL>>8}, login[2:32]...)
	if theirs, ours := exchange(t, "127.0.0.1:3306", ssl), exchange(t, addr, ssl); !bytes.Equal(theirs.answer, ours.answer) {
		t.Errorf("SSL request:\n real %q\n ours %q", theirs.answer, ours.answer)
	}
}

// exchanged is a server's greeting, with its connection id and salt
// zeroed, and its answer to a login.
type exchanged struct{ greetingMasked, answer []byte }

// exchange sends login to the server at addr from 127.0.0.1.
func exchange(t *testing.T, addr string, login []byte) exchanged {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		testutil.Skip(t, "no server at "+addr)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, g, err := readPacket(c)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(appendPacket(nil, 1, login))
	answer, _ := io.ReadAll(c)
	v := bytes.IndexByte(g, 0)
	for i := v + 1; i < v+13; i++ { // connection id and the salt's first part
		g[i] = 0
	}
	for i := len(g) - 35; i < len(g)-23; i++ { // the salt's second part
		g[i] = 0
	}
	return exchanged{g, answer}
}

// TestParseResponse checks the fields and the bounds of the login parser.
func TestParseResponse(t *testing.T) {
	login := testutil.Hex(mariadbLogin)
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
		check   func(t *testing.T, r *response)
	}{
		{name: "mariadb client", in: login, check: func(t *testing.T, r *response) {
			if r.user != "root" || len(r.auth) != 20 || r.plugin != nativePlugin || r.extCaps != 0x1d || r.attrs["program_name"] != "mysql" || r.attrs["_client_version"] != "3.3.20" || len(r.attrKeys) != 7 || r.attrKeys[0] != "_os" {
				t.Errorf("%+v", r)
			}
		}},
		{name: "ssl request", in: login[:sslRequestLen], wantErr: true}, // the mariadb client's flags do not ask for SSL
		{name: "ssl request with SSL", in: append([]byte{0x84, 0xaa}, login[2:sslRequestLen]...), check: func(t *testing.T, r *response) {
			if !r.ssl || r.user != "" {
				t.Errorf("%+v", r)
			}
		}},
		{name: "pre-4.1", in: append([]byte{0x84, 0xa0}, login[2:]...), wantErr: true},
		{name: "no auth", in: login[:36], wantErr: true},
		{name: "auth past the end", in: login[:40], wantErr: true},
		{name: "attributes past the end", in: login[:len(login)-1], check: func(t *testing.T, r *response) {
			// The attribute block's length runs past the packet: dropped.
			if r.attrs != nil {
				t.Errorf("attrs %v", r.attrs)
			}
		}},
		{name: "8-byte length", in: append(append(append([]byte{}, login[:32]...), "u\x00\xfe\xff\xff\xff\xff\xff\xff\xff\xff"...), 0), wantErr: true},
		{name: "short", in: login[:20], wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseResponse(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, errBadHandshake) {
				t.Errorf("err %v is not errBadHandshake", err)
			}
			if tc.check != nil && r != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestAttrsBounded checks that a flood of attributes is clipped.
func TestAttrsBounded(t *testing.T) {
	var attrs []byte
	for i := 0; i < 200; i++ {
		attrs = appendLenencStr(attrs, string(rune('a'+i%26))+string(rune('a'+i/26))+strings.Repeat("k", 300))
		attrs = appendLenencStr(attrs, strings.Repeat("v", 1000))
	}
	p := append(testutil.Hex(mariadbLogin)[:32:32], "u\x00\x00"+nativePlugin+"\x00"...)
	p = append(appendLenenc(p, uint64(len(attrs))), attrs...)
	r, err := parseResponse(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.attrs) != maxAttrs {
		t.Errorf("%d attributes kept, want %d", len(r.attrs), maxAttrs)
	}
	for k, v := range r.attrs {
		if len(k) != maxAttrLen || len(v) != maxAttrLen {
			t.Fatalf("attribute %d=%d bytes", len(k), len(v))
		}
	}
}

// TestSaltAlphabet checks that salts have the product's alphabet.
func TestSaltAlphabet(t *testing.T) {
	for name, pr := range products {
		for i := 0; i < 50; i++ {
			salt, err := pr.newSalt(randReader{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range salt {
				if name == MariaDB && (c < 33 || c > 126) || name == MySQL && (c == 0 || c == '$' || c > 127) {
					t.Fatalf("%s salt %q", name, salt)
				}
			}
		}
	}
}

// randReader yields every byte value in turn.
type randReader struct{}

var randNext byte

func (randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = randNext
		randNext++
	}
	return len(p), nil
}

// TestHashcatLine checks the line against a known mysql_native_password
// vector: the scramble of "password" for this salt.
func TestHashcatLine(t *testing.T) {
	salt := []byte("01234567890123456789")
	line := hashcatNative(salt, nativeScramble(salt, "password"))
	if !strings.HasPrefix(line, "$mysqlna$3031323334353637383930313233343536373839*") || len(line) != 9+40+1+40 {
		t.Errorf("line %q", line)
	}
	if !cracks(t, line, "password") || cracks(t, line, "Password") {
		t.Error("the line does not crack with its password alone")
	}
}

// TestRefusals checks the error packets per product and account.
func TestRefusals(t *testing.T) {
	tests := []struct {
		keys map[string]string
		user string
		pw   bool
		want string
	}{
		{nil, "root", true, "\xff\x15\x04#28000Access denied for user 'root'@'127.0.101.2' (using password: YES)"},
		{nil, "root", false, "\xff\x15\x04#28000Access denied for user 'root'@'127.0.101.2' (using password: NO)"},
		{nil, "nosuch", true, "\xff\xa2\x06#28000Access denied for user 'nosuch'@'127.0.101.2'"},
		{map[string]string{"users": "app:x"}, "app", true, "\xff\x15\x04#28000Access denied for user 'app'@'127.0.101.2' (using password: YES)"},
		{map[string]string{"product": "mysql"}, "nosuch", true, "\xff\x15\x04#28000Access denied for user 'nosuch'@'127.0.101.2' (using password: YES)"},
	}
	for _, tc := range tests {
		s, _ := newTestServer(t, tc.keys)
		ss := &session{s: s, user: tc.user, host: clientHost((&fakeConn{}).RemoteAddr())}
		if got := string(ss.deniedPacket(tc.pw)); got != tc.want {
			t.Errorf("%v %s: %q, want %q", tc.keys, tc.user, got, tc.want)
		}
	}
}

// TestBadHandshake checks the answer to a login packet that is not one,
// and that it is recorded.
func TestBadHandshake(t *testing.T) {
	s, ev := newTestServer(t, nil)
	out := converseRaw(t, s, appendPacket(nil, 1, []byte("GET / HTTP/1.1\r\n\r\n")))
	_, p, err := readPacket(bytes.NewReader(out)) // the greeting
	if err != nil || p[0] != 10 {
		t.Fatalf("greeting %x: %v", p, err)
	}
	want := appendPacket(nil, 2, []byte("\xff\x13\x04#08S01Bad handshake"))
	if rest := out[4+len(p):]; !bytes.Equal(rest, want) {
		t.Errorf("answer %q, want %q", rest, want)
	}
	if len(ev.OfType(typeProtocolError)) != 1 {
		t.Errorf("events %v", ev.All())
	}
}
