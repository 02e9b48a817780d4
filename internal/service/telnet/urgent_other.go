//go:build !linux

package telnet

import "net"

// sendUrgent writes b in the stream where TCP urgent data is not at hand.
func sendUrgent(c net.Conn, b byte) error {
	_, err := c.Write([]byte{b})
	return err
}
