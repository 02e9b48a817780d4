package profile

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"decnet/internal/store"
)

func TestGuessBeaconTools(t *testing.T) {
	tests := []struct {
		name     string
		mean, cv float64
		want     []string
	}{
		{"cobalt strike", 60, 0.20, []string{"cobalt_strike"}},
		{"cobalt strike at its interval edges", 52, 0.20, []string{"cobalt_strike"}},
		{"cobalt strike at its upper interval edge", 68, 0.20, []string{"cobalt_strike"}},
		{"0.15 is just outside cobalt strike's jitter, as in the original (float)", 60, 0.15, nil},
		{"sliver", 60, 0.30, []string{"sliver"}},
		{"sliver at its edges", 70, 0.22, []string{"sliver"}},
		{"cobalt strike and sliver", 60, 0.24, []string{"cobalt_strike", "sliver"}},
		{"havoc", 45, 0.10, []string{"havoc"}},
		{"havoc at its edges", 37, 0.13, []string{"havoc"}},
		{"mythic", 30, 0.15, []string{"mythic"}},
		{"mythic at its edges", 24, 0.12, []string{"mythic"}},
		{"mythic at its other edges", 36, 0.18, []string{"mythic"}},
		{"mythic interval, jitter too far", 30, 0.19, nil},
		{"between cadences", 40, 0.15, nil},
		{"too slow", 71, 0.30, nil},
		{"too regular for cobalt strike", 60, 0.14, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GuessBeaconTools(tt.mean, tt.cv); !slices.Equal(got, tt.want) {
				t.Errorf("GuessBeaconTools(%v, %v) = %q, want %q", tt.mean, tt.cv, got, tt.want)
			}
		})
	}
}

// request is a request log at t0+d with the given headers (a JSON object)
// and user_agent field, either left out when empty.
func request(d time.Duration, headers map[string]string, ua string) store.Log {
	f := map[string]string{}
	if headers != nil {
		b, _ := json.Marshal(headers)
		f["headers"] = string(b)
	}
	if ua != "" {
		f["user_agent"] = ua
	}
	return store.Log{Timestamp: at(d), Decky: "decky-01", Service: "http", EventType: "request", AttackerIP: "198.51.100.7", Fields: f}
}

func ua(v string) map[string]string { return map[string]string{"Host": "x", "User-Agent": v} }

func TestDetectHeaderTools(t *testing.T) {
	tests := []struct {
		name string
		logs []store.Log
		want []string
	}{
		{"nmap", []store.Log{request(0, ua("Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"), "")}, []string{"nmap"}},
		{"gophish", []store.Log{request(0, map[string]string{"X-Mailer": "gophish"}, "")}, []string{"gophish"}},
		{"nikto", []store.Log{request(0, ua("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)"), "")}, []string{"nikto"}},
		{"sqlmap", []store.Log{request(0, ua("sqlmap/1.7.2#stable (https://sqlmap.org)"), "")}, []string{"sqlmap"}},
		{"nuclei", []store.Log{request(0, ua("Nuclei - Open-source project (github.com/projectdiscovery/nuclei)"), "")}, []string{"nuclei"}},
		{"masscan", []store.Log{request(0, ua("masscan/1.3 (https://github.com/robertdavidgraham/masscan)"), "")}, []string{"masscan"}},
		{"zgrab", []store.Log{request(0, ua("Mozilla/5.0 zgrab/0.x"), "")}, []string{"zgrab"}},
		{"metasploit", []store.Log{request(0, ua("Metasploit/6.3"), "")}, []string{"metasploit"}},
		{"curl", []store.Log{request(0, ua("curl/8.5.0"), "")}, []string{"curl"}},
		{"curl, any case", []store.Log{request(0, ua("CURL/7.1"), "")}, []string{"curl"}},
		{"curl only at the start", []store.Log{request(0, ua("Mozilla curl/8.5.0"), "")}, nil},
		{"python requests", []store.Log{request(0, ua("python-requests/2.31.0"), "")}, []string{"python_requests"}},
		{"gobuster", []store.Log{request(0, ua("gobuster/3.6"), "")}, []string{"gobuster"}},
		{"dirbuster", []store.Log{request(0, ua("DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)"), "")}, []string{"dirbuster"}},
		{"hydra", []store.Log{request(0, ua("Mozilla/4.0 (Hydra)"), "")}, []string{"hydra"}},
		{"wfuzz", []store.Log{request(0, ua("Wfuzz/3.1.0"), "")}, []string{"wfuzz"}},
		{"header name in any case", []store.Log{request(0, map[string]string{"USER-AGENT": "sqlmap/1.0", "x-MAILER": "GoPhish"}, "")},
			[]string{"gophish", "sqlmap"}},
		{"any spelling of a repeated header", []store.Log{request(0, map[string]string{"User-Agent": "Mozilla/5.0", "user-agent": "Nikto"}, "")},
			[]string{"nikto"}},
		{"user_agent field without headers", []store.Log{request(0, nil, "sqlmap/1.0")}, []string{"sqlmap"}},
		{"user_agent field beside headers", []store.Log{request(0, ua("Mozilla/5.0"), "gobuster/3.6")}, []string{"gobuster"}},
		{"headers not JSON, as the original's https wrote them", []store.Log{{EventType: "request",
			Fields: map[string]string{"headers": "{'User-Agent': 'sqlmap/1.0'}"}}}, nil},
		{"headers not an object", []store.Log{{EventType: "request", Fields: map[string]string{"headers": `["sqlmap"]`}}}, nil},
		{"non-string header value", []store.Log{{EventType: "request", Fields: map[string]string{"headers": `{"User-Agent": ["sqlmap"]}`}}},
			[]string{"sqlmap"}},
		{"only request events", []store.Log{{EventType: "auth", Fields: map[string]string{"user_agent": "sqlmap/1.0"}}}, nil},
		{"once each, in order of detection", []store.Log{
			request(3*time.Second, ua("sqlmap/1.0"), ""),
			request(0, ua("Nikto"), ""),
			request(time.Second, ua("Mozilla/5.0 (Nikto; sqlmap; hydra)"), ""),
		}, []string{"nikto", "sqlmap", "hydra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectHeaderTools(tt.logs); !slices.Equal(got, tt.want) {
				t.Errorf("DetectHeaderTools = %q, want %q", got, tt.want)
			}
		})
	}
}
