package event

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAttackerIP(t *testing.T) {
	tests := []struct {
		fields map[string]string
		msg    string
		want   string
	}{
		{map[string]string{"src": "1.1.1.1", "src_ip": "2.2.2.2"}, "", "2.2.2.2"},
		{map[string]string{"remote_addr": "3.3.3.3"}, "", "3.3.3.3"},
		{map[string]string{}, "CMD uid=0 user=root src=4.4.4.4 pwd=/root cmd=ls", "4.4.4.4"},
		{map[string]string{}, "nothing here", Unknown},
		{nil, "", Unknown},
	}
	for _, tt := range tests {
		if got := AttackerIP(tt.fields, tt.msg); got != tt.want {
			t.Errorf("AttackerIP(%v, %q) = %q, want %q", tt.fields, tt.msg, got, tt.want)
		}
	}
}

func TestRecordJSON(t *testing.T) {
	e := Event{Time: ts, Decky: "decky-01", Service: "ssh", Type: "auth", Severity: Warning,
		Fields: map[string]string{"src_ip": "127.66.0.9", "username": "root", "password": "x"}}
	r := NewRecord(e)
	if r.AttackerIP != "127.66.0.9" || r.RawLine != Format(e) {
		t.Fatalf("record %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Timestamp.Equal(r.Timestamp) || back.RawLine != r.RawLine || back.Severity != Warning || back.Fields["password"] != "x" {
		t.Fatalf("round trip: %+v", back)
	}
}

// TestRecordLegacyJSON reads a record as the original system's collector wrote it.
func TestRecordLegacyJSON(t *testing.T) {
	line := `{"timestamp": "2026-04-18 02:22:56", "decky": "decky-01", "service": "redis", "event_type": "auth", "attacker_ip": "", "fields": {"src": "9.9.9.9", "password": "p"}, "msg": "", "raw_line": "x"}`
	var r Record
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Timestamp.Equal(time.Date(2026, 4, 18, 2, 22, 56, 0, time.UTC)) || r.AttackerIP != "9.9.9.9" || r.Severity != Info {
		t.Fatalf("legacy record: %+v", r)
	}
	for _, bad := range []string{`{}`, `{"timestamp":"soon"}`, `[1]`} {
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestParseRecord(t *testing.T) {
	r, err := ParseRecord("<38>1 2026-04-18T02:22:56Z d sshd 12 - - Failed password for root from 5.5.5.5 port 2 ssh2\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.EventType != "-" || r.AttackerIP != Unknown || r.RawLine[len(r.RawLine)-1] == '\n' {
		t.Fatalf("record %+v", r)
	}
}

func TestRecordTimeMatchesLine(t *testing.T) {
	e := Event{Time: time.Date(2026, 11, 25, 22, 1, 35, 663036231, time.UTC), Decky: "d", Service: "s", Type: "t"}
	r := NewRecord(e)
	back, err := ParseRecord(r.RawLine)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Timestamp.Equal(r.Timestamp) {
		t.Fatalf("record time %v, line time %v", r.Timestamp, back.Timestamp)
	}
}
