package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"decnet/internal/store"
)

func (s *Server) registerHistogram() {
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/logs/histogram", Tags: []string{"logs"},
		Summary: "Count logs over time",
		Description: "The logs the search selects, counted per bucket of interval_minutes. A bare list, oldest " +
			"bucket first; each bucket's time is its start (RFC 3339, UTC), buckets are aligned on the Unix epoch, " +
			"and buckets without logs are left out. Results are cached: typically up to 2 s old, longer for costly reads (see the package README).",
	}, s.histogram)
}

type histogramInput struct {
	SearchParams
	IntervalMinutes int `query:"interval_minutes" minimum:"1" maximum:"525600" default:"15" doc:"Bucket width in minutes, at most a year."`
}

type histogramOutput struct {
	Body []store.Bucket
}

// histogram serves GET /logs/histogram.
func (s *Server) histogram(ctx context.Context, in *histogramInput) (*histogramOutput, error) {
	buckets, err := s.buckets(ctx, in.logQuery(PageParams{}), time.Duration(in.IntervalMinutes)*time.Minute)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &histogramOutput{Body: buckets}, nil
}

// buckets is the histogram of the logs q selects, shared through the
// cache (the live stream's histograms are the same reads).
func (s *Server) buckets(ctx context.Context, q store.LogQuery, interval time.Duration) ([]store.Bucket, error) {
	key := struct {
		Q        store.LogQuery
		Interval time.Duration
	}{q, interval}
	return cached(ctx, &s.cache, "histogram", key, func(ctx context.Context) ([]store.Bucket, error) {
		bs, err := s.repo.Histogram(ctx, q, interval)
		for i := range bs {
			bs[i].Time = bs[i].Time.UTC()
		}
		return nonNil(bs), err
	})
}
