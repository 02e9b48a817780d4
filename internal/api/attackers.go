package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"decnet/internal/store"
)

// maxArtifactRows is how many captured files an attacker's artifact list
// shows (the original's cap).
const maxArtifactRows = 200

// registerAttackers registers the attacker profiles, their captured files
// and the logs histogram.
func (s *Server) registerAttackers() {
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/attackers", Tags: []string{"attackers"},
		Summary:     "List attacker profiles",
		Description: "A page of attacker profiles, each with its behaviour (null until the profiler has analysed it). Results are cached: typically up to 2 s old, longer for costly reads (see the package README).",
		Responses:   jsonResponses[store.Page[store.Attacker]](s),
	}, s.attackers)
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/attackers/{uuid}", Tags: []string{"attackers"},
		Summary:     "Get an attacker profile",
		Description: "One attacker profile with its behaviour (null until the profiler has analysed it).",
		Errors:      []int{http.StatusNotFound},
	}, s.attacker)
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/attackers/{uuid}/commands", Tags: []string{"attackers"},
		Summary:     "List an attacker's commands",
		Description: "A page of the commands the attacker ran, newest first.",
		Errors:      []int{http.StatusNotFound},
	}, s.attackerCommands)
	route(s, viewer, huma.Operation{
		Method: http.MethodGet, Path: "/attackers/{uuid}/artifacts", Tags: []string{"attackers"},
		Summary: "List an attacker's captured files",
		Description: "The attacker's file_captured logs, newest first, at most 200. A row's fields.stored_as " +
			"names the file GET /artifacts/{decky}/{stored_as} downloads.",
		Errors: []int{http.StatusNotFound},
	}, s.attackerArtifacts)
	// An attacker the profiler has not analysed has a null behaviour, and
	// a behaviour without a TCP snapshot a null tcp_fingerprint; huma
	// never makes a referenced object nullable by itself.
	schemas := s.api.OpenAPI().Components.Schemas.Map()
	for _, name := range []string{"Behavior", "TCPFingerprint"} {
		schemas[name].Nullable = true
	}
	s.registerHistogram()
	s.registerArtifacts()
}

// AttackerParams is the path parameter of one attacker's routes
// (exported so huma reads it through embedding).
type AttackerParams struct {
	UUID string `path:"uuid" pattern:"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" doc:"The attacker's UUID (lower case)."`
}

type attackersInput struct {
	PageParams
	Search  string `query:"search" maxLength:"64" doc:"Substring of the attacker IP."`
	SortBy  string `query:"sort_by" enum:"recent,active,traversals" default:"recent" doc:"recent: last seen first; active: most events first; traversals: attackers that crossed deckies first, then recent."`
	Service string `query:"service" maxLength:"64" doc:"Only attackers that touched this service."`
	// Traversal false selects everyone, not the attackers that are no
	// traversals: the dashboard's toggle narrows the list or leaves it.
	Traversal bool `query:"traversal" doc:"true: only traversals (attackers seen on two deckies or more); false or absent: everyone."`
}

// attackers serves GET /attackers.
func (s *Server) attackers(ctx context.Context, in *attackersInput) (*jsonOutput, error) {
	q := store.AttackerQuery{Search: in.Search, SortBy: in.SortBy, Service: in.Service, Traversal: in.Traversal,
		Limit: in.Limit, Offset: in.Offset}
	return cachedPage(ctx, s, "attackers", q, func(ctx context.Context) (store.Page[store.Attacker], error) {
		return s.repo.Attackers(ctx, q)
	}, normalizeAttacker)
}

type attackerOutput struct {
	Body store.Attacker
}

// attacker serves GET /attackers/{uuid}.
func (s *Server) attacker(ctx context.Context, in *AttackerParams) (*attackerOutput, error) {
	a, err := s.repo.Attacker(ctx, in.UUID)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	normalizeAttacker(&a)
	return &attackerOutput{Body: a}, nil
}

type commandsInput struct {
	AttackerParams
	Limit   int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Rows per page."`
	Offset  int    `query:"offset" minimum:"0" maximum:"2147483647" default:"0" doc:"Rows to skip."`
	Service string `query:"service" maxLength:"64" doc:"Only commands run on this service."`
}

type commandsOutput struct {
	Body store.Page[store.Command]
}

// attackerCommands serves GET /attackers/{uuid}/commands.
func (s *Server) attackerCommands(ctx context.Context, in *commandsInput) (*commandsOutput, error) {
	p, err := s.repo.AttackerCommands(ctx, in.UUID, store.CommandQuery{Service: in.Service, Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	p.Data = nonNil(p.Data)
	utcCommands(p.Data)
	return &commandsOutput{Body: p}, nil
}

// attackerArtifacts serves GET /attackers/{uuid}/artifacts.
func (s *Server) attackerArtifacts(ctx context.Context, in *AttackerParams) (*artifactsOutput, error) {
	p, err := s.repo.AttackerArtifacts(ctx, in.UUID, maxArtifactRows)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	normalizeLogs(p.Data)
	p.Data = nonNil(p.Data)
	return &artifactsOutput{Body: p}, nil
}

type artifactsOutput struct {
	Body store.Page[store.Log]
}

// normalizeAttacker puts a profile's times in UTC and its lists, empty or
// not, in JSON arrays.
func normalizeAttacker(a *store.Attacker) {
	a.FirstSeen, a.LastSeen, a.UpdatedAt = a.FirstSeen.UTC(), a.LastSeen.UTC(), a.UpdatedAt.UTC()
	a.Services, a.Deckies = nonNil(a.Services), nonNil(a.Deckies)
	a.Fingerprints, a.Commands = nonNil(a.Fingerprints), nonNil(a.Commands)
	for i := range a.Fingerprints {
		normalizeBounty(&a.Fingerprints[i])
	}
	utcCommands(a.Commands)
	if b := a.Behavior; b != nil {
		b.UpdatedAt = b.UpdatedAt.UTC()
		b.ToolGuesses = nonNil(b.ToolGuesses)
		for _, t := range []**time.Time{&b.PhaseSequence.ReconEndTS, &b.PhaseSequence.ExfilStartTS} {
			if *t != nil {
				u := (*t).UTC()
				*t = &u
			}
		}
	}
}

// normalizeBounty puts a bounty's time in UTC and gives it a payload
// object (fingerprints of profiles and /bounty rows alike).
func normalizeBounty(b *store.Bounty) {
	b.Timestamp = b.Timestamp.UTC()
	if b.Payload == nil {
		b.Payload = map[string]any{}
	}
}

func utcCommands(cs []store.Command) {
	for i := range cs {
		cs[i].Timestamp = cs[i].Timestamp.UTC()
	}
}
