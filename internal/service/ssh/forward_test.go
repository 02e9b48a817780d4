package ssh

import (
	"encoding/binary"
	"errors"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"decnet/internal/testutil"
)

// TestGlobalRequests checks the answers to remote forwards: accepted as
// sshd does, refused where its bind would fail.
func TestGlobalRequests(t *testing.T) {
	ts := start(t, "127.77.2.1", "debian", &Persona{Password: "pw", Users: []string{"deploy:dp"}}, "")
	root, err := dial(t, ts.addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	user, err := dial(t, ts.addr, "deploy", "dp")
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	fwd := func(host string, port uint32) []byte {
		return gossh.Marshal(struct {
			Host string
			Port uint32
		}{host, port})
	}
	path := func(p string) []byte { return gossh.Marshal(struct{ Path string }{p}) }
	tests := []struct {
		name    string
		c       *gossh.Client
		typ     string
		payload []byte
		ok      bool
	}{
		{"forward 8080", root, "tcpip-forward", fwd("", 8080), true},
		{"forward 8080 again", root, "tcpip-forward", fwd("", 8080), false},
		{"forward sshd's port", root, "tcpip-forward", fwd("0.0.0.0", 22), false},
		{"forward a low port as root", root, "tcpip-forward", fwd("localhost", 80), true},
		{"forward a low port as a user", user, "tcpip-forward", fwd("localhost", 80), false},
		{"forward a high port as a user", user, "tcpip-forward", fwd("localhost", 8081), true},
		{"forward a bad port", root, "tcpip-forward", fwd("", 70000), false},
		{"cancel", root, "cancel-tcpip-forward", fwd("", 8080), true},
		{"cancel again", root, "cancel-tcpip-forward", fwd("", 8080), false},
		{"socket", root, "streamlocal-forward@openssh.com", path("/tmp/s.sock"), true},
		{"socket again", root, "streamlocal-forward@openssh.com", path("/tmp/s.sock"), false},
		{"cancel socket", root, "cancel-streamlocal-forward@openssh.com", path("/tmp/s.sock"), true},
		{"malformed", root, "tcpip-forward", []byte{1}, false},
		{"keepalive", root, "keepalive@openssh.com", nil, false},
		{"no more sessions", root, "no-more-sessions@openssh.com", nil, true},
	}
	for _, tt := range tests {
		ok, _, err := tt.c.SendRequest(tt.typ, true, tt.payload)
		if err != nil || ok != tt.ok {
			t.Errorf("%s: %v %v, want %v", tt.name, ok, err, tt.ok)
		}
	}
	ok, reply, err := root.SendRequest("tcpip-forward", true, fwd("", 0))
	if port := binary.BigEndian.Uint32(append(reply, 0, 0, 0, 0)); !ok || err != nil || len(reply) != 4 || port < 32768 || port > 60999 {
		t.Errorf("forward port 0: %v %x %v", ok, reply, err)
	}
	// After no-more-sessions, sshd drops a connection that opens one.
	if _, err := root.NewSession(); err != nil {
		t.Fatalf("first session: %v", err)
	}
	if s, err := root.NewSession(); err == nil {
		s.Close()
		t.Error("a session after no-more-sessions opened")
	}
	testutil.Eventually(t, "port_forward events", func() bool { return len(ts.ev.OfType("port_forward")) == 14 })
	e := ts.ev.OfType("port_forward")[0].Fields
	if e["request"] != "tcpip-forward" || e["listen_port"] != "8080" || e["accepted"] != "true" || e["username"] != "root" || e["src_ip"] == "" {
		t.Errorf("event %v", e)
	}
}

// TestForwardChannels checks that forwarding channels fail as a connect
// by sshd would.
func TestForwardChannels(t *testing.T) {
	ts := start(t, "127.77.2.2", "debian", &Persona{Password: "pw"}, "")
	c, err := dial(t, ts.addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tcpip := func(host string, port uint32) []byte {
		return gossh.Marshal(struct {
			Host     string
			Port     uint32
			OrigHost string
			OrigPort uint32
		}{host, port, "127.0.0.1", 40000})
	}
	tests := []struct {
		typ    string
		extra  []byte
		reason gossh.RejectionReason
		msg    string
	}{
		{"direct-tcpip", tcpip("10.0.0.5", 3306), gossh.ConnectionFailed, "Connection refused"},
		{"direct-tcpip", tcpip("localhost", 22), gossh.ConnectionFailed, "Connection refused"},
		{"direct-tcpip", tcpip("SRV-WEB-17", 80), gossh.ConnectionFailed, "Connection refused"},
		{"direct-tcpip", tcpip("[::1]", 80), gossh.ConnectionFailed, "Connection refused"},
		{"direct-tcpip", tcpip("mail.example.com", 25), gossh.ConnectionFailed, "Temporary failure in name resolution"},
		{"direct-tcpip", tcpip("10.0.0.5", 70000), gossh.Prohibited, "open failed"},
		{"direct-streamlocal@openssh.com", gossh.Marshal(struct {
			Path, Host string
			Port       uint32
		}{"/run/docker.sock", "", 0}), gossh.ConnectionFailed, "open failed"},
		{"tun@openssh.com", gossh.Marshal(struct{ Mode, Unit uint32 }{1, 0x7fffffff}), gossh.ConnectionFailed, "open failed"},
		{"x11", nil, gossh.ConnectionFailed, "open failed"},
	}
	for _, tt := range tests {
		_, _, err := c.OpenChannel(tt.typ, tt.extra)
		var oe *gossh.OpenChannelError
		if !errors.As(err, &oe) || oe.Reason != tt.reason || oe.Message != tt.msg {
			t.Errorf("%s %q: %v, want %v %q", tt.typ, tt.extra, err, tt.reason, tt.msg)
		}
	}
	testutil.Eventually(t, "port_forward events", func() bool { return len(ts.ev.OfType("port_forward")) == 8 })
	e := ts.ev.OfType("port_forward")[0].Fields
	if e["dst_host"] != "10.0.0.5" || e["dst_port"] != "3306" || e["orig_host"] != "127.0.0.1" || e["accepted"] != "false" {
		t.Errorf("event %v", e)
	}
}

// TestSessionRequests checks the requests a session takes only before
// it starts, agent forwarding once per connection, and X11 data checks.
func TestSessionRequests(t *testing.T) {
	ts := start(t, "127.77.2.3", "debian", &Persona{Password: "pw"}, "")
	c, err := dial(t, ts.addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	x11 := func(proto, cookie string) []byte {
		return gossh.Marshal(struct {
			Single        bool
			Proto, Cookie string
			Screen        uint32
		}{false, proto, cookie, 0})
	}
	s1, _ := c.NewSession()
	defer s1.Close()
	s2, _ := c.NewSession()
	defer s2.Close()
	tests := []struct {
		name    string
		s       *gossh.Session
		typ     string
		payload []byte
		ok      bool
	}{
		{"agent", s1, "auth-agent-req@openssh.com", nil, true},
		{"agent again, other session", s2, "auth-agent-req@openssh.com", nil, false},
		{"x11 bad cookie", s1, "x11-req", x11("MIT-MAGIC-COOKIE-1", "ab cd"), false},
		{"x11", s1, "x11-req", x11("MIT-MAGIC-COOKIE-1", "0123abcd"), true},
		{"x11 again", s1, "x11-req", x11("MIT-MAGIC-COOKIE-1", "0123abcd"), false},
		{"unknown subsystem", s2, "subsystem", gossh.Marshal(struct{ Name string }{"netconf"}), false},
		{"env not accepted", s2, "env", gossh.Marshal(struct{ Name, Value string }{"LD_PRELOAD", "x"}), false},
		{"break", s2, "break", gossh.Marshal(struct{ Ms uint32 }{0}), false},
		{"exec", s1, "exec", gossh.Marshal(struct{ Command string }{"echo $SSH_AUTH_SOCK $DISPLAY; sleep 1"}), true},
		{"pty after start", s1, "pty-req", gossh.Marshal(struct {
			Term               string
			Cols, Rows, PW, PH uint32
			Modes              string
		}{"xterm", 80, 24, 0, 0, ""}), false},
		{"exec after start", s1, "exec", gossh.Marshal(struct{ Command string }{"id"}), false},
		{"window change after start", s1, "window-change", gossh.Marshal(struct{ Cols, Rows, PW, PH uint32 }{100, 30, 0, 0}), true},
	}
	for _, tt := range tests {
		ok, err := tt.s.SendRequest(tt.typ, true, tt.payload)
		if err != nil || ok != tt.ok {
			t.Errorf("%s: %v %v, want %v", tt.name, ok, err, tt.ok)
		}
	}
	testutil.Eventually(t, "forwarding events", func() bool {
		return len(ts.ev.OfType("agent_forward")) == 2 && len(ts.ev.OfType("x11_forward")) == 3 && len(ts.ev.OfType("subsystem")) == 1
	})
	if e := ts.ev.OfType("x11_forward")[1].Fields; e["accepted"] != "true" || e["auth_proto"] != "MIT-MAGIC-COOKIE-1" || e["screen"] != "0" {
		t.Errorf("x11 event %v", e)
	}
}
