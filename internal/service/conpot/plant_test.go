package conpot

import (
	"testing"
	"time"
)

// TestPlantMeasurements checks that measurements move slowly within
// their range, differ between deckies, and fall to 0 when the coil they
// need is off.
func TestPlantMeasurements(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, b := newPlant(SiteWater, "plc-a", clock), newPlant(SiteWater, "plc-b", clock)
	level := func(p *plant) int { return int(p.registers(tableInput, 0, 1)[0]) }
	first := level(a)
	if first < 342-18-2 || first > 342+18+2 {
		t.Errorf("tank level %d outside 342±20", first)
	}
	moved := false
	for range 12 {
		now = now.Add(5 * time.Minute)
		l := level(a)
		if l < 342-20 || l > 342+20 {
			t.Errorf("tank level %d outside 342±20", l)
		}
		moved = moved || l != first
	}
	if !moved {
		t.Error("tank level never changed in an hour")
	}
	differ := false
	for range 12 {
		now = now.Add(7 * time.Minute)
		differ = differ || level(a) != level(b)
	}
	if !differ {
		t.Error("two deckies read the same levels")
	}
	if a.registers(tableInput, 6, 1)[0] == 0 {
		t.Error("pump 1 speed 0 while running")
	}
	a.setCoils(0, []bool{false})
	if got := a.registers(tableInput, 6, 1)[0]; got != 0 {
		t.Errorf("pump 1 speed %d after its stop", got)
	}
	if a.bits(tableDiscrete, 0, 1)[0] {
		t.Error("pump 1 feedback on after its stop")
	}
}
