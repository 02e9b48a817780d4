package mqtt

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"decnet/internal/event"
)

// The event types of the broker besides auth and the connection events.
const (
	TypeSubscribe = "subscribe"
	TypePublish   = "publish"
)

// Event fields of this service.
const (
	FieldClientID = "client_id"
	FieldProtocol = "protocol"
	FieldTopic    = "topic"
	FieldPayload  = "payload"
	FieldQoS      = "qos"
	FieldRetain   = "retain"
)

// Limits on what an event carries and on the sessions the broker keeps.
const (
	maxPayloadText   = 1024 // payload bytes shown in an event
	maxFilterEvents  = 32   // subscribe events per SUBSCRIBE packet
	maxSessions      = 1000 // persistent sessions kept after disconnect
	maxRetainedCount = 1000 // attackers' retained topics
	maxRetainedBytes = 1 << 20
	mqttAuthMethod   = "mqtt"
	protocolLevel31  = 3
	protocolLevel311 = 4
	protocolLevel5   = 5
)

// hook is the broker's mochi hook: it captures logins, subscriptions and
// publishes as events, decides who gets in, and reshapes what mochi
// writes into what mosquitto writes.
type hook struct {
	mochi.HookBase
	s      *Server
	broker *mochi.Server
	ledger *retained
	// topics orders retained writes against retained reads: mochi's
	// topic index reads a node's retained path unlocked while scanning
	// for a new subscription, so a client's retained publish takes it
	// for writing and a subscription for reading, from the hook that
	// starts the packet's handling to OnPacketProcessed.
	topics sync.RWMutex
}

var provided = []byte{
	mochi.OnConnect, mochi.OnConnectAuthenticate, mochi.OnACLCheck, mochi.OnPacketRead,
	mochi.OnPacketEncode, mochi.OnSubscribe, mochi.OnPublish, mochi.OnPacketProcessed, mochi.OnWill,
}

// ID names the hook in mochi's own logs.
func (h *hook) ID() string { return Slug }

// Provides says which hook methods are ours.
func (h *hook) Provides(b byte) bool { return bytes.IndexByte(provided, b) >= 0 }

// connOf is the connection of a network client; nil for the broker's own
// publisher.
func connOf(cl *mochi.Client) *conn {
	c, _ := cl.Net.Conn.(*conn)
	return c
}

// OnPacketRead records a CONNECT as soon as it is decoded, before mochi
// validates it, so a refused one still yields its credentials.
func (h *hook) OnPacketRead(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	c := connOf(cl)
	if c == nil {
		return pk, nil
	}
	if pk.FixedHeader.Type == packets.Publish && isSys(pk.TopicName) {
		// mochi drops a publish to $SYS without acknowledging it; mark
		// it so that it reaches OnPublish, which refuses it as mosquitto
		// does.
		pk.TopicName = sysMark + pk.TopicName
	}
	if pk.FixedHeader.Type != packets.Connect {
		return pk, nil
	}
	ev := h.authEvent(c, pk)
	c.setAuth(pk.ProtocolVersion, &ev)
	if pk.Connect.PasswordFlag && len(pk.Connect.Password) == 0 {
		// mosquitto takes an empty password; mochi would refuse it.
		pk.Connect.PasswordFlag = false
	}
	return pk, nil
}

func (h *hook) authEvent(c *conn, pk packets.Packet) event.Event {
	f := copyFields(c.fields)
	if pk.Connect.UsernameFlag {
		f[event.FieldUsername] = event.Clip(string(pk.Connect.Username), maxPayloadText)
	}
	if pk.Connect.PasswordFlag {
		f[event.FieldPassword] = event.Clip(string(pk.Connect.Password), maxPayloadText)
	}
	f[event.FieldMethod] = mqttAuthMethod
	f[FieldClientID] = event.Clip(pk.Connect.ClientIdentifier, 256)
	f[FieldProtocol] = protocolName(pk.ProtocolVersion)
	f["clean_session"] = strconv.FormatBool(pk.Connect.Clean)
	f["keepalive"] = strconv.Itoa(int(pk.Connect.Keepalive))
	if pk.Connect.WillFlag {
		f["will_topic"] = event.Clip(pk.Connect.WillTopic, 256)
		addPayload(f, "will_payload", pk.Connect.WillPayload)
		f["will_qos"] = strconv.Itoa(int(pk.Connect.WillQos))
		f["will_retain"] = strconv.FormatBool(pk.Connect.WillRetain)
	}
	if c.tls {
		f["tls"] = "true"
	}
	return event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: f}
}

func protocolName(level byte) string {
	switch level {
	case protocolLevel31:
		return "3.1"
	case protocolLevel311:
		return "3.1.1"
	case protocolLevel5:
		return "5"
	}
	return "level " + strconv.Itoa(int(level))
}

// OnConnect turns mochi's session set-up into mosquitto's: an MQTT 3.1
// client without an identifier is refused, others get an auto- one, and
// topic aliases are never used towards clients.
func (h *hook) OnConnect(cl *mochi.Client, pk packets.Packet) error {
	c := connOf(cl)
	if c == nil {
		return nil
	}
	if pk.Connect.ClientIdentifier == "" {
		if pk.ProtocolVersion == protocolLevel31 {
			_ = h.broker.SendConnack(cl, packets.ErrClientIdentifierNotValid, false, nil)
			return packets.ErrClientIdentifierNotValid
		}
		cl.ID = assignedID()
		cl.Properties.Props.AssignedClientID = cl.ID
	}
	cl.Properties.Props.TopicAliasMaximum = 0
	if !pk.Connect.Clean && h.broker.Clients.Len() >= maxSessions {
		// Bound the sessions kept for clients gone: this one ends with
		// its connection.
		cl.Properties.Clean = true
		cl.Properties.Props.SessionExpiryInterval = 0
	}
	return nil
}

// OnConnectAuthenticate admits the client as the persona says and emits
// the CONNECT's auth event with the outcome.
func (h *hook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	c := connOf(cl)
	if c == nil {
		return true
	}
	ok := h.s.admit(pk.Connect.UsernameFlag, string(pk.Connect.Username), string(pk.Connect.Password))
	if ev := c.takeAuth(); ev != nil {
		ev.Fields[event.FieldSuccess] = strconv.FormatBool(ok)
		if pk.Connect.ClientIdentifier == "" {
			ev.Fields["assigned_client_id"] = cl.ID
		}
		h.s.cfg.Emit.Emit(*ev)
	}
	return ok
}

// OnACLCheck lets every client read and write every topic, as a broker
// without an ACL file does.
func (h *hook) OnACLCheck(*mochi.Client, string, bool) bool { return true }

// OnSubscribe records the topic filters asked for.
func (h *hook) OnSubscribe(cl *mochi.Client, pk packets.Packet) packets.Packet {
	c := connOf(cl)
	if c == nil {
		return pk
	}
	h.topics.RLock()
	c.held = heldRead
	for _, sub := range pk.Filters {
		if !mochi.IsValidFilter(sub.Filter, false) {
			// mosquitto drops the client rather than refuse the filter.
			c.abort(reasonMalformed)
			break
		}
	}
	for i, sub := range pk.Filters {
		if i == maxFilterEvents {
			break
		}
		f := copyFields(c.fields)
		f[FieldClientID] = cl.ID
		f[FieldTopic] = event.Clip(sub.Filter, 256)
		f[FieldQoS] = strconv.Itoa(int(sub.Qos))
		if len(pk.Filters) > maxFilterEvents {
			f["filters_total"] = strconv.Itoa(len(pk.Filters))
		}
		h.s.cfg.Emit.Emit(event.Event{Type: TypeSubscribe, Severity: event.Info, Fields: f})
	}
	return pk
}

// OnPublish records a client's publish, flags writes to the simulated
// devices, bounds what attackers may keep retained and drops writes to
// the broker's $SYS tree.
func (h *hook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	c := connOf(cl)
	if c == nil {
		return pk, nil
	}
	h.s.stats.publishIn(len(pk.Payload))
	topic, sys := strings.CutPrefix(pk.TopicName, sysMark)
	f := copyFields(c.fields)
	f[FieldClientID] = cl.ID
	f[FieldTopic] = event.Clip(topic, 256)
	addPayload(f, FieldPayload, pk.Payload)
	f[FieldQoS] = strconv.Itoa(int(pk.FixedHeader.Qos))
	f[FieldRetain] = strconv.FormatBool(pk.FixedHeader.Retain)
	sev := event.Info
	if kind := h.s.proc.target(topic); kind != "" {
		f["attack"] = kind
		sev = event.Warning
		if kind == attackControl {
			sev = event.Critical
		}
	}
	h.s.cfg.Emit.Emit(event.Event{Type: TypePublish, Severity: sev, Fields: f})

	if sys {
		// mosquitto acknowledges a write to its $SYS tree and drops it;
		// to an MQTT 5 client it says "not authorized".
		if c.protocol() == protocolLevel5 {
			return pk, packets.ErrNotAuthorized
		}
		return pk, packets.CodeSuccessIgnore
	}
	if pk.FixedHeader.Retain && !h.ledger.keep(pk.TopicName, len(pk.Payload)) {
		pk.FixedHeader.Retain = false
	}
	if pk.FixedHeader.Retain {
		h.topics.Lock()
		c.held = heldWrite
	}
	if pk.FixedHeader.Qos == 1 && c.protocol() == protocolLevel5 && !h.hasSubscribers(pk.TopicName) {
		c.markNoSubscribers(pk.PacketID)
	}
	return pk, nil
}

// sysMark prefixes the topic of a client's publish to $SYS between
// OnPacketRead and OnPublish: no client can send it (MQTT forbids NUL in
// topics, and mochi reads none from the wire past OnPacketRead).
const sysMark = "\x00"

// isSys says whether topic is in the broker's $SYS tree, as mochi tells.
func isSys(topic string) bool {
	return len(topic) >= len(mochi.SysPrefix) && strings.EqualFold(topic[:len(mochi.SysPrefix)], mochi.SysPrefix)
}

// OnPacketProcessed releases what OnSubscribe or OnPublish took.
func (h *hook) OnPacketProcessed(cl *mochi.Client, _ packets.Packet, _ error) {
	if c := connOf(cl); c != nil {
		h.release(c)
	}
}

// release lets go of the topic lock c holds, if any.
func (h *hook) release(c *conn) {
	switch c.held {
	case heldRead:
		h.topics.RUnlock()
	case heldWrite:
		h.topics.Unlock()
	}
	c.held = heldNone
}

// OnWill keeps a will from being retained, which would write the topic
// index outside the order above.
func (h *hook) OnWill(_ *mochi.Client, w mochi.Will) (mochi.Will, error) {
	w.Retain = false
	return w, nil
}

func (h *hook) hasSubscribers(topic string) bool {
	subs := h.broker.Topics.Subscribers(topic)
	return len(subs.Subscriptions) > 0 || len(subs.Shared) > 0 || len(subs.InlineSubscriptions) > 0
}

// OnPacketEncode makes mochi's packets mosquitto's: no reason strings or
// echoed user properties on acknowledgements, mosquitto's CONNACK, and
// the MQTT 5 PUBACK that says a publish reached no subscriber.
func (h *hook) OnPacketEncode(cl *mochi.Client, pk packets.Packet) packets.Packet {
	c := connOf(cl)
	if c == nil {
		return pk
	}
	switch pk.FixedHeader.Type {
	case packets.Connack:
		c.replaceNext(0x20, connackFor(pk.ProtocolVersion, pk))
	case packets.Disconnect:
		c.replaceNext(0xe0, disconnectFor(pk.ReasonCode, pk.Properties.ReasonString))
	case packets.Puback:
		pk.Properties.User = nil
		if c.takeNoSubscribers(pk.PacketID) && pk.ReasonCode < packets.ErrUnspecifiedError.Code {
			// mochi leaves out a reason code below 0x80, so write it here.
			c.replaceNext(0x40, []byte{0x40, 0x03, byte(pk.PacketID >> 8), byte(pk.PacketID), packets.CodeNoMatchingSubscribers.Code})
		}
	case packets.Suback, packets.Unsuback, packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		pk.Properties.User = nil
	case packets.Publish:
		h.s.stats.publishOut(len(pk.Payload))
	}
	pk.Properties.ReasonString = ""
	return pk
}

// addPayload sets key to the payload as text, clipped, with its size and,
// when it is not text, its hex.
func addPayload(f map[string]string, key string, p []byte) {
	f[key+"_size"] = strconv.Itoa(len(p))
	if isText(p) {
		f[key] = clipText(p, maxPayloadText)
		return
	}
	f[key] = event.Clip(printable(p), maxPayloadText)
	f[key+"_hex"] = hex.EncodeToString(p[:min(len(p), maxPayloadText/2)])
}

func copyFields(f map[string]string) map[string]string {
	out := make(map[string]string, len(f)+12)
	for k, v := range f {
		out[k] = v
	}
	return out
}

// The MQTT 5 reason codes mosquitto ends a session with.
const (
	reasonMalformed = 0x81
	reasonProtocol  = 0x82
)

// disconnectFor is the DISCONNECT mosquitto would send where mochi sends
// one with code and reason text: mosquitto's short form (reason, no
// properties), or none where mosquitto just closes (a second CONNECT).
func disconnectFor(code byte, reason string) []byte {
	switch reason {
	case packets.ErrProtocolViolationSecondConnect.Reason:
		return nil
	case packets.ErrProtocolViolationQosOutOfRange.Reason:
		// mosquitto calls a QoS 3 publish malformed.
		code = reasonMalformed
	}
	return []byte{0xe0, 0x01, code}
}
