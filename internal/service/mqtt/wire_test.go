package mqtt

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Raw MQTT packets for the tests that compare bytes on the wire.

// varint is MQTT's remaining-length encoding of n.
func varint(n int) []byte {
	var out []byte
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		out = append(out, d)
		if n == 0 {
			return out
		}
	}
}

func str(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func packet(typ byte, body ...[]byte) []byte {
	var b []byte
	for _, part := range body {
		b = append(b, part...)
	}
	return append(append([]byte{typ}, varint(len(b))...), b...)
}

// connectPkt is a CONNECT of protocol level v (3: MQIsdp) with a clean
// session, keepalive 60 and, when user is set, a username and password.
func connectPkt(v byte, id, user, pass string) []byte {
	name := "MQTT"
	if v == 3 {
		name = "MQIsdp"
	}
	flags := byte(0x02)
	var tail []byte
	if user != "" {
		flags |= 0xc0
		tail = append(str(user), str(pass)...)
	}
	var props []byte
	if v == 5 {
		props = []byte{0}
	}
	return packet(0x10, str(name), []byte{v, flags, 0, 60}, props, str(id), tail)
}

func props(v byte) []byte {
	if v == 5 {
		return []byte{0}
	}
	return nil
}

func id16(n uint16) []byte { return binary.BigEndian.AppendUint16(nil, n) }

func publishPkt(v byte, topic, payload string, qos byte, retain bool, id uint16) []byte {
	typ := 0x30 | qos<<1
	if retain {
		typ |= 1
	}
	var pid []byte
	if qos > 0 {
		pid = id16(id)
	}
	return packet(typ, str(topic), pid, props(v), []byte(payload))
}

func subscribePkt(v byte, id uint16, filters ...string) []byte {
	body := append(id16(id), props(v)...)
	for i, f := range filters {
		body = append(append(body, str(f)...), byte(i%3))
	}
	return packet(0x82, body)
}

func unsubscribePkt(v byte, id uint16, filter string) []byte {
	return packet(0xa2, id16(id), props(v), str(filter))
}

var (
	pingreq  = []byte{0xc0, 0x00}
	pingresp = []byte{0xd0, 0x00}
)

// Markers of how a connection ended, in a recorded exchange.
const (
	endFIN = "FIN"
	endRST = "RST"
)

// readPacket reads one MQTT packet, or returns the end marker.
func readPacket(c net.Conn) ([]byte, string) {
	hdr := make([]byte, 1, 5)
	if _, err := io.ReadFull(c, hdr[:1]); err != nil {
		return nil, endOf(err)
	}
	n, mul := 0, 1
	for i := 0; i < 4; i++ {
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return nil, endOf(err)
		}
		hdr = append(hdr, b[0])
		n += int(b[0]&0x7f) * mul
		mul *= 128
		if b[0]&0x80 == 0 {
			break
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, endOf(err)
	}
	return append(hdr, body...), ""
}

func endOf(err error) string {
	if errors.Is(err, syscall.ECONNRESET) {
		return endRST
	}
	if errors.Is(err, io.EOF) {
		return endFIN
	}
	return "error: " + err.Error()
}

// step is what a client sends at once; a step that ends the connection
// is read to its end, any other up to the PINGRESP of a PINGREQ sent
// after it.
type step struct {
	send   []byte
	closes bool
}

// exchange sends the steps on one connection to addr and records what
// comes back for each: the packets up to the PINGRESP (mosquitto answers
// in order), or up to the end of the connection. want, when set, is the
// count of packets to read instead of waiting for the PINGRESP (for a
// broker that may send the PINGRESP before queued publishes).
func exchange(addr string, steps []step, want []int) ([][][]byte, []string, error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	var got [][][]byte
	var ends []string
	for i, step := range steps {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		send := step.send
		if !step.closes {
			send = append(append([]byte{}, send...), pingreq...)
		}
		if _, err := c.Write(send); err != nil {
			ends = append(ends, endOf(err))
			got = append(got, nil)
			break
		}
		var pks [][]byte
		end := ""
		for {
			pk, e := readPacket(c)
			if e != "" {
				end = e
				break
			}
			pks = append(pks, pk)
			if step.closes {
				continue
			}
			if want == nil && string(pk) == string(pingresp) || want != nil && len(pks) == want[i] {
				break
			}
		}
		got, ends = append(got, pks), append(ends, end)
		if end != "" {
			break
		}
	}
	return got, ends, nil
}
