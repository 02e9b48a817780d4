package http

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/testutil"
)

// TestWindowsAuthCurl: curl --ntlm against an IIS persona that asks for
// credentials runs the handshake through its CHALLENGE; the NetNTLMv2 it
// sends is recorded as a hashcat 5600 line that cracks to the password
// used, and the request is still refused. (curl --negotiate needs a
// Kerberos ticket, or gss-ntlmssp, to send anything.)
func TestWindowsAuthCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	for _, tc := range []struct{ flag, scheme string }{{"--ntlm", "ntlm"}, {"--negotiate", "negotiate"}} {
		t.Run(tc.scheme, func(t *testing.T) {
			ev := &testutil.Events{}
			srv := newTestServer(t, map[string]string{"fake_app": "iis_default", "response_code": "401"}, ev)
			addr := listen(t, srv)
			cmd := exec.Command(curl, "-sv", tc.flag, "-u", `CORP\alice:S3cret!`, "http://"+addr+"/")
			// gss-ntlmssp, curl's NTLM inside Negotiate, reads the
			// credentials from this file (DOMAIN:user:password).
			creds := filepath.Join(t.TempDir(), "ntlm")
			os.WriteFile(creds, []byte("CORP:alice:S3cret!\n"), 0o600)
			cmd.Env = append(os.Environ(), "NTLM_USER_FILE="+creds)
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), "< HTTP/1.1 401 Unauthorized") {
				t.Fatalf("curl:\n%s", out)
			}
			var auth []event.Event
			testutil.Eventually(t, "the auth event", func() bool { auth = ev.OfType(event.TypeAuth); return len(auth) == 1 })
			f := auth[0].Fields
			if f["username"] != "alice" || f["domain"] != "CORP" || f["scheme"] != tc.scheme || f["hash_format"] != ntlmssp.FormatNetNTLMv2 {
				t.Errorf("auth event %v", f)
			}
			if ok, err := ntlmssp.CracksV2(f["hash"], "S3cret!"); !ok || err != nil {
				t.Errorf("hash %q does not crack (%v)", f["hash"], err)
			}
		})
	}
	t.Run("the bare 401 offers Negotiate then NTLM", func(t *testing.T) {
		srv := newTestServer(t, map[string]string{"fake_app": "iis_default", "response_code": "401"}, nil)
		got := string(exchange(t, listen(t, srv), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		if !strings.Contains(got, "\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\n") {
			t.Errorf("401:\n%s", got)
		}
		srv = newTestServer(t, map[string]string{"response_code": "401"}, nil)
		if got := string(exchange(t, listen(t, srv), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); !strings.Contains(got, "WWW-Authenticate: Basic realm=\"Restricted\"\r\n") {
			t.Errorf("Apache 401:\n%s", got)
		}
	})
}
