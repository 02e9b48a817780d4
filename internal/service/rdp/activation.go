package rdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"

	"decnet/internal/event"
)

// Bounds on the connection sequence after the MCS Connect-Initial: a
// client sends an Erect Domain Request, an Attach User Request, one
// Channel Join per channel (at most 33) and its Client Info PDU; the
// finalization is a handful of PDUs more.
const (
	maxDomainPDUs       = 48
	maxFinalizationPDUs = 16
)

// Share PDU types (MS-RDPBCGR 2.2.8.1.1.1.1, 2.2.8.1.1.1.2).
const (
	pduTypeData          = 0x7
	pduType2FontList     = 0x27
	pduType2SaveSession  = 0x26
	shareControlHdrLen   = 6
	shareDataHdrLen      = 12
	shareID              = 0x000103ea // what both products use
	infoTypeLogonExtInfo = 3
	logonExLogonErrors   = 0x2
	// logonFailedBadPassword with logonMsgSessionContinue is what the
	// logon errors field says of a wrong password when the logon screen
	// stays up (MS-RDPBCGR 2.2.10.1.1.4.1.1).
	logonFailedBadPassword  = 0x00000000
	logonMsgSessionContinue = 0xfffffffe
	logonInfoExtendedPad    = 570
)

// activation is where one client stands in the connection sequence.
type activation struct {
	rw  io.ReadWriter
	ci  ConnectInitial
	uid uint16 // the user ID given in the Attach User Confirm
}

// activate answers a client without Network Level Authentication from
// its MCS Connect-Initial to its Client Info PDU, which carries the
// password in clear, records the logon, and ends the connection as the
// product would look after a failed automatic logon.
func (ss *session) activate(rw io.ReadWriter, requested uint32, ci ConnectInitial) {
	a := &activation{rw: rw, ci: ci, uid: uint16(firstVC + len(ci.Channels))}
	if _, err := rw.Write(connectResponse(ss.srv.prod.serverData(requested, ci))); err != nil {
		return
	}
	for range maxDomainPDUs {
		p, ok := ss.readDomainPDU(rw)
		if !ok {
			return
		}
		var reply []byte
		switch p.Type {
		case mcsAttachUser:
			reply = attachUserConfirm(a.uid)
		case mcsChannelJoin:
			reply = channelJoinConfirm(a.uid, p.Channel)
		case mcsSendData:
			if p.Channel != ioChannel {
				continue
			}
			info, err := ParseClientInfo(p.Data)
			if err != nil {
				ss.protocolError("client_info", p.Data, err)
				return
			}
			ss.emitClientInfo(info, ci.ClientName)
			ss.srv.prod.afterLogon(ss, a)
			return
		}
		if reply != nil {
			if _, err := rw.Write(reply); err != nil {
				return
			}
		}
	}
}

// readDomainPDU reads the client's next MCS domain PDU; false means the
// connection is over (recorded when the bytes were not MCS).
func (ss *session) readDomainPDU(r io.Reader) (DomainPDU, bool) {
	pdu, got, err := readTPKT(r)
	if err != nil {
		if errors.Is(err, ErrMalformed) {
			ss.protocolError("mcs", got, err)
		}
		return DomainPDU{}, false
	}
	p, err := ParseDomainPDU(pdu)
	if err != nil {
		ss.protocolError("mcs", pdu, err)
		return p, false
	}
	return p, p.Type != mcsDisconnect
}

// emitClientInfo records the logon of a Client Info PDU; workstation is
// the client name of the Connect-Initial, as the NTLM logon names it.
func (ss *session) emitClientInfo(ci ClientInfo, workstation string) {
	kv := []string{
		event.FieldUsername, clean([]byte(ci.UserName), maxFieldLen),
		"domain", clean([]byte(ci.Domain), maxFieldLen),
		"workstation", clean([]byte(workstation), maxFieldLen),
		event.FieldMethod, "client_info",
		"autologon", strconv.FormatBool(ci.Autologon()),
		"info_flags", fmt.Sprintf("0x%08x", ci.Flags),
		"code_page", strconv.FormatUint(uint64(ci.CodePage), 10),
		"alternate_shell", clean([]byte(ci.AlternateShell), maxFieldLen),
		"working_dir", clean([]byte(ci.WorkingDir), maxFieldLen),
		"client_address", clean([]byte(ci.ClientAddress), maxFieldLen),
		"client_dir", clean([]byte(ci.ClientDir), maxFieldLen),
		"security", "SSL",
		event.FieldSuccess, "false",
	}
	// A blank password is an attempt too: the field is kept when empty.
	ss.emitWith(event.TypeAuth, event.Notice, map[string]string{
		event.FieldPassword: clean([]byte(ci.Password), maxFieldLen)}, kv...)
}

// xrdpAfterLogon goes on as xrdp does after the Client Info PDU: its
// License Request, STATUS_VALID_CLIENT, the Demand Active and the
// finalization. xrdp would then draw its login screen and show sesman's
// verdict in it, keeping the connection; here the screen stays empty and
// the connection open until the client leaves or the idle limit.
func xrdpAfterLogon(ss *session, a *activation) {
	send := func(b []byte) bool { _, err := a.rw.Write(b); return err == nil }
	if !send(sendDataIndication(a.uid, ioChannel, xrdpLicenseRequest)) {
		return
	}
	if p, ok := ss.readDomainPDU(a.rw); !ok || p.Type != mcsSendData {
		return
	}
	if !send(sendDataIndication(a.uid, ioChannel, xrdpLicenseValid)) ||
		!send(sendDataIndication(a.uid, ioChannel, demandActiveFor(a))) {
		return
	}
	for range maxFinalizationPDUs {
		p, ok := ss.readDomainPDU(a.rw)
		if !ok {
			return
		}
		if p.Channel != ioChannel || !isDataPDU(p.Data, pduType2FontList) {
			continue
		}
		for _, f := range xrdpFinalization {
			if !send(sendDataIndication(a.uid, ioChannel, withPDUSource(f, a.uid))) {
				return
			}
		}
		if !send(xrdpFastPathSync) {
			return
		}
		for i, c := range a.ci.Channels {
			if c == "drdynvc" && !send(sendDataIndication(a.uid, uint16(firstVC+i), xrdpDynVCCaps)) {
				return
			}
		}
		drain(a.rw)
		return
	}
}

// demandActiveFor fills xrdp's Demand Active for this client.
func demandActiveFor(a *activation) []byte {
	b := withPDUSource(xrdpDemandActive, a.uid)
	binary.LittleEndian.PutUint16(b[daShareNodeID:], a.uid)
	binary.LittleEndian.PutUint16(b[daBitsPerPixel:], min(a.ci.ColorDepth(), 32))
	binary.LittleEndian.PutUint16(b[daDesktopWidth:], a.ci.DesktopWidth)
	binary.LittleEndian.PutUint16(b[daDesktopHeight:], a.ci.DesktopHeight)
	return b
}

// withPDUSource is a copy of the share control PDU b from user uid.
func withPDUSource(b []byte, uid uint16) []byte {
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint16(c[4:], uid)
	return c
}

// isDataPDU reports a share data PDU of type pduType2.
func isDataPDU(b []byte, pduType2 byte) bool {
	return len(b) >= shareControlHdrLen+shareDataHdrLen &&
		binary.LittleEndian.Uint16(b[2:])&0xf == pduTypeData && b[shareControlHdrLen+8] == pduType2
}

// windowsLicenseValid is the Server License Error PDU - Valid Client of
// MS-RDPBCGR 4.1.12 (ERROR_ALERT, STATUS_VALID_CLIENT,
// ST_NO_TRANSITION, an empty BB_ERROR_BLOB), which Windows sends when no
// licensing is needed.
var windowsLicenseValid = hexBytes("80000000ff031000070000000200000004000000")

// windowsAfterLogon ends as Windows is seen to end a failed automatic
// logon by a client that cannot show the logon screen: licensing done,
// a Save Session Info PDU reporting a bad password, then a Disconnect
// Provider Ultimatum.
func windowsAfterLogon(ss *session, a *activation) {
	for _, b := range [][]byte{
		sendDataIndication(serverIOSrc, ioChannel, windowsLicenseValid),
		sendDataIndication(serverIOSrc, ioChannel, shareDataPDU(pduType2SaveSession, logonErrorInfo())),
		disconnectUltimatum(),
	} {
		if _, err := a.rw.Write(b); err != nil {
			return
		}
	}
}

// logonErrorInfo is a Save Session Info PDU's body: INFOTYPE_LOGON_EXTENDED_INFO
// with the logon errors field only.
func logonErrorInfo() []byte {
	b := binary.LittleEndian.AppendUint32(nil, infoTypeLogonExtInfo)
	b = binary.LittleEndian.AppendUint16(b, 2+4+4+8)
	b = binary.LittleEndian.AppendUint32(b, logonExLogonErrors)
	b = binary.LittleEndian.AppendUint32(b, 8)
	b = binary.LittleEndian.AppendUint32(b, logonMsgSessionContinue)
	b = binary.LittleEndian.AppendUint32(b, logonFailedBadPassword)
	return append(b, make([]byte, logonInfoExtendedPad)...)
}

// shareDataPDU wraps a Windows server data PDU: share control header from
// the server channel 1002, share data header with uncompressedLength
// counting from its own field, as in MS-RDPBCGR's examples.
func shareDataPDU(pduType2 byte, body []byte) []byte {
	total := shareControlHdrLen + shareDataHdrLen + len(body)
	b := binary.LittleEndian.AppendUint16(nil, uint16(total))
	b = binary.LittleEndian.AppendUint16(b, 0x10|pduTypeData)
	b = binary.LittleEndian.AppendUint16(b, serverIOSrc)
	b = binary.LittleEndian.AppendUint32(b, shareID)
	b = append(b, 0, 1) // pad1, streamId STREAM_LOW
	b = binary.LittleEndian.AppendUint16(b, uint16(total-14))
	b = append(b, pduType2, 0, 0, 0)
	return append(b, body...)
}
