package smb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errMalformed is wrapped by every parse error of client bytes.
var errMalformed = errors.New("malformed")

// Protocol identifiers that open SMB messages.
const (
	magicSMB1      = "\xffSMB"
	magicSMB2      = "\xfeSMB"
	magicTransform = "\xfdSMB" // SMB3 encryption
	magicCompress  = "\xfcSMB" // SMB3.1.1 compression
)

// headerSize is the SMB2 header's size (MS-SMB2 2.2.1).
const headerSize = 64

// command is an SMB2 command code.
type command uint16

// SMB2 commands (MS-SMB2 2.2.1.2).
const (
	cmdNegotiate command = iota
	cmdSessionSetup
	cmdLogoff
	cmdTreeConnect
	cmdTreeDisconnect
	cmdCreate
	cmdClose
	cmdFlush
	cmdRead
	cmdWrite
	cmdLock
	cmdIoctl
	cmdCancel
	cmdEcho
	cmdQueryDirectory
	cmdChangeNotify
	cmdQueryInfo
	cmdSetInfo
	cmdOplockBreak
)

var commandNames = [...]string{
	"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
	"CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO",
	"QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK",
}

func (c command) String() string {
	if int(c) < len(commandNames) {
		return commandNames[c]
	}
	return fmt.Sprintf("0x%04x", uint16(c))
}

// Header flags.
const (
	flagResponse = 0x00000001
	flagAsync    = 0x00000002
	flagRelated  = 0x00000004
	flagSigned   = 0x00000008
)

// header is an SMB2 sync header. In an async header the 8 bytes of
// ProcessID and TreeID are the AsyncId; the server never goes async and
// only echoes them.
type header struct {
	CreditCharge uint16
	Status       ntStatus // ChannelSequence/Reserved in requests
	Command      command
	Credits      uint16 // CreditRequest / CreditResponse
	Flags        uint32
	NextCommand  uint32
	MessageID    uint64
	ProcessID    uint32
	TreeID       uint32
	SessionID    uint64
}

// parseHeader reads the header at the start of b.
func parseHeader(b []byte) (header, error) {
	if len(b) < headerSize || string(b[:4]) != magicSMB2 || binary.LittleEndian.Uint16(b[4:]) != headerSize {
		return header{}, fmt.Errorf("SMB2 header: %w", errMalformed)
	}
	le := binary.LittleEndian
	return header{
		CreditCharge: le.Uint16(b[6:]),
		Status:       ntStatus(le.Uint32(b[8:])),
		Command:      command(le.Uint16(b[12:])),
		Credits:      le.Uint16(b[14:]),
		Flags:        le.Uint32(b[16:]),
		NextCommand:  le.Uint32(b[20:]),
		MessageID:    le.Uint64(b[24:]),
		ProcessID:    le.Uint32(b[32:]),
		TreeID:       le.Uint32(b[36:]),
		SessionID:    le.Uint64(b[40:]),
	}, nil
}

// appendTo appends the header, with a zero signature.
func (h header) appendTo(b []byte) []byte {
	le := binary.LittleEndian
	b = append(b, magicSMB2...)
	b = le.AppendUint16(b, headerSize)
	b = le.AppendUint16(b, h.CreditCharge)
	b = le.AppendUint32(b, uint32(h.Status))
	b = le.AppendUint16(b, uint16(h.Command))
	b = le.AppendUint16(b, h.Credits)
	b = le.AppendUint32(b, h.Flags)
	b = le.AppendUint32(b, h.NextCommand)
	b = le.AppendUint64(b, h.MessageID)
	b = le.AppendUint32(b, h.ProcessID)
	b = le.AppendUint32(b, h.TreeID)
	b = le.AppendUint64(b, h.SessionID)
	return append(b, make([]byte, 16)...)
}

// ntStatus is an NTSTATUS code (MS-ERREF 2.3).
type ntStatus uint32

// The statuses the server answers with.
const (
	statusSuccess                ntStatus = 0x00000000
	statusBufferOverflow         ntStatus = 0x80000005
	statusInvalidInfoClass       ntStatus = 0xC0000003
	statusInvalidParameter       ntStatus = 0xC000000D
	statusInvalidDeviceRequest   ntStatus = 0xC0000010
	statusEndOfFile              ntStatus = 0xC0000011
	statusMoreProcessingRequired ntStatus = 0xC0000016
	statusAccessDenied           ntStatus = 0xC0000022
	statusObjectNameNotFound     ntStatus = 0xC0000034
	statusLogonFailure           ntStatus = 0xC000006D
	statusInsufficientResources  ntStatus = 0xC000009A
	statusNotSupported           ntStatus = 0xC00000BB
	statusNetworkNameDeleted     ntStatus = 0xC00000C9
	statusBadNetworkName         ntStatus = 0xC00000CC
	statusFileClosed             ntStatus = 0xC0000128
	statusUserSessionDeleted     ntStatus = 0xC0000203
	statusNotFound               ntStatus = 0xC0000225
	statusNoPreauthOverlap       ntStatus = 0xC05D0000
)

var statusNames = map[ntStatus]string{
	statusSuccess:                "STATUS_SUCCESS",
	statusBufferOverflow:         "STATUS_BUFFER_OVERFLOW",
	statusInvalidInfoClass:       "STATUS_INVALID_INFO_CLASS",
	statusInvalidParameter:       "STATUS_INVALID_PARAMETER",
	statusInvalidDeviceRequest:   "STATUS_INVALID_DEVICE_REQUEST",
	statusEndOfFile:              "STATUS_END_OF_FILE",
	statusMoreProcessingRequired: "STATUS_MORE_PROCESSING_REQUIRED",
	statusAccessDenied:           "STATUS_ACCESS_DENIED",
	statusObjectNameNotFound:     "STATUS_OBJECT_NAME_NOT_FOUND",
	statusLogonFailure:           "STATUS_LOGON_FAILURE",
	statusInsufficientResources:  "STATUS_INSUFFICIENT_RESOURCES",
	statusNotSupported:           "STATUS_NOT_SUPPORTED",
	statusNetworkNameDeleted:     "STATUS_NETWORK_NAME_DELETED",
	statusBadNetworkName:         "STATUS_BAD_NETWORK_NAME",
	statusFileClosed:             "STATUS_FILE_CLOSED",
	statusUserSessionDeleted:     "STATUS_USER_SESSION_DELETED",
	statusNotFound:               "STATUS_NOT_FOUND",
	statusNoPreauthOverlap:       "STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP",
}

func (s ntStatus) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("0x%08x", uint32(s))
}

// failed reports an error status; warnings such as STATUS_BUFFER_OVERFLOW
// still carry a normal response body.
func (s ntStatus) failed() bool { return s>>30 == 3 }

// errorBody is the SMB2 ERROR response (MS-SMB2 2.2.2) without error data.
var errorBody = []byte{9, 0, 0, 0, 0, 0, 0, 0, 0}

// field returns length bytes at offset off of msg, where off counts from
// the start of the SMB2 header as SMB2 offsets do, or false when they do
// not lie within msg. An empty field's offset does not matter, as clients
// leave it zero or anywhere.
func field(msg []byte, off, length int) ([]byte, bool) {
	if length == 0 {
		return nil, true
	}
	if off < 0 || length < 0 || off > len(msg) || length > len(msg)-off {
		return nil, false
	}
	return msg[off : off+length], true
}
