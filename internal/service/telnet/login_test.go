package telnet

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestLogin drives login through the outcomes login(1) has, checking what
// the client sees and the auth events.
func TestLogin(t *testing.T) {
	tests := []struct {
		name    string
		persona *Persona
		dialog  []string // alternately: text to wait for, line to send
		end     string   // text the server ends with (then closes), or "" to stay
		users   []string // username of each auth event
		pws     []string
		success []string
	}{
		{"persona password", &Persona{Password: "s3cret"},
			[]string{"vm login: ", "root\r\n", "Password: ", "s3cret\r\n", "root@vm:~# "}, "",
			[]string{"root"}, []string{"s3cret"}, []string{"true"}},
		{"failure then success", &Persona{Users: []string{"admin:hunter2"}},
			[]string{"vm login: ", "admin\r\n", "Password: ", "nope\r\n", "\r\n\r\nLogin incorrect\r\nvm login: ",
				"admin\r\n", "Password: ", "hunter2\r\n", "admin@vm:~$ "}, "",
			[]string{"admin", "admin"}, []string{"nope", "hunter2"}, []string{"false", "true"}},
		{"weak default", nil,
			[]string{"vm login: ", "pi\r\n", "Password: ", "raspberry\r\n", "pi@vm:~$ "}, "",
			[]string{"pi"}, []string{"raspberry"}, []string{"true"}},
		{"tries exhausted", &Persona{Password: "s3cret", Retries: 2},
			[]string{"vm login: ", "root\r\n", "Password: ", "a\r\n", "Login incorrect\r\nvm login: ", "root\r\n",
				"Password: ", "b\r\n"}, "\r\n\r\nLogin incorrect\r\nMaximum number of tries exceeded (2)\r\n",
			[]string{"root", "root"}, []string{"a", "b"}, []string{"false", "false"}},
		{"password bound to the first one used", &Persona{Users: []string{"root:root", "root:toor"}},
			[]string{"vm login: ", "root\r\n", "Password: ", "toor\r\n", "root@vm:~# ", "exit\r\n"}, "logout\r\n",
			[]string{"root"}, []string{"toor"}, []string{"true"}},
		{"ctrl-c kills login", nil,
			// The echo of "ro" is flushed with the rest of the output.
			[]string{"vm login: ", "ro\x03"}, "\xf2^C", nil, nil, nil},
		{"ctrl-d at the prompt", &Persona{Retries: 1},
			[]string{"vm login: ", "\x04"}, "\r\n\r\nLogin incorrect\r\nMaximum number of tries exceeded (1)\r\n", nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, ev, addr := serve(t, tc.persona)
			c := dialBot(t, addr)
			for i := 0; i < len(tc.dialog); i += 2 {
				c.expect(tc.dialog[i])
				if i+1 < len(tc.dialog) {
					c.send(tc.dialog[i+1])
				}
			}
			if tc.end != "" {
				if got := c.expectClose(); !strings.HasSuffix(got, tc.end) {
					t.Fatalf("ended with %q, want %q", got, tc.end)
				}
			}
			testutil.Eventually(t, "auth events", func() bool { return len(ev.OfType(event.TypeAuth)) == len(tc.users) })
			if got := fieldsOf(ev, event.TypeAuth, event.FieldUsername); !slices.Equal(got, tc.users) {
				t.Errorf("usernames %q, want %q", got, tc.users)
			}
			if got := fieldsOf(ev, event.TypeAuth, event.FieldPassword); !slices.Equal(got, tc.pws) {
				t.Errorf("passwords %q, want %q", got, tc.pws)
			}
			if got := fieldsOf(ev, event.TypeAuth, event.FieldSuccess); !slices.Equal(got, tc.success) {
				t.Errorf("success %q, want %q", got, tc.success)
			}
			if len(tc.users) > 0 && !hasPeer(ev, event.TypeAuth) {
				t.Errorf("auth events without the peer: %v", ev.OfType(event.TypeAuth))
			}
		})
	}
}

// TestShellEvents logs in and checks that commands and written files
// become events carrying the attacker's address.
func TestShellEvents(t *testing.T) {
	_, ev, addr := serve(t, &Persona{Password: "s3cret"})
	c := dialBot(t, addr)
	c.expect("login: ")
	c.send("root\r\n")
	c.expect("Password: ")
	c.send("s3cret\r\n")
	banner := c.expect("root@vm:~# ")
	if !strings.Contains(banner, "The programs included with the Debian GNU/Linux system") {
		t.Errorf("no motd after login: %q", banner)
	}
	c.send("uname -a\r\n")
	if out := c.expect("root@vm:~# "); !strings.Contains(out, "Linux vm ") || !strings.Contains(out, "GNU/Linux") {
		t.Errorf("uname -a printed %q", out)
	}
	c.send("echo hi > /tmp/x\r\n")
	c.expect("root@vm:~# ")
	c.send("echo $TERM\r\n")
	if out := c.expect("root@vm:~# "); !strings.Contains(out, "\r\nnetwork\r\n") {
		t.Errorf("echo $TERM printed %q", out)
	}
	c.send("exit\r\n")
	c.expectClose()

	testutil.Eventually(t, "command events", func() bool { return len(ev.OfType(event.TypeCommand)) == 4 })
	want := []string{"uname -a", "echo hi > /tmp/x", "echo $TERM", "exit"}
	if got := fieldsOf(ev, event.TypeCommand, event.FieldCommand); !slices.Equal(got, want) {
		t.Errorf("commands %q, want %q", got, want)
	}
	if !hasPeer(ev, event.TypeCommand) {
		t.Errorf("command events without the peer")
	}
	files := ev.OfType(event.TypeFileCaptured)
	sum := sha256.Sum256([]byte("hi\n"))
	if len(files) != 1 || files[0].Fields["orig_path"] != "/tmp/x" || files[0].Fields["sha256"] != hex.EncodeToString(sum[:]) ||
		files[0].Fields["size"] != "3" || files[0].Fields[event.FieldSrcIP] != "127.0.0.1" {
		t.Errorf("file_captured events %v", files)
	}
}

// TestNegotiationEvent checks what is recorded of the client's telnet: its
// options, window and terminal type, and the USER injection of
// CVE-2026-24061, which the default persona ignores and env_user_bypass
// lets through.
func TestNegotiationEvent(t *testing.T) {
	for _, bypass := range []bool{false, true} {
		t.Run(map[bool]string{false: "patched", true: "vulnerable"}[bypass], func(t *testing.T) {
			_, ev, addr := serve(t, &Persona{Password: "s3cret", EnvUserBypass: bypass})
			c := dialBot(t, addr)
			c.sb = map[byte][]byte{optTTYPE: []byte("XTERM-256COLOR"), optNewEnviron: []byte("\x00USER\x01-f root")}
			if bypass {
				if out := c.expect("root@vm:~# "); strings.Contains(out, "vm login: ") || strings.Contains(out, "Password") {
					t.Errorf("bypass still asked for a login: %q", out)
				}
			} else {
				c.expect("vm login: ")
			}
			testutil.Eventually(t, "negotiation event", func() bool { return len(ev.OfType("negotiation")) == 1 })
			n := ev.OfType("negotiation")[0]
			if n.Fields["ttype"] != "xterm-256color" || n.Fields["env"] != `{"USER":"-f root"}` || n.Fields["cve"] != "CVE-2026-24061" ||
				n.Severity != event.Warning || n.Fields["window"] != "100x30" || !strings.Contains(n.Fields["client_will"], "TTYPE") {
				t.Errorf("negotiation event %+v", n)
			}
			auths := ev.OfType(event.TypeAuth)
			if bypass != (len(auths) == 1) || (bypass && (auths[0].Fields[event.FieldUsername] != "root" ||
				auths[0].Fields[event.FieldMethod] != "env_user_bypass" || auths[0].Fields["ttype"] != "xterm-256color")) {
				t.Errorf("auth events %v", auths)
			}
		})
	}
}
