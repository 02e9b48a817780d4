package mysql

import (
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// TestAuthSwitch checks that a client that answers MariaDB with another
// plugin's scramble is switched to mysql_native_password with the same
// salt, and that its second answer is recorded crackable.
func TestAuthSwitch(t *testing.T) {
	addr, ev := startServer(t, testIP(2), map[string]string{"remote_users": "app"})
	c := testutil.Dial(t, addr, 5*time.Second)
	defer c.Close()
	_, g, err := readPacket(c)
	if err != nil {
		t.Fatal(err)
	}
	_, salt := saltOf(t, appendPacket(nil, 0, g))
	login := append(testutil.Hex(mariadbLogin)[:32:32], "app\x00\x20"...)
	login = append(append(login, sha2Scramble(salt, "s3cret")...), sha2Plugin+"\x00"...)
	c.Write(appendPacket(nil, 1, login))
	seq, sw, err := readPacket(c)
	if want := string(authSwitch(nativePlugin, salt)); err != nil || seq != 2 || string(sw) != want {
		t.Fatalf("seq %d %q (%v), want an auth switch %q", seq, sw, err, want)
	}
	c.Write(appendPacket(nil, 3, nativeScramble(salt, "s3cret")))
	seq, deny, err := readPacket(c)
	if err != nil || seq != 4 || !strings.Contains(string(deny), "(using password: YES)") {
		t.Fatalf("seq %d %q (%v)", seq, deny, err)
	}
	f := authEvents(t, ev, 1)[0].Fields
	if f["client_plugin"] != sha2Plugin || f[event.FieldMethod] != nativePlugin || !cracks(t, f[event.FieldHash], "s3cret") {
		t.Errorf("auth event %v", f)
	}
}

// TestFakeAccountChoice checks MariaDB's answers for users that do not
// exist, measured on Debian 12's MariaDB with two more accounts
// (decnet@localhost and decnet@127.0.0.1), from localhost.
func TestFakeAccountChoice(t *testing.T) {
	list := append(accountList(nil), account{user: "decnet", host: "localhost"}, account{user: "decnet", host: "127.0.0.1"})
	sortAccounts(list)
	for name, want := range map[string]uint16{"nosuch": 1698, "ab": 1045, "x'y": 1045, "": 1045, "root": 1698,
		strings.Repeat("a", 48): 1045, strings.Repeat("a", 80): 1698, strings.Repeat("a", 99): 1045,
		strings.Repeat("a", 127): 1045, strings.Repeat("a", 128): 1698, strings.Repeat("a", 150): 1698, "a\xff\xfeb": 1698} {
		p := mariadbRefusal(list, serverUserName(name), "localhost", true)
		if got := uint16(p[1]) | uint16(p[2])<<8; got != want {
			t.Errorf("%q: error %d, want %d", name, got, want)
		}
	}
	if got := serverUserName(strings.Repeat("é", 200)); got != strings.Repeat("é", 128) {
		t.Errorf("user name cut to %d bytes", len(got))
	}
}

// TestPersona checks validation and the defaults per distro.
func TestPersona(t *testing.T) {
	tests := []struct {
		keys    map[string]string
		distro  string
		wantErr bool
		version string
		ssl     bool
	}{
		{nil, "debian", false, "10.11.19-MariaDB-0+deb12u1", false},
		{nil, "ubuntu22", false, "10.6.22-MariaDB-0ubuntu0.22.04.1", false},
		{map[string]string{"product": "mysql"}, "ubuntu22", false, "8.0.44-0ubuntu0.22.04.1", true},
		{map[string]string{"product": "mysql", "ssl": "off"}, "debian", false, "8.0.44", false},
		{map[string]string{"version": "10.5.1-MariaDB", "ssl": "yes"}, "debian", false, "10.5.1-MariaDB", true},
		{map[string]string{"product": "postgres"}, "debian", true, "", false},
		{map[string]string{"ssl": "maybe"}, "debian", true, "", false},
		{map[string]string{"users": "nopass"}, "debian", true, "", false},
		{map[string]string{"databases": "a`b"}, "debian", true, "", false},
		{map[string]string{"remote_users": strings.Repeat("u", 65)}, "debian", true, "", false},
	}
	for _, tc := range tests {
		p, err := service.NewPersona(Service{}.Info(), tc.keys)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err %v, want error %v", tc.keys, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		pp := p.(*Persona)
		if got := pp.releaseFor(tc.distro).version; got != tc.version || pp.sslOn() != tc.ssl {
			t.Errorf("%v on %s: version %q ssl %v, want %q %v", tc.keys, tc.distro, got, pp.sslOn(), tc.version, tc.ssl)
		}
	}
}

// TestHandshakeTimeout checks that a client that does not log in is cut
// off with a reset and recorded.
func TestHandshakeTimeout(t *testing.T) {
	old := handshakeTimeout
	handshakeTimeout = 200 * time.Millisecond
	t.Cleanup(func() { handshakeTimeout = old })
	addr, ev := startServer(t, testIP(3), nil)
	c := testutil.Dial(t, addr, 5*time.Second)
	defer c.Close()
	if _, _, err := readPacket(c); err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{5, 0, 0, 1, 'a'}) // a partial packet
	if _, err := c.Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "reset") {
		t.Errorf("read after the timeout: %v, want a reset", err)
	}
	testutil.Eventually(t, "a timeout event", func() bool {
		for _, e := range ev.OfType(typeProtocolError) {
			if e.Fields["error"] == "handshake timeout" {
				return true
			}
		}
		return false
	})
}
