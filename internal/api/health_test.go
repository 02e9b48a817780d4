package api

import (
	"context"
	"errors"
	"testing"
	"time"
)

func ok(context.Context) error { return nil }

func failWith(msg string) func(context.Context) error {
	return func(context.Context) error { return errors.New(msg) }
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name       string
		dbErr      error
		checks     []Check
		status     int
		overall    string
		components map[string]ComponentHealth
	}{
		{"all ok", nil, []Check{{Name: "ingester", Critical: true, Probe: ok}, {Name: "profiler", Probe: ok}}, 200, "healthy",
			map[string]ComponentHealth{"database": {"ok", "ok"}, "ingester": {"ok", "ok"}, "profiler": {"ok", "ok"}}},
		{"only database", nil, nil, 200, "healthy", map[string]ComponentHealth{"database": {"ok", "ok"}}},
		{"non-critical failing", nil, []Check{{Name: "ingester", Critical: true, Probe: ok}, {Name: "sniffer", Probe: failWith("not started")}}, 200, "degraded",
			map[string]ComponentHealth{"database": {"ok", "ok"}, "ingester": {"ok", "ok"}, "sniffer": {"failing", "not started"}}},
		{"critical worker failing", nil, []Check{{Name: "ingester", Critical: true, Probe: failWith("stopped: disk full")}, {Name: "sniffer", Probe: failWith("x")}}, 503, "unhealthy",
			map[string]ComponentHealth{"database": {"ok", "ok"}, "ingester": {"failing", "stopped: disk full"}, "sniffer": {"failing", "x"}}},
		{"database failing", errors.New("database is closed"), nil, 503, "unhealthy",
			map[string]ComponentHealth{"database": {"failing", "database is closed"}}},
		{"probe panics", nil, []Check{{Name: "prober", Probe: func(context.Context) error { panic("boom") }}}, 200, "degraded",
			map[string]ComponentHealth{"database": {"ok", "ok"}, "prober": {"failing", "probe panicked: boom"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, tok := viewerFixture(t, func(c *Config) { c.Checks = tt.checks })
			f.repo.pingErr = tt.dbErr
			m := expectJSON(t, f.do(t, "GET", "/api/v1/health", tok, ""), tt.status)
			if m["status"] != tt.overall {
				t.Fatalf("status %v, want %s", m["status"], tt.overall)
			}
			comps := m["components"].(map[string]any)
			if len(comps) != len(tt.components) {
				t.Fatalf("components %v", comps)
			}
			for name, want := range tt.components {
				got, _ := comps[name].(map[string]any)
				if got["status"] != want.Status || got["detail"] != want.Detail {
					t.Fatalf("%s = %v, want %+v", name, got, want)
				}
			}
		})
	}
}

func TestHealthHungProbe(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f, tok := viewerFixture(t, func(c *Config) {
		c.Checks = []Check{{Name: "ingester", Critical: true, Probe: func(context.Context) error { <-release; return nil }}}
	})
	start := time.Now()
	m := expectJSON(t, f.do(t, "GET", "/api/v1/health", tok, ""), 503)
	if took := time.Since(start); took > probeTimeout+time.Second {
		t.Fatalf("took %s", took)
	}
	if c := m["components"].(map[string]any)["ingester"].(map[string]any); c["detail"] != "no answer within 2s" {
		t.Fatalf("ingester %v", c)
	}
}

func TestHealthNeedsViewer(t *testing.T) {
	f := newFixture(t, nil)
	expect(t, f.do(t, "GET", "/api/v1/health", "", ""), 401, "Could not validate credentials")
}

func TestWorkerHealth(t *testing.T) {
	var h WorkerHealth
	if err := h.Check(t.Context()); err == nil || err.Error() != "not started" {
		t.Fatalf("zero value: %v", err)
	}
	running, stop := make(chan struct{}), make(chan error)
	done := make(chan error)
	go func() {
		done <- h.Run(t.Context(), func(context.Context) error { close(running); return <-stop })
	}()
	<-running
	if err := h.Check(t.Context()); err != nil {
		t.Fatalf("running: %v", err)
	}
	boom := errors.New("boom")
	stop <- boom
	if err := <-done; err != boom {
		t.Fatalf("Run returned %v", err)
	}
	if err := h.Check(t.Context()); !errors.Is(err, boom) || err.Error() != "stopped: boom" {
		t.Fatalf("stopped: %v", err)
	}
	h.Run(t.Context(), func(context.Context) error { return nil })
	if err := h.Check(t.Context()); err == nil || err.Error() != "stopped" {
		t.Fatalf("clean stop: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	repo := newFakeRepo()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no repo", Config{JWTSecret: testSecret}},
		{"short secret", Config{Repo: repo, JWTSecret: []byte("short")}},
		{"unnamed check", Config{Repo: repo, JWTSecret: testSecret, Checks: []Check{{Probe: ok}}}},
		{"no probe", Config{Repo: repo, JWTSecret: testSecret, Checks: []Check{{Name: "x"}}}},
		{"duplicate", Config{Repo: repo, JWTSecret: testSecret, Checks: []Check{{Name: "x", Probe: ok}, {Name: "x", Probe: ok}}}},
		{"shadows database", Config{Repo: repo, JWTSecret: testSecret, Checks: []Check{{Name: "database", Probe: ok}}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: New accepted it", tt.name)
		}
	}
}
