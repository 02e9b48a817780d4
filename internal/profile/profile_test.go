package profile

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"decnet/internal/store"
)

// Synthetic timelines, one per behaviour class, through the whole analysis.
func TestAnalyzeBehaviorClasses(t *testing.T) {
	const ip = "203.0.113.9"
	ms, s := time.Millisecond, time.Second
	ssh := []string{"ssh"}
	tests := []struct {
		name  string
		logs  []store.Log
		class string
		tools []string
	}{
		{"unknown: too few events", timeline(ip, "connect", ssh, 10*s), ClassUnknown, []string{}},
		{"slow scan: two services, a minute apart", timeline(ip, "connect", []string{"ssh", "http"}, every(time.Minute, 4)...),
			ClassSlowScan, []string{}},
		{"scanning: three services in a burst", timeline(ip, "connect", []string{"ssh", "http", "redis"}, every(100*ms, 9)...),
			ClassScanning, []string{}},
		{"brute force: one service, steady", timeline(ip, "auth", ssh, every(time.Second, 19)...),
			ClassBruteForce, []string{}},
		{"interactive: one service, irregular", timeline(ip, "command", ssh,
			200*ms, 4*s, 300*ms, 8*s, 500*ms, 200*ms, 3*s), ClassInteractive, []string{}},
		{"mixed: slow and irregular", timeline(ip, "command", ssh, s, 20*s, s, 20*s), ClassMixed, []string{}},
		{"beaconing: cobalt strike", timeline(ip, "connect", ssh, alternating(60*s, 12*s, 6)...),
			ClassBeaconing, []string{"cobalt_strike"}},
		{"beaconing: sliver", timeline(ip, "connect", ssh, alternating(60*s, 18*s, 6)...),
			ClassBeaconing, []string{"sliver"}},
		{"beaconing: cobalt strike or sliver", timeline(ip, "connect", ssh, alternating(60*s, 14400*ms, 6)...),
			ClassBeaconing, []string{"cobalt_strike", "sliver"}},
		{"beaconing: havoc", timeline(ip, "connect", ssh, alternating(45*s, 4500*ms, 6)...),
			ClassBeaconing, []string{"havoc"}},
		{"beaconing: mythic", timeline(ip, "connect", ssh, alternating(30*s, 4500*ms, 6)...),
			ClassBeaconing, []string{"mythic"}},
		{"beaconing: no known framework", timeline(ip, "connect", ssh, every(10*s, 5)...),
			ClassBeaconing, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Analyze(tt.logs)
			if b.BehaviorClass != tt.class {
				t.Errorf("class %q, want %q (stats %s)", b.BehaviorClass, tt.class, statsString(b.TimingStats))
			}
			if !slices.Equal(b.ToolGuesses, tt.tools) {
				t.Errorf("tools %q, want %q", b.ToolGuesses, tt.tools)
			}
			beaconing := tt.class == ClassBeaconing
			if (b.BeaconIntervalS != nil) != beaconing || (b.BeaconJitterPct != nil) != beaconing {
				t.Fatalf("beacon interval %v, jitter %v for class %s", b.BeaconIntervalS, b.BeaconJitterPct, b.BehaviorClass)
			}
			if beaconing && (*b.BeaconIntervalS != *b.TimingStats.MeanIATS || *b.BeaconJitterPct != round(*b.TimingStats.CV*100, 2)) {
				t.Errorf("beacon %v s ±%v%%, stats %s", *b.BeaconIntervalS, *b.BeaconJitterPct, statsString(b.TimingStats))
			}
		})
	}
}

func TestAnalyzeTools(t *testing.T) {
	s := time.Second
	beacon := timeline("203.0.113.9", "request", []string{"http"}, alternating(30*s, 4500*time.Millisecond, 6)...)
	beacon[2].Fields = map[string]string{"user_agent": "python-requests/2.31"}
	beacon[3].Fields = map[string]string{"headers": `{"User-Agent":"curl/8.5.0"}`}
	beacon[4].Fields = map[string]string{"user_agent": "python-requests/2.31"}
	nmapSYN := syn(-s, map[string]string{"os_guess": "nmap"})
	tests := []struct {
		name string
		logs []store.Log
		want []string
	}{
		{"beacon, then headers", beacon, []string{"mythic", "python_requests", "curl"}},
		{"nmap from the TCP stack first", append([]store.Log{nmapSYN}, beacon...), []string{"nmap", "python_requests", "curl"}},
		{"nmap once", []store.Log{nmapSYN, request(0, ua("Nmap Scripting Engine"), "")}, []string{"nmap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Analyze(tt.logs).ToolGuesses; !slices.Equal(got, tt.want) {
				t.Errorf("ToolGuesses = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProfile(t *testing.T) {
	const ip = "198.51.100.7"
	recent := []store.Log{
		{Timestamp: at(0), Decky: "decky-02", Service: "ssh", EventType: "auth", AttackerIP: ip},
		{Timestamp: at(time.Second), Decky: "decky-02", Service: "ssh", EventType: "command", AttackerIP: ip},
		{Timestamp: at(3 * time.Second), Decky: "decky-01", Service: "redis", EventType: "command", AttackerIP: ip},
	}
	cmds := []store.Command{{Timestamp: at(time.Second), Decky: "decky-02", Service: "ssh", Command: "uname -a"}}
	cred := store.Bounty{ID: 1, AttackerIP: ip, BountyType: store.BountyCredential, Payload: map[string]any{"username": "root"}}
	ua := store.Bounty{ID: 2, AttackerIP: ip, BountyType: store.BountyFingerprint, Payload: map[string]any{"fingerprint_type": "http_useragent"}}
	ja3 := store.Bounty{ID: 3, AttackerIP: ip, BountyType: store.BountyFingerprint, Payload: map[string]any{"fingerprint_type": "ja3"}}
	other := store.Bounty{ID: 4, AttackerIP: ip, BountyType: "payload"}
	act := store.Activity{IP: ip, EventCount: 40, FirstSeen: at(-time.Hour), LastSeen: at(3 * time.Second),
		Deckies: []string{"decky-02", "decky-03", "decky-01"}, Services: []string{"ssh", "redis", "http"},
		CommandCount: 12, Commands: cmds, Recent: recent}

	got := Profile(act, []store.Bounty{cred, ua, other, ja3})
	behavior := Analyze(recent)
	want := store.Attacker{IP: ip, FirstSeen: act.FirstSeen, LastSeen: act.LastSeen, EventCount: 40,
		ServiceCount: 3, DeckyCount: 3, Services: []string{"http", "redis", "ssh"},
		Deckies: []string{"decky-02", "decky-03", "decky-01"}, TraversalPath: "decky-02 → decky-03 → decky-01", IsTraversal: true,
		BountyCount: 4, CredentialCount: 1, Fingerprints: []store.Bounty{ua, ja3}, CommandCount: 12, Commands: cmds,
		Behavior: &behavior}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Profile =\n%s\nwant\n%s", jsonOf(t, got), jsonOf(t, want))
	}
	if act.Services[0] != "ssh" {
		t.Error("Profile sorted the activity's services in place")
	}
	// The behaviour is the recent logs': two services there, not three.
	if got.Behavior.TimingStats.EventCount != 3 || got.Behavior.BehaviorClass != ClassScanning {
		t.Errorf("behaviour %s of %d events, want scanning of 3", got.Behavior.BehaviorClass, got.Behavior.TimingStats.EventCount)
	}

	single := Profile(store.Activity{IP: ip, EventCount: 1, Deckies: []string{"decky-01"}, Services: []string{"ssh"}}, nil)
	if single.IsTraversal || single.TraversalPath != "" || single.DeckyCount != 1 {
		t.Errorf("one decky: traversal %v %q", single.IsTraversal, single.TraversalPath)
	}
	if single.Fingerprints == nil || single.Commands == nil || single.Behavior.ToolGuesses == nil {
		t.Error("empty lists must be [] in JSON, not null")
	}
	if single.Behavior.BehaviorClass != ClassUnknown {
		t.Errorf("no recent logs: class %q", single.Behavior.BehaviorClass)
	}
}
