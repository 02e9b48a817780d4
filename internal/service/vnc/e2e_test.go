package vnc

import (
	"bytes"
	"context"
	"crypto/des"
	"image/jpeg"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// vncpasswdKey is the fixed DES key with which vncpasswd obfuscates a
// password file (d3des's form, before mirroring).
var vncpasswdKey = []byte{23, 82, 107, 6, 35, 78, 88, 7}

// readPasswdFile recovers the password in a vncpasswd file.
func readPasswdFile(t *testing.T, file []byte) string {
	t.Helper()
	if len(file) < 8 {
		t.Fatalf("password file of %d bytes", len(file))
	}
	c, err := des.NewCipher(mirroredKey(vncpasswdKey))
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 8)
	c.Decrypt(plain, file[:8])
	return string(bytes.TrimRight(plain, "\x00"))
}

// passwdFile writes password to a file in dir with vncpasswd -f, and
// returns the file and the password it holds, read back.
func passwdFile(t *testing.T, dir, password string) (file, holds string) {
	t.Helper()
	vncpasswd := testutil.RequireTool(t, "vncpasswd")
	cmd := exec.Command(vncpasswd, "-f")
	cmd.Stdin = strings.NewReader(password + "\n")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("vncpasswd -f: %v", err)
	}
	file = filepath.Join(dir, "passwd")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if holds = readPasswdFile(t, b); holds != password {
		t.Fatalf("password file holds %q", holds)
	}
	return file, holds
}

// vncsnapshot (TightVNC 1.2.8's client, RFB 3.3) with a vncpasswd file
// against each product: without the persona's password the logged
// response is DES(challenge) under the file's password; with it the
// client gets a snapshot of the blank desktop.
func TestVncsnapshotEndToEnd(t *testing.T) {
	snapshot := testutil.RequireTool(t, "vncsnapshot")
	dir := t.TempDir()
	pwFile, password := passwdFile(t, dir, "secret")
	for _, tc := range []struct {
		product, password string
		login             bool
	}{
		{TigerVNC, "", false},
		{TigerVNC, "secret", true},
		{RealVNC, "", false},
		{TightVNC, "hunter2", false},
		{TightVNC, "secret", true},
		{LibVNCServer, "", false},
		{LibVNCServer, "secret", true},
	} {
		t.Run(tc.product+"/"+tc.password, func(t *testing.T) {
			p := &Persona{Product: tc.product, Password: tc.password, Geometry: "640x480"}
			ev := &testutil.Events{}
			s := newServer(service.Config{Host: service.Host{Name: "decky1", Hostname: "web01"}, Emit: ev}, p)
			addr := servicetest.ServeTCP(t, s, "127.0.59.1", Port)
			host, port, _ := net.SplitHostPort(addr)
			shot := filepath.Join(dir, tc.product+tc.password+".jpg")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, snapshot, "-passwd", pwFile, "-allowblank", host+"::"+port, shot).CombinedOutput()
			if tc.login != (err == nil) {
				t.Fatalf("vncsnapshot: %v, want login %v\n%s", err, tc.login, out)
			}
			if f := fieldsOf(t, ev, typeVersion); f["client_version"] != "RFB 003.003" {
				t.Errorf("client_version %q", f["client_version"])
			}
			f := fieldsOf(t, ev, event.TypeAuth)
			challenge, response := parseJohn(t, f[event.FieldHash])
			if !bytes.Equal(desWithMirroredKey(t, password, challenge), response) {
				t.Errorf("logged response %X is not DES(%X) under the file's password", response, challenge)
			}
			if f["hash_format"] != "vnc (john)" || f[event.FieldSrcIP] != "127.0.0.1" ||
				f[event.FieldSuccess] != map[bool]string{true: "true", false: "false"}[tc.login] {
				t.Errorf("auth event %v", f)
			}
			if !tc.login {
				return
			}
			img, err := os.Open(shot)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if cfg, err := jpeg.DecodeConfig(img); err != nil || cfg.Width != 640 || cfg.Height != 480 {
				t.Fatalf("snapshot: %+v, %v; want a 640x480 JPEG", cfg, err)
			}
			if f := fieldsOf(t, ev, typeEncodings); f["encodings"] == "" {
				t.Errorf("client_encodings %v", f)
			}
			testutil.Eventually(t, "the desktop_session event", func() bool { return len(ev.OfType(typeDesktopSession)) == 1 })
		})
	}
}

// TigerVNC 1.12's own viewer against the tigervnc persona over VeNCrypt's
// anonymous TLS. With the default SecurityTypes on both sides it picks
// TLSVnc, completes GnuTLS's handshake and answers the challenge inside
// TLS: the logged response is DES(challenge) under the file's password;
// without the persona's password the viewer reports TigerVNC's failure,
// with it the desktop runs over TLS. TLSPlain (the credentials from the
// viewer's VNC_USERNAME and VNC_PASSWORD) and TLSNone go the same way.
func TestTigerVNCViewerEndToEnd(t *testing.T) {
	viewer := testutil.RequireTool(t, "xtigervncviewer")
	display := testutil.XDisplay(t)
	dir := t.TempDir()
	pwFile, password := passwdFile(t, dir, "secret")
	for _, tc := range []struct {
		name    string
		persona Persona
		method  string // of the auth event; none for TLSNone
		login   bool
		failure string // what the viewer prints
	}{
		{"TLSVnc wrong password", Persona{}, "VncAuth", false, "Authentication failure: Authentication failure"},
		{"TLSVnc login", Persona{Password: "secret"}, "VncAuth", true, ""},
		{"TLSPlain", Persona{SecurityTypes: []string{"TLSPlain"}}, "Plain", false,
			"Authentication failure: Authentication failure: invalid password or username"},
		{"TLSNone", Persona{SecurityTypes: []string{"TLSNone"}}, "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.persona
			p.Product, p.Geometry = TigerVNC, "640x480"
			ev := &testutil.Events{}
			s := newServer(service.Config{Host: service.Host{Name: "decky1", Hostname: "web01"}, Emit: ev}, &p)
			addr := servicetest.ServeTCP(t, s, "127.0.59.2", Port)
			host, port, _ := net.SplitHostPort(addr)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			// The viewer waits on a dialog after a failure, so the test ends
			// it.
			cmd := exec.CommandContext(ctx, viewer, "-passwd", pwFile, host+"::"+port)
			cmd.Env = append(os.Environ(), "DISPLAY="+display)
			if tc.method == "Plain" {
				// The viewer's VNC_PASSWORD would also replace -passwd for VncAuth.
				cmd.Env = append(cmd.Env, "VNC_USERNAME=alice", "VNC_PASSWORD=hunter2")
			}
			var out testutil.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cancel()
				cmd.Wait()
			}()
			if f := fieldsOf(t, ev, typeTLS); f["version"] != "TLS1.2" || f["cipher_suite"] != "TLS_ECDH_anon_WITH_AES_256_CBC_SHA" || f["group"] != "secp256r1" {
				t.Errorf("tls event %v", f)
			}
			switch tc.method {
			case "VncAuth":
				f := fieldsOf(t, ev, event.TypeAuth)
				challenge, response := parseJohn(t, f[event.FieldHash])
				if !bytes.Equal(desWithMirroredKey(t, password, challenge), response) {
					t.Errorf("logged response %X is not DES(%X) under the file's password", response, challenge)
				}
				if f[event.FieldMethod] != "VncAuth" || f["security_type"] != "VeNCrypt" || f[event.FieldSrcIP] != "127.0.0.1" ||
					f[event.FieldSuccess] != strconv.FormatBool(tc.login) {
					t.Errorf("auth event %v", f)
				}
			case "Plain":
				f := fieldsOf(t, ev, event.TypeAuth)
				if f[event.FieldMethod] != "Plain" || f[event.FieldUsername] != "alice" || f[event.FieldPassword] != "hunter2" ||
					f[event.FieldSuccess] != "false" {
					t.Errorf("auth event %v", f)
				}
			}
			if c := ev.OfType(typeSecurityChoice); len(c) != 2 || c[1].Fields["subtype_name"] != secTypeName(s.ext[0]) {
				t.Errorf("security_choice events %v, want VeNCrypt then %s", c, secTypeName(s.ext[0]))
			}
			if tc.login {
				if f := fieldsOf(t, ev, typeEncodings); f["encodings"] == "" {
					t.Errorf("client_encodings %v", f)
				}
				return
			}
			// The viewer wraps its log lines.
			testutil.Eventually(t, "the viewer's failure message", func() bool {
				return strings.Contains(strings.Join(strings.Fields(out.String()), " "), tc.failure)
			})
		})
	}
}
