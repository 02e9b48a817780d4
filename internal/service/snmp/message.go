package snmp

import (
	"fmt"
)

// SNMP versions as they appear in a message.
const (
	version1  = 0
	version2c = 1
	version3  = 3
)

// PDU tags.
const (
	pduGet      = 0xa0
	pduGetNext  = 0xa1
	pduResponse = 0xa2
	pduSet      = 0xa3
	pduGetBulk  = 0xa5
	pduReport   = 0xa8
)

// Error statuses (RFC 3416).
const (
	errNoError     = 0
	errTooBig      = 1
	errNoSuchName  = 2
	errNoAccess    = 6
	errNotWritable = 17
)

// v3 msgFlags bits.
const (
	flagAuth       = 0x01
	flagPriv       = 0x02
	flagReportable = 0x04
)

// usmSecurityModel is the only security model snmpd knows.
const usmSecurityModel = 3

// minMsgMaxSize is the smallest msgMaxSize RFC 3412 allows; snmpd drops
// messages that claim less.
const minMsgMaxSize = 484

// varbind is one variable binding as received: its name, its value's tag
// and contents, and the whole element (echoed in error responses).
type varbind struct {
	oid oid
	tag byte
	val []byte
	raw []byte
}

// pdu is a decoded PDU. For GETBULK, errStat and errIdx hold
// non-repeaters and max-repetitions.
type pdu struct {
	typ             byte
	reqID           int64
	errStat, errIdx int64
	vbs             []varbind
}

// maxUSMParams bounds the authentication and privacy parameters (the
// longest digest, HMAC-SHA-512's, is 48 bytes; salts are 8).
const maxUSMParams = 64

// usmParams are a v3 message's USM security parameters.
type usmParams struct {
	engineID    []byte
	boots, time int64
	user        []byte
	authParams  []byte
	// authOff is where authParams start in the message.
	authOff    int
	privParams []byte
}

// message is a decoded SNMP message. For v3, the scoped PDU is in
// scoped, or still encrypted in encrypted.
type message struct {
	version   int64
	community []byte

	msgID, maxSize int64
	flags          byte
	secModel       int64
	usm            usmParams
	encrypted      []byte
	scoped         []byte // the scoped PDU's contents, when in clear

	pdu pdu
}

// parseMessage decodes a datagram. A v3 message's scoped PDU is decoded
// only when it is in clear (see parseScoped).
func parseMessage(b []byte) (*message, error) {
	r := newReader(b)
	top, err := r.expect(tagSequence)
	if err != nil {
		return nil, err
	}
	m := &message{}
	s := r.sub(top)
	if m.version, err = s.int(); err != nil {
		return nil, err
	}
	switch m.version {
	case version1, version2c:
		if m.community, err = s.octets(); err != nil {
			return nil, err
		}
		if m.pdu, err = parsePDU(s); err != nil {
			return nil, err
		}
	case version3:
		if err := m.parseV3(s); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: version %d", errBER, m.version)
	}
	return m, nil
}

func (m *message) parseV3(s *reader) error {
	h, err := s.expect(tagSequence)
	if err != nil {
		return err
	}
	hr := s.sub(h)
	if m.msgID, err = hr.int(); err != nil {
		return err
	}
	if m.maxSize, err = hr.int(); err != nil {
		return err
	}
	flags, err := hr.octets()
	if err != nil {
		return err
	}
	if len(flags) != 1 {
		return fmt.Errorf("%w: msgFlags of %d bytes", errBER, len(flags))
	}
	m.flags = flags[0]
	if m.secModel, err = hr.int(); err != nil {
		return err
	}
	if m.maxSize < minMsgMaxSize || m.msgID < 0 {
		return fmt.Errorf("%w: msgMaxSize %d", errBER, m.maxSize)
	}
	sp, err := s.expect(tagOctetString)
	if err != nil {
		return err
	}
	if m.secModel == usmSecurityModel {
		if err := m.usm.parse(s.sub(sp)); err != nil {
			return err
		}
	}
	data, err := s.next()
	if err != nil {
		return err
	}
	switch data.tag {
	case tagSequence:
		m.scoped = data.val
	case tagOctetString:
		m.encrypted = data.val
	default:
		return fmt.Errorf("%w: scoped PDU tag %#02x", errBER, data.tag)
	}
	return nil
}

func (u *usmParams) parse(r *reader) error {
	seq, err := r.expect(tagSequence)
	if err != nil {
		return err
	}
	s := r.sub(seq)
	if u.engineID, err = s.octets(); err != nil {
		return err
	}
	if u.boots, err = s.int(); err != nil {
		return err
	}
	if u.time, err = s.int(); err != nil {
		return err
	}
	if u.user, err = s.octets(); err != nil {
		return err
	}
	ap, err := s.expect(tagOctetString)
	if err != nil {
		return err
	}
	u.authParams, u.authOff = ap.val, ap.off
	if u.privParams, err = s.octets(); err != nil {
		return err
	}
	if len(u.engineID) > 32 || len(u.user) > 32 || len(u.authParams) > maxUSMParams || len(u.privParams) > maxUSMParams {
		return fmt.Errorf("%w: USM field too long", errBER)
	}
	return nil
}

// parseScoped decodes a scoped PDU's contents: context engine ID, context
// name and PDU.
func parseScoped(b []byte) (pdu, error) {
	r := newReader(b)
	if _, err := r.octets(); err != nil {
		return pdu{}, err
	}
	if _, err := r.octets(); err != nil {
		return pdu{}, err
	}
	return parsePDU(r)
}

// parseScopedData decodes decrypted data: a SEQUENCE holding the scoped
// PDU, possibly followed by padding.
func parseScopedData(b []byte) (pdu, error) {
	r := newReader(b)
	seq, err := r.expect(tagSequence)
	if err != nil {
		return pdu{}, err
	}
	return parseScoped(seq.val)
}

// maxVarbinds bounds the variable bindings of one request.
const maxVarbinds = 1024

func parsePDU(r *reader) (pdu, error) {
	t, err := r.next()
	if err != nil {
		return pdu{}, err
	}
	p := pdu{typ: t.tag}
	switch t.tag {
	case pduGet, pduGetNext, pduResponse, pduSet, pduGetBulk, pduReport, 0xa6, 0xa7:
	default:
		return p, fmt.Errorf("%w: PDU type %#02x", errBER, t.tag)
	}
	s := r.sub(t)
	if p.reqID, err = s.int(); err != nil {
		return p, err
	}
	if p.errStat, err = s.int(); err != nil {
		return p, err
	}
	if p.errIdx, err = s.int(); err != nil {
		return p, err
	}
	list, err := s.expect(tagSequence)
	if err != nil {
		return p, err
	}
	l := s.sub(list)
	for l.more() {
		vt, err := l.expect(tagSequence)
		if err != nil {
			return p, err
		}
		if len(p.vbs) == maxVarbinds {
			return p, fmt.Errorf("%w: over %d varbinds", errBER, maxVarbinds)
		}
		v := l.sub(vt)
		ot, err := v.expect(tagOID)
		if err != nil {
			return p, err
		}
		o, err := decodeOID(ot.val)
		if err != nil {
			return p, err
		}
		val, err := v.next()
		if err != nil {
			return p, err
		}
		if v.more() {
			return p, fmt.Errorf("%w: trailing bytes in varbind", errBER)
		}
		p.vbs = append(p.vbs, varbind{oid: o, tag: val.tag, val: val.val, raw: vt.whole(r.msg)})
	}
	return p, nil
}

// Encoding of replies.

// appendPDU encodes p with varbinds already encoded.
func appendPDU(b []byte, typ byte, reqID, errStat, errIdx int64, vbs []byte) []byte {
	return appendTLV(b, typ, appendInt(nil, reqID), appendInt(nil, errStat), appendInt(nil, errIdx), appendTLV(nil, tagSequence, vbs))
}

// appendVarbind encodes one binding.
func appendVarbind(b []byte, o oid, tag byte, val []byte) []byte {
	return appendTLV(b, tagSequence, appendTLV(nil, tagOID, oidBytes(o)), appendTLV(nil, tag, val))
}

// communityMessage wraps a PDU in a v1/v2c message.
func communityMessage(version int64, community, pduBytes []byte) []byte {
	return appendTLV(nil, tagSequence, appendInt(nil, version), appendTLV(nil, tagOctetString, community), pduBytes)
}
