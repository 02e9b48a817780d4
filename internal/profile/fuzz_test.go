package profile

import (
	"slices"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
)

// FuzzDetectHeaderTools feeds attacker-controlled headers JSON and
// User-Agent values to the header detection.
func FuzzDetectHeaderTools(f *testing.F) {
	f.Fuzz(func(t *testing.T, headers, userAgent string) {
		l := store.Log{EventType: "request", Fields: map[string]string{"headers": headers, "user_agent": userAgent}}
		got := DetectHeaderTools([]store.Log{l, l})
		for i, tool := range got {
			if slices.Contains(got[:i], tool) {
				t.Fatalf("%q twice in %q", tool, got)
			}
			if !slices.ContainsFunc(headerSignatures, func(s headerSignature) bool { return s.tool == tool }) {
				t.Fatalf("unknown tool %q", tool)
			}
		}
		// Whatever the headers, a user_agent field holding a signature
		// names its tool.
		for _, s := range headerSignatures {
			if s.header == "user-agent" && s.re == nil && strings.Contains(strings.ToLower(userAgent), s.pattern) &&
				!slices.Contains(got, s.tool) {
				t.Fatalf("user_agent %q: %q missing from %q", userAgent, s.tool, got)
			}
		}
	})
}

// FuzzAnalyze puts one arbitrary value in every field the analysis parses.
func FuzzAnalyze(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string) {
		all := map[string]string{}
		for _, k := range []string{"headers", "user_agent", "os_guess", "ttl", "initial_ttl", "hop_distance", "window",
			"wscale", "mss", "options_sig", "has_sack", "retransmits", "window_size", "window_scale", "options_order",
			"sack_ok", "timestamp", "bytes", "size", "content_length", "body_size"} {
			all[k] = v
		}
		var logs []store.Log
		for i, typ := range []string{"request", "tcp_syn_fingerprint", "tcp_flow_timing", "tcpfp_fingerprint", "auth", "command"} {
			logs = append(logs, store.Log{Timestamp: at(-3 * time.Duration(i) * time.Second), Service: typ, EventType: typ, Fields: all})
		}
		b := Analyze(logs)
		if b.HopDistance != nil && *b.HopDistance <= 0 {
			t.Fatalf("hop distance %d", *b.HopDistance)
		}
		if b.RetransmitCount < 0 || b.PhaseSequence.LargePayloadCount > len(logs) {
			t.Fatalf("retransmits %d, large payloads %d", b.RetransmitCount, b.PhaseSequence.LargePayloadCount)
		}
		if b.TCPFingerprint == nil || b.TimingStats.EventCount != int64(len(logs)) {
			t.Fatalf("fingerprint %v, %d events timed", b.TCPFingerprint, b.TimingStats.EventCount)
		}
	})
}
