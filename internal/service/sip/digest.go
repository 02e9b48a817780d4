package sip

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
)

// hashFormat names the crackable form of a SIP digest response.
const hashFormat = "sip-digest-md5 (hashcat 11400)"

// Bounds of a digest credential.
const (
	maxDigestParams = 32
	maxDigestValue  = 1024
)

// credentials are the parameters of an Authorization or
// Proxy-Authorization Digest header.
type credentials struct {
	scheme    string
	username  string
	realm     string
	nonce     string
	uri       string
	response  string
	algorithm string
	cnonce    string
	nc        string
	qop       string
	opaque    string
}

// parseCredentials parses `Digest k=v, k="v", ...`. ok is false when the
// scheme is not Digest or a parameter is malformed; what was read before
// is kept, so the event still shows it.
func parseCredentials(v string) (c credentials, ok bool) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	c.scheme = scheme
	if !strings.EqualFold(scheme, "Digest") {
		return c, false
	}
	for n := 0; n < maxDigestParams; n++ {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return c, true
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return c, false
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			end, unq, good := quoted(rest)
			if !good {
				return c, false
			}
			val, rest = unq, rest[end:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		if len(val) > maxDigestValue {
			return c, false
		}
		c.set(key, val)
	}
	return c, false
}

// quoted reads a quoted-string at the start of s: the index after its
// closing quote and the unescaped content.
func quoted(s string) (end int, val string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return i + 1, b.String(), true
		default:
			b.WriteByte(s[i])
		}
	}
	return 0, "", false
}

func (c *credentials) set(key, val string) {
	switch key {
	case "username":
		c.username = val
	case "realm":
		c.realm = val
	case "nonce":
		c.nonce = val
	case "uri":
		c.uri = val
	case "response":
		c.response = val
	case "algorithm":
		c.algorithm = val
	case "cnonce":
		c.cnonce = val
	case "nc":
		c.nc = val
	case "qop":
		c.qop = val
	case "opaque":
		c.opaque = val
	}
}

// expected is the response the credentials should carry for password
// and the request method (RFC 2617 MD5, with or without qop).
func (c credentials) expected(method, password string) string {
	ha1 := md5hex(c.username + ":" + c.realm + ":" + password)
	ha2 := md5hex(method + ":" + c.uri)
	if c.qop == "auth" || c.qop == "auth-int" {
		return md5hex(ha1 + ":" + c.nonce + ":" + c.nc + ":" + c.cnonce + ":" + c.qop + ":" + ha2)
	}
	return md5hex(ha1 + ":" + c.nonce + ":" + ha2)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hashcat is the credentials as a hashcat mode 11400 line:
// $sip$*server*client*user*realm*method*uri-prefix*uri-resource*uri-suffix*
// nonce*cnonce*nc*qop*MD5*response. ok is false when they cannot be put
// in that form (not MD5, no 32-hex response, a '*' in a field, fields
// over hashcat's lengths).
func (c credentials) hashcat(server, client, method string) (string, bool) {
	if c.algorithm != "" && !strings.EqualFold(c.algorithm, "MD5") {
		return "", false
	}
	if len(c.response) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(c.response); err != nil {
		return "", false
	}
	prefix, resource, suffix := "", c.uri, ""
	if p, r, ok := strings.Cut(c.uri, ":"); ok {
		prefix, resource = p, r
		if r2, s, ok := strings.Cut(r, ":"); ok {
			resource, suffix = r2, s
		}
	}
	// hashcat joins the non-empty parts with ':', so an empty part next
	// to a colon ("sip:host:", ":x") cannot be written.
	joined := resource
	if prefix != "" {
		joined = prefix + ":" + joined
	}
	if suffix != "" {
		joined += ":" + suffix
	}
	if joined != c.uri {
		return "", false
	}
	qop := c.qop
	if qop != "auth" && qop != "auth-int" {
		qop = ""
	}
	cnonce, nc := c.cnonce, c.nc
	if qop == "" {
		cnonce, nc = "", ""
	}
	fields := []string{server, client, c.username, c.realm, method, prefix, resource, suffix, c.nonce, cnonce, nc, qop}
	limits := []int{512, 512, 116, 116, 246, 245, 246, 245, 1024, 1024, 1024, 1024}
	for i, f := range fields {
		if strings.ContainsAny(f, "*\r\n") || len(f) > limits[i] {
			return "", false
		}
	}
	if resource == "" || c.nonce == "" || len(c.username)+len(c.realm)+2 > 119 {
		return "", false
	}
	return "$sip$*" + strings.Join(fields, "*") + "*MD5*" + strings.ToLower(c.response), true
}
