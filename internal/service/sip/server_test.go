package sip

import (
	"bufio"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// kamailioCaptures are replies of Debian's kamailio 5.6.3 with the stock
// kamailio.cfg (real-products.md §18, and captures on 127.0.114.66 made
// for this package), with the parts that vary per server and request
// written as {rport} (the client's port) and {tag} (a To tag).
var kamailioCaptures = []struct {
	name, req, want string
}{
	{"nmap probe", "OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/UDP nm;branch=foo;rport\r\nFrom: <sip:nm@nm>;tag=root\r\nTo: <sip:nm2@nm2>\r\nCall-ID: 50000\r\nCSeq: 42 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\nContact: <sip:nm@nm>\r\nAccept: application/sdp\r\n\r\n",
		"SIP/2.0 403 Not relaying\r\nVia: SIP/2.0/UDP nm;branch=foo;rport={rport};received=127.0.114.1\r\nFrom: <sip:nm@nm>;tag=root\r\nTo: <sip:nm2@nm2>;tag={sl}\r\nCall-ID: 50000\r\nCSeq: 42 OPTIONS\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n"},
	{"keepalive", sipRequest("OPTIONS", "sip:{ip}", ""),
		"SIP/2.0 200 Keepalive\r\nVia: SIP/2.0/UDP 127.0.114.1:5070;branch=z9hG4bK-OPTIONS1;rport={rport};received=127.0.114.1\r\nFrom: <sip:100@127.0.114.66>;tag=abc\r\nTo: <sip:100@127.0.114.66>;tag={sl}\r\nCall-ID: call-OPTIONS@127.0.114.1\r\nCSeq: 1 OPTIONS\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n"},
	{"unknown user", sipRequest("OPTIONS", "sip:100@{ip}", ""),
		"SIP/2.0 404 Not Found\r\nVia: SIP/2.0/UDP 127.0.114.1:5070;branch=z9hG4bK-OPTIONS1;rport={rport};received=127.0.114.1\r\nFrom: <sip:100@127.0.114.66>;tag=abc\r\nTo: <sip:100@127.0.114.66>;tag={tm}\r\nCall-ID: call-OPTIONS@127.0.114.1\r\nCSeq: 1 OPTIONS\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n"},
	{"register", sipRequest("REGISTER", "sip:{ip}", ""),
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.114.1:5070;branch=z9hG4bK-REGISTER1;rport={rport};received=127.0.114.1\r\nFrom: <sip:100@127.0.114.66>;tag=abc\r\nTo: <sip:100@127.0.114.66>;tag={sl}\r\nCall-ID: call-REGISTER@127.0.114.1\r\nCSeq: 1 REGISTER\r\nContact: <sip:100@127.0.114.1:5070>;expires=3600\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n"},
	{"in dialog", strings.Replace(sipRequest("BYE", "sip:100@{ip}", ""), "To: <sip:100@127.0.114.66>", "To: <sip:100@127.0.114.66>;tag=x", 1),
		"SIP/2.0 404 Not here\r\nVia: SIP/2.0/UDP 127.0.114.1:5070;branch=z9hG4bK-BYE1;rport={rport};received=127.0.114.1\r\nFrom: <sip:100@127.0.114.66>;tag=abc\r\nTo: <sip:100@127.0.114.66>;tag=x\r\nCall-ID: call-BYE@127.0.114.1\r\nCSeq: 1 BYE\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n"},
	{"no hops", strings.Replace(sipRequest("OPTIONS", "sip:{ip}", ""), "Max-Forwards: 70", "Max-Forwards: 0", 1),
		"SIP/2.0 483 Too Many Hops\r\nVia: SIP/2.0/UDP 127.0.114.1:5070;branch=z9hG4bK-OPTIONS1;rport={rport};received=127.0.114.1\r\nFrom: <sip:100@127.0.114.66>;tag=abc\r\nTo: <sip:100@127.0.114.66>;tag={sl}\r\nCall-ID: call-OPTIONS@127.0.114.1\r\nCSeq: 1 OPTIONS\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n"},
	{"foreign domain", sipRequest("INVITE", "sip:200@evil.example", ""),
		"SIP/2.0 403 Not relaying\r\nVia: SIP/2.0/UDP 127.0.114.1:5070;branch=z9hG4bK-INVITE1;rport={rport};received=127.0.114.1\r\nFrom: <sip:100@127.0.114.66>;tag=abc\r\nTo: <sip:100@127.0.114.66>;tag={sl}\r\nCall-ID: call-INVITE@127.0.114.1\r\nCSeq: 1 INVITE\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n"},
	{"scanner", strings.Replace(sipRequest("OPTIONS", "sip:{ip}", ""), "Linphone/5.0", "friendly-scanner", 1), ""},
	{"garbage", "HELLO\r\n\r\n", ""},
}

// TestKamailioCaptures replays the requests of the kamailio captures and
// compares the replies byte for byte, tags aside (checked for shape:
// sl's 32 hex "." 8 hex, tm's 32 hex "-" 8 hex).
func TestKamailioCaptures(t *testing.T) {
	const ip = "127.0.114.70"
	start(t, ip, map[string]string{"product": productKamailio})
	sl := regexp.MustCompile(`tag=[0-9a-f]{32}\.[0-9a-f]{8}\r\n`)
	tm := regexp.MustCompile(`tag=[0-9a-f]{32}-[0-9a-f]{8}\r\n`)
	for _, tc := range kamailioCaptures {
		t.Run(tc.name, func(t *testing.T) {
			got := exchangeUDP(t, ip, strings.ReplaceAll(tc.req, "{ip}", ip), 300*time.Millisecond)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("kamailio answers nothing; got %q", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d replies", len(got))
			}
			g := regexp.MustCompile(`rport=\d+`).ReplaceAllString(got[0], "rport={rport}")
			g = sl.ReplaceAllString(g, "tag={sl}\r\n")
			g = tm.ReplaceAllString(g, "tag={tm}\r\n")
			if g != tc.want {
				t.Errorf("got\n%q\nwant\n%q", g, tc.want)
			}
		})
	}
	t.Run("nmap probe over TCP", func(t *testing.T) {
		c := testutil.Dial(t, ip+":5060", 5*time.Second)
		probe := strings.Replace(kamailioCaptures[0].req, "UDP nm;branch=foo;rport", "TCP nm;branch=foo", 1)
		if _, err := c.Write([]byte(probe)); err != nil {
			t.Fatal(err)
		}
		got, err := readResponse(bufio.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		got = regexp.MustCompile(`rport=\d+`).ReplaceAllString(sl.ReplaceAllString(got, "tag={sl}\r\n"), "rport={rport}")
		want := strings.Replace(kamailioCaptures[0].want, "UDP nm;branch=foo;rport={rport};received=127.0.114.1",
			"TCP nm;branch=foo;rport={rport};received=127.0.0.1", 1)
		if got != want {
			t.Errorf("got\n%q\nwant\n%q", got, want)
		}
	})
}

// TestKamailioInvite: an INVITE to an unknown user is refused with a 404
// repeated (0.5, 1.5, 3.5 s) until the ACK, and recorded as a call; a
// CANCEL of it is answered "200 canceling".
func TestKamailioInvite(t *testing.T) {
	const ip = "127.0.114.71"
	ev := start(t, ip, map[string]string{"product": productKamailio})
	got := exchangeUDP(t, ip, sipRequest("INVITE", "sip:+4930123456@"+ip, ""), 4*time.Second)
	if len(got) != 4 || !strings.HasPrefix(got[0], "SIP/2.0 404 Not Found\r\n") || got[3] != got[0] {
		t.Fatalf("want the 404 and 3 repeats, got %q", got)
	}
	call := waitEvent(t, ev, typeCall, map[string]string{fieldDialled: "+4930123456"})
	if call.Fields[fieldIntent] != "toll_fraud" {
		t.Errorf("intent %q", call.Fields[fieldIntent])
	}
	cancel := strings.Replace(sipRequest("INVITE", "sip:+4930123456@"+ip, ""), "INVITE", "CANCEL", 1)
	cancel = strings.Replace(cancel, "INVITE", "CANCEL", -1)
	cancel = strings.Replace(cancel, "z9hG4bK-CANCEL1", "z9hG4bK-INVITE1", 1)
	cancel = strings.Replace(cancel, "call-CANCEL@", "call-INVITE@", 1)
	reply := exchangeUDP(t, ip, cancel, 300*time.Millisecond)
	if len(reply) != 1 || !strings.HasPrefix(reply[0], "SIP/2.0 200 canceling\r\n") ||
		respHeader(reply[0], "To") != respHeader(got[0], "To") {
		t.Errorf("CANCEL: %q", reply)
	}
}

// TestAsteriskChallenge checks the 401's layout against chan_pjsip's:
// header order, Via with rport and received before branch, the To tag
// from the branch, the nonce's shape, pjsip's padded Content-Length.
func TestAsteriskChallenge(t *testing.T) {
	const ip = "127.0.114.72"
	start(t, ip, map[string]string{"server": "FPBX-16.0.33(18.13.0)"})
	got := exchangeUDP(t, ip, sipRequest("REGISTER", "sip:"+ip, ""), 300*time.Millisecond)
	if len(got) != 1 {
		t.Fatalf("got %q", got)
	}
	r := got[0]
	wantNames := []string{"Via", "Call-ID", "From", "To", "CSeq", "WWW-Authenticate", "Server", "Content-Length"}
	if !strings.HasPrefix(r, "SIP/2.0 401 Unauthorized\r\n") || !slices.Equal(headerNames(r), wantNames) {
		t.Errorf("401 layout: %q", r)
	}
	if !regexp.MustCompile(`^SIP/2\.0/UDP 127\.0\.114\.1:5070;rport=\d+;received=127\.0\.114\.1;branch=z9hG4bK-REGISTER1$`).MatchString(respHeader(r, "Via")) {
		t.Errorf("Via %q", respHeader(r, "Via"))
	}
	if to := respHeader(r, "To"); to != "<sip:100@127.0.114.66>;tag=z9hG4bK-REGISTER1" {
		t.Errorf("To %q", to)
	}
	if !regexp.MustCompile(`^Digest realm="asterisk",nonce="\d{10}/[0-9a-f]{32}",opaque="[0-9a-f]{16}",algorithm=md5,qop="auth"$`).MatchString(respHeader(r, "WWW-Authenticate")) {
		t.Errorf("challenge %q", respHeader(r, "WWW-Authenticate"))
	}
	if respHeader(r, "Server") != "FPBX-16.0.33(18.13.0)" || !strings.HasSuffix(r, "\r\nContent-Length:  0\r\n\r\n") {
		t.Errorf("tail %q", r)
	}
}

// digestRequest is a request answering the challenge in resp for
// user:password, as a softphone computes it.
func digestRequest(method, ruri, resp, user, password string) string {
	chal := respHeader(resp, "WWW-Authenticate")
	c, _ := parseCredentials(chal)
	c.username, c.uri, c.qop, c.nc, c.cnonce = user, ruri, "auth", "00000001", "0a4f113b"
	auth := `Digest username="` + user + `",realm="` + c.realm + `",nonce="` + c.nonce + `",uri="` + ruri +
		`",response="` + c.expected(method, password) + `",algorithm=MD5,cnonce="0a4f113b",nc=00000001,qop=auth`
	req := sipRequest(method, ruri, "Authorization: "+auth+"\r\n")
	return strings.Replace(req, "CSeq: 1 ", "CSeq: 2 ", 1)
}

// TestAsteriskAuthenticated: a right digest gets the answers of an
// identified endpoint (OPTIONS 200 with pjsip's capability headers,
// REGISTER 200 with the bindings); a right password on an expired nonce
// gets stale=true; a wrong one a fresh challenge.
func TestAsteriskAuthenticated(t *testing.T) {
	const ip = "127.0.114.73"
	ev := start(t, ip, map[string]string{"users": "100:1234"})
	chal := exchangeUDP(t, ip, sipRequest("OPTIONS", "sip:"+ip, ""), 300*time.Millisecond)[0]

	got := exchangeUDP(t, ip, digestRequest("OPTIONS", "sip:"+ip, chal, "100", "1234"), 300*time.Millisecond)
	want := []string{"Via", "Call-ID", "From", "To", "CSeq", "Accept", "Allow", "Supported", "Accept-Encoding", "Accept-Language", "Server", "Content-Length"}
	if len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 200 OK\r\n") || !slices.Equal(headerNames(got[0]), want) ||
		respHeader(got[0], "Allow") != asteriskAllow {
		t.Fatalf("OPTIONS: %q", got)
	}

	got = exchangeUDP(t, ip, digestRequest("REGISTER", "sip:"+ip, chal, "100", "1234"), 300*time.Millisecond)
	want = []string{"Via", "Call-ID", "From", "To", "CSeq", "Date", "Contact", "Expires", "Server", "Content-Length"}
	if len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 200 OK\r\n") || !slices.Equal(headerNames(got[0]), want) ||
		respHeader(got[0], "Contact") != "<sip:100@127.0.114.1:5070>;expires=3599" {
		t.Fatalf("REGISTER: %q", got)
	}

	got = exchangeUDP(t, ip, digestRequest("REGISTER", "sip:"+ip, chal, "100", "12345"), 300*time.Millisecond)
	if len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 401 Unauthorized\r\n") || strings.Contains(got[0], "stale") {
		t.Fatalf("wrong password: %q", got)
	}

	old := strings.Replace(chal, respHeader(chal, "WWW-Authenticate"),
		`Digest realm="asterisk",nonce="1000000000/00000000000000000000000000000000",algorithm=md5,qop="auth"`, 1)
	got = exchangeUDP(t, ip, digestRequest("REGISTER", "sip:"+ip, old, "100", "1234"), 300*time.Millisecond)
	if len(got) != 1 || !strings.Contains(respHeader(got[0], "WWW-Authenticate"), `qop="auth",stale=true`) {
		t.Fatalf("stale nonce: %q", got)
	}
	testutil.Eventually(t, "4 auth events", func() bool { return len(ev.OfType(event.TypeAuth)) == 4 })
	for _, e := range ev.OfType(event.TypeAuth) {
		if e.Fields[fieldRealm] != "asterisk" || e.Fields[event.FieldUsername] != "100" || e.Fields[fieldCnonce] != "0a4f113b" ||
			e.Fields[fieldNC] != "00000001" || e.Fields[fieldQop] != "auth" || e.Fields[fieldAlgorithm] != "MD5" {
			t.Errorf("auth fields: %v", e.Fields)
		}
	}
}

// TestAsteriskUnknownAndAck: ACK draws nothing, a CANCEL with no call
// 481, and an unknown extension the same challenge as a known one.
func TestAsteriskUnknownAndAck(t *testing.T) {
	const ip = "127.0.114.74"
	start(t, ip, map[string]string{"users": "100:1234"})
	if got := exchangeUDP(t, ip, sipRequest("ACK", "sip:100@"+ip, ""), 300*time.Millisecond); len(got) != 0 {
		t.Errorf("ACK answered %q", got)
	}
	got := exchangeUDP(t, ip, sipRequest("CANCEL", "sip:100@"+ip, ""), 300*time.Millisecond)
	if len(got) != 1 || !strings.HasPrefix(got[0], "SIP/2.0 481 Call/Transaction Does Not Exist\r\n") {
		t.Errorf("CANCEL: %q", got)
	}
	known := exchangeUDP(t, ip, sipRequest("INVITE", "sip:100@"+ip, ""), 300*time.Millisecond)
	unknown := exchangeUDP(t, ip, strings.ReplaceAll(sipRequest("INVITE", "sip:999@"+ip, ""), "sip:100@", "sip:999@"), 300*time.Millisecond)
	if len(known) != 1 || len(unknown) != 1 || !slices.Equal(headerNames(known[0]), headerNames(unknown[0])) ||
		strings.SplitN(known[0], "\r\n", 2)[0] != strings.SplitN(unknown[0], "\r\n", 2)[0] {
		t.Errorf("known and unknown extensions differ: %q / %q", known, unknown)
	}
}

// TestTCP: over TCP, requests are framed by Content-Length, pipelined
// requests are each answered, a body is skipped, and events say TCP.
func TestTCP(t *testing.T) {
	const ip = "127.0.114.75"
	ev := start(t, ip, nil)
	c := testutil.Dial(t, ip+":5060", 5*time.Second)
	body := "v=0\r\no=- 1 1 IN IP4 127.0.114.1\r\n"
	first := strings.Replace(sipRequest("INVITE", "sip:100@"+ip, "Content-Type: application/sdp\r\n"), "Content-Length: 0", "Content-Length: "+strconv.Itoa(len(body)), 1) + body
	second := sipRequest("OPTIONS", "sip:"+ip, "")
	msg := "\r\n\r\n" + first + second
	if _, err := c.Write([]byte(msg[:40])); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(msg[40:])); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for _, want := range []string{"1 INVITE", "1 OPTIONS"} {
		m, err := readResponse(br)
		if err != nil {
			t.Fatal(err)
		}
		if respHeader(m, "CSeq") != want || !strings.HasPrefix(m, "SIP/2.0 401 ") {
			t.Errorf("reply %q", m)
		}
	}
	waitEvent(t, ev, event.TypeRequest, map[string]string{event.FieldMethod: "OPTIONS", fieldTransport: "TCP"})
}

// readResponse reads one response (no body) from a TCP stream.
func readResponse(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		b.WriteString(l)
		if l == "\r\n" {
			return b.String(), nil
		}
	}
}

// TestGarbage: what does not parse gets no reply and an error event.
func TestGarbage(t *testing.T) {
	const ip = "127.0.114.76"
	ev := start(t, ip, nil)
	for _, g := range []string{"HELLO\r\n\r\n", "\x00\x01\x02", "SIP/2.0 200 OK\r\nVia: x\r\n\r\n", "OPTIONS sip:x SIP/2.0\r\nVia: a\rInjected: 1\r\n\r\n"} {
		if got := exchangeUDP(t, ip, g, 200*time.Millisecond); len(got) != 0 {
			t.Errorf("%q answered %q", g, got)
		}
	}
	testutil.Eventually(t, "4 error events", func() bool { return len(ev.OfType(typeError)) == 4 })
}

// TestHashcatReference checks the cracking helper against hashcat's own
// example hash for mode 11400 (password "hashcat"), so the lines the
// server stores are checked against hashcat's reading of them.
func TestHashcatReference(t *testing.T) {
	const ref = "$sip$*192.168.100.100*192.168.100.121*username*asterisk*REGISTER*sip*192.168.100.121**2b01df0b****MD5*ad0520061ca07c120d7e8ce696a6df2d"
	if !crack(t, ref, "hashcat") {
		t.Fatal("the helper does not crack hashcat's example")
	}
	c, ok := parseCredentials(`Digest username="username",realm="asterisk",nonce="2b01df0b",uri="sip:192.168.100.121",response="ad0520061ca07c120d7e8ce696a6df2d",algorithm=MD5`)
	line, ok2 := c.hashcat("192.168.100.100", "192.168.100.121", "REGISTER")
	if !ok || !ok2 || line != ref {
		t.Errorf("line %q", line)
	}
}

// TestPersonaValidate rejects bad keys.
func TestPersonaValidate(t *testing.T) {
	for _, p := range []Persona{
		{Product: "freeswitch", Realm: "asterisk"},
		{Product: productAsterisk, Realm: `a"b`},
		{Product: productAsterisk, Realm: "asterisk", Users: "100"},
		{Product: productAsterisk, Realm: "asterisk", Server: "x\r\nInjected: 1"},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v validated", p)
		}
	}
	d := defaultPersona().(*Persona)
	if err := d.Validate(); err != nil {
		t.Error(err)
	}
}
