package profile

import (
	"reflect"
	"testing"
	"time"

	"decnet/internal/store"
)

func syn(d time.Duration, fields map[string]string) store.Log {
	l := ev(d, "tcp_syn_fingerprint", fields)
	l.Service = "sniffer"
	return l
}

func flow(d time.Duration, retransmits string) store.Log {
	l := ev(d, "tcp_flow_timing", map[string]string{"retransmits": retransmits, "packets": "12"})
	l.Service = "sniffer"
	return l
}

func tcpfp(d time.Duration, fields map[string]string) store.Log {
	l := ev(d, "tcpfp_fingerprint", fields)
	l.Service, l.Decky = "prober", "prober"
	return l
}

func iptr(v int) *int { return &v }

func TestRollup(t *testing.T) {
	s := time.Second
	linuxSYN := map[string]string{"ttl": "58", "initial_ttl": "64", "hop_distance": "6", "window": "64240", "mss": "1460",
		"wscale": "7", "options_sig": "M,S,T,N,W", "has_sack": "true", "has_timestamps": "true", "os_guess": "linux"}
	tests := []struct {
		name string
		logs []store.Log
		want StackRollup
	}{
		{"nothing", []store.Log{ev(0, "auth", nil)}, StackRollup{}},
		{"one SYN", []store.Log{syn(0, linuxSYN)}, StackRollup{OSGuess: "linux", HopDistance: iptr(6),
			TCPFingerprint: &store.TCPFingerprint{Window: iptr(64240), WScale: iptr(7), MSS: iptr(1460),
				OptionsSig: "M,S,T,N,W", HasSACK: true, HasTimestamps: true}}},
		{"modal label, unknown ignored, first seen wins a tie", []store.Log{
			syn(0, map[string]string{"os_guess": "windows"}), syn(1*s, map[string]string{"os_guess": "unknown"}),
			syn(2*s, map[string]string{"os_guess": "linux"}), syn(3*s, map[string]string{"os_guess": "unknown"}),
			syn(4*s, map[string]string{"os_guess": "linux"}), syn(5*s, map[string]string{"os_guess": "windows"}),
		}, StackRollup{OSGuess: "windows", TCPFingerprint: &store.TCPFingerprint{}}},
		{"TTL bucket of the modal TTL without a label", []store.Log{
			syn(0, map[string]string{"ttl": "117", "os_guess": "unknown"}), syn(1*s, map[string]string{"ttl": "117"}),
			syn(2*s, map[string]string{"ttl": "60"}),
		}, StackRollup{OSGuess: "windows", TCPFingerprint: &store.TCPFingerprint{}}},
		{"initial_ttl when ttl is absent", []store.Log{syn(0, map[string]string{"initial_ttl": "255"})},
			StackRollup{OSGuess: "embedded", TCPFingerprint: &store.TCPFingerprint{}}},
		{"TTL outside the buckets", []store.Log{syn(0, map[string]string{"ttl": "100"})},
			StackRollup{TCPFingerprint: &store.TCPFingerprint{}}},
		{"median hop of positive values, rounded down", []store.Log{
			syn(0, map[string]string{"hop_distance": "0"}), syn(1*s, map[string]string{"hop_distance": "3"}),
			syn(2*s, map[string]string{"hop_distance": "x"}), syn(3*s, map[string]string{"hop_distance": "4"}),
		}, StackRollup{HopDistance: iptr(3), TCPFingerprint: &store.TCPFingerprint{}}},
		{"prober: hop from the canonical initial TTL, fields mapped", []store.Log{
			tcpfp(0, map[string]string{"ttl": "57", "window_size": "29200", "window_scale": "7", "mss": "1460",
				"options_order": "M,S,T,N,W", "sack_ok": "1", "timestamp": "1", "df_bit": "1"}),
		}, StackRollup{OSGuess: "linux", HopDistance: iptr(7), TCPFingerprint: &store.TCPFingerprint{Window: iptr(29200),
			WScale: iptr(7), MSS: iptr(1460), OptionsSig: "M,S,T,N,W", HasSACK: true, HasTimestamps: true}}},
		{"prober: no hop at the initial TTL", []store.Log{tcpfp(0, map[string]string{"ttl": "128", "sack_ok": "0"})},
			StackRollup{OSGuess: "windows", TCPFingerprint: &store.TCPFingerprint{}}},
		{"the latest snapshot wins, in time order", []store.Log{
			tcpfp(5*s, map[string]string{"ttl": "64", "window_size": "65535"}), syn(0, linuxSYN),
		}, StackRollup{OSGuess: "linux", HopDistance: iptr(6), TCPFingerprint: &store.TCPFingerprint{Window: iptr(65535)}}},
		{"nmap label", []store.Log{syn(0, map[string]string{"os_guess": "nmap", "ttl": "64"})},
			StackRollup{OSGuess: "nmap", TCPFingerprint: &store.TCPFingerprint{}}},
		{"retransmits summed, malformed and negative ignored", []store.Log{
			flow(0, "3"), flow(1*s, "0"), flow(2*s, "x"), flow(3*s, "-4"), flow(4*s, " 2 "), flow(5*s, "99999999999"),
		}, StackRollup{RetransmitCount: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Rollup(tt.logs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Rollup = %s, want %s", jsonOf(t, got), jsonOf(t, tt.want))
			}
		})
	}
}
