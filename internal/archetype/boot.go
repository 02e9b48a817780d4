package archetype

import (
	"hash/fnv"
	"time"
)

// Reboot cycle bounds: each decky reboots (kernel updates, maintenance)
// every 30 to 58 days, at a phase of its own, and every service it runs is
// at least minUptime old, so no service can claim to predate the machine
// nor to have started in the future.
const (
	minCycle  = 30 * 24 * time.Hour
	cycleSpan = 28 * 24 * time.Hour
	minUptime = 2 * 24 * time.Hour
)

// Boot returns when the decky named decky last booted, as seen at now. It
// is derived from the name alone, so every service of the decky (the
// shell's uptime and ps, redis INFO) and every restart of the honeypot
// agree on it; it moves forward one reboot cycle at a time, so uptime grows
// like a real machine's and stays between two days and about two months.
// The result is whole seconds.
func Boot(decky string, now time.Time) time.Time {
	h := fnv.New64a()
	h.Write([]byte(decky + "|boot"))
	seed := h.Sum64()
	cycle := int64((minCycle + time.Duration(seed%uint64(cycleSpan/time.Second))*time.Second) / time.Second)
	phase := int64(seed>>32) % cycle
	t := now.Add(-minUptime).Unix() - phase
	k := t / cycle
	if t%cycle < 0 {
		k-- // floor division for times before the epoch
	}
	return time.Unix(phase+k*cycle, 0).In(now.Location())
}
