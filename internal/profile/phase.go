package profile

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/store"
)

// reconTypes are the event types of reconnaissance: the original's, plus
// "connect", our shared vocabulary's name for its "connection".
var reconTypes = []string{"scan", "connection", "connect", "banner", "probe", "login_attempt", "auth", "auth_failure"}

// actionTypes are the event types of action on the objective: the
// original's, plus "file_captured", our name for a file an attacker
// dropped on a decky (an upload).
var actionTypes = []string{"download", "upload", "file_transfer", "data_exfil", "command", "exec", "query", "shell_input", "file_captured"}

// payloadSizeFields hold byte counts: the original's, plus body_size (our
// HTTP service's request body size).
var payloadSizeFields = []string{"bytes", "size", "content_length", "body_size"}

// largePayload is the size from which a payload counts as bulk transfer.
const largePayload = 1 << 20

// PhaseSequence places the end of an attacker's reconnaissance (its last
// recon event) and the start of its action on the objective (its first
// action event), in time order, and counts events whose bytes, size,
// content_length or body_size field is at least 1 MiB. ExfilLatencyS is
// set (3 decimals) only when both exist and the action did not come first.
func PhaseSequence(logs []store.Log) store.PhaseSequence {
	var ps store.PhaseSequence
	for _, l := range inTimeOrder(logs) {
		switch {
		case slices.Contains(reconTypes, l.EventType):
			ps.ReconEndTS = ptr(l.Timestamp)
		case slices.Contains(actionTypes, l.EventType) && ps.ExfilStartTS == nil:
			ps.ExfilStartTS = ptr(l.Timestamp)
		}
		if slices.ContainsFunc(payloadSizeFields, func(f string) bool { return isLarge(l.Fields[f]) }) {
			ps.LargePayloadCount++
		}
	}
	if ps.ReconEndTS != nil && ps.ExfilStartTS != nil && !ps.ExfilStartTS.Before(*ps.ReconEndTS) {
		ps.ExfilLatencyS = ptr(round(ps.ExfilStartTS.Sub(*ps.ReconEndTS).Seconds(), 3))
	}
	return ps
}

// isLarge reports whether a byte count field is at least largePayload. A
// number too large for 64 bits is a byte count too, and a large one.
func isLarge(s string) bool {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return (err == nil || errors.Is(err, strconv.ErrRange)) && n >= largePayload
}

// inTimeOrder returns logs sorted by timestamp, ties kept in their given
// (id) order; logs itself when already sorted.
func inTimeOrder(logs []store.Log) []store.Log {
	cmp := func(a, b store.Log) int { return a.Timestamp.Compare(b.Timestamp) }
	if slices.IsSortedFunc(logs, cmp) {
		return logs
	}
	sorted := slices.Clone(logs)
	slices.SortStableFunc(sorted, cmp)
	return sorted
}
