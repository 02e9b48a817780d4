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

// vncsnapshot (TightVNC 1.2.8's client, RFB 3.3) with a vncpasswd file
// against each product: without the persona's password the logged
// response is DES(challenge) under the file's password; with it the
// client gets a snapshot of the blank desktop.
func TestVncsnapshotEndToEnd(t *testing.T) {
	snapshot := testutil.RequireTool(t, "vncsnapshot")
	vncpasswd := testutil.RequireTool(t, "vncpasswd")
	dir := t.TempDir()
	cmd := exec.Command(vncpasswd, "-f")
	cmd.Stdin = strings.NewReader("secret\n")
	file, err := cmd.Output()
	if err != nil {
		t.Fatalf("vncpasswd -f: %v", err)
	}
	pwFile := filepath.Join(dir, "passwd")
	if err := os.WriteFile(pwFile, file, 0o600); err != nil {
		t.Fatal(err)
	}
	password := readPasswdFile(t, file)
	if password != "secret" {
		t.Fatalf("password file holds %q", password)
	}
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
