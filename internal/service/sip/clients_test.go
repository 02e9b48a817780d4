package sip

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// run runs a real client with a deadline and returns its output and its
// exit error (sipsak and sipp report a refused login that way).
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	path := testutil.RequireTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, ctx.Err(), out)
	}
	t.Logf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	return string(out), err
}

// crack recomputes a hashcat mode 11400 line for password the way
// hashcat's module reads it, independently of the server's code: true
// when the line's digest is the one password gives.
func crack(t *testing.T, line, password string) bool {
	t.Helper()
	f := strings.Split(line, "*")
	if len(f) != 15 || f[0] != "$sip$" || f[13] != "MD5" {
		t.Fatalf("not a $sip$ line: %q", line)
	}
	user, realm, method, prefix, resource, suffix := f[3], f[4], f[5], f[6], f[7], f[8]
	nonce, cnonce, nc, qop, digest := f[9], f[10], f[11], f[12], f[14]
	h := func(s string) string { s2 := md5.Sum([]byte(s)); return hex.EncodeToString(s2[:]) }
	uri := resource
	if prefix != "" {
		uri = prefix + ":" + uri
	}
	if suffix != "" {
		uri += ":" + suffix
	}
	ha1, ha2 := h(user+":"+realm+":"+password), h(method+":"+uri)
	want := h(ha1 + ":" + nonce + ":" + ha2)
	if qop == "auth" || qop == "auth-int" {
		want = h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
	}
	return want == digest
}

// checkCrackable checks an auth event carries the bounty fields and a
// hash line that password cracks, and no other.
func checkCrackable(t *testing.T, e event.Event, password string) {
	t.Helper()
	for _, k := range []string{event.FieldUsername, fieldRealm, fieldNonce, fieldURI, fieldResponse, event.FieldMethod} {
		if e.Fields[k] == "" {
			t.Errorf("auth event lacks %s: %v", k, e.Fields)
		}
	}
	if e.Fields[event.FieldHashFormat] != hashFormat {
		t.Errorf("hash_format = %q", e.Fields[event.FieldHashFormat])
	}
	if !crack(t, e.Fields[event.FieldHash], password) {
		t.Errorf("hash %q does not crack with %q", e.Fields[event.FieldHash], password)
	}
	if crack(t, e.Fields[event.FieldHash], password+"x") {
		t.Errorf("hash %q cracks with a wrong password", e.Fields[event.FieldHash])
	}
}

// TestSipsakOptions: sipsak's OPTIONS is challenged like everything from
// an unknown source, and its retry with a guessed digest is recorded.
func TestSipsakOptions(t *testing.T) {
	ev := start(t, "127.0.114.20", nil)
	out, _ := run(t, "sipsak", "-vv", "-s", "sip:100@127.0.114.20", "-a", "secret")
	for _, want := range []string{"SIP/2.0 401 Unauthorized", `WWW-Authenticate: Digest realm="asterisk",nonce="`, "Server: FPBX-16."} {
		if !strings.Contains(out, want) {
			t.Errorf("sipsak output lacks %q", want)
		}
	}
	req := waitEvent(t, ev, event.TypeRequest, map[string]string{event.FieldMethod: "OPTIONS", fieldTransport: "UDP"})
	for k, want := range map[string]string{
		event.FieldUserAgent: "sipsak 0.9.8.1", fieldScanner: "sipsak", fieldRequestURI: "sip:100@127.0.114.20",
		fieldStatus: "401 Unauthorized", fieldTo: "sip:100@127.0.114.20",
	} {
		if req.Fields[k] != want {
			t.Errorf("request %s = %q, want %q", k, req.Fields[k], want)
		}
	}
	for _, k := range []string{fieldFrom, fieldCallID, fieldContact, event.FieldSrcIP, event.FieldSrcPort} {
		if req.Fields[k] == "" {
			t.Errorf("request lacks %s", k)
		}
	}
	auth := waitEvent(t, ev, event.TypeAuth, map[string]string{event.FieldMethod: "OPTIONS"})
	if auth.Fields[fieldSuccess] != "false" {
		t.Errorf("success = %q", auth.Fields[fieldSuccess])
	}
	checkCrackable(t, auth, "secret")
}

// TestSipsakRegister: a weak extension's digest is accepted; sipsak's
// default 15 s expiry is refused with 423 as res_pjsip_registrar's
// minimum of 60 s makes FreePBX do, a longer one registers; a wrong
// password draws a fresh challenge. Every attempt is crackable.
func TestSipsakRegister(t *testing.T) {
	ev := start(t, "127.0.114.21", map[string]string{"users": "100:secret"})
	out, _ := run(t, "sipsak", "-vv", "-U", "-s", "sip:100@127.0.114.21", "-a", "secret", "-u", "100")
	if !strings.Contains(out, "SIP/2.0 423 Interval Too Brief") || !strings.Contains(out, "Min-Expires: 60") {
		t.Errorf("a 15 s registration was not refused")
	}
	brief := waitEvent(t, ev, event.TypeAuth, map[string]string{fieldSuccess: "true", fieldStatus: "423 Interval Too Brief"})
	checkCrackable(t, brief, "secret")

	out, _ = run(t, "sipsak", "-vv", "-U", "--expires=300", "-s", "sip:100@127.0.114.21", "-a", "secret", "-u", "100")
	if !strings.Contains(out, "All usrloc tests completed successful") {
		t.Errorf("sipsak did not register")
	}
	ok := waitEvent(t, ev, event.TypeAuth, map[string]string{fieldSuccess: "true", fieldStatus: "200 OK"})
	if ok.Fields[event.FieldUsername] != "100" || ok.Fields[event.FieldPassword] != "secret" {
		t.Errorf("success event: %v", ok.Fields)
	}
	checkCrackable(t, ok, "secret")

	out, _ = run(t, "sipsak", "-U", "-s", "sip:100@127.0.114.21", "-a", "wrong", "-u", "100")
	if !strings.Contains(out, "authorization failed") {
		t.Errorf("sipsak registered with a wrong password")
	}
	bad := waitEvent(t, ev, event.TypeAuth, map[string]string{fieldSuccess: "false"})
	if bad.Fields[fieldStatus] != "401 Unauthorized" {
		t.Errorf("wrong password answered %q", bad.Fields[fieldStatus])
	}
	checkCrackable(t, bad, "wrong")
}

// sippScenario is a toll-fraud bot's run: REGISTER with a guessed
// password, then an INVITE to an international number, authenticated.
const sippScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="toll fraud">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:100@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:100@[local_ip]:[local_port]>
Max-Forwards: 70
Expires: 300
User-Agent: sipp-fraud
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:100@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:100@[local_ip]:[local_port]>
[authentication username=100 password=secret]
Max-Forwards: 70
Expires: 300
User-Agent: sipp-fraud
Content-Length: 0

]]></send>
  <recv response="200"/>
  <send retrans="500"><![CDATA[
INVITE sip:0046701234567@[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:0046701234567@[remote_ip]>
Call-ID: [call_id]
CSeq: 3 INVITE
Contact: <sip:100@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: sipp-fraud
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send><![CDATA[
ACK sip:0046701234567@[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:0046701234567@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
INVITE sip:0046701234567@[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:0046701234567@[remote_ip]>
Call-ID: [call_id]
CSeq: 4 INVITE
Contact: <sip:100@[local_ip]:[local_port]>
[authentication username=100 password=secret]
Max-Forwards: 70
User-Agent: sipp-fraud
Content-Length: 0

]]></send>
  <recv response="100" optional="true"/>
  <recv response="404"/>
  <send><![CDATA[
ACK sip:0046701234567@[remote_ip] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:0046701234567@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 4 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
`

// TestSippTollFraud: sipp registers a weak extension with digest auth,
// then dials abroad; the call is refused as an unroutable number and the
// dialled number is recorded as intent.
func TestSippTollFraud(t *testing.T) {
	ev := start(t, "127.0.114.22", map[string]string{"users": "100:secret"})
	scen := filepath.Join(t.TempDir(), "fraud.xml")
	if err := os.WriteFile(scen, []byte(sippScenario), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "sipp", "-sf", scen, "127.0.114.22:5060", "-m", "1", "-timeout", "20s",
		"-i", "127.0.114.122", "-p", "5090", "-nostdin"); err != nil {
		t.Fatalf("sipp's scenario failed: %v", err)
	}
	reg := waitEvent(t, ev, event.TypeAuth, map[string]string{event.FieldMethod: "REGISTER", fieldSuccess: "true"})
	checkCrackable(t, reg, "secret")
	inv := waitEvent(t, ev, event.TypeAuth, map[string]string{event.FieldMethod: "INVITE", fieldSuccess: "true"})
	checkCrackable(t, inv, "secret")
	call := waitEvent(t, ev, typeCall, map[string]string{fieldDialled: "0046701234567"})
	if call.Severity != event.Critical || call.Fields[fieldIntent] != "toll_fraud" || call.Fields[fieldCaller] != "100" {
		t.Errorf("call event: %v %v", call.Severity, call.Fields)
	}
	waitEvent(t, ev, event.TypeRequest, map[string]string{event.FieldMethod: "INVITE", fieldStatus: "404 Not Found"})
	waitEvent(t, ev, event.TypeRequest, map[string]string{event.FieldMethod: "ACK", fieldCSeq: "4 ACK"})
	if n := len(ev.With(event.TypeRequest, event.FieldUserAgent, "sipp-fraud")); n < 4 {
		t.Errorf("%d requests with sipp's User-Agent", n)
	}
}

// TestSippUAC: sipp's built-in uac scenario meets the challenge (asterisk)
// or the 404 of an unknown user (kamailio); its INVITE is recorded.
func TestSippUAC(t *testing.T) {
	for _, tc := range []struct{ product, ip, client, status string }{
		{productAsterisk, "127.0.114.30", "127.0.114.130", "401 Unauthorized"},
		{productKamailio, "127.0.114.31", "127.0.114.131", "404 Not Found"},
	} {
		t.Run(tc.product, func(t *testing.T) {
			ev := start(t, tc.ip, map[string]string{"product": tc.product})
			_, _ = run(t, "sipp", "-sn", "uac", tc.ip+":5060", "-m", "1", "-timeout", "10s",
				"-i", tc.client, "-p", "5091", "-nostdin")
			waitEvent(t, ev, event.TypeRequest, map[string]string{event.FieldMethod: "INVITE", fieldStatus: tc.status,
				fieldRequestURI: "sip:service@" + tc.ip + ":5060"})
			if tc.product == productKamailio {
				waitEvent(t, ev, typeCall, map[string]string{fieldDialled: "service", fieldIntent: "internal"})
			}
		})
	}
}

// TestSvmap: svmap names the PBX from its Server header; kamailio's stock
// filter drops sipvicious, so it finds nothing there. Both record the
// scanner.
func TestSvmap(t *testing.T) {
	ev := start(t, "127.0.114.40", nil)
	out, _ := run(t, "svmap", "-P", "5140", "127.0.114.40")
	if !strings.Contains(out, "127.0.114.40:5060 | FPBX-16.") {
		t.Errorf("svmap did not name FreePBX")
	}
	e := waitEvent(t, ev, event.TypeRequest, map[string]string{event.FieldMethod: "OPTIONS", fieldScanner: "sipvicious"})
	if e.Fields[event.FieldUserAgent] != "friendly-scanner" || e.Severity != event.Warning {
		t.Errorf("svmap request: %v %v", e.Severity, e.Fields)
	}

	kev := start(t, "127.0.114.41", map[string]string{"product": productKamailio})
	out, _ = run(t, "svmap", "-P", "5141", "127.0.114.41")
	if !strings.Contains(out, "found nothing") {
		t.Errorf("svmap found kamailio despite its scanner filter")
	}
	waitEvent(t, kev, event.TypeRequest, map[string]string{fieldScanner: "sipvicious", fieldStatus: "dropped (scanner filter)"})
}

// TestSvwar: pjsip challenges unknown extensions exactly like known ones,
// so svwar learns nothing, as against a real FreePBX.
func TestSvwar(t *testing.T) {
	ev := start(t, "127.0.114.42", map[string]string{"users": "101:101"})
	out, _ := run(t, "svwar", "-P", "5142", "-e100-103", "127.0.114.42")
	if !strings.Contains(out, "authentication request for an unknown extension") {
		t.Errorf("svwar was not refused")
	}
	// Forced, it stops at the first challenge, which it cannot class.
	out, _ = run(t, "svwar", "-P", "5143", "--force", "-e100-103", "127.0.114.42")
	if strings.Contains(out, "| 101 ") || !strings.Contains(out, "found nothing") {
		t.Errorf("svwar found an extension")
	}
	for _, ext := range []string{"100"} {
		e := waitEvent(t, ev, event.TypeRequest, map[string]string{fieldTo: `"` + ext + `"<sip:` + ext + `@127.0.114.42>`})
		if e.Fields[fieldStatus] != "401 Unauthorized" {
			t.Errorf("extension %s answered %q", ext, e.Fields[fieldStatus])
		}
	}
}

// TestSvcrack: every guess is recorded and crackable with its own word;
// the weak extension's password is found.
func TestSvcrack(t *testing.T) {
	ev := start(t, "127.0.114.43", map[string]string{"users": "100:secret"})
	words := []string{"1234", "admin", "100", "secret"}
	dict := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(dict, []byte(strings.Join(words, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := run(t, "svcrack", "-P", "5144", "-u100", "-d", dict, "127.0.114.43")
	if !strings.Contains(out, "| 100       | secret   |") {
		t.Errorf("svcrack did not find the password")
	}
	testutil.Eventually(t, "an auth event per guess", func() bool { return len(ev.OfType(event.TypeAuth)) >= len(words) })
	for _, e := range ev.OfType(event.TypeAuth) {
		cracked := ""
		for _, w := range words {
			if crack(t, e.Fields[event.FieldHash], w) {
				cracked = w
			}
		}
		if cracked == "" {
			t.Errorf("guess not crackable with any word: %v", e.Fields)
		}
		if (cracked == "secret") != (e.Fields[fieldSuccess] == "true") {
			t.Errorf("guess %q: success=%s", cracked, e.Fields[fieldSuccess])
		}
		if e.Fields[event.FieldUserAgent] != "friendly-scanner" || e.Fields[event.FieldUsername] != "100" {
			t.Errorf("guess fields: %v", e.Fields)
		}
	}
}
