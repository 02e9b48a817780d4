package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"decnet/internal/store"
)

// access is what a route demands of its caller.
type access int

// Access levels, each admitting the ones after it. public needs no token;
// anyUser admits any valid token, even one whose user must still change
// the password (only change-password uses it).
const (
	public access = iota
	anyUser
	viewer
	analyst
	admin
)

// roleRank orders roles; a role admits routes up to its rank.
var roleRank = map[string]access{store.RoleViewer: viewer, store.RoleAnalyst: analyst, store.RoleAdmin: admin}

// maxBodyBytes bounds request bodies unless a route says otherwise; the
// largest ordinary one is a user or password change of a few hundred bytes.
const maxBodyBytes = 64 << 10

// route registers one operation: op's path is relative to Prefix. It adds
// the bearer security requirement, the auth middleware for level, the
// error statuses every route can answer, and the body limit.
func route[I, O any](s *Server, level access, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	if op.MaxBodyBytes == 0 {
		op.MaxBodyBytes = maxBodyBytes
	}
	op.Errors = append(op.Errors, http.StatusUnprocessableEntity)
	if in := reflect.TypeFor[I](); in.Kind() == reflect.Struct {
		if _, ok := in.FieldByName("Body"); ok {
			// Malformed JSON, an oversized body, a body that is not JSON.
			op.Errors = append(op.Errors, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
		}
	}
	if level != public {
		op.Security = []map[string][]string{{securityScheme: {}}}
		op.Errors = append(op.Errors, http.StatusUnauthorized)
		if level > anyUser {
			op.Errors = append(op.Errors, http.StatusForbidden)
		}
		op.Middlewares = append(huma.Middlewares{s.authMiddleware(level)}, op.Middlewares...)
	}
	if op.OperationID == "" {
		op.OperationID = huma.GenerateOperationID(op.Method, op.Path, new(O))
	}
	huma.Register(s.api, op, h)
}

type userKey struct{}

// userOf returns the authenticated user the auth middleware put in ctx.
func userOf(ctx context.Context) store.User {
	u, _ := ctx.Value(userKey{}).(store.User)
	return u
}

// Error texts of the auth checks, as the original worded them.
const (
	detailBadToken       = "Could not validate credentials"
	detailMustChange     = "Password change required before accessing this resource"
	detailNoPermission   = "Insufficient permissions"
	detailInternalServer = "Internal server error"
)

// authMiddleware admits requests whose token and user satisfy level.
func (s *Server) authMiddleware(level access) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		u, err := s.authenticate(ctx.Context(), ctx.Header("Authorization"))
		s.admit(ctx, level, u, err, next)
	}
}

// admit answers for a user found (or not, err) by any credential, a bearer
// token or a stream ticket: 401, 403 must-change, 403 role, or next with
// the user in the context.
func (s *Server) admit(ctx huma.Context, level access, u store.User, err error, next func(huma.Context)) {
	switch {
	case errors.Is(err, errBadToken):
		ctx.SetHeader("WWW-Authenticate", "Bearer")
		huma.WriteErr(s.api, ctx, http.StatusUnauthorized, detailBadToken)
	case err != nil:
		s.log.Error("api auth failed", "path", ctx.URL().Path, "err", err)
		huma.WriteErr(s.api, ctx, http.StatusInternalServerError, detailInternalServer)
	case u.MustChangePassword && level > anyUser:
		huma.WriteErr(s.api, ctx, http.StatusForbidden, detailMustChange)
	case level > anyUser && roleRank[u.Role] < level:
		huma.WriteErr(s.api, ctx, http.StatusForbidden, detailNoPermission)
	default:
		next(huma.WithValue(ctx, userKey{}, u))
	}
}

// fail turns err into the response error: a huma status error as is, a
// query the store refused as 422, a missing row as 404, else a logged 500
// that shows the client nothing internal.
func (s *Server) fail(ctx context.Context, err error) error {
	var se huma.StatusError
	switch {
	case errors.As(err, &se):
		return err
	case errors.Is(err, store.ErrBadQuery):
		return huma.Error422UnprocessableEntity(err.Error())
	case errors.Is(err, store.ErrNotFound):
		return huma.Error404NotFound("Not found")
	case ctx.Err() != nil:
		// The client left; nobody reads this answer.
		return huma.Error503ServiceUnavailable("request cancelled")
	}
	s.log.Error("api request failed", "err", err)
	return huma.Error500InternalServerError(detailInternalServer)
}

// writeProblem answers outside huma (routing failures, panics) with the
// same RFC 9457 shape huma uses.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	w.Write(body)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
