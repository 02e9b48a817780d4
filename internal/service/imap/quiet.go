package imap

import (
	"net"
	"sync/atomic"
)

// quietConn drops the TLS alerts a failed handshake would send. Dovecot
// closes a connection whose handshake failed without flushing OpenSSL's
// alert: an SSLv3 hello (nmap's SSLSessionReq) meets a bare close, where
// crypto/tls would answer protocol_version.
type quietConn struct {
	net.Conn
	up atomic.Bool // the handshake is done: write everything
}

// alertRecord is the TLS record type of alerts.
const alertRecord = 0x15

func (q *quietConn) Write(b []byte) (int, error) {
	if !q.up.Load() && len(b) > 0 && b[0] == alertRecord {
		return len(b), nil
	}
	return q.Conn.Write(b)
}

// NetConn exposes the connection below, for service.ConnFields.
func (q *quietConn) NetConn() net.Conn { return q.Conn }
