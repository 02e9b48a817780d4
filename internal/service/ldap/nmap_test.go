package ldap

import (
	"regexp"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
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
			servicetest.ServeRealPorts(t, s, tc.ip, Service{}.Info().Ports...)
			out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", "389,636", tc.ip)
			testutil.MatchAll(t, out, tc.wants...)
		})
	}
}
