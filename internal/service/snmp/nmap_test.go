package snmp

import (
	"strings"
	"testing"

	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// TestNmap checks that nmap names the linux profile as it names the real
// snmpd 5.9.3 ("SNMPv1 server; net-snmp SNMPv3 server (public)", measured
// on Debian 12), and that its snmp-sysdescr and snmp-info scripts print
// the decky's values.
func TestNmap(t *testing.T) {
	cases := []struct {
		profile, ip string
		want        []string
	}{
		{"linux", "127.0.116.2", []string{
			"161/udp open  snmp    SNMPv1 server; net-snmp SNMPv3 server (public)",
			"enterprise: net-snmp",
			"snmp-sysdescr: Linux SRV-MONITOR-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64",
			"Service Info: Host: SRV-MONITOR-17",
		}},
		{"printer", "127.0.116.4", []string{"snmp-sysdescr: HP ETHERNET MULTI-ENVIRONMENT"}},
		{"switch", "127.0.116.5", []string{"snmp-sysdescr: Cisco IOS Software, C2960X Software"}},
	}
	for _, c := range cases {
		t.Run(c.profile, func(t *testing.T) {
			srv, _ := servicetest.New(t, Service{}, testHost(), map[string]string{"profile": c.profile})
			servicetest.ServeRealPorts(t, srv, c.ip, Service{}.Info().Ports...)
			out := testutil.Nmap(t, "-n", "-Pn", "-sU", "-sV", "-p", "161", "--script", "snmp-sysdescr,snmp-info", c.ip)
			for _, want := range c.want {
				if !strings.Contains(out, want) {
					t.Errorf("nmap output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
