package sip

import (
	"strings"
	"testing"

	"decnet/internal/testutil"
)

// TestNmap: nmap 7.93's SIPOptions probe names the persona on UDP and TCP.
func TestNmap(t *testing.T) {
	for _, tc := range []struct{ product, ip, udp, tcp string }{
		{productAsterisk, "127.0.114.50", "FreePBX 16.", "FreePBX 16."},
		{productKamailio, "127.0.114.51", "kamailio (5.6.3 (x86_64/linux))", "Kamailio 5.6.3"},
	} {
		t.Run(tc.product, func(t *testing.T) {
			start(t, tc.ip, map[string]string{"product": tc.product})
			out := testutil.Nmap(t, "-n", "-Pn", "-sU", "-sV", "--version-intensity", "5", "-p", "5060", tc.ip)
			if !strings.Contains(out, "5060/udp open") || !strings.Contains(out, tc.udp) {
				t.Errorf("UDP scan does not name %q", tc.udp)
			}
			out = testutil.Nmap(t, "-n", "-Pn", "-sT", "-sV", "--version-intensity", "5", "-p", "5060", tc.ip)
			if !strings.Contains(out, "5060/tcp open") || !strings.Contains(out, tc.tcp) {
				t.Errorf("TCP scan does not name %q", tc.tcp)
			}
		})
	}
}
