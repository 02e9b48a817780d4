package sip

import (
	"net"
	"strings"
)

// nameAddr splits a From, To or Contact value into its URI and the
// parameters after it (";tag=..."), whether written as name-addr
// (`"Bob" <sip:bob@x>;tag=1`) or addr-spec (`sip:bob@x;tag=1`).
func nameAddr(v string) (display, uri, params string) {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j >= 0 {
			return strings.TrimSpace(v[:i]), v[i+1 : i+j], v[i+j+1:]
		}
	}
	uri, params, _ = strings.Cut(v, ";")
	if params != "" {
		params = ";" + params
	}
	return "", strings.TrimSpace(uri), params
}

// param returns the value of the ;name=value parameter in params (a
// string of parameters each starting with ';'), and whether it is there.
func param(params, name string) (string, bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`), true
		}
	}
	return "", false
}

// tagOf is the tag parameter of a From or To value.
func tagOf(v string) string {
	_, _, params := nameAddr(v)
	t, _ := param(params, "tag")
	return t
}

// uriParts splits a SIP URI into its user and host (without port).
func uriParts(uri string) (user, host string) {
	_, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return "", ""
	}
	rest, _, _ = strings.Cut(rest, ";")
	rest, _, _ = strings.Cut(rest, "?")
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, rest = rest[:at], rest[at+1:]
		user, _, _ = strings.Cut(user, ":") // user:password@
	}
	if h, _, err := net.SplitHostPort(rest); err == nil {
		return user, h
	}
	return user, strings.Trim(rest, "[]")
}

// via is the top Via header, split.
type via struct {
	proto  string // SIP/2.0/UDP
	sentBy string // host[:port]
	params []string
}

func parseVia(v string) (via, bool) {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i] // several Vias in one header: the first is the top
	}
	parts := strings.Split(v, ";")
	head := strings.Fields(parts[0])
	if len(head) != 2 {
		return via{}, false
	}
	out := via{proto: head[0], sentBy: head[1]}
	for _, p := range parts[1:] {
		if p = strings.TrimSpace(p); p != "" {
			out.params = append(out.params, p)
		}
	}
	return out, true
}

// host is the sent-by host without port.
func (v via) host() string {
	if h, _, err := net.SplitHostPort(v.sentBy); err == nil {
		return h
	}
	return strings.Trim(v.sentBy, "[]")
}

// get returns a parameter's value and whether it is there.
func (v via) get(name string) (string, bool) {
	for _, p := range v.params {
		k, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, name) {
			return val, true
		}
	}
	return "", false
}
