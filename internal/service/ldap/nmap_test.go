package ldap

import (
	"context"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// Version-scan results the personas must get, as cmd/decnet's nmap test
// matches them (the text after "open ").
var (
	nmapOpenLDAP  = regexp.MustCompile(`389/tcp open  ldap +OpenLDAP 2\.2\.X - 2\.3\.X`)
	nmapOpenLDAPS = regexp.MustCompile(`636/tcp open  ssl/ldap +OpenLDAP 2\.2\.X - 2\.3\.X`)
	nmapAD        = regexp.MustCompile(`389/tcp open  ldap +Microsoft Windows Active Directory LDAP \(Domain: corp\.local, Site: Default-First-Site-Name\)`)
	nmapADS       = regexp.MustCompile(`636/tcp open  ssl/ldap +Microsoft Windows Active Directory LDAP \(Domain: corp\.local, Site: Default-First-Site-Name\)`)
)

// TestNmapVersionScan runs nmap -sV against both personas on the real
// ports and wants OpenLDAP (nmap's name for slapd 2.5's answers, the
// same it gives the real one) and Active Directory, with the domain and
// site, on 389 and on 636.
func TestNmapVersionScan(t *testing.T) {
	testutil.RequireRoot(t, "to listen on 389 and 636")
	nmap := testutil.RequireTool(t, "nmap")
	tests := []struct {
		name  string
		host  service.Host
		p     *Persona
		ip    string
		wants []*regexp.Regexp
	}{
		{"openldap", hostLinux, &Persona{StartTLS: true}, addrNmapOL, []*regexp.Regexp{nmapOpenLDAP, nmapOpenLDAPS}},
		{"ad", hostWindows, &Persona{StartTLS: true, Domain: "corp.local"}, addrNmapAD, []*regexp.Regexp{nmapAD, nmapADS}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newTestServer(t, tc.host, tc.p)
			serve(t, s, tc.ip, true)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, nmap, "-sV", "-Pn", "-n", "-p", "389,636", tc.ip).CombinedOutput()
			if err != nil {
				t.Fatalf("nmap: %v\n%s", err, out)
			}
			for _, re := range tc.wants {
				if !re.Match(out) {
					t.Errorf("nmap output does not match %s:\n%s", re, out)
				}
			}
		})
	}
}
