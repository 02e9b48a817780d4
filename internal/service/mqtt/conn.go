package mqtt

import (
	"net"
	"sync"

	"decnet/internal/event"
)

// conn is a client connection as the broker sees it. It replays the bytes
// the listener read to check the first packet, swaps mochi's CONNACK for
// mosquitto's, and holds what the hook learns of the session, so that a
// CONNECT refused before authentication still yields its auth event.
type conn struct {
	net.Conn
	pre    []byte            // read ahead by the listener, served first
	fields map[string]string // src_ip, src_port, dst_port, session
	emit   event.Emitter
	tls    bool

	mu      sync.Mutex
	version byte         // protocol level of the CONNECT
	auth    *event.Event // the CONNECT's auth event until it is emitted
	swapFor byte         // the first byte of the next packet to replace (0: none)
	swap    []byte       // mosquitto's packet in its place (nil: write none)
	noSubs  map[uint16]bool
	once    sync.Once

	// held is the hook's lock on the topic index while a packet is
	// handled; only the connection's reading goroutine touches it.
	held lockHeld
}

// lockHeld is how a connection holds the hook's topic lock.
type lockHeld int

const (
	heldNone lockHeld = iota
	heldRead
	heldWrite
)

func (c *conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// Write writes b, or mosquitto's packet in place of mochi's (a CONNACK, a
// DISCONNECT). mochi writes each packet in one call, so it is a whole b.
func (c *conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.swapFor != 0 && len(b) > 0 && b[0] == c.swapFor {
		out := c.swap
		c.swapFor, c.swap = 0, nil
		c.mu.Unlock()
		if len(out) > 0 {
			if _, err := c.Conn.Write(out); err != nil {
				return 0, err
			}
		}
		return len(b), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// Close closes the connection and emits a CONNECT's auth event that
// authentication never reached (a CONNECT the broker refused first).
func (c *conn) Close() error {
	c.once.Do(func() {
		if ev := c.takeAuth(); ev != nil {
			ev.Fields[event.FieldSuccess] = "false"
			c.emit.Emit(*ev)
		}
	})
	return c.Conn.Close()
}

// takeAuth returns the pending auth event once.
func (c *conn) takeAuth() *event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := c.auth
	c.auth = nil
	return ev
}

func (c *conn) setAuth(version byte, ev *event.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version, c.auth = version, ev
}

func (c *conn) protocol() byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// replaceNext has the next packet written whose first byte is first
// replaced by b (nil: dropped).
func (c *conn) replaceNext(first byte, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.swapFor, c.swap = first, b
}

// abort ends the session as mosquitto does on a malformed packet: an
// MQTT 5 client is sent a DISCONNECT with reason, then the connection is
// closed.
func (c *conn) abort(reason byte) {
	if c.protocol() == protocolLevel5 {
		c.replaceNext(0, nil)
		_, _ = c.Conn.Write([]byte{0xe0, 0x01, reason})
	}
	c.Conn.Close()
}

// maxNoSubs bounds the packet identifiers remembered for PUBACKs.
const maxNoSubs = 64

// markNoSubscribers remembers that the QoS 1 publish id reached nobody:
// mosquitto's MQTT 5 PUBACK then says so (reason 0x10).
func (c *conn) markNoSubscribers(id uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noSubs == nil {
		c.noSubs = map[uint16]bool{}
	}
	if len(c.noSubs) < maxNoSubs {
		c.noSubs[id] = true
	}
}

func (c *conn) takeNoSubscribers(id uint16) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ok := c.noSubs[id]
	delete(c.noSubs, id)
	return ok
}
