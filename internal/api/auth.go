package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/golang-jwt/jwt/v5"

	"decnet/internal/store"
)

// tokenTTL is how long an access token is valid (the original's 24 h).
const tokenTTL = 24 * time.Hour

// maxUsernameBytes matches the original's user-creation limit.
const maxUsernameBytes = 64

// claims of an access token. sub and uuid both carry the user's UUID:
// sub is the standard claim, uuid what the original's tokens held. pwv
// ties the token to the password it was issued for, so changing a
// password ends every older session.
type claims struct {
	UUID        string `json:"uuid"`
	PasswordVer string `json:"pwv"`
	jwt.RegisteredClaims
}

// passwordVersion is a short digest of a password hash; it reveals
// nothing usable about the password.
func passwordVersion(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:8])
}

func (s *Server) issueToken(u store.User) (string, error) {
	now := time.Now()
	c := claims{
		UUID:        u.UUID,
		PasswordVer: passwordVersion(u.PasswordHash),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.UUID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(tokenTTL)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
}

var tokenParser = jwt.NewParser(
	jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
	jwt.WithExpirationRequired(),
	jwt.WithIssuedAt(),
)

// errBadToken is every reason a bearer token is refused; clients learn
// nothing about which check failed.
var errBadToken = errors.New("bad token")

// authenticate returns the user an Authorization header's bearer token
// names.
func (s *Server) authenticate(ctx context.Context, header string) (store.User, error) {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return store.User{}, errBadToken
	}
	return s.userOfToken(ctx, strings.TrimSpace(tok))
}

// userOfToken checks an access token and returns the user it names.
func (s *Server) userOfToken(ctx context.Context, tok string) (store.User, error) {
	var c claims
	if _, err := tokenParser.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) {
		return s.secret, nil
	}); err != nil || c.Subject == "" {
		return store.User{}, errBadToken
	}
	return s.userNamed(ctx, c.Subject, c.PasswordVer)
}

// userNamed returns the user a verified credential (access token or
// stream ticket) names, refusing it when the user is gone or its password
// changed since the credential was issued.
func (s *Server) userNamed(ctx context.Context, uuid, passwordVer string) (store.User, error) {
	u, err := s.repo.UserByUUID(ctx, uuid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, errBadToken
	case err != nil:
		return store.User{}, err
	case passwordVer != passwordVersion(u.PasswordHash):
		return store.User{}, errBadToken
	}
	return u, nil
}

func (s *Server) registerAuth() {
	s.logins = newLoginLimiter()
	route(s, public, huma.Operation{
		Method: http.MethodPost, Path: "/auth/login", Tags: []string{"auth"},
		Summary: "Log in",
		Description: "Exchanges a username and password for a bearer token valid 24 hours. Failed logins are " +
			"rate-limited: after 5 failures for one username, or 20 from one source address (IPv6: one /64), " +
			"within 15 minutes, further attempts are answered 429 with Retry-After (seconds) until the oldest of " +
			"those failures is 15 minutes old. A successful login clears its username's failures.",
		Errors:      []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable},
		Middlewares: huma.Middlewares{withSource},
	}, s.login)
	// huma documents an error status with its body only.
	s.api.OpenAPI().Paths["/auth/login"].Post.Responses["429"].Headers = map[string]*huma.Header{
		"Retry-After": {Description: "Seconds until the next attempt can be admitted.", Required: true,
			Schema: &huma.Schema{Type: huma.TypeInteger, Minimum: new(float64(1))}},
	}
	route(s, anyUser, huma.Operation{
		Method: http.MethodPost, Path: "/auth/change-password", Tags: []string{"auth"},
		Summary:     "Change your password",
		Description: "Sets a new password and clears must_change_password. Every token issued before stops working; the response carries a new one.",
		Errors:      []int{http.StatusServiceUnavailable},
	}, s.changePassword)
	route(s, anyUser, huma.Operation{
		Method: http.MethodGet, Path: "/auth/me", Tags: []string{"auth"},
		Summary: "Who the token belongs to",
		Description: "The caller's account: username, role and whether the password must be changed first. " +
			"Answers even while must_change_password is set, so a client can tell that from a bad token.",
	}, s.me)
}

type meOutput struct {
	Body UserResponse
}

// me serves GET /auth/me.
func (s *Server) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	return &meOutput{Body: toUserResponse(userOf(ctx))}, nil
}

type loginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1" maxLength:"72" doc:"At most 72 bytes (bcrypt's limit)."`
	}
}

type tokenBody struct {
	AccessToken        string `json:"access_token"`
	TokenType          string `json:"token_type" enum:"bearer"`
	MustChangePassword bool   `json:"must_change_password"`
}

type tokenOutput struct {
	Body tokenBody
}

var errBadLogin = huma.Error401Unauthorized("Incorrect username or password")

// Outcomes of a login attempt in the audit log.
const (
	loginSucceeded   = "success"
	loginFailed      = "failure"
	loginRateLimited = "rate_limited"
	loginError       = "error"
)

// login serves POST /auth/login. The rate limit is checked before any
// hashing, so a flood of refused attempts costs no bcrypt work.
func (s *Server) login(ctx context.Context, in *loginInput) (*tokenOutput, error) {
	req := in.Body
	if len(req.Password) > maxPasswordBytes {
		return nil, huma.Error422UnprocessableEntity(fmt.Sprintf("password longer than %d bytes", maxPasswordBytes))
	}
	ip, key := sourceOf(ctx)
	att := s.logins.begin(key, req.Username)
	u, err := s.repo.UserByName(ctx, req.Username)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		att.cancelled()
		s.auditLogin(ctx, slog.LevelWarn, loginError, ip, nil, "store failure")
		return nil, s.fail(ctx, err)
	}
	// The username is logged only when it names an account: an unknown
	// one is often a password typed in the wrong box.
	var who *store.User
	if known {
		who = &u
	}
	if att.refused() {
		s.auditLogin(ctx, slog.LevelWarn, loginRateLimited, ip, who, att.reason)
		secs := att.retryAfter()
		return nil, huma.ErrorWithHeaders(
			huma.Error429TooManyRequests(fmt.Sprintf("Too many failed logins; retry in %d seconds", secs)),
			http.Header{"Retry-After": {strconv.FormatInt(secs, 10)}})
	}
	var hash []byte
	if known {
		hash = []byte(u.PasswordHash)
	}
	ok, err := s.passwordMatches(ctx, hash, req.Password)
	if err != nil {
		att.cancelled()
		s.auditLogin(ctx, slog.LevelWarn, loginError, ip, who, "password check did not finish")
		return nil, s.fail(ctx, err)
	}
	if !ok {
		reason := "wrong password"
		if !known {
			reason = "unknown user"
		}
		s.auditLogin(ctx, slog.LevelInfo, loginFailed, ip, who, reason)
		return nil, errBadLogin
	}
	att.succeeded()
	tok, err := s.issueToken(u)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	s.auditLogin(ctx, slog.LevelInfo, loginSucceeded, ip, who, "", slog.String("role", u.Role))
	return &tokenOutput{Body: tokenBody{AccessToken: tok, TokenType: "bearer", MustChangePassword: u.MustChangePassword}}, nil
}

// auditLogin logs one login attempt: its outcome, the source address,
// the account when one exists and why it ended so. Passwords never reach
// it.
func (s *Server) auditLogin(ctx context.Context, level slog.Level, outcome, source string, u *store.User, reason string, extra ...slog.Attr) {
	attrs := append(make([]slog.Attr, 0, 4+len(extra)), slog.String("outcome", outcome), slog.String("source", source))
	if u != nil {
		attrs = append(attrs, slog.String("user", u.Username))
	}
	if reason != "" {
		attrs = append(attrs, slog.String("reason", reason))
	}
	s.log.LogAttrs(ctx, level, "login attempt", append(attrs, extra...)...)
}

type changePasswordInput struct {
	Body struct {
		OldPassword string `json:"old_password" minLength:"1" maxLength:"72"`
		NewPassword string `json:"new_password" minLength:"8" maxLength:"72" doc:"8 to 72 bytes, different from old_password."`
	}
}

// changePasswordBody is tokenBody with a message. Its fields are spelled
// out: huma does not document the fields of an embedded unexported type.
type changePasswordBody struct {
	Message            string `json:"message"`
	AccessToken        string `json:"access_token"`
	TokenType          string `json:"token_type" enum:"bearer"`
	MustChangePassword bool   `json:"must_change_password"`
}

type changePasswordOutput struct {
	Body changePasswordBody
}

func (s *Server) changePassword(ctx context.Context, in *changePasswordInput) (*changePasswordOutput, error) {
	req := in.Body
	switch {
	case len(req.OldPassword) > maxPasswordBytes || len(req.NewPassword) > maxPasswordBytes:
		return nil, huma.Error422UnprocessableEntity(fmt.Sprintf("passwords are at most %d bytes", maxPasswordBytes))
	case len(req.NewPassword) < minPasswordBytes:
		return nil, huma.Error422UnprocessableEntity(fmt.Sprintf("new_password must be at least %d bytes", minPasswordBytes))
	case req.NewPassword == req.OldPassword:
		return nil, huma.Error422UnprocessableEntity("new_password must differ from old_password")
	}
	u := userOf(ctx)
	ok, err := s.passwordMatches(ctx, []byte(u.PasswordHash), req.OldPassword)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if !ok {
		return nil, huma.Error401Unauthorized("Incorrect old password")
	}
	hash, err := s.newHash(ctx, req.NewPassword)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if err := s.repo.SetPassword(ctx, u.UUID, string(hash), false); err != nil {
		return nil, s.fail(ctx, err)
	}
	s.log.Info("password changed", "user", u.Username)
	u.PasswordHash, u.MustChangePassword = string(hash), false
	tok, err := s.issueToken(u)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &changePasswordOutput{Body: changePasswordBody{Message: "Password changed successfully", AccessToken: tok, TokenType: "bearer"}}, nil
}
