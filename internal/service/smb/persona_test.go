package smb

import (
	"strings"
	"testing"

	"decnet/internal/ntlmssp"
	"decnet/internal/service"
)

// TestPersonaKeys decodes persona keys as the fleet configuration gives
// them and checks what Validate refuses.
func TestPersonaKeys(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		err  string
	}{
		{map[string]string{}, ""},
		{map[string]string{"product": "samba", "guest": "false", "anonymous": "TRUE", "users": "alice, bob",
			"shares": `{"Finance":"Q4 reports","scans":""}`, "domain": "corp.example.com", "os_version": "10.0.20348",
			"server_string": "Samba 4.18.6"}, ""},
		{map[string]string{"product": "freebsd"}, "product"},
		{map[string]string{"guest": "maybe"}, "guest"},
		{map[string]string{"domain": "not a domain"}, "domain"},
		{map[string]string{"domain": "-corp.example"}, "domain"},
		{map[string]string{"os_version": "10.0"}, "os_version"},
		{map[string]string{"os_version": "10.0.70000"}, "os_version"},
		{map[string]string{"shares": `{"a/b":""}`}, "shares"},
		{map[string]string{"shares": `{"HIDDEN$":""}`}, "shares"},
		{map[string]string{"shares": `{"ok":"line\nbreak"}`}, "shares"},
		{map[string]string{"shares": `["Finance"]`}, "shares"},
		{map[string]string{"server_string": "a\x01"}, "server_string"},
		{map[string]string{"banner": "x"}, "banner"},
	} {
		_, err := service.NewPersona(Service{}.Info(), tc.keys)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%v: %v, want an error naming %q", tc.keys, err, tc.err)
		}
	}
}

// TestResolve: the defaults that depend on the decky, and what the NTLM
// CHALLENGE will say.
func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name   string
		host   service.Host
		p      Persona
		samba  bool
		guest  bool
		anon   bool
		ntlm   ntlmssp.Persona
		shares string
		ipc    string
	}{
		{"windows standalone", service.Host{Name: "d1", Hostname: "web-prod-01", OS: "windows"}, Persona{}, false, false, false,
			ntlmssp.Persona{NetBIOSComputer: "WEB-PROD-01", NetBIOSDomain: "WEB-PROD-01", DNSComputer: "web-prod-01", DNSDomain: "web-prod-01", Version: ntlmssp.NewVersion(10, 0, 17763)},
			"ADMIN$ C$ Finance IPC$", "Remote IPC"},
		{"windows member", service.Host{Name: "d1", Hostname: "fs01", OS: "windows"}, Persona{Domain: "corp.example.com", Guest: yes}, false, true, false,
			ntlmssp.Persona{NetBIOSComputer: "FS01", NetBIOSDomain: "CORP", DNSComputer: "fs01.corp.example.com", DNSDomain: "corp.example.com", DNSTree: "corp.example.com", Version: ntlmssp.NewVersion(10, 0, 17763)},
			"ADMIN$ C$ Finance IPC$", "Remote IPC"},
		{"samba on ubuntu", service.Host{Name: "d2", Hostname: "nas.localdomain", OS: "linux", Distro: "ubuntu22"}, Persona{Shares: map[string]string{"media": "", "Nobody": "x"}}, true, true, true,
			ntlmssp.Persona{NetBIOSComputer: "NAS", NetBIOSDomain: "NAS", DNSComputer: "nas", Version: ntlmssp.NewVersion(6, 1, 0)},
			"print$ media IPC$ nobody", "IPC Service (Samba 4.15.13-Ubuntu)"},
		{"samba product on a windows decky", service.Host{Name: "d3", OS: "windows"}, Persona{Product: Samba, Anonymous: no, OSVersion: "6.3.9600"}, true, true, false,
			ntlmssp.Persona{NetBIOSComputer: "D3", NetBIOSDomain: "D3", DNSComputer: "d3", Version: ntlmssp.NewVersion(6, 3, 9600)},
			"print$ backup IPC$ nobody", "IPC Service (Samba 4.17.12-Debian)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr, err := resolve(&tc.p, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range pr.shares {
				names = append(names, s.name)
			}
			if pr.samba != tc.samba || pr.guest != tc.guest || pr.anonymous != tc.anon || pr.ntlm != tc.ntlm || strings.Join(names, " ") != tc.shares {
				t.Errorf("got samba %v guest %v anonymous %v ntlm %+v shares %v", pr.samba, pr.guest, pr.anonymous, pr.ntlm, names)
			}
			if ipc, _ := pr.findShare("ipc$"); ipc.comment != tc.ipc {
				t.Errorf("IPC$ comment %q, want %q", ipc.comment, tc.ipc)
			}
		})
	}
	if _, err := resolve(&Persona{}, service.Host{}); err == nil {
		t.Error("a decky without a name resolved")
	}
	g1, g2 := serverGUID(false, "FS01", "d1"), serverGUID(false, "FS01", "d2")
	if g1 == g2 || g1 != serverGUID(false, "FS01", "d1") || formatGUID(g1)[14] != '4' {
		t.Errorf("Windows server GUIDs %s %s: want stable per decky, version 4", formatGUID(g1), formatGUID(g2))
	}
	if got := formatGUID(serverGUID(true, "VM", "x")); got != "00006d76-0000-0000-0000-000000000000" {
		t.Errorf("Samba's GUID for VM: %s (real-products.md §13: 00006d76-0000-0000-0000-000000000000)", got)
	}
}

// TestService: the registered service declares both ports and builds a
// server from decoded persona keys.
func TestService(t *testing.T) {
	svc, err := service.Lookup(Slug)
	if err != nil {
		t.Fatal(err)
	}
	info := svc.Info()
	if len(info.Ports) != 2 || info.Ports[0].Number != 445 || info.Ports[1].Number != 139 {
		t.Errorf("ports %v", info.Ports)
	}
	p, err := service.NewPersona(info, map[string]string{"product": "windows"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.New(service.Config{Host: service.Host{Name: "d", Hostname: "h"}, Persona: p}); err != nil {
		t.Error(err)
	}
	if _, err := svc.New(service.Config{Host: service.Host{}}); err == nil {
		t.Error("New without a hostname")
	}
}
