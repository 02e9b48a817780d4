package k8s

import (
	"net"
	"regexp"
	"strings"
	"testing"

	"decnet/internal/testutil"
)

// nmapSecure and nmapPlain are what nmap 7.93 -sV names on each port. Its
// database has no match for a kube-apiserver of this decade (its two
// Kubernetes signatures are of 2016's apiserver), so a real one is
// "ssl/unknown" with the same fingerprint as ours, or, on a port its
// services table names, that name with a "?" (the test's ports are
// random: 35001 is "ssl/rt-viewer?"), and no version; nmap 7.95 calls it
// "ssl/http Golang net/http server" from Go's 400 answer.
var (
	nmapSecure = regexp.MustCompile(`open\s+ssl/(unknown|\S+\?)\s*$`)
	nmapPlain  = regexp.MustCompile(`open\s+(unknown|\S+\?)\s*$`)
)

func TestNmapVersionScan(t *testing.T) {
	ts := start(t, nil, testIP)
	_, sp, _ := net.SplitHostPort(ts.secure)
	_, pp, _ := net.SplitHostPort(ts.plain)
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", sp+","+pp, testIP)
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, sp+"/tcp") && !nmapSecure.MatchString(l):
			t.Errorf("secure port: %s", l)
		case strings.HasPrefix(l, pp+"/tcp") && !nmapPlain.MatchString(l):
			t.Errorf("plain port: %s", l)
		}
	}
}
