package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"decnet/internal/fleet"

	"github.com/danielgtaylor/huma/v2"
)

// maxINIBytes bounds a deployment INI document (the original's limit).
const maxINIBytes = 512 << 10

// Details of the fleet routes' refusals.
const (
	detailNoFleet        = "no fleet runs with this API; steer the deckies where the fleet runs"
	detailNoLiveDeploy   = "this runtime cannot deploy deckies at run time; use the docker runtime"
	detailNoLiveMutation = "this runtime cannot change deckies at run time"
	detailUnknownDecky   = "Decky not found"
)

// registerFleet registers the fleet routes.
func (s *Server) registerFleet() {
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/deckies", Tags: []string{"fleet"},
		Summary:     "List deckies",
		Description: "Every decky of the fleet, active or not; an empty list when no fleet runs with this API.",
	}, s.deckies)
	route(s, analyst, huma.Operation{
		Method: http.MethodPost, Path: "/deckies/{decky_name}/mutate", Tags: []string{"fleet"},
		Summary:     "Mutate a decky now",
		Description: "Gives the decky a new service set now. 501 when no fleet runs with this API or its runtime cannot change deckies.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict, http.StatusNotImplemented},
	}, s.mutateDecky)
	route(s, analyst, huma.Operation{
		Method: http.MethodPut, Path: "/deckies/{decky_name}/mutate-interval", Tags: []string{"fleet"},
		Summary: "Set a decky's mutation interval",
		Description: "mutate_interval is <count><unit>, unit m (minute), h (hour), d (day), M (30 days) or y/Y " +
			"(365 days), at most 100 years; null returns the decky to the fleet's global interval. 501 when no " +
			"fleet runs with this API.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusNotImplemented},
	}, s.setMutateInterval)
	route(s, admin, huma.Operation{
		Method: http.MethodPost, Path: "/deckies/deploy", Tags: []string{"fleet"},
		Summary: "Deploy deckies from an INI document",
		Description: "Adds the deckies the INI document describes, replacing those of the same name. 409 with the " +
			"reason when the document is refused (syntax, addresses, the deployment limit); 501 when no fleet runs " +
			"with this API or its runtime cannot deploy at run time.",
		Errors: []int{http.StatusConflict, http.StatusNotImplemented},
		// JSON escaping can make each character of the document up to
		// six bytes (\u00XX).
		MaxBodyBytes: 6*maxINIBytes + 1024,
	}, s.deploy)
}

type deckiesOutput struct {
	Body []Decky
}

// deckies serves GET /deckies.
func (s *Server) deckies(context.Context, *struct{}) (*deckiesOutput, error) {
	var ds []Decky
	if s.fleet != nil {
		// A copy: the fleet's own list is not ours to touch up.
		ds = slices.Clone(s.fleet.Deckies())
	}
	for i := range ds {
		d := &ds[i]
		d.Services = nonNil(d.Services)
		if d.ServiceConfig == nil {
			d.ServiceConfig = map[string]map[string]string{}
		}
		if d.Ports == nil {
			d.Ports = map[string]int{}
		}
		if d.LastMutated != nil {
			t := d.LastMutated.UTC()
			d.LastMutated = &t
		}
	}
	return &deckiesOutput{Body: nonNil(ds)}, nil
}

// DeckyParams is the path parameter of one decky's routes (exported so
// huma reads it through embedding).
type DeckyParams struct {
	Name string `path:"decky_name" pattern:"^[a-z0-9-]{1,64}$" doc:"The decky's name."`
}

// MessageBody is the answer of a write that has nothing else to say.
type MessageBody struct {
	Message string `json:"message"`
}

type messageOutput struct {
	Body MessageBody
}

func message(format string, args ...any) *messageOutput {
	return &messageOutput{Body: MessageBody{Message: fmt.Sprintf(format, args...)}}
}

// mutateDecky serves POST /deckies/{decky_name}/mutate.
func (s *Server) mutateDecky(ctx context.Context, in *DeckyParams) (*messageOutput, error) {
	if s.fleet == nil {
		return nil, huma.Error501NotImplemented(detailNoFleet)
	}
	if err := s.fleet.Mutate(ctx, in.Name); err != nil {
		return nil, s.fleetFail(ctx, err, detailNoLiveMutation)
	}
	return message("Successfully mutated %s", in.Name), nil
}

type mutateIntervalInput struct {
	DeckyParams
	Body struct {
		MutateInterval *string `json:"mutate_interval" pattern:"^[1-9][0-9]*[mhdMyY]$" maxLength:"32" doc:"<count><unit>, e.g. 30m, 4h, 7d, 1M, 1y; null for the global interval."`
	}
}

// setMutateInterval serves PUT /deckies/{decky_name}/mutate-interval.
func (s *Server) setMutateInterval(ctx context.Context, in *mutateIntervalInput) (*messageOutput, error) {
	var minutes *int
	if v := in.Body.MutateInterval; v != nil {
		m, err := fleet.ParseInterval(*v)
		if err != nil {
			return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{
				Location: "body.mutate_interval", Value: *v, Message: err.Error()})
		}
		minutes = &m
	}
	if s.fleet == nil {
		return nil, huma.Error501NotImplemented(detailNoFleet)
	}
	if err := s.fleet.SetMutateInterval(ctx, in.Name, minutes); err != nil {
		return nil, s.fleetFail(ctx, err, detailNoLiveMutation)
	}
	if minutes == nil {
		return message("Mutation interval of %s set to the global interval", in.Name), nil
	}
	return message("Mutation interval of %s set to %d minutes", in.Name, *minutes), nil
}

type deployInput struct {
	Body struct {
		INIContent string `json:"ini_content" minLength:"1" maxLength:"524288" doc:"The deployment INI document, at most 512 KiB."`
	}
}

// deploy serves POST /deckies/deploy.
func (s *Server) deploy(ctx context.Context, in *deployInput) (*messageOutput, error) {
	if s.fleet == nil {
		return nil, huma.Error501NotImplemented(detailNoFleet)
	}
	if err := s.fleet.Deploy(ctx, in.Body.INIContent); err != nil {
		return nil, s.fleetFail(ctx, err, detailNoLiveDeploy)
	}
	return message("Deckies deployed successfully"), nil
}

// fleetFail maps a FleetControl error to its answer: unknown decky 404,
// refused request 409 with the fleet's reason, unsupported 501 with
// notSupported as the detail.
func (s *Server) fleetFail(ctx context.Context, err error, notSupported string) error {
	switch {
	case errors.Is(err, ErrUnknownDecky):
		return huma.Error404NotFound(detailUnknownDecky)
	case errors.Is(err, ErrNotSupported):
		return huma.Error501NotImplemented(notSupported)
	case errors.Is(err, ErrInvalid):
		return huma.Error409Conflict(err.Error())
	}
	return s.fail(ctx, err)
}
