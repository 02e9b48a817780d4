package store

import (
	"reflect"
	"testing"

	"decnet/internal/event"
)

func TestBountiesOf(t *testing.T) {
	type b = struct {
		typ, ip string
		payload map[string]any
	}
	tests := []struct {
		name    string
		service string
		typ     string
		fields  map[string]string
		want    []b
	}{
		{"no fields", "ssh", "connect", map[string]string{"src_ip": "1.2.3.4"}, nil},
		{"credential", "ssh", "auth", map[string]string{"src_ip": "1.2.3.4", "username": "root", "password": "toor"},
			[]b{{"credential", "1.2.3.4", map[string]any{"username": "root", "password": "toor"}}}},
		{"credential with method", "ssh", "auth", map[string]string{"src_ip": "1.2.3.4", "username": "root", "password": "x", "method": "keyboard-interactive"},
			[]b{{"credential", "1.2.3.4", map[string]any{"username": "root", "password": "x", "method": "keyboard-interactive"}}}},
		{"clear password for a domain", "rdp", "auth", map[string]string{"src_ip": "1.2.3.4", "username": "dave", "password": "p w", "domain": "CORP", "method": "client_info"},
			[]b{{"credential", "1.2.3.4", map[string]any{"username": "dave", "password": "p w", "domain": "CORP", "method": "client_info"}}}},
		{"blank password is a credential", "ftp", "auth", map[string]string{"username": "anonymous", "password": ""},
			[]b{{"credential", "Unknown", map[string]any{"username": "anonymous", "password": ""}}}},
		{"username only", "ftp", "user", map[string]string{"username": "anonymous"}, nil},
		{"password without username", "redis", "auth", map[string]string{"username": "", "password": "p"}, nil},
		{"crackable hash", "smb", "auth", map[string]string{"src_ip": "1.2.3.4", "username": "alice", "domain": "CORP",
			"hash": "alice::CORP:1122334455667788:abc:0101", "hash_format": "netntlmv2 (hashcat 5600)"},
			[]b{{"credential", "1.2.3.4", map[string]any{"username": "alice", "domain": "CORP",
				"hash": "alice::CORP:1122334455667788:abc:0101", "hash_format": "netntlmv2 (hashcat 5600)"}}}},
		{"hash without a username", "vnc", "auth", map[string]string{"hash": "$vnc$*00*11", "hash_format": "vnc (john)"},
			[]b{{"credential", "Unknown", map[string]any{"username": "", "hash": "$vnc$*00*11", "hash_format": "vnc (john)"}}}},
		{"bearer token", "k8s", "auth", map[string]string{"src_ip": "1.2.3.4", "token": "eyJhbGciOi", "token_type": "bearer"},
			[]b{{"credential", "1.2.3.4", map[string]any{"token": "eyJhbGciOi", "token_type": "bearer"}}}},
		{"token without a type is not a bounty", "k8s", "auth", map[string]string{"token": "x"}, nil},
		{"hash without a format is not a bounty", "vnc", "auth", map[string]string{"hash": "x"}, nil},
		{"user_agent field", "http", "request", map[string]string{"src_ip": "1.2.3.4", "user_agent": "Nmap", "method": "GET", "path": "/"},
			[]b{{"fingerprint", "1.2.3.4", map[string]any{"fingerprint_type": "http_useragent", "value": "Nmap"}}}},
		{"headers JSON", "http", "request", map[string]string{"src_ip": "1.2.3.4", "headers": `{"Host":"x","user-agent":"curl/8"}`},
			[]b{{"fingerprint", "1.2.3.4", map[string]any{"fingerprint_type": "http_useragent", "value": "curl/8"}}}},
		{"headers as http.Header", "http", "request", map[string]string{"headers": `{"User-Agent":["sqlmap/1.8"]}`},
			[]b{{"fingerprint", "Unknown", map[string]any{"fingerprint_type": "http_useragent", "value": "sqlmap/1.8"}}}},
		{"several casings: smallest key wins", "http", "request", map[string]string{"headers": `{"user-agent":"b","User-Agent":"a","USER-AGENT":"c"}`},
			[]b{{"fingerprint", "Unknown", map[string]any{"fingerprint_type": "http_useragent", "value": "c"}}}},
		{"headers not JSON", "http", "request", map[string]string{"headers": `{'User-Agent': 'python repr'}`}, nil},
		{"User-Agent not a string", "http", "request", map[string]string{"headers": `{"User-Agent": 5}`}, nil},
		{"basic auth request: credential and UA", "http", "request", map[string]string{"username": "admin", "password": "admin", "method": "GET", "user_agent": "Hydra"},
			[]b{
				{"credential", "Unknown", map[string]any{"username": "admin", "password": "admin", "method": "GET"}},
				{"fingerprint", "Unknown", map[string]any{"fingerprint_type": "http_useragent", "value": "Hydra"}},
			}},
		{"vnc version", "vnc", "version", map[string]string{"src_ip": "1.2.3.4", "client_version": "RFB 003.008"},
			[]b{{"fingerprint", "1.2.3.4", map[string]any{"fingerprint_type": "vnc_client_version", "value": "RFB 003.008"}}}},
		{"client_version of another event", "vnc", "connect", map[string]string{"client_version": "RFB 003.008"}, nil},
		{"ja3", "sniffer", "tls_client_hello", map[string]string{"src_ip": "1.2.3.4", "ja3": "abc", "ja4": "t13d", "sni": "x.test", "dst_port": "443"},
			[]b{{"fingerprint", "1.2.3.4", map[string]any{"fingerprint_type": "ja3", "ja3": "abc", "ja4": "t13d", "sni": "x.test", "dst_port": "443"}}}},
		{"ja3 from another service", "http", "request", map[string]string{"ja3": "abc"}, nil},
		{"ja4l", "sniffer", "tls_latency", map[string]string{"src_ip": "1.2.3.4", "ja4l_rtt_ms": "12.5", "ja4l_client_ttl": "57"},
			[]b{{"fingerprint", "1.2.3.4", map[string]any{"fingerprint_type": "ja4l", "rtt_ms": "12.5", "client_ttl": "57"}}}},
		{"resumption", "sniffer", "tls_session", map[string]string{"src_ip": "1.2.3.4", "resumption": `["session_ticket"]`},
			[]b{{"fingerprint", "1.2.3.4", map[string]any{"fingerprint_type": "tls_resumption", "mechanisms": `["session_ticket"]`}}}},
		{"certificate", "sniffer", "tls_certificate", map[string]string{"src_ip": "1.2.3.4", "subject_cn": "evil", "issuer": "evil", "self_signed": "true"},
			[]b{{"fingerprint", "1.2.3.4", map[string]any{"fingerprint_type": "tls_certificate", "subject_cn": "evil", "issuer": "evil", "self_signed": "true"}}}},
		{"jarm names the target", "prober", "jarm_fingerprint", map[string]string{"target_ip": "5.6.7.8", "target_port": "443", "jarm_hash": "2ad"},
			[]b{{"fingerprint", "5.6.7.8", map[string]any{"fingerprint_type": "jarm", "hash": "2ad", "target_ip": "5.6.7.8", "target_port": "443"}}}},
		{"jarm without target", "prober", "jarm_fingerprint", map[string]string{"jarm_hash": "2ad"},
			[]b{{"fingerprint", "Unknown", map[string]any{"fingerprint_type": "jarm", "hash": "2ad"}}}},
		{"hassh", "prober", "hassh_fingerprint", map[string]string{"target_ip": "5.6.7.8", "hassh_server_hash": "h", "ssh_banner": "SSH-2.0-x", "kex_algorithms": "k"},
			[]b{{"fingerprint", "5.6.7.8", map[string]any{"fingerprint_type": "hassh_server", "hash": "h", "target_ip": "5.6.7.8", "ssh_banner": "SSH-2.0-x", "kex_algorithms": "k"}}}},
		{"tcpfp", "prober", "tcpfp_fingerprint", map[string]string{"target_ip": "5.6.7.8", "tcpfp_hash": "t", "tcpfp_raw": "r", "ttl": "64", "mss": "1460"},
			[]b{{"fingerprint", "5.6.7.8", map[string]any{"fingerprint_type": "tcpfp", "hash": "t", "raw": "r", "target_ip": "5.6.7.8", "ttl": "64", "mss": "1460"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := event.NewRecord(event.Event{Time: t0, Decky: "decky-01", Service: tc.service, Type: tc.typ, Fields: tc.fields})
			var got []b
			for _, x := range BountiesOf(r) {
				if x.Decky != "decky-01" || x.Service != tc.service || !x.Timestamp.Equal(t0) {
					t.Errorf("bounty context %+v", x)
				}
				got = append(got, b{x.BountyType, x.AttackerIP, x.Payload})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestPayloadKeyIsCanonical(t *testing.T) {
	a := map[string]any{"username": "root", "password": "toor", "method": "x"}
	b := map[string]any{"method": "x", "password": "toor", "username": "root"}
	ja, ha, _ := payloadKey(a)
	jb, hb, _ := payloadKey(b)
	if string(ja) != string(jb) || ha != hb {
		t.Errorf("%s / %s hash differently", ja, jb)
	}
	if _, hc, _ := payloadKey(map[string]any{"username": "root", "password": "toor"}); hc == ha {
		t.Error("different payloads share a hash")
	}
}

// FuzzBountiesOf feeds hostile field values (headers above all) to the
// bounty rules: they must not panic and every payload must be storable.
func FuzzBountiesOf(f *testing.F) {
	f.Add("http", "request", `{"User-Agent":"curl"}`, "root", "toor")
	f.Add("http", "request", `{"User-Agent":["a","b"],"user-agent":null}`, "", "")
	f.Add("prober", "x", `[`, "u", "")
	f.Fuzz(func(t *testing.T, service, typ, headers, user, pass string) {
		fields := map[string]string{"headers": headers, "username": user, "password": pass,
			"ja3": headers, "jarm_hash": user, "target_ip": pass, "client_version": headers}
		r := event.NewRecord(event.Event{Time: t0, Service: service, Type: typ, Fields: fields})
		for _, b := range BountiesOf(r) {
			if b.BountyType != BountyCredential && b.BountyType != BountyFingerprint {
				t.Fatalf("bounty type %q", b.BountyType)
			}
			if _, _, err := payloadKey(b.Payload); err != nil {
				t.Fatal(err)
			}
		}
	})
}
