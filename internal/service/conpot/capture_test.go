package conpot

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"decnet/internal/testutil"
)

// TestCaptureSeeds remakes the FuzzModbus corpus from real clients'
// traffic: mbpoll's reads and writes of every table, pymodbus's reads,
// writes and device identification, and nmap's version probes and
// modbus-discover, each through a recording proxy to the M340 persona;
// and writes the FuzzS7 seeds of nmap's s7-info exchange. Run it with
// CONPOT_CAPTURE_SEEDS=1; it is skipped otherwise.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("CONPOT_CAPTURE_SEEDS") == "" {
		t.Skip("CONPOT_CAPTURE_SEEDS is not set")
	}
	s, _ := newTestServer(t, "plc-capture", addrCapture, &Persona{Device: DeviceM340, Site: SiteWater})
	a, _ := serve(t, s, addrCapture)
	proxy := testutil.StartProxy(t, addrCapture, a[PortModbus])
	host, port := hostPort(t, proxy.Addr)
	quiet := func(name string, args ...string) {
		out, _ := exec.Command(name, args...).CombinedOutput()
		t.Log(string(out))
	}
	for _, typ := range []string{"0", "1", "3", "4"} {
		quiet("mbpoll", "-m", "tcp", "-a", "1", "-1", "-p", port, "-r", "1", "-c", "10", "-t", typ, host)
	}
	quiet("mbpoll", "-m", "tcp", "-a", "1", "-p", port, "-r", "3", "-t", "4", host, "150", "151")
	quiet("mbpoll", "-m", "tcp", "-a", "1", "-p", port, "-r", "1", "-t", "0", host, "0", "1", "0")
	quiet("/usr/bin/python3", "-c", `
import sys
from pymodbus.client import ModbusTcpClient as C
from pymodbus.mei_message import ReadDeviceInformationRequest
c = C(sys.argv[1], port=int(sys.argv[2]), timeout=2, retries=0)
c.connect()
c.read_holding_registers(0, 10, slave=1)
c.read_input_registers(0, 9, slave=1)
c.read_coils(0, 8, slave=1)
c.read_discrete_inputs(0, 6, slave=1)
c.write_register(2, 95, slave=1)
c.write_coil(4, True, slave=1)
c.write_registers(0, [400, 200], slave=1)
c.write_coils(0, [True, False, True], slave=1)
c.readwrite_registers(read_address=0, read_count=3, write_address=5, write_registers=[0], slave=1)
c.execute(ReadDeviceInformationRequest(read_code=2, object_id=0, slave=1))
c.close()
`, host, port)
	quiet("nmap", "-sV", "-Pn", "-n", "-p", port, "--script", "modbus-discover", host)
	for i, flow := range proxy.Flows() {
		if len(flow) > 0 {
			testutil.WriteSeed(t, "FuzzModbus", fmt.Sprintf("flow-%02d", i), flow)
		}
	}
	for name, seed := range map[string][]byte{
		"s7info-connect": s7ConnectRequest, "s7info-setup": s7SetupRequest, "s7info-szl-0011": s7SZL0011,
		"s7info-szl-001c": s7SZL001C, "read-var": s7ReadVar, "password": s7Password("plc1200"),
	} {
		testutil.WriteSeed(t, "FuzzS7", name, seed)
	}
}
