package snmp

import (
	"bytes"
	"encoding/hex"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// crack checks a hashcat SNMPv3 line against a password, as hashcat
// does: the key localised to the line's engine ID, the HMAC of the
// zeroed message, compared with the digest.
func crack(t *testing.T, line, password string) bool {
	t.Helper()
	f := strings.Split(line, "$")
	protos := map[string][]string{"0": {authMD5, authSHA}, "3": {"SHA-224"}, "4": {"SHA-256"}, "5": {"SHA-384"}, "6": {"SHA-512"}}
	if len(f) != 7 || f[1] != "SNMPv3" || protos[f[2]] == nil {
		t.Fatalf("hash line %q", line)
	}
	msg, err1 := hex.DecodeString(f[4])
	engine, err2 := hex.DecodeString(f[5])
	digest, err3 := hex.DecodeString(f[6])
	if err1 != nil || err2 != nil || err3 != nil || len(engine) < 13 || len(engine) > 17 {
		t.Fatalf("hash line %q: bad fields", line)
	}
	for _, proto := range protos[f[2]] {
		ap := authProtocols[proto]
		if bytes.Equal(ap.sum(passwordToKey(ap.hash, password, engine), msg), digest) {
			return true
		}
	}
	return false
}

func TestSnmpgetV3(t *testing.T) {
	keys := map[string]string{"v3_users": "alice:SHA:authpass123:AES:privpass123,carol:MD5:carolpass1,dave:SHA-256:davepass99:AES:davepriv99"}
	addr, ev := startAgent(t, testHost(), keys, testIP)
	cases := []struct {
		name, user, pass string
		args             []string
		want, mode       string
	}{
		{"authPriv SHA AES", "alice", "authpass123", []string{"-l", "authPriv", "-a", "SHA", "-A", "authpass123", "-x", "AES", "-X", "privpass123"}, "SRV-MONITOR-17", "25000"},
		{"authNoPriv SHA", "alice", "authpass123", []string{"-l", "authNoPriv", "-a", "SHA", "-A", "authpass123"}, "SRV-MONITOR-17", "25000"},
		{"authNoPriv MD5", "carol", "carolpass1", []string{"-l", "authNoPriv", "-a", "MD5", "-A", "carolpass1"}, "SRV-MONITOR-17", "25000"},
		{"authPriv SHA-256 AES", "dave", "davepass99", []string{"-l", "authPriv", "-a", "SHA-256", "-A", "davepass99", "-x", "AES", "-X", "davepriv99"}, "SRV-MONITOR-17", "26800"},
		{"unknown user SHA-512", "erin", "erinpass99", []string{"-l", "authNoPriv", "-a", "SHA-512", "-A", "erinpass99"}, "Unknown user name", "27300"},
		{"wrong password", "alice", "guessed-pw", []string{"-l", "authNoPriv", "-a", "SHA", "-A", "guessed-pw"}, "Authentication failure", "25000"},
		{"unknown user", "mallory", "hunter2hunter2", []string{"-l", "authPriv", "-a", "MD5", "-A", "hunter2hunter2", "-x", "DES", "-X", "hunter2hunter2"}, "Unknown user name", "25000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append(append([]string{"-v3", "-u", c.user}, c.args...), netsnmpFlags...), target(addr), "1.3.6.1.2.1.1.5.0")
			out, _ := run(t, "snmpget", args...)
			if !strings.Contains(out, c.want) {
				t.Fatalf("snmpget %v: want %q in\n%s", args, c.want, out)
			}
			var got event.Event
			testutil.Eventually(t, "auth event of "+c.user, func() bool {
				for _, e := range ev.With(event.TypeAuth, event.FieldUsername, c.user) {
					if e.Fields[fieldSecLevel] == c.args[1] && crack(t, e.Fields[event.FieldHash], c.pass) {
						got = e
						return true
					}
				}
				return false
			})
			if got.Fields[event.FieldHashFormat] != "snmpv3 (hashcat "+c.mode+")" || got.Fields[event.FieldSrcIP] == "" || got.Fields[fieldAuthParams] == "" {
				t.Fatalf("auth event %v", got.Fields)
			}
		})
	}
}

// TestNotInTimeWindow: a request signed with a stale engine time gets
// the one report snmpd signs, usmStatsNotInTimeWindows, with the engine's
// current time.
func TestNotInTimeWindow(t *testing.T) {
	h := testHost()
	p := defaultPersona().(*Persona)
	p.V3Users = []string{"alice:SHA:authpass123"}
	a, err := NewAgent(service.Config{Host: h, Emit: &testutil.Events{}}, p, profileDevice(p, h, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now()
	u := a.eng.user([]byte("alice"))
	req := &message{msgID: 77, usm: usmParams{user: []byte("alice")}}
	pb := appendPDU(nil, pduGet, 5, 0, 0, appendVarbind(nil, oid{1, 3, 6, 1, 2, 1, 1, 5, 0}, tagNull, nil))
	pkt := a.v3Message(req, u, flagAuth|flagReportable, pb, then)
	a.now = func() time.Time { return then.Add(200 * time.Second) }
	reply := a.datagram(&net.UDPAddr{IP: net.IPv4(127, 0, 116, 9), Port: 5000}, pkt)
	m, err := parseMessage(reply)
	if err != nil {
		t.Fatalf("reply %x: %v", reply, err)
	}
	r, err := parseScoped(m.scoped)
	if err != nil || r.typ != pduReport || len(r.vbs) != 1 || r.vbs[0].oid.String() != "1.3.6.1.6.3.15.1.1.2.0" {
		t.Fatalf("report %+v: %v", r, err)
	}
	if m.flags != flagAuth || !verify(u, m, reply) || m.usm.time != a.eng.time(a.now()) {
		t.Fatalf("report flags %#x, time %d, signed %v", m.flags, m.usm.time, verify(u, m, reply))
	}
}

// TestV3Walk walks the tree over authPriv: the walk ends, every request
// is recorded, and the session's login is one auth event, not one per
// signed request.
func TestV3Walk(t *testing.T) {
	addr, ev := startAgent(t, testHost(), map[string]string{"v3_users": "alice:SHA:authpass123:AES:privpass123"}, testIP)
	out, err := run(t, "snmpwalk", "-v3", "-u", "alice", "-l", "authPriv", "-a", "SHA", "-A", "authpass123", "-x", "AES", "-X", "privpass123",
		"-On", "-m", "", "-Cc", target(addr), ".1")
	if err != nil || len(lines(out)) < 100 {
		t.Fatalf("snmpwalk v3: %v, %d lines\n%s", err, len(lines(out)), out)
	}
	testutil.Eventually(t, "request events of the walk", func() bool {
		return len(ev.With(event.TypeRequest, event.FieldUsername, "alice")) >= strings.Count(out, "\n.1.")+1
	})
	if n := len(ev.With(event.TypeAuth, event.FieldUsername, "alice")); n != 1 {
		t.Fatalf("%d auth events for one walk", n)
	}
}
