package rdp

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// MCS channel numbering (T.125, MS-RDPBCGR 2.2.1.4.4): both products put
// the I/O channel at 1003 and the static virtual channels right after it;
// user IDs are sent as offsets from 1001.
const (
	ioChannel   = 1003
	userIDBase  = 1001
	firstVC     = ioChannel + 1
	serverIOSrc = 1002 // the server's own channel, named in PDUs' targetUser
)

// T.125 DomainMCSPDU choices (PER, the first byte's top six bits).
const (
	mcsErectDomain   = 1
	mcsDisconnect    = 8 // disconnectProviderUltimatum
	mcsAttachUser    = 10
	mcsAttachConfirm = 11
	mcsChannelJoin   = 14
	mcsJoinConfirm   = 15
	mcsSendData      = 25
	mcsSendDataInd   = 26
)

// DomainPDU is one client MCS domain PDU: its choice and, for channel
// joins and data, the initiator (a user ID), the channel and the data.
type DomainPDU struct {
	Type      int
	Initiator uint16
	Channel   uint16
	Data      []byte
}

// ParseDomainPDU reads an X.224 Data TPDU carrying a DomainMCSPDU. Only
// the PDUs a client sends during the connection sequence are decoded in
// full; a send data request's length must not exceed what is there.
func ParseDomainPDU(b []byte) (DomainPDU, error) {
	var p DomainPDU
	data, err := parseX224Data(b)
	if err != nil {
		return p, err
	}
	if len(data) == 0 {
		return p, fmt.Errorf("empty MCS PDU: %w", ErrMalformed)
	}
	p.Type = int(data[0] >> 2)
	switch p.Type {
	case mcsChannelJoin:
		if len(data) < 5 {
			return p, fmt.Errorf("channel join request of %d bytes: %w", len(data), ErrMalformed)
		}
		p.Initiator = binary.BigEndian.Uint16(data[1:]) + userIDBase
		p.Channel = binary.BigEndian.Uint16(data[3:])
	case mcsSendData:
		// initiator, channelId, dataPriority/segmentation, userData.
		if len(data) < 7 {
			return p, fmt.Errorf("send data request of %d bytes: %w", len(data), ErrMalformed)
		}
		p.Initiator = binary.BigEndian.Uint16(data[1:]) + userIDBase
		p.Channel = binary.BigEndian.Uint16(data[3:])
		n, hdr := int(data[6]), 1
		switch {
		case data[6]&0xc0 == 0x80 && len(data) >= 8:
			n, hdr = int(data[6]&0x3f)<<8|int(data[7]), 2
		case data[6]&0x80 != 0:
			return p, fmt.Errorf("send data request length 0x%02x: %w", data[6], ErrMalformed)
		}
		rest := data[6+hdr:]
		if n > len(rest) {
			return p, fmt.Errorf("send data request of %d bytes announces %d: %w", len(rest), n, ErrMalformed)
		}
		p.Data = rest[:n]
	}
	return p, nil
}

// x224DataHeader starts every X.224 Data TPDU: LI 2, DT, EOT.
var x224DataHeader = []byte{2, x224Data, 0x80}

// mcsPDU frames a DomainMCSPDU in X.224 Data and TPKT.
func mcsPDU(b ...byte) []byte { return tpkt(append(bytes.Clone(x224DataHeader), b...)) }

// attachUserConfirm grants user ID uid.
func attachUserConfirm(uid uint16) []byte {
	return mcsPDU(mcsAttachConfirm<<2|2, 0, byte((uid-userIDBase)>>8), byte(uid-userIDBase))
}

// channelJoinConfirm admits user uid to channel ch.
func channelJoinConfirm(uid, ch uint16) []byte {
	return mcsPDU(mcsJoinConfirm<<2|2, 0, byte((uid-userIDBase)>>8), byte(uid-userIDBase),
		byte(ch>>8), byte(ch), byte(ch>>8), byte(ch))
}

// disconnectUltimatum is a Disconnect Provider Ultimatum with reason
// rn-user-requested, which both products send when they end a session.
func disconnectUltimatum() []byte { return mcsPDU(mcsDisconnect<<2|1, 0x80) }

// sendDataIndication carries data from the server's user uid on channel ch
// (priority high, whole segment), as both products frame slow-path PDUs.
func sendDataIndication(uid, ch uint16, data []byte) []byte {
	b := append(bytes.Clone(x224DataHeader), mcsSendDataInd<<2, byte((uid-userIDBase)>>8), byte(uid-userIDBase),
		byte(ch>>8), byte(ch), 0x70)
	if len(data) < 0x80 {
		b = append(b, byte(len(data)))
	} else {
		b = append(b, 0x80|byte(len(data)>>8), byte(len(data)))
	}
	return tpkt(append(b, data...))
}

// Server data blocks (MS-RDPBCGR 2.2.1.4).
const (
	scCore       = 0x0c01
	scSecurity   = 0x0c02
	scNet        = 0x0c03
	scMsgChannel = 0x0c04
)

// connectResponse is the MCS Connect-Response with a GCC Conference
// Create Response around the server data blocks, with the domain
// parameters and the fixed GCC bytes both products send (MS-RDPBCGR
// 4.1.4).
func connectResponse(blocks []byte) []byte {
	params := tlv(tagSequence, derInt(22), derInt(3), derInt(0), derInt(1), derInt(0), derInt(1), derInt(0xfff8), derInt(2))
	// The blocks' length is always in PER's two-byte form, as xrdp writes
	// it (and Windows for its usual blocks of more than 127 bytes).
	gcc := append(hexBytes("000500147c00012a14760a01010001c0004d63446e"), 0x80|byte(len(blocks)>>8), byte(len(blocks)))
	body := bytes.Join([][]byte{{0x0a, 1, 0}, derInt(0), params, tlv(tagOctetString, gcc, blocks)}, nil)
	cr := append([]byte{0x7f, 0x66}, tlv(0, body)[1:]...)
	return tpkt(append(bytes.Clone(x224DataHeader), cr...))
}

// perLength encodes a PER length determinant of up to 16383.
func perLength(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	return []byte{0x80 | byte(n>>8), byte(n)}
}

// serverBlock is a server data block of type typ.
func serverBlock(typ uint16, fields ...uint32) []byte {
	b := binary.LittleEndian.AppendUint16(nil, typ)
	b = binary.LittleEndian.AppendUint16(b, uint16(4+4*len(fields)))
	for _, f := range fields {
		b = binary.LittleEndian.AppendUint32(b, f)
	}
	return b
}

// netBlock is TS_UD_SC_NET: the I/O channel and one ID per static channel
// the client asked for, padded to four bytes.
func netBlock(channels int) []byte {
	v := []byte{ioChannel & 0xff, ioChannel >> 8, byte(channels), byte(channels >> 8)}
	for i := range channels {
		v = binary.LittleEndian.AppendUint16(v, uint16(firstVC+i))
	}
	if channels%2 == 1 {
		v = append(v, 0, 0)
	}
	b := binary.LittleEndian.AppendUint16(nil, scNet)
	b = binary.LittleEndian.AppendUint16(b, uint16(4+len(v)))
	return append(b, v...)
}
