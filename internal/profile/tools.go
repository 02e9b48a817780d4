package profile

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strings"

	"decnet/internal/event"
	"decnet/internal/store"
)

// beaconProfile is the default check-in cadence of a C2 framework: an
// attacker matches when its mean interval is within IntervalTol seconds of
// Interval and its coefficient of variation within JitterTol of Jitter.
type beaconProfile struct {
	tool                  string
	interval, intervalTol float64
	jitter, jitterTol     float64
}

// beaconProfiles are the original's, in its order.
var beaconProfiles = []beaconProfile{
	{"cobalt_strike", 60, 8, 0.20, 0.05},
	{"sliver", 60, 10, 0.30, 0.08},
	{"havoc", 45, 8, 0.10, 0.03},
	{"mythic", 30, 6, 0.15, 0.03},
}

// GuessBeaconTools returns every C2 framework whose default beacon profile
// the mean interval (seconds) and coefficient of variation match, in the
// table's order: cobalt_strike 60±8 s cv 0.20±0.05, sliver 60±10 s cv
// 0.30±0.08, havoc 45±8 s cv 0.10±0.03, mythic 30±6 s cv 0.15±0.03. All
// matches are returned: an attacker may run several implants.
func GuessBeaconTools(mean, cv float64) []string {
	var out []string
	for _, p := range beaconProfiles {
		if math.Abs(mean-p.interval) <= p.intervalTol && math.Abs(cv-p.jitter) <= p.jitterTol {
			out = append(out, p.tool)
		}
	}
	return out
}

// headerSignature names a tool when a request header (lower-case name)
// holds pattern (lower case) in any case, or matches re, which stands for
// the original's patterns that start with "^".
type headerSignature struct {
	tool, header, pattern string
	re                    *regexp.Regexp
}

// headerSignatures are the original's, in its order.
var headerSignatures = []headerSignature{
	{tool: "nmap", header: "user-agent", pattern: "nmap scripting engine"},
	{tool: "gophish", header: "x-mailer", pattern: "gophish"},
	{tool: "nikto", header: "user-agent", pattern: "nikto"},
	{tool: "sqlmap", header: "user-agent", pattern: "sqlmap"},
	{tool: "nuclei", header: "user-agent", pattern: "nuclei"},
	{tool: "masscan", header: "user-agent", pattern: "masscan"},
	{tool: "zgrab", header: "user-agent", pattern: "zgrab"},
	{tool: "metasploit", header: "user-agent", pattern: "metasploit"},
	{tool: "curl", header: "user-agent", re: regexp.MustCompile(`(?i)^curl/`)},
	{tool: "python_requests", header: "user-agent", pattern: "python-requests"},
	{tool: "gobuster", header: "user-agent", pattern: "gobuster"},
	{tool: "dirbuster", header: "user-agent", pattern: "dirbuster"},
	{tool: "hydra", header: "user-agent", pattern: "hydra"},
	{tool: "wfuzz", header: "user-agent", pattern: "wfuzz"},
}

func (s headerSignature) matches(values []string) bool {
	for _, v := range values {
		if s.re != nil && s.re.MatchString(v) || s.re == nil && strings.Contains(strings.ToLower(v), s.pattern) {
			return true
		}
	}
	return false
}

// DetectHeaderTools names the tools whose signature shows in the headers
// of request events, each once, in order of first detection (logs in
// time order, then the signature table's order). The headers field is the
// JSON object our HTTP service writes; names are compared lower-cased, and
// a header sent under several spellings matches if any of its values do.
// The user_agent field counts as one more User-Agent value, so a request
// whose headers field is missing or is not JSON (the original's https
// service wrote a Python dict repr) still counts.
func DetectHeaderTools(logs []store.Log) []string {
	var found []string
	for _, l := range inTimeOrder(logs) {
		if l.EventType != event.TypeRequest {
			continue
		}
		h := parseHeaders(l.Fields[event.FieldHeaders])
		if ua := l.Fields[event.FieldUserAgent]; ua != "" {
			if h == nil {
				h = map[string][]string{}
			}
			h["user-agent"] = append(h["user-agent"], ua)
		}
		for _, s := range headerSignatures {
			if !slices.Contains(found, s.tool) && s.matches(h[s.header]) {
				found = append(found, s.tool)
			}
		}
	}
	return found
}

// parseHeaders decodes a JSON object of headers into lower-cased names and
// their values; nil when s is not a JSON object. A value that is not a
// string (never written by our services) counts as its JSON text.
func parseHeaders(s string) map[string][]string {
	if s == "" {
		return nil
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &raw) != nil || raw == nil {
		return nil
	}
	h := make(map[string][]string, len(raw))
	for name, v := range raw {
		var str string
		if json.Unmarshal(v, &str) != nil {
			str = string(v)
		}
		k := strings.ToLower(name)
		h[k] = append(h[k], str)
	}
	return h
}
