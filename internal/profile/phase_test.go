package profile

import (
	"testing"
	"time"

	"decnet/internal/store"
)

func ev(d time.Duration, typ string, fields map[string]string) store.Log {
	return store.Log{Timestamp: at(d), Decky: "decky-01", Service: "ssh", EventType: typ, AttackerIP: "198.51.100.7", Fields: fields}
}

func TestPhaseSequence(t *testing.T) {
	s := time.Second
	tp := func(d time.Duration) *time.Time { v := at(d); return &v }
	tests := []struct {
		name string
		logs []store.Log
		want store.PhaseSequence
	}{
		{"nothing", nil, store.PhaseSequence{}},
		{"recon then action", []store.Log{
			ev(0, "connect", nil), ev(2*s, "auth", nil), ev(5*s, "command", nil), ev(9*s, "command", nil),
		}, store.PhaseSequence{ReconEndTS: tp(2 * s), ExfilStartTS: tp(5 * s), ExfilLatencyS: f(3)}},
		{"in time order, whatever the input order", []store.Log{
			ev(9*s, "command", nil), ev(2500*time.Millisecond, "auth", nil), ev(0, "scan", nil), ev(5*s, "download", nil),
		}, store.PhaseSequence{ReconEndTS: tp(2500 * time.Millisecond), ExfilStartTS: tp(5 * s), ExfilLatencyS: f(2.5)}},
		{"every recon type", []store.Log{
			ev(0, "scan", nil), ev(1*s, "connection", nil), ev(2*s, "connect", nil), ev(3*s, "banner", nil), ev(4*s, "probe", nil),
			ev(5*s, "login_attempt", nil), ev(6*s, "auth_failure", nil), ev(7*s, "auth", nil), ev(8*s, "disconnect", nil),
		}, store.PhaseSequence{ReconEndTS: tp(7 * s)}},
		{"every action type, the first counts", []store.Log{
			ev(8*s, "file_captured", nil), ev(7*s, "shell_input", nil), ev(6*s, "query", nil), ev(5*s, "exec", nil),
			ev(4*s, "command", nil), ev(3*s, "data_exfil", nil), ev(2*s, "file_transfer", nil), ev(1*s, "upload", nil),
			ev(0, "download", nil), ev(-time.Second, "request", nil),
		}, store.PhaseSequence{ExfilStartTS: tp(0)}},
		{"action before the last recon: no latency", []store.Log{
			ev(0, "auth", nil), ev(1*s, "command", nil), ev(2*s, "auth", nil),
		}, store.PhaseSequence{ReconEndTS: tp(2 * s), ExfilStartTS: tp(1 * s)}},
		{"action at the same instant: zero latency", []store.Log{
			ev(0, "auth", nil), ev(0, "command", nil),
		}, store.PhaseSequence{ReconEndTS: tp(0), ExfilStartTS: tp(0), ExfilLatencyS: f(0)}},
		{"large payloads", []store.Log{
			ev(0, "file_captured", map[string]string{"size": "1048576"}),
			ev(1, "file_captured", map[string]string{"size": "1048575"}),
			ev(2, "data", map[string]string{"bytes": " 2000000 "}),
			ev(3, "request", map[string]string{"content_length": "99999999999999999999999"}),
			ev(4, "request", map[string]string{"body_size": "8388608"}),
			ev(5, "x", map[string]string{"size": "-99999999999999999999999"}),
			ev(6, "x", map[string]string{"size": "2MB", "bytes": "0x200000"}),
			ev(7, "x", map[string]string{"size": "5", "bytes": "5000000"}),
			ev(8, "x", map[string]string{"size": "5000000", "bytes": "5000000"}),
		}, store.PhaseSequence{ExfilStartTS: tp(0), LargePayloadCount: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PhaseSequence(tt.logs)
			eqT := func(a, b *time.Time) bool { return a == nil && b == nil || a != nil && b != nil && a.Equal(*b) }
			eqF := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
			if !eqT(got.ReconEndTS, tt.want.ReconEndTS) || !eqT(got.ExfilStartTS, tt.want.ExfilStartTS) ||
				!eqF(got.ExfilLatencyS, tt.want.ExfilLatencyS) || got.LargePayloadCount != tt.want.LargePayloadCount {
				t.Errorf("PhaseSequence = %s, want %s", jsonOf(t, got), jsonOf(t, tt.want))
			}
		})
	}
}
