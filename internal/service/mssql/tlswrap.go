package mssql

import (
	"fmt"
	"net"
)

// preloginTLS carries a TLS handshake the way TDS 7 does: until the
// handshake ends, each side's TLS records travel as the payload of
// PRELOGIN packets; then the records go bare on the connection. SQL Server
// encrypts even a client that asked for no encryption (ENCRYPT_OFF) this
// way for its LOGIN7 packet.
type preloginTLS struct {
	net.Conn
	// wrapped is true during the handshake.
	wrapped bool
	pending []byte
}

func (c *preloginTLS) Read(b []byte) (int, error) {
	if !c.wrapped {
		return c.Conn.Read(b)
	}
	for len(c.pending) == 0 {
		h, payload, _, err := readPacket(c.Conn)
		if err != nil {
			return 0, err
		}
		if h.Type != pktPrelogin {
			return 0, fmt.Errorf("%s packet during the TLS handshake: %w", packetTypeName(h.Type), ErrMalformed)
		}
		c.pending = payload
	}
	n := copy(b, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Write sends one flight of handshake records as one PRELOGIN message:
// clients read the server's flight as a whole message.
func (c *preloginTLS) Write(b []byte) (int, error) {
	if !c.wrapped {
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(appendMessage(nil, pktPrelogin, 0, prePacket, b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
