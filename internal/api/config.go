package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"decnet/internal/fleet"
	"decnet/internal/store"
)

// StateDeploymentLimit is the state key of the deployment limit, a JSON
// number; the fleet's deploy reads it.
const StateDeploymentLimit = "config:deployment_limit"

// DefaultDeploymentLimit is the deployment limit until an admin sets one
// (the original's).
const DefaultDeploymentLimit = 10

const detailReinitNeedsDev = "Reinit is only available in developer mode (start the API with --developer)"

// registerConfig registers the config routes.
func (s *Server) registerConfig() {
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/config", Tags: []string{"config"},
		Summary: "Read the configuration",
		Description: "Your role, the deployment limit, the fleet's global mutation interval (null when scheduled " +
			"mutation is off or no fleet runs with this API) and whether developer mode is on; admins also get " +
			"every user.",
	}, s.getConfig)
	route(s, admin, huma.Operation{
		Method: http.MethodPut, Path: "/config/deployment-limit", Tags: []string{"config"},
		Summary:     "Set the deployment limit",
		Description: "The most deckies a deployment may hold, 1 to 500.",
	}, s.setDeploymentLimit)
	route(s, analyst, huma.Operation{
		Method: http.MethodPut, Path: "/config/global-mutation-interval", Tags: []string{"config"},
		Summary: "Set the global mutation interval",
		Description: "The interval of deckies without their own: <count><unit>, unit m (minute), h (hour), d " +
			"(day), M (30 days) or y/Y (365 days), at most 100 years. 501 when no fleet runs with this API.",
		Errors: []int{http.StatusConflict, http.StatusNotImplemented},
	}, s.setGlobalMutationInterval)
	route(s, admin, huma.Operation{
		Method: http.MethodDelete, Path: "/config/reinit", Tags: []string{"config"},
		Summary: "Delete all collected data",
		Description: "Deletes every log, bounty and attacker profile; users and configuration stay. Only in " +
			"developer mode (403 otherwise).",
	}, s.reinit)
}

// ConfigBody is GET /config: what the caller may see of the settings.
type ConfigBody struct {
	Role                   string         `json:"role" enum:"viewer,analyst,admin"`
	DeploymentLimit        int            `json:"deployment_limit"`
	GlobalMutationInterval *string        `json:"global_mutation_interval" doc:"e.g. 30m; null when scheduled mutation is off or no fleet runs with this API."`
	DeveloperMode          bool           `json:"developer_mode"`
	Users                  []UserResponse `json:"users,omitempty" nullable:"false" doc:"Every user; admins only."`
}

type configOutput struct {
	Body ConfigBody
}

// getConfig serves GET /config.
func (s *Server) getConfig(ctx context.Context, _ *struct{}) (*configOutput, error) {
	me := userOf(ctx)
	limit, err := s.deploymentLimit(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &configOutput{Body: ConfigBody{Role: me.Role, DeploymentLimit: limit, DeveloperMode: s.dev}}
	if s.fleet != nil {
		if m := s.fleet.GlobalMutateInterval(); m > 0 {
			v := fleet.FormatInterval(m)
			out.Body.GlobalMutationInterval = &v
		}
	}
	if me.Role == store.RoleAdmin {
		if out.Body.Users, err = s.users(ctx); err != nil {
			return nil, s.fail(ctx, err)
		}
	}
	return out, nil
}

// deploymentLimit is the stored deployment limit, or the default.
func (s *Server) deploymentLimit(ctx context.Context) (int, error) {
	raw, err := s.repo.State(ctx, StateDeploymentLimit)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultDeploymentLimit, nil
	}
	if err != nil {
		return 0, err
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("state %s: %w", StateDeploymentLimit, err)
	}
	return n, nil
}

type deploymentLimitInput struct {
	Body struct {
		DeploymentLimit int `json:"deployment_limit" minimum:"1" maximum:"500"`
	}
}

// setDeploymentLimit serves PUT /config/deployment-limit.
func (s *Server) setDeploymentLimit(ctx context.Context, in *deploymentLimitInput) (*messageOutput, error) {
	n := in.Body.DeploymentLimit
	if err := s.repo.SetState(ctx, StateDeploymentLimit, []byte(strconv.Itoa(n))); err != nil {
		return nil, s.fail(ctx, err)
	}
	s.log.Info("deployment limit set", "by", userOf(ctx).Username, "limit", n)
	return message("Deployment limit set to %d", n), nil
}

type globalIntervalInput struct {
	Body struct {
		GlobalMutationInterval string `json:"global_mutation_interval" pattern:"^[1-9][0-9]*[mhdMyY]$" maxLength:"32" doc:"<count><unit>, e.g. 30m, 4h, 7d, 1M, 1y."`
	}
}

// setGlobalMutationInterval serves PUT /config/global-mutation-interval.
func (s *Server) setGlobalMutationInterval(ctx context.Context, in *globalIntervalInput) (*messageOutput, error) {
	v := in.Body.GlobalMutationInterval
	minutes, err := fleet.ParseInterval(v)
	if err != nil {
		// The pattern admits counts too large to be an interval.
		return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{
			Location: "body.global_mutation_interval", Value: v, Message: err.Error()})
	}
	if s.fleet == nil {
		return nil, huma.Error501NotImplemented(detailNoFleet)
	}
	if err := s.fleet.SetGlobalMutateInterval(ctx, minutes); err != nil {
		return nil, s.fleetFail(ctx, err, detailNoLiveMutation)
	}
	s.log.Info("global mutation interval set", "by", userOf(ctx).Username, "minutes", minutes)
	return message("Global mutation interval set to %s", fleet.FormatInterval(minutes)), nil
}

type reinitOutput struct {
	Body struct {
		Message string       `json:"message"`
		Deleted store.Purged `json:"deleted"`
	}
}

// reinit serves DELETE /config/reinit.
func (s *Server) reinit(ctx context.Context, _ *struct{}) (*reinitOutput, error) {
	if !s.dev {
		return nil, huma.Error403Forbidden(detailReinitNeedsDev)
	}
	p, err := s.repo.Purge(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	s.log.Warn("data purged", "by", userOf(ctx).Username, "logs", p.Logs, "bounties", p.Bounties, "attackers", p.Attackers)
	out := &reinitOutput{}
	out.Body.Message = "Data purged"
	out.Body.Deleted = p
	return out, nil
}
