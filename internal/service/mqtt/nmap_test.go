package mqtt

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"decnet/internal/service"
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
	testutil.RequireRoot(t, "to listen on 1883")
	nmap := testutil.RequireTool(t, "nmap")
	h := testHost
	h.IP, h.DataDir = addrNmap, t.TempDir()
	srv, _ := servicetest.New(t, Service{}, h, nil)
	ls := service.Listeners{TCP: map[int]net.Listener{}}
	for _, port := range []int{PortMQTT, PortMQTTS} {
		ln, err := net.Listen("tcp", net.JoinHostPort(addrNmap, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		ls.TCP[port] = ln
	}
	servicetest.Serve(t, srv, ls)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		args  []string
		wants []*regexp.Regexp
	}{
		// -sV runs mqtt-subscribe (a version script), which names the
		// service after the $SYS version it reads; named, it prints it.
		{[]string{"--script", "mqtt-subscribe"}, []*regexp.Regexp{nmapMosquitto, nmapTLS, nmapVersion}},
	} {
		args := append([]string{"-sV", "-Pn", "-n", "-p", "1883,8883"}, tc.args...)
		out, err := exec.CommandContext(ctx, nmap, append(args, addrNmap)...).CombinedOutput()
		if err != nil {
			t.Fatalf("nmap: %v\n%s", err, out)
		}
		for _, re := range tc.wants {
			if !re.Match(out) {
				t.Errorf("nmap %v output does not match %s:\n%s", tc.args, re, out)
			}
		}
	}
}
