package mqtt

import (
	"regexp"
	"testing"

	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// What nmap must report, as cmd/decnet's nmap test matches it.
var (
	nmapMosquitto = regexp.MustCompile(`1883/tcp open  mosquitto version 2\.0\.11`)
	nmapTLS       = regexp.MustCompile(`8883/tcp open  ssl/mosquitto version 2\.0\.11`)
	nmapVersion   = regexp.MustCompile(`\$SYS/broker/version: mosquitto version 2\.0\.11`)
)

// TestNmap runs nmap -sV with the mqtt-subscribe script against 1883 and
// 8883: nmap's mqtt probe gets a CONNACK, and the script names the service
// "mosquitto version 2.0.11" (ssl/ on 8883) from the $SYS tree, as for
// the real broker.
func TestNmap(t *testing.T) {
	h := testHost
	h.IP, h.DataDir = addrNmap, t.TempDir()
	srv, _ := servicetest.New(t, Service{}, h, nil)
	servicetest.ServeRealPorts(t, srv, addrNmap, Service{}.Info().Ports...)
	for _, tc := range []struct {
		args  []string
		wants []*regexp.Regexp
	}{
		// -sV runs mqtt-subscribe (a version script), which names the
		// service after the $SYS version it reads; named, it prints it.
		{[]string{"--script", "mqtt-subscribe"}, []*regexp.Regexp{nmapMosquitto, nmapTLS, nmapVersion}},
	} {
		args := append([]string{"-sV", "-Pn", "-n", "-p", "1883,8883"}, tc.args...)
		testutil.MatchAll(t, testutil.Nmap(t, append(args, addrNmap)...), tc.wants...)
	}
}
