package postgres

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
)

// The SASL mechanisms and the one channel binding PostgreSQL 15 knows.
const (
	mechSCRAM     = "SCRAM-SHA-256"
	mechSCRAMPlus = "SCRAM-SHA-256-PLUS"
	cbindType     = "tls-server-end-point"
)

// More error sites of the SASL exchange (auth-sasl.c, auth-scram.c and
// the message readers of pqformat.c), measured on 15.18; the 15.20
// capture did not reach them, and these files did not change between.
var (
	siteMsgFormat      = site{"pqformat.c", "pq_getmsgend", [2]int{640, 640}}
	siteMsgBytes       = site{"pqformat.c", "pq_getmsgbytes", [2]int{515, 515}}
	siteMsgCopy        = site{"pqformat.c", "pq_copymsgbytes", [2]int{533, 533}}
	siteMsgString      = site{"pqformat.c", "pq_getmsgrawstring", [2]int{624, 624}}
	siteSCRAMEmpty     = site{"auth-scram.c", "scram_exchange", [2]int{366, 366}}
	siteSCRAMLength    = site{"auth-scram.c", "scram_exchange", [2]int{371, 371}}
	siteSCRAMNonce     = site{"auth-scram.c", "scram_exchange", [2]int{404, 404}}
	siteSCRAMEquals    = site{"auth-scram.c", "read_attr_value", [2]int{720, 720}}
	siteAnyAttrEnd     = site{"auth-scram.c", "read_any_attr", [2]int{825, 825}}
	siteAnyAttrChar    = site{"auth-scram.c", "read_any_attr", [2]int{838, 838}}
	siteAnyAttrEquals  = site{"auth-scram.c", "read_any_attr", [2]int{848, 848}}
	sitePlusWithoutN   = site{"auth-scram.c", "read_client_first_message", [2]int{956, 956}}
	siteNComma         = site{"auth-scram.c", "read_client_first_message", [2]int{963, 963}}
	sitePlusWithoutY   = site{"auth-scram.c", "read_client_first_message", [2]int{978, 978}}
	siteYDowngrade     = site{"auth-scram.c", "read_client_first_message", [2]int{985, 985}}
	siteYComma         = site{"auth-scram.c", "read_client_first_message", [2]int{993, 993}}
	sitePWithoutPlus   = site{"auth-scram.c", "read_client_first_message", [2]int{1007, 1007}}
	siteCbindType      = site{"auth-scram.c", "read_client_first_message", [2]int{1019, 1019}}
	siteAuthzid        = site{"auth-scram.c", "read_client_first_message", [2]int{1036, 1036}}
	siteFirstAttr      = site{"auth-scram.c", "read_client_first_message", [2]int{1040, 1040}}
	siteExtension      = site{"auth-scram.c", "read_client_first_message", [2]int{1057, 1057}}
	siteNoncePrintable = site{"auth-scram.c", "read_client_first_message", [2]int{1071, 1071}}
	siteCbindCheck     = site{"auth-scram.c", "read_client_final_message", [2]int{1317, 1317}}
	siteBadProof       = site{"auth-scram.c", "read_client_final_message", [2]int{1353, 1353}}
	siteFinalGarbage   = site{"auth-scram.c", "read_client_final_message", [2]int{1361, 1361}}
)

func malformed(s site, detail string) *pgError {
	e := errf(s, "08P01", "malformed SCRAM message")
	e.detail = detail
	return e
}

// sanitizeChar renders a byte as the server's sanitize_char: 'c' when
// printable, else 0x%02x (the end of the string is its NUL, 0x00).
func sanitizeChar(c byte) string {
	if c >= 0x21 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	return fmt.Sprintf("0x%02x", c)
}

// sanitizeStr is sanitize_str: at most 30 bytes, unprintable ones as '?'.
func sanitizeStr(s string) string {
	b := []byte(s[:min(len(s), 30)])
	for i, c := range b {
		if c < 0x21 || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

// cursor walks a SCRAM message as the server's char pointer does: past
// the end it reads the terminating NUL.
type cursor struct {
	s string
	i int
}

func (c *cursor) peek() byte {
	if c.i < len(c.s) {
		return c.s[c.i]
	}
	return 0
}

// value reads up to the next comma and steps over it.
func (c *cursor) value() string {
	start := c.i
	for c.i < len(c.s) && c.s[c.i] != ',' {
		c.i++
	}
	v := c.s[start:c.i]
	if c.i < len(c.s) {
		c.i++
	}
	return v
}

// attr is read_attr_value: "<attr>=<value>".
func (c *cursor) attr(attr byte) (string, *pgError) {
	if c.peek() != attr {
		return "", malformed(siteSCRAMAttr, fmt.Sprintf(`Expected attribute "%c" but found "%s".`, attr, sanitizeChar(c.peek())))
	}
	c.i++
	if c.peek() != '=' {
		return "", malformed(siteSCRAMEquals, fmt.Sprintf(`Expected character "=" for attribute "%c".`, attr))
	}
	c.i++
	return c.value(), nil
}

// anyAttr is read_any_attr: any letter, "=", a value.
func (c *cursor) anyAttr() (byte, string, *pgError) {
	a := c.peek()
	switch {
	case a == 0:
		return 0, "", malformed(siteAnyAttrEnd, "Attribute expected, but found end of string.")
	case !(a >= 'a' && a <= 'z' || a >= 'A' && a <= 'Z'):
		return 0, "", malformed(siteAnyAttrChar, fmt.Sprintf(`Attribute expected, but found invalid character "%s".`, sanitizeChar(a)))
	}
	c.i++
	if c.peek() != '=' {
		return 0, "", malformed(siteAnyAttrEquals, fmt.Sprintf(`Expected character "=" for attribute "%c".`, a))
	}
	c.i++
	return a, c.value(), nil
}

// checkInput is scram_exchange's check of every SCRAM message.
func checkInput(data []byte) *pgError {
	if len(data) == 0 {
		return malformed(siteSCRAMEmpty, "The message is empty.")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return malformed(siteSCRAMLength, "Message length does not match input length.")
	}
	return nil
}

// clientFirst is a parsed client-first-message.
type clientFirst struct {
	gs2   string // the GS2 header, "n,," or "p=tls-server-end-point,,"
	flag  byte
	bare  string
	nonce string
}

// parseClientFirst is read_client_first_message for a client that chose
// SCRAM-SHA-256-PLUS (plus) or not, on a connection with TLS or without.
func parseClientFirst(msg string, plus, tlsOn bool) (*clientFirst, *pgError) {
	c := &cursor{s: msg}
	cf := &clientFirst{flag: c.peek()}
	switch cf.flag {
	case 'n':
		if plus {
			return nil, malformed(sitePlusWithoutN, "The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data.")
		}
		c.i++
		if c.peek() != ',' {
			return nil, malformed(siteNComma, fmt.Sprintf(`Comma expected, but found character "%s".`, sanitizeChar(c.peek())))
		}
		c.i++
	case 'y':
		if plus {
			return nil, malformed(sitePlusWithoutY, "The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data.")
		}
		if tlsOn {
			e := errf(siteYDowngrade, "28000", "SCRAM channel binding negotiation error")
			e.detail = "The client supports SCRAM channel binding but thinks the server does not.  However, this server does support channel binding."
			return nil, e
		}
		c.i++
		if c.peek() != ',' {
			return nil, malformed(siteYComma, fmt.Sprintf(`Comma expected, but found character "%s".`, sanitizeChar(c.peek())))
		}
		c.i++
	case 'p':
		if !plus {
			return nil, malformed(sitePWithoutPlus, "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data.")
		}
		typ, err := c.attr('p')
		if err != nil {
			return nil, err
		}
		if typ != cbindType {
			return nil, errf(siteCbindType, "08P01", "unsupported SCRAM channel-binding type \"%s\"", sanitizeStr(typ))
		}
	default:
		return nil, malformed(siteSCRAMFlag, fmt.Sprintf(`Unexpected channel-binding flag "%s".`, sanitizeChar(cf.flag)))
	}
	if c.peek() == 'a' {
		return nil, errf(siteAuthzid, "0A000", "client uses authorization identity, but it is not supported")
	}
	if c.peek() != ',' {
		return nil, malformed(siteFirstAttr, fmt.Sprintf(`Unexpected attribute "%s" in client-first-message.`, sanitizeChar(c.peek())))
	}
	c.i++
	cf.gs2, cf.bare = msg[:c.i], msg[c.i:]
	if c.peek() == 'm' {
		return nil, errf(siteExtension, "0A000", "client requires an unsupported SCRAM extension")
	}
	if _, err := c.attr('n'); err != nil {
		return nil, err
	}
	nonce, err := c.attr('r')
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(nonce); i++ {
		if nonce[i] < 0x21 || nonce[i] > 0x7e {
			return nil, errf(siteNoncePrintable, "08P01", "non-printable characters in SCRAM nonce")
		}
	}
	cf.nonce = nonce
	for c.peek() != 0 {
		if _, _, err := c.anyAttr(); err != nil {
			return nil, err
		}
	}
	return cf, nil
}

// clientFinal is a parsed client-final-message.
type clientFinal struct {
	binding, nonce string
	withoutProof   string
	proof          []byte
}

// parseClientFinal is read_client_final_message. cbind is the expected
// channel binding data when the client chose SCRAM-SHA-256-PLUS.
func parseClientFinal(msg string, cf *clientFirst, plus bool, cbind []byte) (*clientFinal, *pgError) {
	c := &cursor{s: msg}
	fin := &clientFinal{}
	var err *pgError
	if fin.binding, err = c.attr('c'); err != nil {
		return nil, err
	}
	if plus {
		want := base64.StdEncoding.EncodeToString(append([]byte(cf.gs2), cbind...))
		if fin.binding != want {
			return nil, errf(siteCbindCheck, "28000", "SCRAM channel binding check failed")
		}
	} else if !(fin.binding == "biws" && cf.flag == 'n') && !(fin.binding == "eSws" && cf.flag == 'y') {
		return nil, errf(siteSCRAMBinding, "08P01", "unexpected SCRAM channel-binding attribute in client-final-message")
	}
	if fin.nonce, err = c.attr('r'); err != nil {
		return nil, err
	}
	var proofAt int
	for {
		proofAt = c.i - 1
		a, v, err := c.anyAttr()
		if err != nil {
			return nil, err
		}
		if a == 'p' {
			p, derr := base64.StdEncoding.DecodeString(v)
			if derr != nil || len(p) != 32 {
				return nil, malformed(siteBadProof, "Malformed proof in client-final-message.")
			}
			fin.proof = p
			break
		}
	}
	if c.peek() != 0 {
		return nil, malformed(siteFinalGarbage, "Garbage found at the end of client-final-message.")
	}
	fin.withoutProof = msg[:proofAt]
	return fin, nil
}

// saslInitial is CheckSASLAuth's reading of a SASLInitialResponse: the
// mechanism, checked first, then the data (nil when the client sent
// length -1, no initial response).
func saslInitial(body []byte, offered []string) ([]byte, string, *pgError) {
	i := bytes.IndexByte(body, 0)
	if i < 0 {
		return nil, "", errf(siteMsgString, "08P01", "invalid string in message")
	}
	mech := string(body[:i])
	if !slices.Contains(offered, mech) {
		return nil, "", errf(siteInvalidMech, "08P01", "client selected an invalid SASL authentication mechanism")
	}
	rest := body[i+1:]
	if len(rest) < 4 {
		return nil, "", errf(siteMsgCopy, "08P01", "insufficient data left in message")
	}
	n := int32(binary.BigEndian.Uint32(rest))
	rest = rest[4:]
	if n == -1 {
		if len(rest) != 0 {
			return nil, "", errf(siteMsgFormat, "08P01", "invalid message format")
		}
		return nil, mech, nil
	}
	if n < 0 || int(n) > len(rest) {
		return nil, "", errf(siteMsgBytes, "08P01", "insufficient data left in message")
	}
	if int(n) != len(rest) {
		return nil, "", errf(siteMsgFormat, "08P01", "invalid message format")
	}
	return rest, mech, nil
}
