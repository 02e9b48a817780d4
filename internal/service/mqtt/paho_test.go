package mqtt

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestPaho drives the broker with paho.golang's MQTT 5 client: the CONNACK
// carries mosquitto's properties and an auto- identifier, the client gets
// the persona's retained topics and then live values of the simulated
// process, and its will, login and publish are recorded.
func TestPaho(t *testing.T) {
	addr, _, ev := start(t, addrClients, map[string]string{"persona": "building", "publish_interval": "1"})
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string][]string{}
	c := paho.NewClient(paho.ClientConfig{Conn: nc, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(pr paho.PublishReceived) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			got[pr.Packet.Topic] = append(got[pr.Packet.Topic], string(pr.Packet.Payload))
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err := c.Connect(ctx, &paho.Connect{KeepAlive: 30, CleanStart: true, Username: "bms", UsernameFlag: true,
		Password: []byte("Honeywell1"), PasswordFlag: true,
		WillMessage: &paho.WillMessage{Topic: "building/gw/status", Payload: []byte("offline")}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(&paho.Disconnect{})
	if p := ca.Properties; !uuidRE.MatchString(p.AssignedClientID) || *p.ReceiveMaximum != receiveMaximum || *p.TopicAliasMaximum != topicAliasMaximum {
		t.Errorf("CONNACK properties: %+v", p)
	}
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "building/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "a retained value and a live change", func() bool {
		mu.Lock()
		defer mu.Unlock()
		changed := false
		for _, vals := range got {
			changed = changed || len(vals) > 1
		}
		return len(got["building/hvac/chiller1/status"]) > 0 && changed
	})
	if _, err := c.Publish(ctx, &paho.Publish{Topic: "building/hvac/ahu1/mode/set", QoS: 1, Payload: []byte("OFF")}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "events", func() bool {
		return len(ev.With(TypePublish, FieldTopic, "building/hvac/ahu1/mode/set")) == 1 && len(ev.With(event.TypeAuth, event.FieldUsername, "bms")) == 1
	})
	a := ev.With(event.TypeAuth, event.FieldUsername, "bms")[0].Fields
	if a[event.FieldPassword] != "Honeywell1" || a["will_topic"] != "building/gw/status" || a["will_payload"] != "offline" ||
		a[FieldProtocol] != "5" || !strings.HasPrefix(a["assigned_client_id"], "auto-") {
		t.Errorf("auth event: %v", a)
	}
	if p := ev.With(TypePublish, FieldTopic, "building/hvac/ahu1/mode/set")[0]; p.Severity != event.Critical || p.Fields[FieldPayload] != "OFF" {
		t.Errorf("publish event: %v %v", p.Severity, p.Fields)
	}
}

// TestDecoderPanic sends the SUBSCRIBE that makes mochi's decoder panic:
// the session ends with a protocol_error event and the broker serves on.
func TestDecoderPanic(t *testing.T) {
	addr, _, ev := start(t, addrClients, nil)
	for i := 0; i < 2; i++ {
		c := testutil.Dial(t, addr, 2*time.Second)
		c.Write(append(connectPkt(5, "p", "", ""), 0x82, 0x08, 0x00, 0x02, 0x00, 0x00, 0x03, 'a', '/', '+'))
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if pk, _ := readPacket(c); len(pk) == 0 || pk[0] != 0x20 {
			t.Fatalf("no CONNACK on connection %d: %x", i, pk)
		}
		if _, end := readPacket(c); end == "" {
			t.Errorf("connection %d still open", i)
		}
		c.Close()
	}
	testutil.Eventually(t, "protocol_error events", func() bool { return len(ev.OfType(TypeProtocolError)) == 2 })
}
