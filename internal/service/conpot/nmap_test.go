package conpot

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// nmapRun scans ip's ports with nmap's version detection and scripts.
func nmapRun(t *testing.T, ip, ports string, args ...string) string {
	t.Helper()
	nmap := testutil.RequireTool(t, "nmap")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	args = append([]string{"-sV", "-Pn", "-n", "-p", ports}, append(args, ip)...)
	out, err := exec.CommandContext(ctx, nmap, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	t.Logf("nmap %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// TestNmapM340 scans the M340 persona on its real ports: -sV names Modbus
// TCP on 502 (nmap's match for the answer to its "\r\n\r\n" probe) and
// Schneider-WEB on 80, and finds 102 closed; modbus-discover prints the
// device identification.
func TestNmapM340(t *testing.T) {
	s, ev := newTestServer(t, "plc-nmap-m340", addrNmapM, &Persona{Device: DeviceM340, Site: SiteWater})
	serve(t, s, addrNmapM, true)
	out := nmapRun(t, addrNmapM, "80,102,502", "--script", "modbus-discover")
	wants := []*regexp.Regexp{
		regexp.MustCompile(`80/tcp +open +http +Schneider-WEB ` + regexp.QuoteMeta(strings.TrimPrefix(s.id.webServer, "V"))),
		regexp.MustCompile(`102/tcp closed iso-tsap`),
		regexp.MustCompile(`502/tcp open   modbus +Modbus TCP`),
		regexp.MustCompile(`Slave ID data: \\xFA\\xFF` + regexp.QuoteMeta(s.id.product)),
		regexp.MustCompile(`Device identification: Schneider Electric ` + regexp.QuoteMeta(s.id.product+" "+s.id.firmware)),
	}
	for _, re := range wants {
		if !re.MatchString(out) {
			t.Errorf("nmap output does not match %s", re)
		}
	}
	testutil.Eventually(t, "device_id events", func() bool { return len(ev.OfType(typeDeviceID)) >= 2 })
}

// TestNmapS71200 scans the S7-1200 persona: s7-info (a version script:
// -sV alone runs it and names the port "Siemens S7 PLC", --script shows
// its output) reads the module, serial and order number over S7comm; the
// web server is nmap's S7-1200 httpd.
func TestNmapS71200(t *testing.T) {
	s, ev := newTestServer(t, "plc-nmap-s7", addrNmapS7, &Persona{Device: DeviceS71200, Site: SiteFactory})
	serve(t, s, addrNmapS7, true)
	out := nmapRun(t, addrNmapS7, "80,102,502", "--script", "s7-info")
	wants := []string{
		"102/tcp open  iso-tsap Siemens S7 PLC",
		"Module: " + s.id.product,
		"Basic Hardware: " + s.id.product,
		"Version: " + strings.TrimPrefix(s.id.firmware, "V"),
		"System Name: " + s.id.station,
		"Module Type: " + s.id.moduleName,
		"Serial Number: " + s.id.serial,
		"Plant Identification: " + s.id.plant,
		"Copyright: Original Siemens Equipment",
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("nmap output lacks %q", want)
		}
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`502/tcp open +modbus +Modbus TCP`),
		regexp.MustCompile(`80/tcp +open +http +Siemens Simatic S7-1200 PLC httpd`),
	} {
		if !re.MatchString(out) {
			t.Errorf("nmap output does not match %s", re)
		}
	}
	testutil.Eventually(t, "SZL read events", func() bool { return len(ev.With(typeS7, "op", "read_szl")) >= 3 })
	for _, e := range ev.OfType(typeS7) {
		if e.Fields["src_ip"] == "" {
			t.Errorf("s7 event without src_ip: %v", e.Fields)
		}
	}
}
