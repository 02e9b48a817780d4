package profile

import (
	"slices"
	"strconv"
	"strings"

	"decnet/internal/store"
)

// The events the rollup reads: the sniffer's SYN fingerprint and flow
// summary of a client, and the prober's active TCP fingerprint of it.
const (
	typeSYN   = "tcp_syn_fingerprint"
	typeFlow  = "tcp_flow_timing"
	typeTCPFP = "tcpfp_fingerprint"
)

// StackRollup is what the sniffer and the prober tell about an attacker's
// network stack.
type StackRollup struct {
	OSGuess         string // "" when nothing is known
	HopDistance     *int
	TCPFingerprint  *store.TCPFingerprint // the latest snapshot
	RetransmitCount int
}

// ttlBucket is a coarse OS and its initial TTL, for observed TTLs in
// [min, max].
type ttlBucket struct {
	min, max, initial int
	os                string
}

var ttlBuckets = []ttlBucket{{55, 70, 64, "linux"}, {115, 135, 128, "windows"}, {235, 255, 255, "embedded"}}

func bucketOf(ttl string) (ttlBucket, bool) {
	n, ok := atoi(ttl)
	if !ok {
		return ttlBucket{}, false
	}
	for _, b := range ttlBuckets {
		if b.min <= n && n <= b.max {
			return b, true
		}
	}
	return ttlBucket{}, false
}

// Rollup summarises the sniffer's tcp_syn_fingerprint and tcp_flow_timing
// events and the prober's tcpfp_fingerprint events among logs, as the
// original's sniffer_rollup:
//   - OSGuess: the most frequent p0f label (os_guess, "unknown" ignored;
//     ties go to the first seen), else the TTL bucket (55–70 linux,
//     115–135 windows, 235–255 embedded) of the most frequent TTL (the
//     sniffer's ttl or initial_ttl, the prober's ttl);
//   - HopDistance: the median (rounded down) of the positive hop counts:
//     the sniffer's hop_distance, and for the prober the bucket's initial
//     TTL (64, 128, 255) minus the observed one;
//   - TCPFingerprint: the latest SYN or prober snapshot, the prober's
//     window_size, window_scale, options_order, sack_ok=="1" and
//     timestamp=="1" mapped onto the sniffer's names;
//   - RetransmitCount: the sum of the flows' retransmits.
//
// Malformed numbers are ignored, as are negative retransmit counts.
func Rollup(logs []store.Log) StackRollup {
	var r StackRollup
	var labels, ttls []string
	var hops []int
	for _, l := range inTimeOrder(logs) {
		f := l.Fields
		switch l.EventType {
		case typeSYN:
			if og := f["os_guess"]; og != "" && og != "unknown" {
				labels = append(labels, og)
			}
			ttl := f["ttl"]
			if ttl == "" {
				ttl = f["initial_ttl"]
			}
			if ttl != "" {
				ttls = append(ttls, ttl)
			}
			if h, ok := atoi(f["hop_distance"]); ok && h > 0 {
				hops = append(hops, h)
			}
			r.TCPFingerprint = &store.TCPFingerprint{
				Window: intField(f["window"]), WScale: intField(f["wscale"]), MSS: intField(f["mss"]),
				OptionsSig: f["options_sig"], HasSACK: f["has_sack"] == "true", HasTimestamps: f["has_timestamps"] == "true",
			}
		case typeFlow:
			if n, ok := atoi(f["retransmits"]); ok && n > 0 {
				r.RetransmitCount += n
			}
		case typeTCPFP:
			if ttl := f["ttl"]; ttl != "" {
				ttls = append(ttls, ttl)
				if b, ok := bucketOf(ttl); ok {
					if n, _ := atoi(ttl); b.initial-n > 0 {
						hops = append(hops, b.initial-n)
					}
				}
			}
			r.TCPFingerprint = &store.TCPFingerprint{
				Window: intField(f["window_size"]), WScale: intField(f["window_scale"]), MSS: intField(f["mss"]),
				OptionsSig: f["options_order"], HasSACK: f["sack_ok"] == "1", HasTimestamps: f["timestamp"] == "1",
			}
		}
	}
	if label, ok := mode(labels); ok {
		r.OSGuess = label
	} else if ttl, ok := mode(ttls); ok {
		if b, ok := bucketOf(ttl); ok {
			r.OSGuess = b.os
		}
	}
	if len(hops) > 0 {
		r.HopDistance = ptr(median(hops))
	}
	return r
}

// mode returns the most frequent value, the first seen among equals.
func mode(values []string) (string, bool) {
	counts := map[string]int{}
	for _, v := range values {
		counts[v]++
	}
	best := -1
	for i, v := range values {
		if best < 0 || counts[v] > counts[values[best]] {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return values[best], true
}

// median is the median of values, rounded down; values is sorted in place.
func median(values []int) int {
	slices.Sort(values)
	m := len(values) / 2
	if len(values)%2 == 0 {
		return (values[m-1] + values[m]) / 2
	}
	return values[m]
}

// intField is a numeric field, nil when absent or malformed.
func intField(s string) *int {
	if n, ok := atoi(s); ok {
		return &n
	}
	return nil
}

// atoi parses a decimal integer field, surrounding spaces allowed (as
// Python's int). Values beyond 32 bits are refused: no TTL, window, hop
// or retransmit count is that large, and it keeps sums from overflowing.
func atoi(s string) (int, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	return int(n), err == nil
}
