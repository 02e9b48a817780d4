// Package profile builds attacker profiles from stored logs: what an
// attacker touched (services, deckies, traversal path, commands, bounties)
// and how it behaves (timing, behaviour class, tool guesses, phases, the
// network stack the sniffer and the prober saw). The analysis functions
// are pure; Worker keeps the store's profiles up to date behind a cursor
// over the logs table.
package profile

import (
	"slices"
	"strings"
	"time"

	"decnet/internal/store"
)

// PathSeparator joins the deckies of a traversal path.
const PathSeparator = " → "

// Analyze computes the behaviour of an attacker from its logs (any order).
// BeaconIntervalS (the mean interval) and BeaconJitterPct (cv × 100, 2
// decimals) are set only for the beaconing class. ToolGuesses lists nmap
// first when the p0f rollup says nmap, then the beacon profiles matched,
// then the header signatures, each tool once. UpdatedAt is left zero for
// the caller to stamp.
func Analyze(logs []store.Log) store.Behavior {
	logs = inTimeOrder(logs)
	times := make([]time.Time, 0, len(logs))
	var services []string
	for _, l := range logs {
		times = append(times, l.Timestamp)
		if !slices.Contains(services, l.Service) {
			services = append(services, l.Service)
		}
	}
	stats := TimingStats(times)
	rollup := Rollup(logs)
	b := store.Behavior{
		OSGuess:         rollup.OSGuess,
		HopDistance:     rollup.HopDistance,
		TCPFingerprint:  rollup.TCPFingerprint,
		RetransmitCount: rollup.RetransmitCount,
		BehaviorClass:   Classify(stats, len(services)),
		TimingStats:     stats,
		PhaseSequence:   PhaseSequence(logs),
		ToolGuesses:     []string{},
	}
	add := func(tools ...string) {
		for _, t := range tools {
			if !slices.Contains(b.ToolGuesses, t) {
				b.ToolGuesses = append(b.ToolGuesses, t)
			}
		}
	}
	if rollup.OSGuess == "nmap" {
		add("nmap")
	}
	if stats.MeanIATS != nil && stats.CV != nil {
		add(GuessBeaconTools(*stats.MeanIATS, *stats.CV)...)
	}
	add(DetectHeaderTools(logs)...)
	if b.BehaviorClass == ClassBeaconing {
		b.BeaconIntervalS = stats.MeanIATS
		b.BeaconJitterPct = ptr(round(*stats.CV*100, 2)) // beaconing implies a cv
	}
	return b
}

// Profile builds the profile of activity.IP from what the store knows of
// it and its bounties (all of them, any order). Counts, services (sorted),
// deckies (first-contact order) and commands cover all its logs; the
// behaviour is Analyze of activity.Recent, its newest logs. An attacker
// that touched two deckies or more is a traversal, its path the deckies
// joined by " → ". Fingerprints are its fingerprint bounties.
// UpdatedAt (here and in Behavior) is left zero for the caller to stamp.
func Profile(activity store.Activity, bounties []store.Bounty) store.Attacker {
	// Lists are copied into non-nil slices: [] in JSON, never null.
	services := append([]string{}, activity.Services...)
	slices.Sort(services)
	a := store.Attacker{
		IP:           activity.IP,
		FirstSeen:    activity.FirstSeen,
		LastSeen:     activity.LastSeen,
		EventCount:   activity.EventCount,
		ServiceCount: len(services),
		DeckyCount:   len(activity.Deckies),
		Services:     services,
		Deckies:      append([]string{}, activity.Deckies...),
		IsTraversal:  len(activity.Deckies) >= 2,
		BountyCount:  int64(len(bounties)),
		Fingerprints: []store.Bounty{},
		CommandCount: activity.CommandCount,
		Commands:     append([]store.Command{}, activity.Commands...),
	}
	if a.IsTraversal {
		a.TraversalPath = strings.Join(a.Deckies, PathSeparator)
	}
	for _, b := range bounties {
		switch b.BountyType {
		case store.BountyCredential:
			a.CredentialCount++
		case store.BountyFingerprint:
			a.Fingerprints = append(a.Fingerprints, b)
		}
	}
	behavior := Analyze(activity.Recent)
	a.Behavior = &behavior
	return a
}
