package mqtt

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"testing"
	"time"
	"unicode/utf8"

	"decnet/internal/testutil"
)

// FuzzSession feeds raw bytes to a served connection: whatever they are,
// the broker must neither panic nor keep the connection once the client
// has stopped sending.
func FuzzSession(f *testing.F) {
	for _, v := range []byte{3, 4, 5} {
		for _, steps := range diffCases(v) {
			var b []byte
			for _, s := range steps {
				b = append(b, s.send...)
			}
			f.Add(b)
		}
	}
	addr, _, _ := start(f, addrFuzz, map[string]string{"users": "alice:secret", "publish_interval": "0"})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Skip(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(data)
		c.(*net.TCPConn).CloseWrite()
		if _, err := io.Copy(io.Discard, c); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
				t.Fatalf("connection still open 10s after the client stopped sending %x", data)
			}
		}
	})
}

// FuzzPayload checks the payload fields of an event: text stays valid
// UTF-8 within its limit, and binary payloads get their hex.
func FuzzPayload(f *testing.F) {
	for _, s := range []string{"RUNNING", "22.5 °C", "\x00\x01\xff", "{\"cmd\":\"stop\"}", "é\n\t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		fields := map[string]string{}
		addPayload(fields, FieldPayload, p)
		text := fields[FieldPayload]
		if len(text) > maxPayloadText || !utf8.ValidString(text) {
			t.Fatalf("payload text %q of %x", text, p)
		}
		if _, bin := fields[FieldPayload+"_hex"]; bin == isText(p) {
			t.Fatalf("hex given %v for text %v: %x", bin, isText(p), p)
		}
	})
}

// TestCaptureSeeds remakes FuzzSession's corpus from mosquitto_sub,
// mosquitto_pub and curl sessions of each protocol version, sent through
// a recording proxy. Run it with MQTT_CAPTURE_SEEDS=1; it is skipped
// otherwise.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("MQTT_CAPTURE_SEEDS") == "" {
		t.Skip("MQTT_CAPTURE_SEEDS is not set")
	}
	addr, _, _ := start(t, addrClients, map[string]string{"publish_interval": "1"})
	proxy := testutil.StartProxy(t, addrClients, addr)
	host, port := hostPort(t, proxy.Addr)
	for _, v := range []string{"mqttv31", "mqttv311", "mqttv5"} {
		run(t, "mosquitto_sub", "-h", host, "-p", port, "-V", v, "-u", "root", "-P", "admin", "-t", "#", "-t", "$SYS/#",
			"-q", "2", "-C", "5", "-W", "3", "--will-topic", "bye", "--will-payload", "gone", "-c", "-i", "seed-"+v)
		run(t, "mosquitto_pub", "-h", host, "-p", port, "-V", v, "-u", "root", "-P", "admin", "-q", "2", "-r",
			"-t", "plant/water/pump1/set", "-m", "STOP")
		run(t, "mosquitto_pub", "-h", host, "-p", port, "-V", v, "-q", "1", "-t", "bin/data", "-s")
	}
	run(t, "mosquitto_sub", "-h", host, "-p", port, "-V", "mqttv5", "-t", "a/+/b", "-t", "x/#", "-D", "subscribe", "subscription-identifier", "7", "-C", "1", "-W", "2")
	run(t, "curl", "-s", "-m", "2", "-u", "a:b", "mqtt://"+proxy.Addr+"/plant/alarm/pump_fault")
	run(t, "curl", "-s", "-m", "2", "-d", "payload", "mqtt://"+proxy.Addr+"/plant/water/valve/inlet/set")
	for i, fl := range proxy.Flows() {
		testutil.WriteSeed(t, "FuzzSession", "client-"+string(rune('a'+i/26))+string(rune('a'+i%26)), fl)
	}
}
