package ssh

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
)

// sshd's limits and replies for the identification exchange (kex.c).
const (
	maxBannerLen     = 8192
	msgInvalidIdent  = "Invalid SSH identification string."
	msgMajorMismatch = "Protocol major versions differ."
)

// identError is a bad client identification and the line sshd sends back.
type identError struct{ reply string }

func (e *identError) Error() string { return e.reply }

// readIdent reads the client's identification line byte by byte, as sshd
// does, so input after a bad line stays unread (and a close sends RST, as
// sshd's does). It returns the line without CR LF and the raw bytes read.
func readIdent(r io.Reader) (line string, raw []byte, err error) {
	var buf []byte
	var one [1]byte
	expectNL := false
	for {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return "", raw, err
		}
		raw = append(raw, one[0])
		c := one[0]
		if c == '\r' {
			expectNL = true
			continue
		}
		if c == '\n' {
			break
		}
		if c == 0 || expectNL {
			return "", raw, &identError{msgInvalidIdent}
		}
		buf = append(buf, c)
		if len(buf) > maxBannerLen {
			return "", raw, &identError{msgInvalidIdent}
		}
	}
	line = string(buf)
	// A server accepts no lines before the identification.
	if len(line) <= 4 || !strings.HasPrefix(line, "SSH-") {
		return line, raw, &identError{msgInvalidIdent}
	}
	major, ok := parseProtoVersion(line)
	if !ok {
		return line, raw, &identError{msgInvalidIdent}
	}
	if major != 2 {
		return line, raw, &identError{msgMajorMismatch}
	}
	return line, raw, nil
}

// parseProtoVersion emulates sshd's sscanf("SSH-%d.%d-%[^\n]") and
// returns the major version, mapping 1.99 to 2.
func parseProtoVersion(line string) (int, bool) {
	s := line[4:]
	major, s, ok := scanInt(s)
	if !ok || !strings.HasPrefix(s, ".") {
		return 0, false
	}
	minor, s, ok := scanInt(s[1:])
	if !ok || !strings.HasPrefix(s, "-") || len(s) < 2 {
		return 0, false
	}
	if major == 1 && minor == 99 {
		major = 2
	}
	return major, true
}

// scanInt is scanf's %d: optional white space, an optional sign, digits.
func scanInt(s string) (int, string, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<24 {
			n = n*10 + int(s[i]-'0')
		}
	}
	if i == 0 {
		return 0, s, false
	}
	if neg {
		n = -n
	}
	return n, s[i:], true
}

// identConn hands x/crypto a connection whose identification exchange we
// already did: its version write is swallowed (we sent the same bytes),
// its reads first get the client's line back. Further reads wait until our
// KEXINIT is out, as with sshd, so a garbage packet gets KEXINIT then FIN
// rather than a race. The first client packet is copied to a sniffer, and
// our plaintext packets are re-padded as sshd pads them.
type identConn struct {
	net.Conn
	banner []byte
	replay []byte
	kexOut chan struct{}
	once   sync.Once
	sent   atomic.Bool // our version line went out before x/crypto ran
	sniff  *kexSniffer
	readMu sync.Mutex

	writeMu sync.Mutex
	pad     plainPadder
}

func newIdentConn(c net.Conn, banner, clientRaw []byte, sniff *kexSniffer) *identConn {
	return &identConn{Conn: c, banner: banner, replay: clientRaw, kexOut: make(chan struct{}), sniff: sniff}
}

func (c *identConn) Write(p []byte) (int, error) {
	if !c.sent.Load() && bytes.Equal(p, c.banner) {
		c.sent.Store(true)
		return len(p), nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	out := c.pad.feed(p)
	if len(out) == 0 {
		// Part of a packet: the rest follows in the next write.
		return len(p), nil
	}
	_, err := c.Conn.Write(out)
	c.once.Do(func() { close(c.kexOut) })
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *identConn) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		return n, nil
	}
	<-c.kexOut
	n, err := c.Conn.Read(p)
	if n > 0 && c.sniff != nil {
		c.sniff.feed(p[:n])
	}
	return n, err
}

// Close also releases a reader waiting for KEXINIT.
func (c *identConn) Close() error {
	c.once.Do(func() { close(c.kexOut) })
	return c.Conn.Close()
}

// SSH message numbers the padder looks for.
const msgNewKeys = 21

// maxPlainPacket bounds a plaintext packet the padder buffers (x/crypto's
// own packet limit); it never writes one that large before NEWKEYS.
const maxPlainPacket = 256 * 1024

// plainPadder rewrites x/crypto's plaintext binary packets (padded to 16
// with random bytes) with sshd's padding (packet.c: 8-byte blocks, at
// least 4 bytes, all zero, as no cipher is in use yet), until our NEWKEYS
// has gone out; what follows is encrypted and passes through. Payloads are
// kept: the exchange hash covers them, not the padding. Writes may split
// or join packets, so it buffers up to a whole one.
type plainPadder struct {
	buf  []byte
	done bool
}

// feed takes bytes x/crypto wrote and returns the bytes to send now.
func (r *plainPadder) feed(p []byte) []byte {
	if r.done {
		return p
	}
	r.buf = append(r.buf, p...)
	var out []byte
	for !r.done && len(r.buf) >= 5 {
		size := int(binary.BigEndian.Uint32(r.buf))
		pad := int(r.buf[4])
		if size > maxPlainPacket || pad+1 > size {
			// Not a packet we know how to read: never alter what we
			// cannot parse.
			r.done = true
			break
		}
		if len(r.buf) < 4+size {
			break
		}
		payload := r.buf[5 : 4+size-pad]
		out = appendSSHDPacket(out, payload)
		r.done = len(payload) > 0 && payload[0] == msgNewKeys
		r.buf = r.buf[4+size:]
	}
	if r.done {
		out = append(out, r.buf...)
		r.buf = nil
	} else if len(r.buf) == 0 {
		r.buf = nil
	}
	return out
}

// sshdPadding is the padding length sshd gives a plaintext payload of n
// bytes: length field, padding-length byte, payload and padding fill
// 8-byte blocks, with at least 4 bytes of padding.
func sshdPadding(n int) int {
	pad := 8 - (5+n)%8
	if pad < 4 {
		pad += 8
	}
	return pad
}

// appendSSHDPacket appends payload framed and padded as sshd frames a
// plaintext packet.
func appendSSHDPacket(out, payload []byte) []byte {
	pad := sshdPadding(len(payload))
	out = binary.BigEndian.AppendUint32(out, uint32(1+len(payload)+pad))
	out = append(out, byte(pad))
	out = append(out, payload...)
	return append(out, make([]byte, pad)...)
}

// kexSniffer collects the client's first binary packet, its plaintext
// KEXINIT, and reports it once.
type kexSniffer struct {
	buf    []byte
	done   bool
	report func(clientKex)
}

// maxKexinit bounds what the sniffer buffers (sshd's packet limit).
const maxKexinit = 35000

func (k *kexSniffer) feed(p []byte) {
	if k.done {
		return
	}
	k.buf = append(k.buf, p...)
	if len(k.buf) < 4 {
		return
	}
	size := int(binary.BigEndian.Uint32(k.buf))
	if size > maxKexinit || size < 5 {
		k.done, k.buf = true, nil
		return
	}
	if len(k.buf) < 4+size {
		return
	}
	k.done = true
	ck, err := parseKexinit(k.buf[:4+size])
	k.buf = nil
	if err == nil && k.report != nil {
		k.report(ck)
	}
}

// clientKex is what a client's KEXINIT says about its software.
type clientKex struct {
	Kex, HostKeys, Ciphers, MACs, Compression string // client to server lists
	HASSH                                     string
}

var errNotKexinit = errors.New("not a KEXINIT packet")

// parseKexinit reads an unencrypted SSH packet holding SSH_MSG_KEXINIT and
// computes the client's HASSH: md5 of kex;ciphers;macs;compression.
func parseKexinit(pkt []byte) (clientKex, error) {
	if len(pkt) < 6 {
		return clientKex{}, errNotKexinit
	}
	size := int(binary.BigEndian.Uint32(pkt))
	pad := int(pkt[4])
	if size != len(pkt)-4 || pad+1 > size {
		return clientKex{}, errNotKexinit
	}
	payload := pkt[5 : 4+size-pad]
	if len(payload) < 17 || payload[0] != 20 {
		return clientKex{}, errNotKexinit
	}
	rest := payload[17:]
	var lists [10]string
	for i := range lists {
		if len(rest) < 4 {
			return clientKex{}, errNotKexinit
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return clientKex{}, errNotKexinit
		}
		lists[i] = string(rest[4 : 4+n])
		rest = rest[4+n:]
	}
	ck := clientKex{Kex: lists[0], HostKeys: lists[1], Ciphers: lists[2], MACs: lists[4], Compression: lists[6]}
	sum := md5.Sum([]byte(ck.Kex + ";" + ck.Ciphers + ";" + ck.MACs + ";" + ck.Compression))
	ck.HASSH = hex.EncodeToString(sum[:])
	return ck, nil
}
