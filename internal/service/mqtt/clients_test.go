package mqtt

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
	"decnet/internal/tlscert"
)

// run runs a client command with a deadline and returns its output.
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// TestMosquittoSubVersions logs in with mosquitto_sub in each protocol
// version, reads the persona's retained topics, the $SYS version and live
// changes (twelve messages: ten retained, then ticks of the process), and
// checks the auth event that makes the credential bounty.
func TestMosquittoSubVersions(t *testing.T) {
	sub := testutil.RequireTool(t, "mosquitto_sub")
	addr, _, ev := start(t, addrClients, map[string]string{"publish_interval": "1"})
	host, port := hostPort(t, addr)
	for _, v := range []struct{ flag, proto string }{{"mqttv31", "3.1"}, {"mqttv311", "3.1.1"}, {"mqttv5", "5"}} {
		t.Run(v.flag, func(t *testing.T) {
			user := "op-" + v.flag
			out, err := run(t, sub, "-h", host, "-p", port, "-u", user, "-P", "Scada!2024", "-V", v.flag,
				"-i", "cid-"+v.flag, "-t", "plant/water/#", "-t", "$SYS/broker/version", "-v", "-C", "12", "-W", "15")
			if err != nil {
				t.Fatalf("mosquitto_sub: %v\n%s", err, out)
			}
			for _, want := range []string{"plant/water/pump1/status RUNNING", "plant/water/valve/drain/state CLOSED",
				"$SYS/broker/version mosquitto version 2.0.11", "plant/water/tank1/level "} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			testutil.Eventually(t, "auth event", func() bool { return len(ev.With(event.TypeAuth, event.FieldUsername, user)) > 0 })
			a := ev.With(event.TypeAuth, event.FieldUsername, user)[0]
			for k, want := range map[string]string{event.FieldPassword: "Scada!2024", FieldClientID: "cid-" + v.flag,
				FieldProtocol: v.proto, event.FieldSuccess: "true", event.FieldSrcIP: "127.0.0.1", "clean_session": "true"} {
				if a.Fields[k] != want {
					t.Errorf("auth %s = %q, want %q (%v)", k, a.Fields[k], want, a.Fields)
				}
			}
			testutil.Eventually(t, "subscribe event", func() bool {
				for _, e := range ev.With(TypeSubscribe, FieldTopic, "plant/water/#") {
					if e.Fields[FieldClientID] == "cid-"+v.flag {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestMosquittoPubAttack publishes to a pump's control topic and leaves a
// retained message, which a later subscriber reads back, as from a real
// broker; the control write is flagged critical.
func TestMosquittoPubAttack(t *testing.T) {
	pub := testutil.RequireTool(t, "mosquitto_pub")
	sub := testutil.RequireTool(t, "mosquitto_sub")
	addr, _, ev := start(t, addrClients, nil)
	host, port := hostPort(t, addr)
	for _, v := range []string{"mqttv31", "mqttv311", "mqttv5"} {
		if out, err := run(t, pub, "-h", host, "-p", port, "-V", v, "-u", "admin", "-P", "admin", "-q", "1",
			"-t", "plant/water/pump1/set", "-m", "STOP-"+v); err != nil {
			t.Fatalf("mosquitto_pub %s: %v\n%s", v, err, out)
		}
	}
	if out, err := run(t, pub, "-h", host, "-p", port, "-r", "-t", "loot/note", "-m", "\x01\x02bin"); err != nil {
		t.Fatalf("mosquitto_pub -r: %v\n%s", err, out)
	}
	out, err := run(t, sub, "-h", host, "-p", port, "-t", "loot/#", "-C", "1", "-W", "5", "-F", "%t %x")
	if err != nil || !strings.Contains(out, "loot/note 0102") {
		t.Fatalf("retained read back: %v\n%q", err, out)
	}
	testutil.Eventually(t, "control publishes", func() bool { return len(ev.With(TypePublish, FieldTopic, "plant/water/pump1/set")) == 3 })
	for _, e := range ev.With(TypePublish, FieldTopic, "plant/water/pump1/set") {
		if e.Severity != event.Critical || e.Fields["attack"] != attackControl || e.Fields[FieldQoS] != "1" ||
			!strings.HasPrefix(e.Fields[FieldPayload], "STOP-") {
			t.Errorf("control publish event: %v %v", e.Severity, e.Fields)
		}
	}
	b := ev.With(TypePublish, FieldTopic, "loot/note")
	if len(b) != 1 || b[0].Fields[FieldPayload+"_hex"] != "010262696e" || b[0].Fields[FieldRetain] != "true" || b[0].Fields[FieldPayload+"_size"] != "5" {
		t.Errorf("binary retained publish event: %v", b)
	}
	if len(ev.With(event.TypeAuth, event.FieldUsername, "admin")) != 3 {
		t.Errorf("auth events: %v", ev.OfType(event.TypeAuth))
	}
}

// TestRefusal checks mosquitto's refusals with a users list: the client
// texts of mosquitto_sub for MQTT 3.1.1 and 5, and failed auth events that
// still carry the credentials.
func TestRefusal(t *testing.T) {
	sub := testutil.RequireTool(t, "mosquitto_sub")
	addr, _, ev := start(t, addrClients, map[string]string{"users": "plc:Siemens1", "allow_anonymous": "false"})
	host, port := hostPort(t, addr)
	tests := []struct{ v, user, pass, want string }{
		{"mqttv311", "root", "root", "Connection Refused: not authorised."},
		{"mqttv5", "root", "toor", "Not authorized"},
		{"mqttv311", "", "", "Connection Refused: not authorised."},
	}
	for _, tc := range tests {
		args := []string{"-h", host, "-p", port, "-V", tc.v, "-t", "#", "-C", "1", "-W", "5"}
		if tc.user != "" {
			args = append(args, "-u", tc.user, "-P", tc.pass)
		}
		out, _ := run(t, sub, args...)
		if !strings.Contains(out, tc.want) {
			t.Errorf("%s %q: output %q, want %q", tc.v, tc.user, out, tc.want)
		}
	}
	out, err := run(t, sub, "-h", host, "-p", port, "-u", "plc", "-P", "Siemens1", "-t", "plant/alarm/#", "-C", "3", "-W", "5")
	if err != nil {
		t.Fatalf("good login: %v\n%s", err, out)
	}
	testutil.Eventually(t, "failed auth", func() bool {
		return len(ev.With(event.TypeAuth, event.FieldPassword, "toor")) == 1 && len(ev.With(event.TypeAuth, event.FieldSuccess, "false")) == 3
	})
	if ok := ev.With(event.TypeAuth, event.FieldUsername, "plc"); len(ok) != 1 || ok[0].Fields[event.FieldSuccess] != "true" {
		t.Errorf("good login event: %v", ok)
	}
}

// TestTLS subscribes over TLS on 8883 with the decky's certificate as CA,
// and checks 8883 is closed for the generic persona.
func TestTLS(t *testing.T) {
	sub := testutil.RequireTool(t, "mosquitto_sub")
	dir := t.TempDir()
	_, tlsAddr, ev := startIn(t, addrTLS, dir, nil)
	host, port := hostPort(t, tlsAddr)
	// The decky's self-signed certificate is its own CA; --insecure lets
	// the loopback address stand for its host name.
	ca := certOnly(t, filepath.Join(dir, tlscert.SnakeoilName+".pem"))
	for _, v := range []string{"mqttv31", "mqttv311", "mqttv5"} {
		out, err := run(t, sub, "-h", host, "-p", port, "--insecure", "--cafile", ca,
			"-V", v, "-u", "tls-"+v, "-P", "pw", "-t", "plant/water/pump2/status", "-C", "1", "-W", "5")
		if err != nil || !strings.Contains(out, "STANDBY") {
			t.Fatalf("mosquitto_sub over TLS %s: %v\n%s", v, err, out)
		}
	}
	testutil.Eventually(t, "TLS auth", func() bool { return len(ev.With(event.TypeAuth, "tls", "true")) == 3 })

	_, genericTLS, _ := start(t, addrTLS, map[string]string{"persona": "generic"})
	testutil.Closed(t, genericTLS)
}

// TestCurl reads one retained topic with curl's
// MQTT client, which logs in with the URL's credentials.
func TestCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	addr, _, ev := start(t, addrClients, map[string]string{"persona": "factory"})
	out, _ := run(t, curl, "-s", "-m", "3", "-u", "alice:secret", "mqtt://"+addr+"/factory/line1/plc/status")
	// curl, like against mosquitto, waits for more until its -m limit.
	if !strings.Contains(out, "factory/line1/plc/statusRUN") {
		t.Fatalf("curl: %q", out)
	}
	testutil.Eventually(t, "curl auth", func() bool { return len(ev.With(event.TypeAuth, event.FieldPassword, "secret")) == 1 })
	if a := ev.With(event.TypeAuth, event.FieldPassword, "secret")[0]; a.Fields[event.FieldUsername] != "alice" || a.Fields[FieldProtocol] != "3.1.1" {
		t.Errorf("curl auth event: %v", a.Fields)
	}
}

// certOnly writes the certificates of the PEM file path (which also holds
// the key, which mosquitto_sub's --cafile refuses) to a file of their own.
func certOnly(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})...)
		}
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return ca
}
