package store

import (
	"crypto/sha256"
	"encoding/json"
	"strings"

	"decnet/internal/event"
)

// Bounty types.
const (
	BountyCredential  = "credential"
	BountyFingerprint = "fingerprint"
)

// The services whose events carry fingerprints of the attacker's stack
// rather than of a conversation with a decky.
const (
	serviceSniffer = "sniffer"
	serviceProber  = "prober"
)

// fingerprintRule maps a sniffer or prober event to a fingerprint bounty:
// when the trigger field is set, the payload gets fingerprint_type and the
// listed fields (payload key = field name, or "key=field" to rename).
type fingerprintRule struct {
	service  string
	trigger  string
	fpType   string
	fields   []string
	byTarget bool // the prober's subject is the target it probed, not a peer
}

var fingerprintRules = []fingerprintRule{
	{serviceSniffer, "ja3", "ja3", []string{"ja3", "ja3s", "ja4", "ja4s", "tls_version", "sni", "alpn", "dst_port", "raw_ciphers", "raw_extensions"}, false},
	{serviceSniffer, "ja4l_rtt_ms", "ja4l", []string{"rtt_ms=ja4l_rtt_ms", "client_ttl=ja4l_client_ttl"}, false},
	{serviceSniffer, "resumption", "tls_resumption", []string{"mechanisms=resumption"}, false},
	{serviceSniffer, "subject_cn", "tls_certificate", []string{"subject_cn", "issuer", "self_signed", "not_before", "not_after", "sans", "sni"}, false},
	{serviceProber, "jarm_hash", "jarm", []string{"hash=jarm_hash", "target_ip", "target_port"}, true},
	{serviceProber, "hassh_server_hash", "hassh_server", []string{"hash=hassh_server_hash", "target_ip", "target_port", "ssh_banner", "kex_algorithms", "encryption_s2c", "mac_s2c", "compression_s2c"}, true},
	{serviceProber, "tcpfp_hash", "tcpfp", []string{"hash=tcpfp_hash", "raw=tcpfp_raw", "target_ip", "target_port", "ttl", "window_size", "df_bit", "mss", "window_scale", "sack_ok", "timestamp", "options_order"}, true},
}

// BountiesOf returns the bounties a record reveals, in a fixed order:
//   - credential {username, password[, method]} when the event carries a
//     username and a password field (the password may be empty: a blank
//     password is a real attempt);
//   - credential {username, hash, hash_format[, domain]} when it carries
//     crackable material instead (the username may be empty: VNC has
//     none);
//   - fingerprint http_useragent {value} from the user_agent field or the
//     User-Agent of the headers field (a JSON object); the request's method
//     and path stay in the log row, or every URL a scanner hits would be a
//     new bounty;
//   - fingerprint vnc_client_version {value} from a version event;
//   - the sniffer's and prober's fingerprints (ja3, ja4l, tls_resumption,
//     tls_certificate, jarm, hassh_server, tcpfp), fields absent from the
//     event left out. A prober's subject is the probed target_ip.
//
// Payload values are the event's strings, unchanged.
func BountiesOf(r event.Record) []Bounty {
	var out []Bounty
	add := func(typ, ip string, payload map[string]any) {
		out = append(out, Bounty{Timestamp: r.Timestamp, Decky: r.Decky, Service: r.Service,
			AttackerIP: ip, BountyType: typ, Payload: payload})
	}
	f := r.Fields
	if pass, ok := f[event.FieldPassword]; ok && f[event.FieldUsername] != "" {
		p := map[string]any{"username": f[event.FieldUsername], "password": pass}
		if m := f[event.FieldMethod]; m != "" {
			p["method"] = m
		}
		withDomain(p, f)
		add(BountyCredential, r.AttackerIP, p)
	}
	if h := f[event.FieldHash]; h != "" && f[event.FieldHashFormat] != "" {
		p := map[string]any{"username": f[event.FieldUsername], "hash": h, "hash_format": f[event.FieldHashFormat]}
		withDomain(p, f)
		add(BountyCredential, r.AttackerIP, p)
	}
	if tok := f[event.FieldToken]; tok != "" && f[event.FieldTokenType] != "" {
		p := map[string]any{"token": tok, "token_type": f[event.FieldTokenType]}
		if u := f[event.FieldUsername]; u != "" {
			p["username"] = u
		}
		add(BountyCredential, r.AttackerIP, p)
	}
	if ua := userAgent(f); ua != "" {
		add(BountyFingerprint, r.AttackerIP, map[string]any{"fingerprint_type": "http_useragent", "value": ua})
	}
	if v := f["client_version"]; v != "" && r.EventType == "version" {
		add(BountyFingerprint, r.AttackerIP, map[string]any{"fingerprint_type": "vnc_client_version", "value": v})
	}
	for _, rule := range fingerprintRules {
		if r.Service != rule.service || f[rule.trigger] == "" {
			continue
		}
		p := map[string]any{"fingerprint_type": rule.fpType}
		for _, spec := range rule.fields {
			key, field, renamed := strings.Cut(spec, "=")
			if !renamed {
				field = key
			}
			if v, ok := f[field]; ok {
				p[key] = v
			}
		}
		ip := r.AttackerIP
		if rule.byTarget {
			ip = event.Unknown
			if t := f["target_ip"]; t != "" {
				ip = t
			}
		}
		add(BountyFingerprint, ip, p)
	}
	return out
}

// userAgent is the client's User-Agent: the user_agent field, else the
// User-Agent header (any case) of the headers field, whose values may be
// strings or lists of strings (Go's http.Header).
func userAgent(f map[string]string) string {
	if ua := f[event.FieldUserAgent]; ua != "" {
		return ua
	}
	h := f[event.FieldHeaders]
	if h == "" || !strings.Contains(strings.ToLower(h), "user-agent") {
		return ""
	}
	var headers map[string]json.RawMessage
	if json.Unmarshal([]byte(h), &headers) != nil {
		return ""
	}
	// A hostile client may send the header under several casings; the
	// smallest key wins so the result does not depend on map order.
	best, ua := "", ""
	for k, raw := range headers {
		if !strings.EqualFold(k, "User-Agent") || (best != "" && k >= best) {
			continue
		}
		var s string
		var list []string
		switch {
		case json.Unmarshal(raw, &s) == nil:
		case json.Unmarshal(raw, &list) == nil && len(list) > 0:
			s = list[0]
		default:
			continue
		}
		best, ua = k, s
	}
	return ua
}

// payloadKey is the canonical JSON of a payload (encoding/json sorts map
// keys) and its SHA-256, the dedup key with bounty type and attacker IP.
func payloadKey(p map[string]any) ([]byte, [sha256.Size]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, [sha256.Size]byte{}, err
	}
	return b, sha256.Sum256(b), nil
}

// withDomain adds the Windows domain a credential was given for (rdp,
// smb, NTLM over http): the same user and password mean another account
// in another domain.
func withDomain(p map[string]any, f map[string]string) {
	if d := f["domain"]; d != "" {
		p["domain"] = d
	}
}
