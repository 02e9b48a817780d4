package archetype

import (
	"fmt"
	"testing"
	"time"
)

func TestBoot(t *testing.T) {
	base := time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)
	for i := range 50 {
		name := fmt.Sprintf("decky-%02d", i)
		prev := Boot(name, base)
		reboots := 0
		// A year in six-hour steps: uptime stays plausible, boot only
		// moves forward, and a reboot starts a fresh short uptime.
		for now := base; now.Before(base.AddDate(1, 0, 0)); now = now.Add(6 * time.Hour) {
			b := Boot(name, now)
			if up := now.Sub(b); up < minUptime || up >= minUptime+minCycle+cycleSpan {
				t.Fatalf("%s at %v: uptime %v out of range", name, now, up)
			}
			if b.Nanosecond() != 0 {
				t.Fatalf("%s: boot %v not whole seconds", name, b)
			}
			if b.Before(prev) {
				t.Fatalf("%s: boot went back from %v to %v", name, prev, b)
			}
			if !b.Equal(prev) {
				if gap := b.Sub(prev); gap < minCycle || gap >= minCycle+cycleSpan {
					t.Fatalf("%s: reboot after %v", name, gap)
				}
				reboots++
			}
			if again := Boot(name, now); !again.Equal(b) {
				t.Fatalf("%s: not deterministic", name)
			}
			prev = b
		}
		if reboots < 6 || reboots > 13 {
			t.Errorf("%s: %d reboots in a year", name, reboots)
		}
	}
	if Boot("alpha", base).Equal(Boot("bravo", base)) {
		t.Error("two deckies share a boot time")
	}
	if b := Boot("old", time.Unix(-5e6, 0)); b.After(time.Unix(-5e6, 0).Add(-minUptime)) {
		t.Errorf("before the epoch: boot %v", b)
	}
}
