package api

import (
	"errors"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
)

func TestHistogram(t *testing.T) {
	f, r, tok := newProfileFixture(t, nil)
	r.buckets = []store.Bucket{
		{Time: time.Date(2024, 5, 1, 12, 0, 0, 0, cest), Count: 3},
		{Time: time.Date(2024, 5, 1, 12, 15, 0, 0, cest), Count: 1},
	}
	since := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		query    string
		status   int
		interval time.Duration
		q        store.LogQuery
	}{
		{"defaults", "", 200, 15 * time.Minute, store.LogQuery{}},
		{"one minute", "interval_minutes=1", 200, time.Minute, store.LogQuery{}},
		{"a year", "interval_minutes=525600", 200, 525600 * time.Minute, store.LogQuery{}},
		{"search and window", "interval_minutes=60&search=service:ssh&start_time=2024-05-01+10:00:00&end_time=2024-05-01T10:00:00Z",
			200, time.Hour, store.LogQuery{Search: "service:ssh", Since: since, Until: since.Add(time.Nanosecond)}},
		{"zero", "interval_minutes=0", 422, 0, store.LogQuery{}},
		{"negative", "interval_minutes=-5", 422, 0, store.LogQuery{}},
		{"over a year", "interval_minutes=525601", 422, 0, store.LogQuery{}},
		{"not a number", "interval_minutes=15m", 422, 0, store.LogQuery{}},
		{"bad time", "start_time=yesterday", 422, 0, store.LogQuery{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.pmu.Lock()
			r.lastInterval = -1
			r.pmu.Unlock()
			rec := f.do(t, "GET", "/api/v1/logs/histogram?"+tt.query, tok, "")
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			r.pmu.Lock()
			iv, q := r.lastInterval, r.lastHistogram
			r.pmu.Unlock()
			if tt.status != 200 {
				decode(t, rec)
				if iv != -1 {
					t.Fatal("a refused query reached the store")
				}
				return
			}
			if iv != tt.interval || q != tt.q {
				t.Fatalf("store got %v %+v, want %v %+v", iv, q, tt.interval, tt.q)
			}
			want := `[{"time":"2024-05-01T10:00:00Z","count":3},{"time":"2024-05-01T10:15:00Z","count":1}]`
			if got := strings.TrimSpace(rec.Body.String()); got != want {
				t.Fatalf("body %s, want %s", got, want)
			}
		})
	}
}

func TestHistogramEmptyAndFailing(t *testing.T) {
	f, r, tok := newProfileFixture(t, nil)
	rec := f.do(t, "GET", "/api/v1/logs/histogram", tok, "")
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != "[]" {
		t.Fatalf("no buckets: %d %s", rec.Code, got)
	}
	r.fakeRepo.mu.Lock()
	r.fakeRepo.err = errors.New("disk on fire at /var/secret")
	r.fakeRepo.mu.Unlock()
	rec = f.do(t, "GET", "/api/v1/logs/histogram?interval_minutes=5", tok, "")
	expect(t, rec, 500, "Internal server error")
	if strings.Contains(rec.Body.String(), "secret") {
		t.Fatal("internal error leaked")
	}
}
