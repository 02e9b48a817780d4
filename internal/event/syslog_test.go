package event

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pgregory.net/rapid"
)

var ts = time.Date(2026, 4, 18, 2, 22, 56, 123456000, time.UTC)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{
			name: "fields sorted and escaped",
			ev: Event{Time: ts, Decky: "decky-01", Service: "http", Type: "request", Severity: Info,
				Fields: map[string]string{"path": `/a"b]c\d`, "method": "GET", "src_ip": "10.0.0.7"}},
			want: `<134>1 2026-04-18T02:22:56.123456Z decky-01 http - request [relay@55555 method="GET" path="/a\"b\]c\\d" src_ip="10.0.0.7"]`,
		},
		{
			name: "no fields, message, warning",
			ev:   Event{Time: ts, Decky: "d", Service: "ssh", Type: "auth", Severity: Warning, Msg: "héllo world"},
			want: `<132>1 2026-04-18T02:22:56.123456Z d ssh - auth - héllo world`,
		},
		{
			name: "empty header fields become nil, bad bytes replaced",
			ev:   Event{Fields: map[string]string{"k": "a\xffb"}, Severity: 42},
			want: "<134>1 - - - - - [relay@55555 k=\"a\uFFFDb\"]",
		},
		{
			name: "header fields sanitized and truncated",
			ev:   Event{Time: ts, Decky: "bad host", Service: strings.Repeat("a", 60), Type: "x y"},
			want: `<128>1 2026-04-18T02:22:56.123456Z bad_host ` + strings.Repeat("a", 48) + ` - x_y -`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.ev); got != tt.want {
				t.Errorf("Format:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		want   Event
		procID string
	}{
		{
			name: "original system line",
			line: `<134>1 2026-04-18T02:22:56.123456+00:00 decky-01 http - request [relay@55555 method="GET" path="/admin" remote_addr="10.0.0.7" headers="{\"Host\": \"x\"}" body=""]`,
			want: Event{Time: ts, Decky: "decky-01", Service: "http", Type: "request", Severity: Info,
				Fields: map[string]string{"method": "GET", "path": "/admin", "remote_addr": "10.0.0.7", "headers": `{"Host": "x"}`, "body": ""}},
		},
		{
			name: "legacy SD-ID and message",
			line: `<132>1 2026-04-18T02:22:56.123456Z decky-02 smtp - auth_attempt [decnet@55555 src="1.2.3.4" username="a"] hello there`,
			want: Event{Time: ts, Decky: "decky-02", Service: "smtp", Type: "auth_attempt", Severity: Warning,
				Fields: map[string]string{"src": "1.2.3.4", "username": "a"}, Msg: "hello there"},
		},
		{
			name: "native sshd line",
			line: `<38>1 2026-04-18T02:22:56.123456+00:00 decky-03 sshd 1234 - - Accepted password for root from 1.2.3.4 port 5555 ssh2`,
			want: Event{Time: ts, Decky: "decky-03", Service: "sshd", Severity: Info,
				Msg: "Accepted password for root from 1.2.3.4 port 5555 ssh2"},
			procID: "1234",
		},
		{
			name: "foreign SD element ignored, BOM stripped",
			line: "<134>1 - h a - m [timeQuality tzKnown=\"1\"][relay@55555 a=\"1\"] \uFEFFmsg",
			want: Event{Decky: "h", Service: "a", Type: "m", Severity: Info, Fields: map[string]string{"a": "1"}, Msg: "msg"},
		},
		{
			name: "unknown escape kept literally",
			line: `<134>1 - h a - m [relay@55555 a="x\ny\\z"]`,
			want: Event{Decky: "h", Service: "a", Type: "m", Severity: Info, Fields: map[string]string{"a": `x\ny\z`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Time.Equal(tt.want.Time) {
				t.Errorf("time %v, want %v", got.Time, tt.want.Time)
			}
			got.Time = tt.want.Time
			if !reflect.DeepEqual(got.Event, tt.want) {
				t.Errorf("Parse:\n got %#v\nwant %#v", got.Event, tt.want)
			}
			if got.ProcID != tt.procID {
				t.Errorf("procid %q, want %q", got.ProcID, tt.procID)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, line := range []string{
		"", "hello", "<>1 - - - - - -", "<999>1 - - - - - -", "<134>2 - - - - - -",
		"<134>1 yesterday h a - m -", "<134>1 - h a - m", "<134>1 - h a - m [relay@55555 a=\"1\"",
		`<134>1 - h a - m [relay@55555 a=1]`, `<134>1 - h a - m [relay@55555 a="1]`, "<134>1 - h a - m -msg",
		"<134>1 - h a - m x",
	} {
		if _, err := Parse(line); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", line, err)
		}
	}
}

// TestRoundTrip is the codec's property: whatever a producer emits, a
// consumer parses back unchanged (valid UTF-8 values; header fields that are
// valid tokens; time at microsecond precision).
func TestRoundTrip(t *testing.T) {
	token := rapid.StringMatching(`[!-~]{1,20}`)
	key := rapid.StringMatching(`[a-z_][a-z0-9_]{0,20}`)
	value := rapid.StringOf(rapid.Rune().Filter(utf8.ValidRune))
	rapid.Check(t, func(t *rapid.T) {
		e := Event{
			Time:     time.Unix(rapid.Int64Range(0, 4e9).Draw(t, "sec"), rapid.Int64Range(0, 999999).Draw(t, "usec")*1000).UTC(),
			Decky:    token.Filter(func(s string) bool { return s != "-" }).Draw(t, "decky"),
			Service:  token.Filter(func(s string) bool { return s != "-" }).Draw(t, "service"),
			Type:     token.Filter(func(s string) bool { return s != "-" }).Draw(t, "type"),
			Severity: Severity(rapid.IntRange(0, 7).Draw(t, "sev")),
			Fields:   rapid.MapOf(key, value).Draw(t, "fields"),
			Msg:      rapid.StringMatching(`([^\x{FEFF}].*)?`).Draw(t, "msg"),
		}
		if len(e.Fields) == 0 {
			e.Fields = nil
		}
		line := Format(e)
		got, err := Parse(line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if !got.Time.Equal(e.Time) {
			t.Fatalf("time %v != %v", got.Time, e.Time)
		}
		got.Time = e.Time
		if !reflect.DeepEqual(got.Event, e) {
			t.Fatalf("round trip of %q:\n got %#v\nwant %#v", line, got.Event, e)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(`<134>1 2026-04-18T02:22:56.123456Z decky-01 http - request [relay@55555 method="GET" path="/a\"b\]"] msg`)
	f.Add(`<38>1 2026-04-18T02:22:56+00:00 decky-03 sshd 1234 - - Accepted password`)
	f.Fuzz(func(t *testing.T, line string) {
		l, err := Parse(line)
		if err != nil {
			return
		}
		// Whatever parses must survive a format/parse cycle with the same fields.
		again, err := Parse(Format(l.Event))
		if err != nil {
			t.Fatalf("reparse of %q: %v", Format(l.Event), err)
		}
		for k, v := range l.Fields {
			if k2 := sdName(k); k2 == k && again.Fields[k] != strings.ToValidUTF8(v, "\uFFFD") {
				t.Fatalf("field %q: %q != %q", k, again.Fields[k], v)
			}
		}
	})
}
