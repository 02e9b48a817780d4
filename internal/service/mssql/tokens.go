package mssql

import (
	"encoding/binary"
)

// Token stream tokens the server sends (MS-TDS 2.2.7).
const (
	tokenError = 0xaa
	tokenSSPI  = 0xed
	tokenDone  = 0xfd
	doneError  = 0x0002 // DONE status: the statement failed
)

// Login failures as SQL Server reports them to the client: the state is
// always 1 (the real reason only goes to the server's error log) and the
// severity 14.
const (
	errLoginFailed    = 18456 // Login failed for user '%s'.
	errUntrustedLogin = 18452 // an SSPI logon that Windows refused
	loginState        = 1
	loginClass        = 14
	msgUntrustedLogin = "Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication."
)

// loginFailedMsg is error 18456's text for user.
func loginFailedMsg(user string) string { return "Login failed for user '" + user + "'." }

// errorReply is the token stream of a failed login: an ERROR token, then
// DONE with the error flag, laid out for the client's TDS version (the
// line number and row count widened in TDS 7.2).
func errorReply(major byte, number uint32, msg, server string) []byte {
	wide := major >= 0x72
	var body []byte
	body = binary.LittleEndian.AppendUint32(body, number)
	body = append(body, loginState, loginClass)
	body = binary.LittleEndian.AppendUint16(body, uint16(len(utf16Units(msg))))
	body = appendUTF16(body, msg)
	body = append(body, byte(len(utf16Units(server))))
	body = appendUTF16(body, server)
	body = append(body, 0) // no procedure
	if wide {
		body = binary.LittleEndian.AppendUint32(body, 1)
	} else {
		body = binary.LittleEndian.AppendUint16(body, 1)
	}
	b := append([]byte{tokenError}, binary.LittleEndian.AppendUint16(nil, uint16(len(body)))...)
	b = append(b, body...)
	b = append(b, tokenDone)
	b = binary.LittleEndian.AppendUint16(b, doneError)
	b = binary.LittleEndian.AppendUint16(b, 0) // CurCmd
	if wide {
		return binary.LittleEndian.AppendUint64(b, 0)
	}
	return binary.LittleEndian.AppendUint32(b, 0)
}

// sspiReply is an SSPI token carrying the server's next security blob.
func sspiReply(blob []byte) []byte {
	b := append([]byte{tokenSSPI}, binary.LittleEndian.AppendUint16(nil, uint16(len(blob)))...)
	return append(b, blob...)
}
