package conpot

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestMbpoll drives mbpoll: holding registers, input registers and coils
// read, then a setpoint written and read back, each recorded with its
// fields.
func TestMbpoll(t *testing.T) {
	mbpoll := testutil.RequireTool(t, "mbpoll")
	s, ev := newTestServer(t, "plc-water-1", addrMbpoll, &Persona{Device: DeviceM340, Site: SiteWater})
	a, _ := serve(t, s, addrMbpoll)
	host, port := hostPort(t, a[PortModbus])
	poll := func(args ...string) string {
		return run(t, mbpoll, append([]string{"-m", "tcp", "-a", "1", "-1", "-o", "3", "-p", port}, append(args, host)...)...)
	}
	out := poll("-r", "1", "-c", "6", "-t", "4")
	for _, want := range []string{"[1]: \t420", "[2]: \t180", "[3]: \t80", "[4]: \t85", "[6]: \t1"} {
		if !strings.Contains(out, want) {
			t.Errorf("holding registers: no %q in\n%s", want, out)
		}
	}
	out = poll("-r", "1", "-c", "9", "-t", "3")
	if !regexp.MustCompile(`\[1\]: \t3[2-6]\d\n`).MatchString(out) {
		t.Errorf("tank level not near 342 cm:\n%s", out)
	}
	out = poll("-r", "1", "-c", "8", "-t", "0")
	if !strings.Contains(out, "[1]: \t1") || !strings.Contains(out, "[5]: \t0") {
		t.Errorf("coils:\n%s", out)
	}
	run(t, mbpoll, "-m", "tcp", "-a", "1", "-o", "3", "-p", port, "-r", "3", "-t", "4", host, "150")
	out = poll("-r", "3", "-c", "1", "-t", "4")
	if !strings.Contains(out, "[3]: \t150") {
		t.Errorf("setpoint not written:\n%s", out)
	}
	testutil.Eventually(t, "the write event", func() bool { return len(ev.OfType(typeModbusWrite)) == 1 })
	w := ev.OfType(typeModbusWrite)[0]
	if w.Severity != event.Critical || w.Fields["tags"] != "CL_DOSE_SP" || w.Fields["values"] != "150" || w.Fields[event.FieldSrcIP] == "" {
		t.Errorf("write event %d %v", w.Severity, w.Fields)
	}
	testutil.Eventually(t, "the read events", func() bool { return len(ev.OfType(typeModbusRead)) == 4 })
	for _, r := range ev.OfType(typeModbusRead) {
		if r.Fields[event.FieldSrcIP] == "" || r.Fields["address"] == "" || r.Fields["values"] == "" {
			t.Errorf("read event %v", r.Fields)
		}
	}
}

// TestPymodbus reads holding registers and the device identification
// (FC 43/14) with pymodbus (3.0 has no read_device_information helper:
// the request is executed as pymodbus's own mei_message builds it).
func TestPymodbus(t *testing.T) {
	py := testutil.RequireTool(t, "/usr/bin/python3")
	s, ev := newTestServer(t, "plc-water-2", addrPymb, &Persona{Device: DeviceM340, Site: SiteWater})
	a, _ := serve(t, s, addrPymb)
	host, port := hostPort(t, a[PortModbus])
	script := `
import sys
from pymodbus.client import ModbusTcpClient as C
from pymodbus.mei_message import ReadDeviceInformationRequest
c = C(sys.argv[1], port=int(sys.argv[2]), timeout=3, retries=0)
c.connect()
r = c.read_holding_registers(0, 4, slave=1)
print("regs", r.registers)
r = c.execute(ReadDeviceInformationRequest(read_code=1, object_id=0, slave=1))
for k in sorted(r.information):
    print("obj", k, r.information[k].decode())
c.close()
`
	out := run(t, py, "-c", script, host, port)
	if !strings.Contains(out, "regs [420, 180, 80, 85]") {
		t.Errorf("registers:\n%s", out)
	}
	for i, want := range []string{"Schneider Electric", s.id.product, s.id.firmware} {
		if !strings.Contains(out, fmt.Sprintf("obj %d %s\n", i, want)) {
			t.Errorf("no object %d %q in\n%s", i, want, out)
		}
	}
	testutil.Eventually(t, "device_id event", func() bool { return len(ev.OfType(typeDeviceID)) == 1 })
	if f := ev.OfType(typeDeviceID)[0].Fields; f[event.FieldSrcIP] == "" || f["read_code"] != "1" || !strings.Contains(f["objects"], s.id.product) {
		t.Errorf("device_id fields %v", f)
	}
}

// TestWebLogin logs in to each persona's web server with curl and reads
// the process view, whose values are the Modbus ones.
func TestWebLogin(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	t.Run("m340", func(t *testing.T) {
		s, ev := newTestServer(t, "plc-water-3", addrWeb, &Persona{Device: DeviceM340, Site: SiteWater})
		a, _ := serve(t, s, addrWeb)
		base := "http://" + a[PortHTTP]
		out := run(t, curl, "-si", "-m", "10", "-A", "Mozilla/5.0 (X11; Linux x86_64)", base+"/")
		if !strings.HasPrefix(out, "HTTP/1.0 302 Redirect\r\nServer: Schneider-WEB/V2.1.") || !strings.Contains(out, "Location: http://"+a[PortHTTP]+"/index.htm") {
			t.Errorf("root:\n%s", out)
		}
		out = run(t, curl, "-si", "-u", "admin:schneider", base+"/secure/process.htm")
		if !strings.HasPrefix(out, "HTTP/1.0 401 Unauthorized") {
			t.Errorf("wrong password:\n%s", out)
		}
		exchange(t, a[PortModbus], testutil.Hex("0001 0000 0006 01 06 0000 01c2"))
		out = run(t, curl, "-s", "-u", "USER:USER", base+"/secure/process.htm")
		if !strings.Contains(out, `id="LT101_SP_HI">450<`) || !strings.Contains(out, s.id.station) {
			t.Errorf("process view lacks the written setpoint:\n%s", out)
		}
		testutil.Eventually(t, "two auth events", func() bool { return len(ev.OfType(event.TypeAuth)) == 2 })
		au := ev.OfType(event.TypeAuth)
		if f := au[0].Fields; f[event.FieldUsername] != "admin" || f[event.FieldPassword] != "schneider" || f[event.FieldSuccess] != "false" || f[event.FieldSrcIP] == "" {
			t.Errorf("auth %v", f)
		}
		if f := au[1].Fields; f[event.FieldUsername] != "USER" || f[event.FieldSuccess] != "true" {
			t.Errorf("auth %v", f)
		}
		testutil.Eventually(t, "http events", func() bool {
			return len(ev.With(typeHTTP, event.FieldUserAgent, "Mozilla/5.0 (X11; Linux x86_64)")) == 1
		})
		c := testutil.Dial(t, a[PortHTTP], 5*time.Second)
		c.Write([]byte("\x16\x03\x01\x00\x05hello\r\n\r\n"))
		c.(*net.TCPConn).CloseWrite()
		io.ReadAll(c)
		testutil.Eventually(t, "malformed request event", func() bool { return len(ev.With(typeHTTP, "error", "malformed request")) == 1 })
		if f := ev.With(typeHTTP, "error", "malformed request")[0].Fields; f["data"] != "160301000568656c6c6f0d0a0d0a" || f[event.FieldSrcIP] == "" {
			t.Errorf("malformed request event %v", f)
		}
	})
	t.Run("s7-1200", func(t *testing.T) {
		s, ev := newTestServer(t, "plc-sub-1", addrWeb, &Persona{Device: DeviceS71200, Site: SiteSubstation})
		a, _ := serve(t, s, addrWeb)
		base := "http://" + a[PortHTTP]
		out := run(t, curl, "-si", "--http1.0", base+"/")
		if want := "HTTP/1.0 302 Object Moved\r\nContent-Type:text/html\r\nContent-Length: 0\r\nConnection: close\r\nLocation: /Default.mwsl\r\n\r\n"; out != want {
			t.Errorf("root %q, want %q", out, want)
		}
		out = run(t, curl, "-s", "-d", "Login=admin&Password=S7-1200pw&Redirection=", base+"/FORMS/portal/login")
		if !strings.Contains(out, "Login failed") || !strings.Contains(out, s.id.product) {
			t.Errorf("login page:\n%s", out)
		}
		testutil.Eventually(t, "auth event", func() bool { return len(ev.OfType(event.TypeAuth)) == 1 })
		if f := ev.OfType(event.TypeAuth)[0].Fields; f[event.FieldUsername] != "admin" || f[event.FieldPassword] != "S7-1200pw" || f[event.FieldMethod] != "http_form" {
			t.Errorf("auth %v", f)
		}
		resp, err := http.Get(base + "/awp/substation/index.html")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `id="U_TARGET">11.00<`) {
			t.Errorf("process view:\n%s", body)
		}
	})
}

// TestSNMP reads the PLC's system group and vendor subtree with
// snmpget, through the snmp package's agent: the vendor's sysDescr and
// sysObjectID, and an snmp event with the community.
func TestSNMP(t *testing.T) {
	snmpget := testutil.RequireTool(t, "snmpget")
	for _, tc := range []struct {
		device, descr, oid string
	}{
		{DeviceM340, "Schneider Electric BMX NOE 01", "iso.3.6.1.4.1.3833.1.7.255.4"},
		{DeviceS71200, "Siemens, SIMATIC S7, CPU 1214C", "iso.3.6.1.4.1.4196.1.1.5.2.22"},
	} {
		t.Run(tc.device, func(t *testing.T) {
			s, ev := newTestServer(t, "plc-snmp-"+tc.device, addrSNMP, &Persona{Device: tc.device, Site: SiteFactory})
			_, udp := serve(t, s, addrSNMP)
			out := run(t, snmpget, "-v2c", "-c", "public", "-t", "3", "-r", "0", "udp:"+udp, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0")
			t.Log(out)
			t.Log(run(t, testutil.RequireTool(t, "snmpwalk"), "-v2c", "-c", "public", "-t", "3", "-r", "0", "udp:"+udp, "1.3.6.1.4.1"))
			if !strings.Contains(out, `STRING: "`+tc.descr) || !strings.Contains(out, "OID: "+tc.oid) {
				t.Errorf("snmpget:\n%s", out)
			}
			if !strings.Contains(out, s.id.firmware) && tc.device == DeviceS71200 {
				t.Errorf("sysDescr lacks the firmware %s:\n%s", s.id.firmware, out)
			}
			testutil.Eventually(t, "snmp event", func() bool { return len(ev.With(typeSNMP, "community", "public")) >= 2 })
			if f := ev.OfType(typeSNMP)[0].Fields; f[event.FieldSrcIP] == "" || !strings.Contains(f["oids"], "1.3.6.1.2.1.1.1.0") {
				t.Errorf("snmp event %v", f)
			}
		})
	}
}
