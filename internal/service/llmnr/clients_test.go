package llmnr

import (
	"strings"
	"testing"

	"decnet/internal/event"
)

// TestDigLLMNR: dig's LLMNR-style queries (DNS format to 5355) are
// recorded; the decky answers its own name with its address and nothing
// else.
func TestDigLLMNR(t *testing.T) {
	ip := "127.0.118.10"
	_, ev := start(t, winHost(ip), nil)
	out := run(t, "dig", "+tries=1", "+time=1", "-p", "5355", "@"+ip, "WPAD")
	if !strings.Contains(out, "timed out") || strings.Contains(out, "ANSWER SECTION") {
		t.Errorf("dig WPAD was answered:\n%s", out)
	}
	e := queryEvent(t, ev, protoLLMNR, "WPAD")
	if e.Fields[fieldQtype] != "A" || e.Fields[fieldAnswered] != "false" || e.Fields[event.FieldSrcIP] != "127.0.0.1" || e.Fields[event.FieldSrcPort] == "" {
		t.Errorf("WPAD query event %v", e.Fields)
	}
	out = run(t, "dig", "+tries=1", "+time=2", "-p", "5355", "@"+ip, "ws-acct-07")
	if !strings.Contains(out, "ws-acct-07.\t\t30\tIN\tA\t"+ip) {
		t.Errorf("dig ws-acct-07 was not answered with the decky's address:\n%s", out)
	}
	if e := queryEvent(t, ev, protoLLMNR, "ws-acct-07"); e.Fields[fieldAnswered] != "true" {
		t.Errorf("own-name query event %v", e.Fields)
	}
	out = run(t, "dig", "+tries=1", "+time=1", "-p", "5355", "@"+ip, "ISATAP", "AAAA")
	if strings.Contains(out, "ANSWER SECTION") {
		t.Errorf("dig ISATAP was answered:\n%s", out)
	}
	if e := queryEvent(t, ev, protoLLMNR, "ISATAP"); e.Fields[fieldQtype] != "AAAA" {
		t.Errorf("ISATAP query event %v", e.Fields)
	}
}

// TestDigMDNS: a unicast DNS-SD browse is recorded; a Linux decky answers
// as Avahi does, a Windows decky does not publish services.
func TestDigMDNS(t *testing.T) {
	for _, tc := range []struct {
		ip      string
		linux   bool
		answers []string
	}{
		{"127.0.118.11", true, []string{"_services._dns-sd._udp.local. 10 IN PTR _workstation._tcp.local.", "_services._dns-sd._udp.local. 10 IN PTR _ssh._tcp.local."}},
		{"127.0.118.12", false, nil},
	} {
		h := winHost(tc.ip)
		if tc.linux {
			h = linuxHost(tc.ip)
		}
		_, ev := start(t, h, nil)
		out := run(t, "dig", "+tries=1", "+time=1", "-p", "5353", "@"+tc.ip, "_services._dns-sd._udp.local", "PTR")
		for _, a := range tc.answers {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), a) {
				t.Errorf("%s: dig lacks %q:\n%s", h.OS, a, out)
			}
		}
		if tc.answers == nil && strings.Contains(out, "ANSWER SECTION") {
			t.Errorf("%s: answered a DNS-SD browse:\n%s", h.OS, out)
		}
		e := queryEvent(t, ev, protoMDNS, "_services._dns-sd._udp.local")
		if e.Fields[fieldQtype] != "PTR" || e.Fields[fieldAnswered] != map[bool]string{true: "true", false: "false"}[tc.linux] {
			t.Errorf("%s: query event %v", h.OS, e.Fields)
		}
		// Its own name, as a Mac or Avahi asks it.
		out = run(t, "dig", "+tries=1", "+time=2", "-p", "5353", "@"+tc.ip, strings.ToLower(h.Hostname[:strings.IndexAny(h.Hostname+".", ".")])+".local")
		if !strings.Contains(out, "IN\tA\t"+tc.ip) {
			t.Errorf("%s: own .local name not answered:\n%s", h.OS, out)
		}
	}
}

// TestNbtscan: nbtscan's node status request for "*" is recorded and
// answered with the decky's name, workgroup and MAC.
func TestNbtscan(t *testing.T) {
	ip := "127.0.118.13"
	srv, ev := start(t, winHost(ip), map[string]string{"workgroup": "ACCOUNTING"})
	out := run(t, "nbtscan", "-v", ip)
	mac := srv.id.mac.String()
	for _, want := range []string{"WS-ACCT-07 <00> UNIQUE", "ACCOUNTING <00> GROUP", "WS-ACCT-07 <20> UNIQUE", "Adapter address: " + mac} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("nbtscan -v lacks %q:\n%s", want, out)
		}
	}
	out = run(t, "nbtscan", ip)
	if !strings.Contains(out, "WS-ACCT-07") || !strings.Contains(out, mac) {
		t.Errorf("nbtscan lacks the name or MAC %s:\n%s", mac, out)
	}
	e := queryEvent(t, ev, protoNBNS, "*")
	if e.Fields[fieldQtype] != "NBSTAT" || e.Fields[fieldAnswered] != "true" || e.Fields[fieldSuffix] != "00" {
		t.Errorf("NBSTAT query event %v", e.Fields)
	}
}

// TestNmblookup: nmblookup -A (node status) prints the Windows decky's
// names and MAC, and a Linux decky's as nmbd (zero MAC).
func TestNmblookup(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		win  bool
		want []string
	}{
		{"127.0.118.14", true, []string{"WS-ACCT-07      <00> -         M <ACTIVE>", "WORKGROUP       <00> - <GROUP> M <ACTIVE>", "WS-ACCT-07      <20> -         M <ACTIVE>"}},
		{"127.0.118.15", false, []string{"FILESERV01      <00> -         B <ACTIVE>", "FILESERV01      <20> -         B <ACTIVE>", "WORKGROUP       <1e> - <GROUP> B <ACTIVE>", "MAC Address = 00-00-00-00-00-00"}},
	} {
		h := linuxHost(tc.ip)
		if tc.win {
			h = winHost(tc.ip)
		}
		srv, ev := start(t, h, nil)
		out := run(t, "nmblookup", "-A", tc.ip)
		want := tc.want
		if tc.win {
			want = append(want, "MAC Address = "+strings.ToUpper(strings.ReplaceAll(srv.id.mac.String(), ":", "-")))
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: nmblookup -A lacks %q:\n%s", h.OS, w, out)
			}
		}
		queryEvent(t, ev, protoNBNS, "*")
	}
}
