package snmp

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// snmpdIP is where the differential test runs the real snmpd.
const snmpdIP = "127.0.116.3"

// startSnmpd runs Debian's snmpd 5.9.3 with a temporary configuration
// (communities public and private, the whole MIB in view) and state
// directory, until the test ends.
func startSnmpd(t *testing.T) *net.UDPAddr {
	t.Helper()
	bin := "/usr/sbin/snmpd"
	if _, err := os.Stat(bin); err != nil {
		testutil.Skip(t, "snmpd is not installed")
	}
	dir := t.TempDir()
	addr := &net.UDPAddr{IP: net.ParseIP(snmpdIP), Port: 16161}
	conf := "agentaddress udp:" + addr.String() + "\nrocommunity public default\nrwcommunity private default\n" +
		"sysLocation Sitting on the Dock of the Bay\nsysContact Me <me@example.org>\nsysServices 72\n" +
		"createUser alice SHA authpass123 AES privpass123\nrouser alice\ncreateUser carol MD5 carolpass1\nrouser carol\n"
	if err := os.WriteFile(filepath.Join(dir, "snmpd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-C", "-c", filepath.Join(dir, "snmpd.conf"), "-Lf", filepath.Join(dir, "log"), "-I", "-smux")
	cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+dir, "MIBS=", "MIBDIRS="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	probe := communityMessage(version2c, []byte("public"), appendPDU(nil, pduGet, 1, 0, 0, appendVarbind(nil, oid{1, 3, 6, 1, 2, 1, 1, 5, 0}, tagNull, nil)))
	testutil.Eventually(t, "snmpd answers", func() bool { return exchange(t, addr, probe, 200*time.Millisecond) != nil })
	return addr
}

// exchange sends a datagram and returns the reply (nil after wait).
func exchange(t *testing.T, to *net.UDPAddr, pkt []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.DialUDP("udp", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(pkt)
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// shape is what the differential test compares of a reply: everything
// but the values, which differ between machines.
type shape struct {
	typ             byte
	errStat, errIdx int64
	names           []string
	tags            []byte
}

func shapeOf(t *testing.T, b []byte) *shape {
	t.Helper()
	if b == nil {
		return nil
	}
	m, err := parseMessage(b)
	if err != nil {
		t.Fatalf("reply %x: %v", b, err)
	}
	p := m.pdu
	if m.version == version3 {
		if p, err = parseScoped(m.scoped); err != nil {
			t.Fatalf("v3 reply %x: %v", b, err)
		}
	}
	s := &shape{typ: p.typ, errStat: p.errStat, errIdx: p.errIdx}
	for _, vb := range p.vbs {
		s.names = append(s.names, vb.oid.String())
		s.tags = append(s.tags, vb.tag)
	}
	return s
}

// TestSnmpdDifferential sends the same requests to the real snmpd and to
// the agent and compares the replies' PDU type, error status and index,
// and bindings' names and types: the error semantics of v1, v2c and v3.
func TestSnmpdDifferential(t *testing.T) {
	real := startSnmpd(t)
	ours, _ := startAgent(t, testHost(), nil, testIP)
	get := func(typ byte, o ...oid) []byte {
		var vbs []byte
		for _, x := range o {
			vbs = appendVarbind(vbs, x, tagNull, nil)
		}
		return appendPDU(nil, typ, 0x1234, 0, 0, vbs)
	}
	bulk := func(n, r int64, o ...oid) []byte {
		var vbs []byte
		for _, x := range o {
			vbs = appendVarbind(vbs, x, tagNull, nil)
		}
		return appendPDU(nil, pduGetBulk, 0x1234, n, r, vbs)
	}
	set := appendPDU(nil, pduSet, 0x1234, 0, 0, appendVarbind(nil, oid{1, 3, 6, 1, 2, 1, 1, 6, 0}, tagOctetString, []byte("x")))
	v1 := func(c string, p []byte) []byte { return communityMessage(version1, []byte(c), p) }
	v2 := func(c string, p []byte) []byte { return communityMessage(version2c, []byte(c), p) }
	sysDescr, sysUpTime := oid{1, 3, 6, 1, 2, 1, 1, 1, 0}, oid{1, 3, 6, 1, 2, 1, 1, 3, 0}
	cases := []struct {
		name   string
		pkt    []byte
		silent bool // snmpd answers nothing
	}{
		{"v2c get", v2("public", get(pduGet, sysDescr, sysUpTime)), false},
		{"v2c get type OID", v2("public", get(pduGet, oid{1, 3, 6, 1, 2, 1, 1, 1})), false},
		{"v2c get under scalar", v2("public", get(pduGet, oid{1, 3, 6, 1, 2, 1, 1, 1, 0, 5})), false},
		{"v2c get missing scalar", v2("public", get(pduGet, oid{1, 3, 6, 1, 2, 1, 1, 99, 0})), false},
		{"v2c get missing subtree", v2("public", get(pduGet, oid{1, 3, 6, 1, 4, 1, 99999, 1})), false},
		{"v2c get missing row", v2("public", get(pduGet, oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 999})), false},
		{"v2c get missing column", v2("public", get(pduGet, oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 99, 1})), false},
		{"v2c get nothing", v2("public", get(pduGet)), false},
		{"v2c getnext", v2("public", get(pduGetNext, oid{1, 3, 6, 1, 2, 1, 1}, oid{1, 3, 6, 1, 2, 1, 1, 9, 1, 2, 10})), false},
		{"v2c getnext end", v2("public", get(pduGetNext, oid{2, 0})), false},
		{"v2c getbulk", v2("public", bulk(1, 3, sysUpTime, oid{1, 3, 6, 1, 2, 1, 1, 9, 1, 3, 9})), false},
		{"v2c getbulk end", v2("public", bulk(0, 3, oid{2, 0})), false},
		{"v2c getbulk no repetitions", v2("public", bulk(0, 0, sysUpTime)), false},
		{"v2c getbulk negative", v2("public", bulk(-1, -1, sysUpTime)), false},
		{"v2c set rw", v2("private", set), false},
		{"v2c set ro", v2("public", set), false},
		{"v2c bad community", v2("secret", get(pduGet, sysDescr)), true},
		{"v1 get", v1("public", get(pduGet, sysDescr)), false},
		{"v1 get missing", v1("public", get(pduGet, sysDescr, oid{1, 3, 6, 1, 2, 1, 1, 99, 0})), false},
		{"v1 getnext end", v1("public", get(pduGetNext, oid{2, 0})), false},
		{"v1 getbulk", v1("public", bulk(0, 3, sysUpTime)), false},
		{"v1 getbulk end", v1("public", bulk(0, 3, oid{2, 0})), false},
		{"v1 getbulk counter64", v1("public", bulk(0, 2, oid{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 5})), false},
		{"v1 set rw", v1("private", set), false},
		{"v1 set ro", v1("public", set), false},
		{"v2c response", v2("public", get(pduResponse, sysDescr)), true},
		{"v3 discovery", testutil.Hex("303e020103301102020c5f020300ffe3040104020103041030" +
			"0e0400020100020100040004000400301404000400a00e0202305a020100020100300030"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A reply is awaited long enough for a loaded machine;
			// the requests both must ignore are given a short wait.
			wait := 5 * time.Second
			if c.silent {
				wait = 500 * time.Millisecond
			}
			want := shapeOf(t, exchange(t, real, c.pkt, wait))
			got := shapeOf(t, exchange(t, ours, c.pkt, wait))
			if (want == nil) != (got == nil) {
				t.Fatalf("snmpd replied %v, the agent %v", want, got)
			}
			if want == nil {
				return
			}
			if want.typ != got.typ || want.errStat != got.errStat || want.errIdx != got.errIdx ||
				string(want.tags) != string(got.tags) || len(want.names) != len(got.names) {
				t.Fatalf("snmpd: %+v\nagent: %+v", *want, *got)
			}
			for i := range want.names {
				if want.names[i] != got.names[i] {
					t.Fatalf("snmpd: %+v\nagent: %+v", *want, *got)
				}
			}
		})
	}
}

// valueRE is what differs between two machines' snmpget output.
var valueRE = regexp.MustCompile(`= STRING: .*`)

// TestSnmpdDifferentialV3 runs snmpget v3 against the real snmpd and the
// agent, with the same users, and compares what the client prints: the
// USM reports (unknown user, wrong digest, security level, decryption)
// and VACM's answer to noAuthNoPriv.
func TestSnmpdDifferentialV3(t *testing.T) {
	real := startSnmpd(t)
	ours, _ := startAgent(t, testHost(), map[string]string{"v3_users": "alice:SHA:authpass123:AES:privpass123,carol:MD5:carolpass1"}, testIP)
	cases := map[string][]string{
		"authPriv":       {"-u", "alice", "-l", "authPriv", "-a", "SHA", "-A", "authpass123", "-x", "AES", "-X", "privpass123"},
		"authNoPriv":     {"-u", "alice", "-l", "authNoPriv", "-a", "SHA", "-A", "authpass123"},
		"noAuthNoPriv":   {"-u", "alice", "-l", "noAuthNoPriv"},
		"wrong password": {"-u", "alice", "-l", "authNoPriv", "-a", "SHA", "-A", "wrongpass99"},
		"wrong protocol": {"-u", "alice", "-l", "authNoPriv", "-a", "MD5", "-A", "authpass123"},
		"wrong priv":     {"-u", "alice", "-l", "authPriv", "-a", "SHA", "-A", "authpass123", "-x", "AES", "-X", "wrongpriv9"},
		"priv without":   {"-u", "carol", "-l", "authPriv", "-a", "MD5", "-A", "carolpass1", "-x", "DES", "-X", "carolpass1"},
		"unknown user":   {"-u", "mallory", "-l", "authNoPriv", "-a", "SHA", "-A", "password1"},
		"unknown noauth": {"-u", "mallory", "-l", "noAuthNoPriv"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			outputs := make([]string, 2)
			for i, a := range []*net.UDPAddr{real, ours} {
				// snmpd drops a wrong AES key's request: the client's
				// timeout is long enough for a loaded machine, once.
				full := append(append([]string{"-v3"}, args...), "-On", "-m", "", "-r", "0", "-t", "3", target(a), "1.3.6.1.2.1.1.5.0")
				out, _ := run(t, "snmpget", full...)
				outputs[i] = valueRE.ReplaceAllString(strings.ReplaceAll(out, target(a), "TARGET"), "= STRING: x")
			}
			if outputs[0] != outputs[1] {
				t.Fatalf("snmpd: %q\nagent: %q", outputs[0], outputs[1])
			}
			t.Logf("%s: %q", name, outputs[0])
		})
	}
}
