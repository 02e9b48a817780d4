package event

import "testing"

func TestWith(t *testing.T) {
	base := map[string]string{"src_ip": "1.2.3.4", "session": "s"}
	got := With(base, map[string]string{"session": "t", "command": "id"})
	if len(got) != 3 || got["session"] != "t" || got["command"] != "id" || got["src_ip"] != "1.2.3.4" {
		t.Fatalf("With = %v", got)
	}
	if base["session"] != "s" || len(base) != 2 {
		t.Fatalf("With changed its input: %v", base)
	}
}
