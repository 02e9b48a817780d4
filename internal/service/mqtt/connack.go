package mqtt

import (
	"crypto/rand"
	"fmt"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Mosquitto's CONNACK v5 properties (mosquitto 2.0.11 with Debian's
// defaults): topic alias maximum 10 (max_topic_alias) and receive maximum
// 20 (max_inflight_messages), written in that order, with an assigned
// client identifier between them when the client sent none.
const (
	topicAliasMaximum = 10
	receiveMaximum    = 20
)

// The CONNACK return codes of MQTT 3.1 and 3.1.1 that mosquitto sends.
const (
	v3Accepted          = 0x00
	v3BadProtocol       = 0x01
	v3IdentifierRefused = 0x02
	v3Unavailable       = 0x03
	v3NotAuthorised     = 0x05
)

// The MQTT 5 reason codes mosquitto sends in a refusing CONNACK.
const (
	v5IdentifierRefused = 0x85
	v5NotAuthorized     = 0x87
	v5Unavailable       = 0x88
)

// connackFor is the CONNACK mosquitto would send where mochi built ack,
// for a client of protocol level version, or nil where mosquitto closes
// the connection without one (a malformed CONNECT).
func connackFor(version byte, ack packets.Packet) []byte {
	code := ack.ReasonCode
	if code == packets.CodeSuccess.Code {
		if version < 5 {
			return []byte{0x20, 0x02, flag(ack.SessionPresent), v3Accepted}
		}
		return connackV5(ack.SessionPresent, ack.Properties.AssignedClientID)
	}
	var v3, v5 byte
	switch {
	case code == packets.ErrBadUsernameOrPassword.Code, code == packets.ErrNotAuthorized.Code,
		version < 5 && (code == packets.Err3NotAuthorized.Code || code == packets.ErrMalformedUsernameOrPassword.Code):
		v3, v5 = v3NotAuthorised, v5NotAuthorized
	case code == packets.ErrUnsupportedProtocolVersion.Code, version < 5 && code == packets.Err3UnsupportedProtocolVersion.Code,
		ack.Properties.ReasonString == packets.ErrProtocolViolationProtocolVersion.Reason:
		// mosquitto answers an unknown protocol level in the 3.1.1
		// format whatever the level asked.
		return []byte{0x20, 0x02, 0x00, v3BadProtocol}
	case code == packets.ErrClientIdentifierNotValid.Code, version < 5 && code == packets.Err3ClientIdentifierNotValid.Code,
		// mochi's answer to a 3.1.1 client without an identifier that
		// asks for a persistent session; mosquitto refuses the identifier.
		version < 5 && code == packets.ErrUnspecifiedError.Code:
		v3, v5 = v3IdentifierRefused, v5IdentifierRefused
	case code == packets.ErrServerUnavailable.Code, code == packets.ErrServerBusy.Code,
		version < 5 && code == packets.Err3ServerUnavailable.Code:
		v3, v5 = v3Unavailable, v5Unavailable
	default:
		return nil
	}
	if version < 5 {
		return []byte{0x20, 0x02, 0x00, v3}
	}
	return []byte{0x20, 0x03, 0x00, v5, 0x00}
}

// connackV5 is mosquitto's accepting MQTT 5 CONNACK.
func connackV5(present bool, assigned string) []byte {
	props := []byte{0x22, 0x00, topicAliasMaximum}
	if assigned != "" {
		props = append(props, 0x12, byte(len(assigned)>>8), byte(len(assigned)))
		props = append(props, assigned...)
	}
	props = append(props, 0x21, 0x00, receiveMaximum)
	// Property lengths here stay below 128: one-byte varints.
	body := append([]byte{flag(present), 0x00, byte(len(props))}, props...)
	return append([]byte{0x20, byte(len(body))}, body...)
}

func flag(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// assignedID is the identifier mosquitto gives a client that sent none:
// "auto-" and 16 random bytes as an upper-case UUID (not a version 4 one:
// mosquitto sets no version bits).
func assignedID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("auto-%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
