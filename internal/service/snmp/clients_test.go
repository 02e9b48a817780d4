package snmp

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// netsnmpFlags make the tools quick and numeric: no MIB files (they are
// non-free on Debian), one retry.
var netsnmpFlags = []string{"-On", "-r", "1", "-t", "2", "-m", ""}

func TestSnmpgetV1V2c(t *testing.T) {
	addr, ev := startAgent(t, testHost(), nil, testIP)
	for _, v := range []string{"1", "2c"} {
		args := append(append([]string{"-v", v, "-c", "public"}, netsnmpFlags...), target(addr), "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0")
		out, err := run(t, "snmpget", args...)
		if err != nil {
			t.Fatalf("snmpget -v%s: %v\n%s", v, err, out)
		}
		if !strings.Contains(out, `.1.3.6.1.2.1.1.1.0 = STRING: "Linux SRV-MONITOR-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64"`) ||
			!strings.Contains(out, `.1.3.6.1.2.1.1.5.0 = STRING: "SRV-MONITOR-17"`) {
			t.Fatalf("snmpget -v%s:\n%s", v, out)
		}
		testutil.Eventually(t, "request event v"+v, func() bool {
			for _, e := range ev.With(event.TypeRequest, fieldVersion, v) {
				if e.Fields[fieldCommunity] == "public" && e.Fields[event.FieldTokenType] == tokenCommunity &&
					e.Fields[fieldPDU] == "get" && e.Fields[event.FieldSrcIP] == "127.0.0.1" &&
					e.Fields[fieldOIDs] == `["1.3.6.1.2.1.1.1.0","1.3.6.1.2.1.1.5.0"]` {
					return true
				}
			}
			return false
		})
	}
}

func TestMissingObjects(t *testing.T) {
	addr, _ := startAgent(t, testHost(), nil, testIP)
	cases := []struct{ v, oid, want string }{
		{"2c", "1.3.6.1.2.1.1.1", "No Such Instance"},
		{"2c", "1.3.6.1.2.1.1.99.0", "No Such Object"},
		{"2c", "1.3.6.1.2.1.2.2.1.2.99", "No Such Instance"},
		{"1", "1.3.6.1.2.1.1.99.0", "noSuchName"},
	}
	for _, c := range cases {
		args := append(append([]string{"-v", c.v, "-c", "public"}, netsnmpFlags...), target(addr), c.oid)
		out, _ := run(t, "snmpget", args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("snmpget -v%s %s: want %q in\n%s", c.v, c.oid, c.want, out)
		}
	}
}

func TestWalkWholeTree(t *testing.T) {
	for _, profile := range []string{"linux", "printer", "switch", "iot"} {
		t.Run(profile, func(t *testing.T) {
			addr, _ := startAgent(t, testHost(), map[string]string{"profile": profile}, testIP)
			var counts []int
			for _, tool := range [][]string{{"snmpwalk", "-v1"}, {"snmpwalk", "-v2c"}, {"snmpbulkwalk", "-v2c"}} {
				args := append(append([]string{tool[1], "-c", "public"}, netsnmpFlags...), "-Cc", target(addr), ".1")
				out, err := run(t, tool[0], args...)
				if err != nil {
					t.Fatalf("%s: %v\n%s", tool, err, out)
				}
				ls := lines(out)
				if len(ls) < 20 || strings.Contains(out, "OID not increasing") {
					t.Fatalf("%s: %d lines\n%s", tool, len(ls), out)
				}
				counts = append(counts, len(ls))
			}
			// v1 does not see Counter64 objects; v2c walks and bulk
			// walks see the same tree.
			if counts[1] != counts[2] || counts[0] >= counts[1] && profile != "printer" {
				t.Fatalf("walk lengths v1, v2c, bulk: %v", counts)
			}
		})
	}
}

func TestSetRecorded(t *testing.T) {
	addr, ev := startAgent(t, testHost(), nil, testIP)
	cases := []struct{ v, community, want string }{
		{"2c", "private", "notWritable"},
		{"2c", "public", "noAccess"},
		{"1", "private", "noSuchName"},
	}
	for _, c := range cases {
		args := append(append([]string{"-v", c.v, "-c", c.community}, netsnmpFlags...), target(addr), "1.3.6.1.2.1.1.6.0", "s", "pwned by x")
		out, _ := run(t, "snmpset", args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("snmpset -v%s -c %s: want %q in\n%s", c.v, c.community, c.want, out)
		}
	}
	testutil.Eventually(t, "set event", func() bool {
		for _, e := range ev.With(typeSet, fieldCommunity, "private") {
			var vbs []map[string]string
			json.Unmarshal([]byte(e.Fields[fieldVarbinds]), &vbs)
			if len(vbs) == 1 && vbs[0]["value"] == "pwned by x" && vbs[0]["oid"] == "1.3.6.1.2.1.1.6.0" && e.Severity == event.Critical {
				return true
			}
		}
		return false
	})
}

func TestBadCommunitySilent(t *testing.T) {
	addr, ev := startAgent(t, testHost(), nil, testIP)
	args := []string{"-v", "2c", "-c", "s3cr3t", "-On", "-r", "0", "-t", "1", "-m", "", target(addr), "1.3.6.1.2.1.1.1.0"}
	out, err := run(t, "snmpget", args...)
	if err == nil || !strings.Contains(out, "Timeout") {
		t.Fatalf("snmpget with a wrong community: %v\n%s", err, out)
	}
	testutil.Eventually(t, "bad community event", func() bool {
		es := ev.With(event.TypeRequest, fieldCommunity, "s3cr3t")
		return len(es) > 0 && es[0].Fields[fieldResult] == "bad community" && es[0].Fields[event.FieldToken] == "s3cr3t"
	})
}

// TestOnesixtyone brute-forces communities: the right ones answer with
// sysDescr, and every guess is recorded as a token.
func TestOnesixtyone(t *testing.T) {
	addr, ev := startAgent(t, testHost(), map[string]string{"community": "n0c-r34d"}, testIP)
	list := t.TempDir() + "/communities.txt"
	if err := os.WriteFile(list, []byte("public\nmanager\nn0c-r34d\nprivate\ncisco\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "onesixtyone", "-c", list, "-p", strconv.Itoa(addr.Port), "-w", "0", addr.IP.String())
	if err != nil {
		t.Fatalf("onesixtyone: %v\n%s", err, out)
	}
	for _, want := range []string{"[n0c-r34d] Linux SRV-MONITOR-17 6.1.0-28-amd64", "[private] Linux SRV-MONITOR-17"} {
		if !strings.Contains(out, want) {
			t.Errorf("onesixtyone output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "[public]") {
		t.Errorf("public answered:\n%s", out)
	}
	testutil.Eventually(t, "a token per guess", func() bool {
		seen := map[string]bool{}
		for _, e := range ev.OfType(event.TypeRequest) {
			if e.Fields[event.FieldTokenType] == tokenCommunity {
				seen[e.Fields[event.FieldToken]] = true
			}
		}
		return len(seen) == 5
	})
}
