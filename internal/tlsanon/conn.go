// Package tlsanon is the server side of TLS 1.0 to 1.2 with anonymous
// (EC)DH key exchange, as GnuTLS 3.7 carries it out for TigerVNC's VeNCrypt TLS
// subtypes: no certificate, an unsigned ServerKeyExchange, and the
// ServerHello extensions and choices GnuTLS makes. Go's crypto/tls has no
// anonymous suites.
package tlsanon

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"

	"decnet/internal/tlsrecord"
)

// Handshake message types.
const (
	msgClientHello       = 1
	msgServerHello       = 2
	msgServerKeyExchange = 12
	msgServerHelloDone   = 14
	msgClientKeyExchange = 16
	msgFinished          = 20
)

// maxHandshake bounds a handshake message; a ClientHello of real clients
// is well under 2 KiB.
const maxHandshake = 1 << 16

// maxEmptyRecords bounds the empty records read in a row, which carry
// nothing but cost the server a decryption each.
const maxEmptyRecords = 32

// Errors a handshake can end with.
var (
	// ErrTLS13 is a client that offers TLS 1.3: GnuTLS would choose it and
	// fail for want of a certificate.
	ErrTLS13 = errors.New("tlsanon: client offers TLS 1.3")
	// ErrNoSuite is a client whose first acceptable suite needs a
	// certificate, or that offers no anonymous suite this server does.
	ErrNoSuite       = errors.New("tlsanon: no usable cipher suite")
	errUnexpected    = errors.New("tlsanon: unexpected message")
	errRenegotiation = errors.New("tlsanon: renegotiation refused")
)

// downgrade ends the ServerHello random of a server that can do TLS 1.3
// and settles for less (RFC 8446 §4.1.3), as GnuTLS's does; the last byte
// is 1 for TLS 1.2 and 0 below.
const downgrade = "DOWNGRD\x01"

// State is what a handshake settled, by IANA names.
type State struct {
	Version     string // "TLS1.2"
	CipherSuite string
	Group       string // of the key exchange
}

// Conn is a server connection over a transport whose deadlines and
// closing belong to the caller.
type Conn struct {
	transport io.ReadWriter
	rand      io.Reader
	// version is the negotiated version, TLS 1.2 until then, for the
	// record headers.
	version uint16
	suite   *suite
	in, out *tlsrecord.Protection // nil: records in clear
	out13   *sealer13             // the close_notify to a client refused TLS 1.3
	state   State
	// limit is the largest plaintext per record (record_size_limit).
	limit int
	// pending is the server's ChangeCipherSpec and Finished, sent with the
	// first data, as GnuTLS's flight and TigerVNC's first message leave in
	// one segment.
	pending    []byte
	hs         []byte // handshake bytes not yet parsed
	transcript []byte
	appData    []byte // decrypted bytes not yet read
	readErr    error
	closed     bool
}

// Server returns a connection that runs the server side over transport;
// random supplies randoms and keys, crypto/rand's when nil.
func Server(transport io.ReadWriter, random io.Reader) *Conn {
	if random == nil {
		random = rand.Reader
	}
	return &Conn{transport: transport, rand: random, version: versionTLS12, limit: maxPlaintext}
}

// State returns what the handshake settled.
func (c *Conn) State() State { return c.state }

// Handshake runs the full handshake. After an error the caller should
// Close, which sends GnuTLS's close_notify, as TigerVNC's gnutls_bye does.
func (c *Conn) Handshake() error {
	msg, err := c.readHandshake(msgClientHello)
	if err != nil {
		return err
	}
	ch, err := parseClientHello(msg[4:])
	if err != nil {
		return err
	}
	if ch.offersTLS13() {
		return c.refuseTLS13(ch, msg)
	}
	version, ok := ch.version12()
	if !ok {
		return fmt.Errorf("tlsanon: client version %#04x", ch.version)
	}
	c.version = version
	s, group := choose(ch, version)
	if s == nil {
		return ErrNoSuite
	}
	c.suite = s
	c.state = State{Version: versionNames[version], CipherSuite: s.name, Group: groupName(group)}
	if ch.recordLimit > 0 {
		c.limit = min(ch.recordLimit, maxPlaintext)
	}
	serverRandom := make([]byte, 32+32) // and the session ID
	if _, err := io.ReadFull(c.rand, serverRandom); err != nil {
		return fmt.Errorf("tlsanon: random: %w", err)
	}
	copy(serverRandom[24:], downgrade)
	if version < versionTLS12 {
		serverRandom[31] = 0
	}
	sessionID := serverRandom[32:]
	serverRandom = serverRandom[:32]
	kx, params, err := c.keyExchange(s, group)
	if err != nil {
		return err
	}
	flight := tlsrecord.Record(recordHandshake, version, c.message(msgServerHello, serverHello(ch, s, version, serverRandom, sessionID)))
	flight = append(flight, tlsrecord.Record(recordHandshake, version, c.message(msgServerKeyExchange, params))...)
	flight = append(flight, tlsrecord.Record(recordHandshake, version, c.message(msgServerHelloDone, nil))...)
	if _, err := c.transport.Write(flight); err != nil {
		return err
	}
	if msg, err = c.readHandshake(msgClientKeyExchange); err != nil {
		return err
	}
	premaster, err := kx(msg[4:])
	if err != nil {
		return err
	}
	var master []byte
	if ch.ems {
		master = c.prf(premaster, "extended master secret", c.transcriptHash(), 48)
	} else {
		master = c.prf(premaster, "master secret", append(append([]byte{}, ch.random...), serverRandom...), 48)
	}
	clientKeys, serverKeys, err := c.keys(master, ch.random, serverRandom, ch.etm)
	if err != nil {
		return err
	}
	if err := c.readChangeCipherSpec(); err != nil {
		return err
	}
	c.in = clientKeys
	want := c.prf(master, "client finished", c.transcriptHash(), 12)
	if msg, err = c.readHandshake(msgFinished); err != nil {
		return err
	}
	if !hmac.Equal(msg[4:], want) {
		return errors.New("tlsanon: wrong client Finished")
	}
	finished := c.message(msgFinished, c.prf(master, "server finished", c.transcriptHash(), 12))
	c.pending = tlsrecord.Record(recordChangeCipherSpec, version, []byte{1})
	c.out = serverKeys
	sealed, err := c.seal(recordHandshake, finished)
	if err != nil {
		return err
	}
	c.pending = append(c.pending, sealed...)
	c.transcript = nil
	return nil
}

// serverHello is GnuTLS's ServerHello body: a fresh session ID, and the
// extensions it answers, in its order.
func serverHello(ch *clientHello, s *suite, version uint16, random, sessionID []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, version)
	b = append(b, random...)
	b = append(b, byte(len(sessionID)))
	b = append(b, sessionID...)
	b = binary.BigEndian.AppendUint16(b, s.id)
	b = append(b, 0) // null compression
	var ext []byte
	if ch.pointFormats && !s.dh {
		ext = append(ext, 0x00, extECPointFormats, 0, 2, 1, 0)
	}
	if ch.etm && !s.gcm {
		ext = append(ext, 0x00, extEncryptThenMAC, 0, 0)
	}
	if ch.ems {
		ext = append(ext, 0x00, extExtendedMaster, 0, 0)
	}
	if ch.renegotiation {
		ext = append(ext, 0xff, 0x01, 0, 1, 0)
	}
	if ch.recordLimit > 0 {
		ext = append(ext, 0x00, extRecordSizeLimit, 0, 2, 0x40, 0x00)
	}
	if len(ext) > 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
		b = append(b, ext...)
	}
	return b
}

// keyExchange makes the server's key share for group and returns the
// ServerKeyExchange body and the function that turns the client's
// ClientKeyExchange body into the premaster secret.
func (c *Conn) keyExchange(s *suite, group uint16) (func([]byte) ([]byte, error), []byte, error) {
	if s.dh {
		x, err := rand.Int(c.rand, new(big.Int).Lsh(big.NewInt(1), 256))
		if err != nil {
			return nil, nil, fmt.Errorf("tlsanon: DH key: %w", err)
		}
		x.SetBit(x, 255, 1)
		ys := new(big.Int).Exp(big.NewInt(2), x, ffdhe2048)
		var params []byte
		for _, v := range [][]byte{ffdhe2048.Bytes(), {2}, ys.Bytes()} {
			params = binary.BigEndian.AppendUint16(params, uint16(len(v)))
			params = append(params, v...)
		}
		return func(body []byte) ([]byte, error) {
			cur := &cursor{b: body}
			yc := new(big.Int).SetBytes(cur.vec(2).b)
			limit := new(big.Int).Sub(ffdhe2048, big.NewInt(1))
			if cur.bad || len(cur.b) != 0 || yc.Cmp(big.NewInt(1)) <= 0 || yc.Cmp(limit) >= 0 {
				return nil, errors.New("tlsanon: bad DH public value")
			}
			return new(big.Int).Exp(yc, x, ffdhe2048).Bytes(), nil
		}, params, nil
	}
	curve := ecGroups[group]
	priv, err := curve.GenerateKey(c.rand)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsanon: ECDH key: %w", err)
	}
	pub := priv.PublicKey().Bytes()
	params := []byte{3, byte(group >> 8), byte(group), byte(len(pub))}
	params = append(params, pub...)
	return func(body []byte) ([]byte, error) {
		cur := &cursor{b: body}
		point := cur.vec(1).b
		if cur.bad || len(cur.b) != 0 {
			return nil, errDecode
		}
		peer, err := curve.NewPublicKey(point)
		if err != nil {
			return nil, fmt.Errorf("tlsanon: client key: %w", err)
		}
		return priv.ECDH(peer)
	}, params, nil
}

// keys derives both directions' protection from the master secret.
func (c *Conn) keys(master, clientRandom, serverRandom []byte, etm bool) (client, server *tlsrecord.Protection, err error) {
	rs := c.suite.recordSuite()
	ck, sk := rs.KeyBlock(c.version, master, clientRandom, serverRandom)
	if client, err = rs.Protect(c.version, ck, etm); err != nil {
		return nil, nil, err
	}
	if server, err = rs.Protect(c.version, sk, etm); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// message frames a handshake message and adds it to the transcript.
func (c *Conn) message(typ byte, body []byte) []byte {
	m := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	m = append(m, body...)
	c.transcript = append(c.transcript, m...)
	return m
}

// transcriptHash is the hash of the handshake so far for the Finished
// messages and the extended master secret: the suite's hash from TLS 1.2,
// MD5 and SHA-1 side by side before.
func (c *Conn) transcriptHash() []byte {
	if c.version < versionTLS12 {
		m, s := md5.Sum(c.transcript), sha1.Sum(c.transcript)
		return append(m[:], s[:]...)
	}
	h := c.suite.hash()()
	h.Write(c.transcript)
	return h.Sum(nil)
}

// prf is the negotiated version's PRF.
func (c *Conn) prf(secret []byte, label string, seed []byte, n int) []byte {
	return tlsrecord.PRF(c.version, c.suite.hash(), secret, label, seed, n)
}

// seal frames data as a record under the server's current protection.
func (c *Conn) seal(typ byte, data []byte) ([]byte, error) {
	switch {
	case c.out13 != nil:
		return c.out13.seal(typ, data), nil
	case c.out == nil:
		return tlsrecord.Record(typ, c.version, data), nil
	}
	return c.out.Seal(c.rand, typ, data)
}

// readRecord reads and opens the next record.
func (c *Conn) readRecord() (byte, []byte, error) {
	typ, payload, err := readRecord(c.transport)
	if err != nil {
		return 0, nil, err
	}
	if c.in == nil {
		if len(payload) > maxPlaintext {
			return 0, nil, fmt.Errorf("tlsanon: record of %d bytes", len(payload))
		}
		return typ, payload, nil
	}
	plain, err := c.in.Open(typ, payload)
	if err == nil && len(plain) > maxPlaintext {
		err = fmt.Errorf("tlsanon: record of %d bytes", len(plain))
	}
	return typ, plain, err
}

// readHandshake returns the next handshake message, which must be of type
// want, whole with its header, and adds it to the transcript.
func (c *Conn) readHandshake(want byte) ([]byte, error) {
	for empty := 0; ; {
		if len(c.hs) >= 4 {
			n := int(c.hs[1])<<16 | int(c.hs[2])<<8 | int(c.hs[3])
			if c.hs[0] != want {
				return nil, fmt.Errorf("%w: handshake type %d, want %d", errUnexpected, c.hs[0], want)
			}
			if n > maxHandshake {
				return nil, fmt.Errorf("tlsanon: handshake message of %d bytes", n)
			}
			if len(c.hs) >= 4+n {
				msg := c.hs[: 4+n : 4+n]
				c.hs = c.hs[4+n:]
				c.transcript = append(c.transcript, msg...)
				return msg, nil
			}
		}
		typ, payload, err := c.readRecord()
		if err != nil {
			return nil, err
		}
		if typ != recordHandshake {
			return nil, fmt.Errorf("%w: record type %d during the handshake", errUnexpected, typ)
		}
		if len(payload) == 0 {
			if empty++; empty > maxEmptyRecords {
				return nil, errUnexpected
			}
		}
		c.hs = append(c.hs, payload...)
	}
}

// readChangeCipherSpec reads the client's ChangeCipherSpec, which must
// not split a handshake message.
func (c *Conn) readChangeCipherSpec() error {
	if len(c.hs) != 0 {
		return fmt.Errorf("%w: ChangeCipherSpec inside a handshake message", errUnexpected)
	}
	typ, payload, err := c.readRecord()
	if err != nil {
		return err
	}
	if typ != recordChangeCipherSpec || len(payload) != 1 || payload[0] != 1 {
		return fmt.Errorf("%w: record type %d, want ChangeCipherSpec", errUnexpected, typ)
	}
	return nil
}

// Read reads application data. A close_notify reads as io.EOF; a
// ClientHello (renegotiation) and any other alert end the connection.
func (c *Conn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	for empty := 0; len(c.appData) == 0; {
		if c.readErr != nil {
			return 0, c.readErr
		}
		typ, plain, err := c.readRecord()
		switch {
		case err != nil:
		case typ == recordApplicationData && len(plain) == 0:
			if empty++; empty > maxEmptyRecords {
				err = errUnexpected
			}
		case typ == recordApplicationData:
			c.appData = plain
		case typ == recordAlert && len(plain) == 2 && plain[1] == 0:
			err = io.EOF
		case typ == recordAlert:
			err = fmt.Errorf("tlsanon: alert % x", plain)
		case typ == recordHandshake:
			err = errRenegotiation
		default:
			err = fmt.Errorf("%w: record type %d", errUnexpected, typ)
		}
		c.readErr = err
	}
	n := copy(p, c.appData)
	c.appData = c.appData[n:]
	return n, nil
}

// Write sends p as application data, in records of at most the client's
// record_size_limit.
func (c *Conn) Write(p []byte) (int, error) {
	if c.out == nil || c.closed {
		return 0, errors.New("tlsanon: write outside the connection")
	}
	out := c.pending
	for rest := p; len(rest) > 0; {
		n := min(len(rest), c.limit)
		sealed, err := c.seal(recordApplicationData, rest[:n])
		if err != nil {
			return 0, err
		}
		out = append(out, sealed...)
		rest = rest[n:]
	}
	c.pending = nil
	if _, err := c.transport.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush sends the pending handshake flight.
func (c *Conn) flush() error {
	if len(c.pending) == 0 {
		return nil
	}
	_, err := c.transport.Write(c.pending)
	c.pending = nil
	return err
}

// Close sends a close_notify alert, protected once the server's
// ChangeCipherSpec is out, as gnutls_bye does. It leaves the transport
// open.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	alert, err := c.seal(recordAlert, []byte{1, 0}) // warning, close_notify
	if err != nil {
		return err
	}
	out := append(c.pending, alert...)
	c.pending = nil
	_, err = c.transport.Write(out)
	return err
}
