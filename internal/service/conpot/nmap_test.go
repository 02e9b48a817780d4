package conpot

import (
	"regexp"
	"strings"
	"testing"

	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// TestNmapM340 scans the M340 persona on its real ports: -sV names Modbus
// TCP on 502 (nmap's match for the answer to its "\r\n\r\n" probe) and
// Schneider-WEB on 80, and finds 102 closed; modbus-discover prints the
// device identification.
func TestNmapM340(t *testing.T) {
	s, ev := newTestServer(t, "plc-nmap-m340", addrNmapM, &Persona{Device: DeviceM340, Site: SiteWater})
	servicetest.ServeRealPorts(t, s, addrNmapM, Service{}.Info().Ports...)
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", "80,102,502", "--script", "modbus-discover", addrNmapM)
	wants := []*regexp.Regexp{
		regexp.MustCompile(`80/tcp +open +http +Schneider-WEB ` + regexp.QuoteMeta(strings.TrimPrefix(s.id.webServer, "V"))),
		regexp.MustCompile(`102/tcp closed iso-tsap`),
		regexp.MustCompile(`502/tcp open   modbus +Modbus TCP`),
		regexp.MustCompile(`Slave ID data: \\xFA\\xFF` + regexp.QuoteMeta(s.id.product)),
		regexp.MustCompile(`Device identification: Schneider Electric ` + regexp.QuoteMeta(s.id.product+" "+s.id.firmware)),
	}
	testutil.MatchAll(t, out, wants...)
	testutil.Eventually(t, "device_id events", func() bool { return len(ev.OfType(typeDeviceID)) >= 2 })
}

// TestNmapS71200 scans the S7-1200 persona: s7-info (a version script:
// -sV alone runs it and names the port "Siemens S7 PLC", --script shows
// its output) reads the module, serial and order number over S7comm; the
// web server is nmap's S7-1200 httpd.
func TestNmapS71200(t *testing.T) {
	s, ev := newTestServer(t, "plc-nmap-s7", addrNmapS7, &Persona{Device: DeviceS71200, Site: SiteFactory})
	servicetest.ServeRealPorts(t, s, addrNmapS7, Service{}.Info().Ports...)
	out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", "80,102,502", "--script", "s7-info", addrNmapS7)
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
	testutil.MatchAll(t, out,
		regexp.MustCompile(`502/tcp open +modbus +Modbus TCP`),
		regexp.MustCompile(`80/tcp +open +http +Siemens Simatic S7-1200 PLC httpd`),
	)
	testutil.Eventually(t, "SZL read events", func() bool { return len(ev.With(typeS7, "op", "read_szl")) >= 3 })
	for _, e := range ev.OfType(typeS7) {
		if e.Fields["src_ip"] == "" {
			t.Errorf("s7 event without src_ip: %v", e.Fields)
		}
	}
}
