package mongodb

import (
	"regexp"
	"testing"

	"decnet/internal/testutil"
)

// TestNmapVersionScan checks what nmap -sV says of the port. Its mongodb
// probe is serverStatus over OP_QUERY: a 4.4 persona answers it and is
// named with its version; 6.0 refuses legacy OP_QUERY commands as the real
// one does, and nmap names MongoDB from the HTTP answer mongod gives to a
// GET on its driver port.
func TestNmapVersionScan(t *testing.T) {
	for _, tc := range []struct {
		host, version string
		want          *regexp.Regexp
	}{
		{"127.0.104.20", "4.4.29", regexp.MustCompile(`open\s+mongodb\s+MongoDB 4\.4\.29`)},
		{"127.0.104.21", "6.0.19", regexp.MustCompile(`open\s+mongodb\s+MongoDB 2\.5\.1 or later`)},
	} {
		t.Run(tc.version, func(t *testing.T) {
			addr, _ := start(t, tc.host, map[string]string{"version": tc.version})
			h, p := splitAddr(t, addr)
			testutil.MatchAll(t, testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", p, h), tc.want)
		})
	}
}
