package mssql

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// PRELOGIN option tokens (MS-TDS 2.2.6.5).
const (
	optVersion    = 0x00
	optEncryption = 0x01
	optInstance   = 0x02
	optThreadID   = 0x03
	optMARS       = 0x04
	optTraceID    = 0x05
	optFedAuth    = 0x06
	optNonce      = 0x07
	optTerminator = 0xff
)

// Encryption values of the ENCRYPTION option.
const (
	encryptOff    = 0x00 // only LOGIN7 goes over TLS
	encryptOn     = 0x01 // everything goes over TLS
	encryptNotSup = 0x02 // no TLS at all
	encryptReq    = 0x03 // the client requires TLS
	// encryptClientCert flags a client that would authenticate with a
	// certificate (SQL Server 2022).
	encryptClientCert = 0x80
)

var encryptionNames = [...]string{"off", "on", "not_sup", "req"}

func encryptionName(v byte) string {
	s := fmt.Sprintf("0x%02x", v)
	if v&^encryptClientCert < byte(len(encryptionNames)) {
		s = encryptionNames[v&^encryptClientCert]
	}
	if v&encryptClientCert != 0 {
		s += "+client_cert"
	}
	return s
}

// maxOptions bounds a PRELOGIN's option list: eight are defined.
const maxOptions = 32

// Prelogin is a client's PRELOGIN message.
type Prelogin struct {
	// Options are the option tokens in the client's order.
	Options []byte
	// Version is the client library's version, major.minor.build.subbuild.
	Version    string
	Encryption byte
	// HasEncryption is false when the client sent no ENCRYPTION option,
	// which the server reads as ENCRYPT_OFF.
	HasEncryption bool
	Instance      string
	ThreadID      string // hex
	HasMARS       bool
	MARS          byte
	TraceID       string // hex: connection ID, activity ID and sequence
	HasFedAuth    bool
}

// ParsePrelogin reads a PRELOGIN message: option headers up to the
// terminator, each pointing inside the message.
func ParsePrelogin(b []byte) (Prelogin, error) {
	var p Prelogin
	for i := 0; ; i += 5 {
		if i >= len(b) {
			return p, fmt.Errorf("PRELOGIN without terminator: %w", ErrMalformed)
		}
		tok := b[i]
		if tok == optTerminator {
			return p, nil
		}
		if len(p.Options) == maxOptions {
			return p, fmt.Errorf("PRELOGIN of over %d options: %w", maxOptions, ErrMalformed)
		}
		if i+5 > len(b) {
			return p, fmt.Errorf("PRELOGIN option header cut short: %w", ErrMalformed)
		}
		off, n := int(binary.BigEndian.Uint16(b[i+1:])), int(binary.BigEndian.Uint16(b[i+3:]))
		if off+n > len(b) {
			return p, fmt.Errorf("PRELOGIN option 0x%02x at %d+%d past the message's %d bytes: %w", tok, off, n, len(b), ErrMalformed)
		}
		v := b[off : off+n]
		p.Options = append(p.Options, tok)
		if err := p.set(tok, v); err != nil {
			return p, err
		}
	}
}

// set records option tok with value v; a fixed-size option of another
// size is malformed.
func (p *Prelogin) set(tok byte, v []byte) error {
	want := map[byte]int{optVersion: 6, optEncryption: 1, optMARS: 1, optFedAuth: 1}[tok]
	if want != 0 && len(v) != want {
		return fmt.Errorf("PRELOGIN option 0x%02x of %d bytes, want %d: %w", tok, len(v), want, ErrMalformed)
	}
	switch tok {
	case optVersion:
		p.Version = fmt.Sprintf("%d.%d.%d.%d", v[0], v[1], binary.BigEndian.Uint16(v[2:]), binary.BigEndian.Uint16(v[4:]))
	case optEncryption:
		p.Encryption, p.HasEncryption = v[0], true
	case optInstance:
		if i := bytes.IndexByte(v, 0); i >= 0 {
			v = v[:i]
		}
		p.Instance = clean(v, maxField)
	case optThreadID:
		p.ThreadID = hex.EncodeToString(v[:min(len(v), 8)])
	case optMARS:
		p.HasMARS, p.MARS = true, v[0]
	case optTraceID:
		p.TraceID = hex.EncodeToString(v[:min(len(v), 36)])
	case optFedAuth:
		p.HasFedAuth = true
	}
	return nil
}

// encryption is SQL Server's answer to the client's ENCRYPTION, and
// whether it goes on. A server that forces encryption answers ENCRYPT_REQ
// (the whole session over TLS, which impacket, taking only REQ and OFF as
// cues for TLS, is known to log in to) and turns away a client that cannot
// encrypt; otherwise the client's choice stands: ENCRYPT_OFF encrypts only
// the login, ON or REQ everything, and NOT_SUP logs in in the clear.
func (p Prelogin) encryption(force bool) (byte, bool) {
	c := byte(encryptOff)
	if p.HasEncryption {
		c = p.Encryption &^ encryptClientCert
	}
	switch {
	case force:
		return encryptReq, c != encryptNotSup
	case c == encryptNotSup, c == encryptOff:
		return c, true
	default: // ON, REQ, or a value of a later version
		return encryptOn, true
	}
}

// instanceOK is whether the instance the client named is this one (the
// default instance, MSSQLSERVER): it may name none.
func instanceOK(name, instance string) bool {
	return name == "" || strings.EqualFold(name, instance)
}

// preloginReply is SQL Server's PRELOGIN answer: VERSION, ENCRYPTION,
// INSTOPT, an empty THREADID and, when the client asked, MARS (off).
func preloginReply(v Version, enc byte, instanceMismatch bool, mars bool) []byte {
	type opt struct {
		tok byte
		val []byte
	}
	ver := binary.BigEndian.AppendUint16([]byte{byte(v.Major), byte(v.Minor)}, uint16(v.Build))
	ver = append(ver, 0, 0)
	inst := byte(0)
	if instanceMismatch {
		inst = 1
	}
	opts := []opt{{optVersion, ver}, {optEncryption, []byte{enc}}, {optInstance, []byte{inst}}, {optThreadID, nil}}
	if mars {
		opts = append(opts, opt{optMARS, []byte{0}})
	}
	off := len(opts)*5 + 1
	var head, data []byte
	for _, o := range opts {
		head = append(head, o.tok)
		head = binary.BigEndian.AppendUint16(head, uint16(off+len(data)))
		head = binary.BigEndian.AppendUint16(head, uint16(len(o.val)))
		data = append(data, o.val...)
	}
	return append(append(head, optTerminator), data...)
}
