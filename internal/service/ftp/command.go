package ftp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
)

// maxLine is VSFTP_MAX_COMMAND_LINE: a command line, LF included, longer
// than this gets "500 Input line too long." and the connection closes.
const maxLine = 4096

// errLineTooLong is readCommand's error for a line over maxLine.
var errLineTooLong = errors.New("input line too long")

// newLineReader returns the control connection's reader: its buffer is
// the line limit, as vsftpd's is.
func newLineReader(r io.Reader) *bufio.Reader {
	return bufio.NewReaderSize(r, maxLine)
}

// readCommand reads one command line as vsftpd's control_getline does:
// up to LF, NULs turned into LF (RFC 959's rule for pathnames), trailing
// CRs dropped. A partial line at EOF is dropped with the EOF.
func readCommand(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", errLineTooLong
	case err != nil:
		return "", err
	}
	b = bytes.TrimRight(b[:len(b)-1], "\r")
	return strings.ReplaceAll(string(b), "\x00", "\n"), nil
}

// splitCommand splits a line at its first space into the upper-cased
// command and its argument. A line of one space is the command " ", so
// that "" (ignored) and " " (an unknown command) differ, as in vsftpd.
func splitCommand(line string) (cmd, arg string) {
	if line == " " {
		return " ", ""
	}
	cmd, arg, _ = strings.Cut(line, " ")
	return upperASCII(cmd), arg
}

// upperASCII upper-cases a-z only, byte by byte, as toupper does in the
// C locale: other bytes, invalid UTF-8 included, stay as they are.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// atoi is C's atoi on glibc (strtol, then a cast to int): leading white
// space and a sign, digits up to the first non-digit, saturation at the
// long range, then truncation to 32 bits. vsftpd's PORT and EPRT parsers
// use it, so "PORT 127,0,0,1,4294967300,1" means port 1025 there too.
func atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var v int64
	sat := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := int64(s[i] - '0')
		if v > (math.MaxInt64-d)/10 {
			sat = true
			continue
		}
		v = v*10 + d
	}
	switch {
	case sat && neg:
		v = math.MinInt64
	case sat:
		v = math.MaxInt64
	case neg:
		v = -v
	}
	return int(int32(v))
}

// splitFields splits s at sep into exactly n fields the way vsftpd's
// vsf_sysutil_parse_uchar_string_sep does, each field an atoi in 0..255:
// every field but the last must be followed by a non-empty rest, and the
// last may be followed only by nothing (so one trailing separator
// passes).
func splitFields(s string, sep byte, n int) ([]byte, bool) {
	out := make([]byte, n)
	for i := range n {
		field, rest, _ := strings.Cut(s, string(sep))
		if (i < n-1 && rest == "") || (i == n-1 && rest != "") {
			return nil, false
		}
		v := atoi(field)
		if v < 0 || v > 255 {
			return nil, false
		}
		out[i] = byte(v)
		s = rest
	}
	return out, true
}

// parsePort parses PORT's h1,h2,h3,h4,p1,p2.
func parsePort(arg string) (*net.TCPAddr, bool) {
	v, ok := splitFields(arg, ',', 6)
	if !ok {
		return nil, false
	}
	return &net.TCPAddr{IP: net.IPv4(v[0], v[1], v[2], v[3]).To4(), Port: int(v[4])<<8 | int(v[5])}, true
}

// eprtError is why an EPRT argument was refused, as vsftpd words it.
type eprtError string

const (
	eprtBadProto eprtError = "Bad EPRT protocol."
	eprtBad      eprtError = "Bad EPRT command."
)

// parseEPRT parses EPRT's |proto|addr|port| (RFC 2428) as vsftpd does.
// Protocol 2 (IPv6) is accepted only on an IPv6 control connection.
func parseEPRT(arg string, ipv6 bool) (*net.TCPAddr, eprtError) {
	lead, rest, _ := strings.Cut(arg, "|")
	if lead != "" {
		return nil, eprtBad
	}
	protoStr, rest, _ := strings.Cut(rest, "|")
	proto := atoi(protoStr)
	if proto < 1 || proto > 2 || (!ipv6 && proto == 2) {
		return nil, eprtBadProto
	}
	addrStr, rest, _ := strings.Cut(rest, "|")
	var ip net.IP
	if proto == 2 {
		addrStr, _, _ = strings.Cut(addrStr, "%")
		ip = parseIPv6(addrStr)
	} else if v, ok := splitFields(addrStr, '.', 4); ok {
		ip = net.IPv4(v[0], v[1], v[2], v[3]).To4()
	}
	if ip == nil {
		return nil, eprtBad
	}
	portStr, tail, _ := strings.Cut(rest, "|")
	if tail != "" || portStr == "" {
		return nil, eprtBad
	}
	port := atoi(portStr)
	if port < 0 || port > 65535 {
		return nil, eprtBad
	}
	return &net.TCPAddr{IP: ip, Port: port}, ""
}

// parseIPv6 parses an address in the strict forms vsftpd accepts
// (hex groups, one "::", a dotted quad): what net.ParseIP takes beyond
// that is refused there too, and this keeps the two the same.
func parseIPv6(s string) net.IP {
	ip := net.ParseIP(s)
	if ip == nil || !strings.Contains(s, ":") {
		return nil
	}
	return ip
}

// reply formats a reply line as vsftpd's ftp_write_str_common: telnet
// IAC doubled, LF turned into NUL (so text from the client cannot start a
// line of its own), CRLF.
func reply(code int, sep byte, text string) []byte {
	text = strings.ReplaceAll(text, "\xff", "\xff\xff")
	text = strings.ReplaceAll(text, "\n", "\x00")
	b := make([]byte, 0, len(text)+6)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, sep)
	b = append(b, text...)
	return append(b, '\r', '\n')
}
