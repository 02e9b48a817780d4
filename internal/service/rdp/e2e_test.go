package rdp

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// xfreerdp runs FreeRDP 2's client on a virtual display and returns its
// exit code and output.
func xfreerdp(t *testing.T, addr string, args ...string) (int, string) {
	t.Helper()
	bin := testutil.RequireTool(t, "xfreerdp")
	display := testutil.XDisplay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"/v:" + addr, "/cert:ignore", "/log-level:INFO"}, args...)...)
	// FreeRDP keeps known hosts under $HOME/.config/freerdp.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("xfreerdp: %v\n%s", err, out)
	}
	return code, string(out)
}

// xfreerdp /auth-only against the Windows persona: the mstshash user is
// logged at negotiation, NLA is negotiated, the NTLMv2 response is
// captured in hashcat's format and verifies with the password typed, and
// the client reports a logon failure.
func TestXfreerdpEndToEnd(t *testing.T) {
	_, addr, ev := startServer(t, windowsHost, &Persona{NLA: true}, "127.0.61.1")
	code, out := xfreerdp(t, addr, "/auth-only", "/u:alice", "/p:secret", "/d:CORP")
	t.Logf("xfreerdp exit %d:\n%s", code, out)
	if code != xfExitLogonFailure || !strings.Contains(out, "ERRCONNECT_LOGON_FAILURE") {
		t.Errorf("xfreerdp exit %d, want %d (ERRCONNECT_LOGON_FAILURE)", code, xfExitLogonFailure)
	}
	neg := waitFor(t, ev, typeNegotiate)
	checkFields(t, "negotiate", neg, map[string]string{event.FieldUsername: "alice",
		"requested_protocols": "SSL|HYBRID", "selected_protocol": "HYBRID", "neg_request": "true"})
	checkFields(t, "negotiate", neg, peerFields)
	tlsEv := waitFor(t, ev, typeTLS)
	checkFields(t, "tls", tlsEv, map[string]string{"tls_version": "TLS 1.2", "cipher": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "error": ""})
	nn := waitFor(t, ev, typeNTLMNegotiate)
	checkFields(t, "ntlm_negotiate", nn, map[string]string{"credssp_version": "*", "ntlm_flags": "*"})
	a := waitFor(t, ev, event.TypeAuth)
	checkFields(t, "auth", a, map[string]string{event.FieldUsername: "alice", "domain": "CORP",
		event.FieldHashFormat: ntlmssp.FormatNetNTLMv2, event.FieldSuccess: "false", event.FieldMethod: "NTLM",
		"security": "HYBRID", "workstation": "*"})
	checkFields(t, "auth", a, peerFields)
	crackV2(t, a[event.FieldHash], "secret")
	if a[event.FieldSession] != neg[event.FieldSession] {
		t.Errorf("auth and negotiate events of different sessions")
	}
	if a[event.FieldSrcIP] != "127.0.0.1" {
		t.Errorf("src_ip %s, want the client's 127.0.0.1", a[event.FieldSrcIP])
	}
}

// xfreerdp's exit codes (client/X11/xf_client.h, FreeRDP 2.11).
const (
	xfExitConnectFailed   = 131
	xfExitNegoFailure     = 133
	xfExitLogonFailure    = 134
	xfExitTransportFailed = 147
)

// xfreerdp with the security layers that end before CredSSP and before
// the Client Info PDU: what the server selects or refuses and, where the
// client gets that far, its MCS Connect-Initial. FreeRDP sends no
// RDP_NEG_REQ at all for /sec:rdp; standard RDP security ends after the
// Connect-Initial.
func TestXfreerdpSecurityLayers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		host      service.Host
		nla       bool
		args      []string
		requested string
		selected  string
		failure   string
		code      int
	}{
		{"windows nla /sec:rdp", windowsHost, true, []string{"/sec:rdp"}, "", "", "", xfExitTransportFailed},
		{"windows nla /sec:tls", windowsHost, true, []string{"/sec:tls"}, "SSL", "", "HYBRID_REQUIRED_BY_SERVER", xfExitNegoFailure},
		{"windows no nla /sec:rdp", windowsHost, false, []string{"/sec:rdp"}, "", "", "", xfExitTransportFailed},
		{"xrdp /sec:rdp", linuxHost, false, []string{"/sec:rdp"}, "", "", "", xfExitTransportFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, ev := startServer(t, tc.host, &Persona{NLA: tc.nla}, "127.0.61.2")
			code, out := xfreerdp(t, addr, append([]string{"/u:bob", "/p:hunter2", "/size:800x600"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("xfreerdp exit %d, want %d:\n%s", code, tc.code, out)
			}
			neg := waitFor(t, ev, typeNegotiate)
			checkFields(t, "negotiate", neg, map[string]string{event.FieldUsername: "bob",
				"requested_protocols": tc.requested, "selected_protocol": tc.selected, "failure": tc.failure,
				"neg_request": strconv.FormatBool(tc.requested != "")})
			if tc.failure != "" {
				if n := len(ev.OfType(typeMCSConnect)); n != 0 {
					t.Errorf("%d mcs_connect events after a refusal", n)
				}
				return
			}
			m := waitFor(t, ev, typeMCSConnect)
			checkFields(t, "mcs_connect", m, map[string]string{"client_name": "*", "desktop": "800x600",
				"client_build": "*", "channels": "*", "rdp_version": "*"})
			checkFields(t, "mcs_connect", m, peerFields)
		})
	}
}

// impacket's rdp_check.py (CredSSP version 2, raw NTLMSSP, port 3389
// only): the NTLMv2 response is captured and the check fails.
func TestImpacketRdpCheck(t *testing.T) {
	py := testutil.RequireImpacket(t)
	host := windowsHost
	host.DataDir = t.TempDir()
	ev := &testutil.Events{}
	p := &Persona{NLA: true, Domain: "corp.example.com"}
	srv, err := newServer(service.Config{Host: host, Persona: p, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.ServeRealPorts(t, srv, "127.0.61.3", Service{}.Info().Ports...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, testutil.ImpacketExamples+"rdp_check.py", "CORP/alice:secret@127.0.61.3").CombinedOutput()
	t.Logf("rdp_check.py (%v):\n%s", err, out)
	if strings.Contains(string(out), "Access Granted") {
		t.Errorf("rdp_check.py reports access granted")
	}
	if !strings.Contains(string(out), "Access Denied") {
		t.Errorf("rdp_check.py does not report Access Denied, as against Windows")
	}
	a := waitFor(t, ev, event.TypeAuth)
	checkFields(t, "auth", a, map[string]string{event.FieldUsername: "alice", "domain": "CORP",
		event.FieldHashFormat: ntlmssp.FormatNetNTLMv2, "credssp_version": "2", event.FieldSuccess: "false"})
	crackV2(t, a[event.FieldHash], "secret")
	neg := waitFor(t, ev, typeNegotiate)
	checkFields(t, "negotiate", neg, map[string]string{event.FieldUsername: "", "requested_protocols": "SSL|HYBRID",
		"selected_protocol": "HYBRID"})
}

// nmap's version scan and RDP scripts name the Windows persona as they
// name Windows: the service, the NLA-only security layers, and the
// machine in the NTLM challenge. On port 3389 only: elsewhere nmap's TLS
// probe comes first, and Windows (like the persona) answers it with a
// TLS handshake, so nmap reports ssl/unknown.
func TestNmap(t *testing.T) {
	host := windowsHost
	host.DataDir = t.TempDir()
	ev := &testutil.Events{}
	p := &Persona{NLA: true, Domain: "corp.example.com"}
	srv, err := newServer(service.Config{Host: host, Persona: p, Emit: ev}, p)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.ServeRealPorts(t, srv, "127.0.61.6", Service{}.Info().Ports...)
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", "3389",
		"--script", "rdp-ntlm-info,rdp-enum-encryption", "127.0.61.6")
	for _, w := range []string{"3389/tcp open  ms-wbt-server Microsoft Terminal Services",
		"CredSSP (NLA): SUCCESS", "CredSSP with Early User Auth: SUCCESS", "RDSTLS: SUCCESS",
		"Target_Name: CORP", "NetBIOS_Computer_Name: SRV-FILES-42", "DNS_Computer_Name: SRV-FILES-42.corp.example.com",
		"DNS_Tree_Name: corp.example.com", "Product_Version: 10.0.17763", "OS: Windows"} {
		if !strings.Contains(out, w) {
			t.Errorf("nmap output lacks %q", w)
		}
	}
	for _, w := range []string{"Native RDP: SUCCESS", "SSL: SUCCESS"} {
		if strings.Contains(out, w) {
			t.Errorf("nmap output has %q: NLA is not required", w)
		}
	}
	checkFields(t, "negotiate", waitFor(t, ev, typeNegotiate), map[string]string{event.FieldUsername: "nmap"})
}

// xfreerdp without NLA (xrdp, which has none, and Windows with nla=false)
// sends the password in clear in its Client Info PDU after the MCS
// connection sequence: it is recorded as a credential. Against xrdp the
// connection then completes, so /auth-only exits 0 as against the real
// xrdp (whose login screen alone tells a wrong password); Windows reports
// a bad password in a logon error and disconnects.
func TestXfreerdpClientInfo(t *testing.T) {
	for _, tc := range []struct {
		name      string
		host      service.Host
		args      []string
		requested string
		code      int
		output    string
	}{
		{"xrdp auth-only", linuxHost, []string{"/auth-only"}, "SSL|HYBRID", 0, "Authentication only, exit status 0"},
		{"xrdp auth-only /sec:tls", linuxHost, []string{"/auth-only", "/sec:tls"}, "SSL", 0, "Authentication only, exit status 0"},
		{"windows no nla /sec:tls", windowsHost, []string{"/sec:tls"}, "SSL", xfExitConnectFailed,
			"Logon Error Info LOGON_FAILED_BAD_PASSWORD [LOGON_MSG_SESSION_CONTINUE]"},
		{"windows no nla /sec:tls auth-only", windowsHost, []string{"/sec:tls", "/auth-only"}, "SSL", xfExitConnectFailed,
			"Logon Error Info LOGON_FAILED_BAD_PASSWORD [LOGON_MSG_SESSION_CONTINUE]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, ev := startServer(t, tc.host, &Persona{NLA: false}, "127.0.61.4")
			code, out := xfreerdp(t, addr, append([]string{"/u:carol", "/p:S3cret pw", "/d:CORP", "/size:800x600"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.output) {
				t.Errorf("xfreerdp exit %d, want %d and %q:\n%s", code, tc.code, tc.output, out)
			}
			checkFields(t, "negotiate", waitFor(t, ev, typeNegotiate), map[string]string{event.FieldUsername: "carol",
				"requested_protocols": tc.requested, "selected_protocol": "SSL"})
			checkFields(t, "mcs_connect", waitFor(t, ev, typeMCSConnect), map[string]string{"desktop": "800x600",
				"server_selected_protocol": "SSL"})
			a := waitFor(t, ev, event.TypeAuth)
			checkFields(t, "auth", a, map[string]string{event.FieldUsername: "carol", event.FieldPassword: "S3cret pw",
				"domain": "CORP", event.FieldMethod: "client_info", "autologon": "true", event.FieldSuccess: "false",
				"client_address": "127.0.0.1", "client_dir": "*", "security": "SSL", "alternate_shell": "", "workstation": "*"})
			checkFields(t, "auth", a, peerFields)
		})
	}
}
