package udplimit

import (
	"testing"
	"time"
)

// step is one call to a Limiter, at a time after the test's start, and
// what it must answer.
type step struct {
	op     string // admit, spend, start or done
	ip     string
	at     time.Duration
	drop   Drop
	report bool // admit: the drop is the first of its run
	ok     bool // spend: there was a token
}

// TestLimiter plays sequences of datagrams and work against limits small
// enough to reach.
func TestLimiter(t *testing.T) {
	sec := time.Second
	for _, tc := range []struct {
		name  string
		lim   Limits
		steps []step
	}{{
		name: "rate and burst, a run reported once",
		lim:  Limits{Rate: 1, Burst: 3, GlobalRate: 100, GlobalBurst: 100, MaxSources: 2},
		steps: []step{
			{op: "admit", ip: "a"}, {op: "admit", ip: "a"}, {op: "admit", ip: "a"},
			{op: "admit", ip: "a", drop: Rate, report: true},
			{op: "admit", ip: "a", drop: Rate},
			{op: "admit", ip: "b"}, // sources have buckets of their own
			{op: "admit", ip: "a", at: sec},
			{op: "admit", ip: "a", at: sec, drop: Rate, report: true}, // a new run
			{op: "admit", ip: "a", at: 3 * sec},
			{op: "admit", ip: "a", at: 3 * sec},
			{op: "admit", ip: "a", at: 3 * sec, drop: Rate, report: true},
		},
	}, {
		name: "global rate",
		lim:  Limits{Rate: 100, Burst: 100, GlobalRate: 1, GlobalBurst: 2, MaxSources: 10},
		steps: []step{
			{op: "admit", ip: "a"}, {op: "admit", ip: "b"},
			{op: "admit", ip: "c", drop: GlobalRate, report: true},
			{op: "admit", ip: "c", drop: GlobalRate},
			{op: "admit", ip: "a", drop: GlobalRate, report: true}, // runs are per source
			{op: "admit", ip: "c", at: sec},
			{op: "admit", ip: "c", at: sec, drop: GlobalRate, report: true},
		},
	}, {
		name: "no global bound",
		lim:  Limits{Rate: 1, Burst: 1, MaxSources: 10},
		steps: []step{
			{op: "admit", ip: "a"}, {op: "admit", ip: "b"}, {op: "admit", ip: "c"},
			{op: "admit", ip: "a", drop: Rate, report: true},
		},
	}, {
		name: "source table full, swept at most once a second",
		lim:  Limits{Rate: 10, Burst: 2, GlobalRate: 100, GlobalBurst: 100, MaxSources: 2},
		steps: []step{
			{op: "admit", ip: "a"}, {op: "admit", ip: "b"},
			{op: "admit", ip: "c", drop: Sources, report: true}, // swept: a and b are not full
			{op: "admit", ip: "d", drop: Sources},
			// a and b refilled by now, but the last sweep was too recent.
			{op: "admit", ip: "c", at: sec / 2, drop: Sources},
			{op: "admit", ip: "c", at: sec},
			{op: "admit", ip: "a", at: sec}, // forgotten with b, and back with a full bucket
			{op: "admit", ip: "a", at: sec},
			{op: "admit", ip: "a", at: sec, drop: Rate, report: true},
			{op: "admit", ip: "d", at: sec, drop: Sources, report: true},
		},
	}, {
		name: "work in all and per source, Done frees",
		lim:  Limits{Rate: 1, Burst: 1, GlobalRate: 100, GlobalBurst: 100, MaxSources: 2, MaxBusy: 3, MaxBusyPerSource: 2},
		steps: []step{
			{op: "start", ip: "a"}, {op: "start", ip: "a"},
			{op: "start", ip: "a", drop: SourceBusy},
			{op: "start", ip: "b"},
			{op: "start", ip: "b", drop: Busy},
			{op: "done", ip: "a"},
			{op: "start", ip: "b"},
			{op: "start", ip: "c", drop: Sources},
			// Sources with work under way are never forgotten.
			{op: "admit", ip: "c", at: time.Hour, drop: Sources, report: true},
			{op: "done", ip: "b"}, {op: "done", ip: "b"},
			{op: "admit", ip: "c", at: 2 * time.Hour},
			{op: "start", ip: "c", at: 2 * time.Hour},
		},
	}, {
		name: "a refused start leaves the rate's report alone",
		lim:  Limits{Rate: 1, Burst: 1, GlobalRate: 100, GlobalBurst: 100, MaxSources: 2, MaxBusy: 2, MaxBusyPerSource: 1},
		steps: []step{
			{op: "admit", ip: "a"}, {op: "start", ip: "a"},
			{op: "start", ip: "a", drop: SourceBusy},
			{op: "admit", ip: "a", drop: Rate, report: true},
		},
	}, {
		name: "spend",
		lim:  Limits{Rate: 1, Burst: 3, MaxSources: 2},
		steps: []step{
			{op: "spend", ip: "a"}, // unknown sources have nothing to spend
			{op: "admit", ip: "a"},
			{op: "spend", ip: "a", ok: true}, {op: "spend", ip: "a", ok: true},
			{op: "spend", ip: "a"},
			{op: "admit", ip: "a", drop: Rate, report: true},
			{op: "admit", ip: "a", at: sec},
			{op: "spend", ip: "a", at: sec},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(tc.lim)
			start := time.Unix(1000, 0)
			for i, s := range tc.steps {
				now := start.Add(s.at)
				switch s.op {
				case "admit":
					if d, rep := l.Admit(s.ip, now); d != s.drop || rep != s.report {
						t.Errorf("step %d: Admit(%s) = %q %v, want %q %v", i, s.ip, d, rep, s.drop, s.report)
					}
				case "spend":
					if ok := l.Spend(s.ip); ok != s.ok {
						t.Errorf("step %d: Spend(%s) = %v, want %v", i, s.ip, ok, s.ok)
					}
				case "start":
					if d := l.Start(s.ip, now); d != s.drop {
						t.Errorf("step %d: Start(%s) = %q, want %q", i, s.ip, d, s.drop)
					}
				case "done":
					l.Done(s.ip)
				default:
					t.Fatalf("step %d: no op %q", i, s.op)
				}
			}
		})
	}
}
