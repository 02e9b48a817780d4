package llmnr

import (
	"strings"
	"testing"

	"decnet/internal/testutil"
)

// TestNmap: nbstat prints the Windows decky's NetBIOS name and MAC, and
// version detection names netbios-ns as nmap's Windows (or Samba)
// signatures do.
func TestNmap(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		win  bool
		want []string
	}{
		{"127.0.118.20", true, []string{"137/udp open  netbios-ns", "Microsoft Windows netbios-ssn (workgroup: WORKGROUP)", "NetBIOS name: WS-ACCT-07, NetBIOS user: <unknown>, NetBIOS MAC: "}},
		{"127.0.118.21", false, []string{"137/udp open  netbios-ns", "Samba nmbd netbios-ns (workgroup: WORKGROUP)", "NetBIOS name: FILESERV01, NetBIOS user: <unknown>"}},
	} {
		h := linuxHost(tc.ip)
		if tc.win {
			h = winHost(tc.ip)
		}
		srv, _ := start(t, h, nil)
		out := testutil.Nmap(t, "-n", "-Pn", "-sU", "-sV", "-p", "137", "--script", "nbstat", tc.ip)
		want := tc.want
		if tc.win {
			want = append(want, "NetBIOS MAC: "+strings.ReplaceAll(srv.id.mac.String(), ":", "")) // nmap 7.93 writes it without colons
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: nmap lacks %q:\n%s", h.OS, w, out)
			}
		}
	}
}
