package event

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzRecordJSON holds the fast decoder to encoding/json: whenever the fast
// path accepts a line, the general decoder must accept it with the same
// result.
func FuzzRecordJSON(f *testing.F) {
	for _, e := range []Event{
		{Time: ts, Decky: "decky-01", Service: "ssh", Type: "auth", Severity: Warning,
			Fields: map[string]string{"src_ip": "127.66.0.9", "password": "p\"w\\d\n\u2603\U0001F600<>&"}, Msg: "m"},
		{Time: ts, Decky: "d", Service: "s", Type: "t"},
	} {
		b, _ := json.Marshal(NewRecord(e))
		f.Add(b)
	}
	f.Add([]byte(`{"timestamp":"2026-04-18 02:22:56","fields":{"src":"1.2.3.4"},"severity":-3}`))
	f.Add([]byte(`{"timestamp":"x","fields":null,"msg":"\ud83d\ude00\u00e9\/"}`))
	f.Add([]byte(`{"Decky":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast wireRecord
		if !decodeFast(b, &fast) {
			return
		}
		var slow wireRecord
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decoders disagree on %q:\nfast %+v\nslow %+v", b, fast, slow)
		}
	})
}

func TestDecodeFastTakesEmitterLines(t *testing.T) {
	e := Event{Time: ts, Decky: "decky-01", Service: "http", Type: "request", Severity: Notice,
		Fields: map[string]string{"headers": `{"User-Agent":"curl/7.88.1"}`, "path": "/a?b=<c>&d", "src_ip": "127.66.0.9"}}
	b, err := json.Marshal(NewRecord(e))
	if err != nil {
		t.Fatal(err)
	}
	var w wireRecord
	if !decodeFast(b, &w) {
		t.Fatalf("fast path refused an emitter line: %s", b)
	}
	var r Record
	if err := r.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if r.Severity != Notice || r.Fields["headers"] != e.Fields["headers"] || r.RawLine != Format(e) || !r.Timestamp.Equal(ts) {
		t.Fatalf("decoded %+v", r)
	}
}

func BenchmarkRecordUnmarshal(b *testing.B) {
	e := Event{Time: ts, Decky: "decky-01", Service: "http", Type: "request",
		Fields: map[string]string{"method": "GET", "path": "/index.html", "src_ip": "127.66.0.9", "src_port": "40000",
			"user_agent": "curl/7.88.1", "headers": `{"Host":"x","User-Agent":"curl/7.88.1"}`, "session": "abcdef012345"}}
	line, _ := json.Marshal(NewRecord(e))
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		var r Record
		if err := r.UnmarshalJSON(line); err != nil {
			b.Fatal(err)
		}
	}
}
