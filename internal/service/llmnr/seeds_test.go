package llmnr

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"decnet/internal/testutil"
)

var seeds = flag.Bool("seeds", false, "capture the real clients' datagrams as fuzz seeds")

// TestCaptureSeeds records what dig, nbtscan, nmblookup and nmap send,
// into the fuzz corpora (go test -run TestCaptureSeeds -seeds).
func TestCaptureSeeds(t *testing.T) {
	if !*seeds {
		t.Skip("run with -seeds to capture the fuzz seeds")
	}
	ip := "127.0.118.40"
	var mu sync.Mutex
	got := map[int][][]byte{}
	for _, port := range []int{PortLLMNR, PortMDNS, PortNBNS} {
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		go func() {
			buf := make([]byte, maxDatagram)
			for {
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				mu.Lock()
				got[port] = append(got[port], append([]byte(nil), buf[:n]...))
				mu.Unlock()
			}
		}()
	}
	cmds := [][]string{
		{"dig", "+tries=1", "+time=1", "-p", "5355", "@" + ip, "WPAD"},
		{"dig", "+tries=1", "+time=1", "-p", "5355", "@" + ip, "ISATAP", "AAAA"},
		{"dig", "+tries=1", "+time=1", "-p", "5353", "@" + ip, "_services._dns-sd._udp.local", "PTR"},
		{"dig", "+tries=1", "+time=1", "-p", "5353", "@" + ip, "ws-acct-07.local", "ANY"},
		{"nbtscan", ip},
		{"nmblookup", "-A", ip},
		{"nmap", "-n", "-Pn", "-sU", "-sV", "--version-all", "-p", "137,5353,5355", "--script", "nbstat,dns-service-discovery,llmnr-resolve", ip},
	}
	for _, c := range cmds {
		testutil.RequireTool(t, c[0])
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		exec.CommandContext(ctx, c[0], c[1:]...).Run()
		cancel()
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for port, pkts := range got {
		target := "FuzzDNS"
		if port == PortNBNS {
			target = "FuzzNBNS"
		}
		for i, p := range pkts {
			if !seen[string(p)] {
				seen[string(p)] = true
				testutil.WriteSeed(t, target, fmt.Sprintf("client-%d-%d", port, i), p)
			}
		}
	}
	t.Logf("captured %d distinct datagrams", len(seen))
}
