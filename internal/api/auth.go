package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

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
var errBadToken = &apiError{status: http.StatusUnauthorized, detail: "Could not validate credentials"}

// authenticate returns the user the request's bearer token names.
func (s *Server) authenticate(r *http.Request) (store.User, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return store.User{}, errBadToken
	}
	var c claims
	if _, err := tokenParser.ParseWithClaims(strings.TrimSpace(tok), &c, func(*jwt.Token) (any, error) {
		return s.secret, nil
	}); err != nil || c.Subject == "" {
		return store.User{}, errBadToken
	}
	u, err := s.repo.UserByUUID(r.Context(), c.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, errBadToken
	case err != nil:
		return store.User{}, err
	case c.PasswordVer != passwordVersion(u.PasswordHash):
		return store.User{}, errBadToken
	}
	return u, nil
}

// access is what a route demands of its caller.
type access struct {
	roles []string // nil: any role
	// duringPasswordChange admits users who must change their password.
	duringPasswordChange bool
}

var (
	viewer  = access{roles: []string{store.RoleAdmin, store.RoleViewer}}
	anyUser = access{duringPasswordChange: true}
)

type userKey struct{}

// userOf returns the authenticated user guard put in ctx.
func userOf(ctx context.Context) store.User {
	u, _ := ctx.Value(userKey{}).(store.User)
	return u
}

// guard admits requests whose token and user satisfy a.
func (s *Server) guard(a access, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.authenticate(r)
		if errors.Is(err, errBadToken) {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		switch {
		case err != nil:
			s.fail(w, r, err)
		case u.MustChangePassword && !a.duringPasswordChange:
			writeError(w, http.StatusForbidden, "Password change required before accessing this resource")
		case a.roles != nil && !slices.Contains(a.roles, u.Role):
			writeError(w, http.StatusForbidden, "Insufficient permissions")
		default:
			next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
		}
	})
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type tokenResponse struct {
	AccessToken        string `json:"access_token"`
	TokenType          string `json:"token_type"`
	MustChangePassword bool   `json:"must_change_password"`
}

var errBadLogin = &apiError{status: http.StatusUnauthorized, detail: "Incorrect username or password"}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case req.Username == "" || len(req.Username) > maxUsernameBytes:
		s.fail(w, r, badRequest("username must be 1 to %d bytes", maxUsernameBytes))
		return
	case req.Password == "" || len(req.Password) > maxPasswordBytes:
		s.fail(w, r, badRequest("password must be 1 to %d bytes", maxPasswordBytes))
		return
	}
	u, err := s.repo.UserByName(r.Context(), req.Username)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	var hash []byte
	if known {
		hash = []byte(u.PasswordHash)
	}
	ok, err := s.passwordMatches(r.Context(), hash, req.Password)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		// The username is logged only when it names an account: an
		// unknown one is often a password typed in the wrong box.
		if known {
			s.log.Info("login failed", "user", u.Username, "remote", r.RemoteAddr)
		} else {
			s.log.Info("login failed for unknown user", "remote", r.RemoteAddr)
		}
		s.fail(w, r, errBadLogin)
		return
	}
	tok, err := s.issueToken(u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "bearer", MustChangePassword: u.MustChangePassword})
}

type changePasswordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// changePasswordResponse carries a new token: the old one dies with the
// old password.
type changePasswordResponse struct {
	Message string `json:"message"`
	tokenResponse
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var req changePasswordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case req.OldPassword == "" || len(req.OldPassword) > maxPasswordBytes:
		s.fail(w, r, badRequest("old_password must be 1 to %d bytes", maxPasswordBytes))
		return
	case len(req.NewPassword) < minPasswordBytes || len(req.NewPassword) > maxPasswordBytes:
		s.fail(w, r, badRequest("new_password must be %d to %d bytes", minPasswordBytes, maxPasswordBytes))
		return
	case req.NewPassword == req.OldPassword:
		s.fail(w, r, badRequest("new_password must differ from old_password"))
		return
	}
	u := userOf(r.Context())
	ok, err := s.passwordMatches(r.Context(), []byte(u.PasswordHash), req.OldPassword)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, &apiError{status: http.StatusUnauthorized, detail: "Incorrect old password"})
		return
	}
	hash, err := s.newHash(r.Context(), req.NewPassword)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.repo.SetPassword(r.Context(), u.UUID, string(hash), false); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("password changed", "user", u.Username)
	u.PasswordHash, u.MustChangePassword = string(hash), false
	tok, err := s.issueToken(u)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, changePasswordResponse{
		Message:       "Password changed successfully",
		tokenResponse: tokenResponse{AccessToken: tok, TokenType: "bearer"},
	})
}
