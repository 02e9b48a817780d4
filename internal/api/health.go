package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// probeTimeout bounds each health probe, so one hung component cannot
// hang /health (load balancers give up after a few seconds).
const probeTimeout = 2 * time.Second

// Health statuses.
const (
	healthy   = "healthy"
	degraded  = "degraded"
	unhealthy = "unhealthy"
	statusOK  = "ok"
	failing   = "failing"
)

// ComponentHealth is one component of GET /health.
type ComponentHealth struct {
	Status string `json:"status" enum:"ok,failing"`
	Detail string `json:"detail"`
}

// HealthBody is GET /health: the overall status and each component.
type HealthBody struct {
	Status     string                     `json:"status" enum:"healthy,degraded,unhealthy"`
	Components map[string]ComponentHealth `json:"components"`
}

type healthOutput struct {
	Status int `json:"-"`
	Body   HealthBody
}

func (s *Server) registerHealth() {
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/health", Tags: []string{"health"},
		Summary:     "Health of the database and each worker",
		Description: "Every component is probed at once, each for at most 2 s. A failing critical component (database, ingester) makes the status unhealthy and the answer 503 with the same body; any other failing component makes it degraded.",
		Responses: map[string]*huma.Response{
			"503": {Description: "Unhealthy: the same body as 200.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: &huma.Schema{Ref: "#/components/schemas/HealthBody"}},
			}},
		},
	}, s.health)
}

// health serves GET /health.
func (s *Server) health(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	results := make([]error, len(s.checks))
	var wg sync.WaitGroup
	for i, c := range s.checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			results[i] = probe(ctx, c.Probe)
		})
	}
	wg.Wait()
	resp := HealthBody{Status: healthy, Components: make(map[string]ComponentHealth, len(s.checks))}
	for i, c := range s.checks {
		err := results[i]
		if err == nil {
			resp.Components[c.Name] = ComponentHealth{Status: statusOK, Detail: "ok"}
			continue
		}
		resp.Components[c.Name] = ComponentHealth{Status: failing, Detail: err.Error()}
		switch {
		case c.Critical:
			resp.Status = unhealthy
		case resp.Status == healthy:
			resp.Status = degraded
		}
	}
	code := http.StatusOK
	if resp.Status == unhealthy {
		code = http.StatusServiceUnavailable
	}
	return &healthOutput{Status: code, Body: resp}, nil
}

// probe runs fn but returns by ctx's deadline even if fn ignores ctx.
func probe(ctx context.Context, fn func(context.Context) error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("probe panicked: %v", v)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", probeTimeout)
	}
}

// WorkerHealth is a background worker's liveness for /health: not started,
// running, or stopped (with the error it stopped on). The zero value is
// ready to use; its Check method is a Check's Probe.
type WorkerHealth struct {
	mu      sync.Mutex
	started bool
	running bool
	err     error
}

// Run runs fn (typically a worker's Run method) and records its state.
func (h *WorkerHealth) Run(ctx context.Context, fn func(context.Context) error) error {
	h.mu.Lock()
	h.started, h.running, h.err = true, true, nil
	h.mu.Unlock()
	err := fn(ctx)
	h.mu.Lock()
	h.running, h.err = false, err
	h.mu.Unlock()
	return err
}

var errNotStarted = errors.New("not started")

// Check reports nil while the worker runs.
func (h *WorkerHealth) Check(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case !h.started:
		return errNotStarted
	case h.running:
		return nil
	case h.err != nil:
		return fmt.Errorf("stopped: %w", h.err)
	default:
		return errors.New("stopped")
	}
}
