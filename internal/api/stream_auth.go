package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/golang-jwt/jwt/v5"

	"decnet/internal/store"
)

// ticketTTL is how long a stream ticket admits a new stream: long enough
// to open an EventSource, short enough that one found in a log is stale.
const ticketTTL = 60 * time.Second

// ticketAudience marks a JWT as a stream ticket.
const ticketAudience = "stream"

// ticketKey derives the key that signs stream tickets from the access
// token secret. A ticket signed with the access key and told apart only by
// its audience would pass any check that forgets the audience; with its
// own key it fails every access-token check by construction.
func ticketKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("stream ticket key v1"))
	return m.Sum(nil)
}

// ticketClaims are an access token's, scoped to the stream.
type ticketClaims struct {
	PasswordVer string `json:"pwv"`
	jwt.RegisteredClaims
}

var ticketParser = jwt.NewParser(
	jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
	jwt.WithExpirationRequired(),
	jwt.WithIssuedAt(),
	jwt.WithAudience(ticketAudience),
)

// issueTicket signs a ticket for u issued at now.
func (s *Server) issueTicket(u store.User, now time.Time) (string, error) {
	c := ticketClaims{
		PasswordVer: passwordVersion(u.PasswordHash),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.UUID,
			Audience:  jwt.ClaimStrings{ticketAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.streams.ticketTTL)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.streams.ticketKey)
}

// userOfTicket checks a stream ticket and returns the user it names.
func (s *Server) userOfTicket(ctx context.Context, tok string) (store.User, error) {
	var c ticketClaims
	if _, err := ticketParser.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) {
		return s.streams.ticketKey, nil
	}); err != nil || c.Subject == "" {
		return store.User{}, errBadToken
	}
	return s.userNamed(ctx, c.Subject, c.PasswordVer)
}

type ticketOutput struct {
	Body struct {
		Ticket    string `json:"ticket" doc:"Pass as GET /stream?ticket=…"`
		ExpiresIn int    `json:"expires_in" doc:"Seconds the ticket admits a new stream."`
	}
}

// streamTicket serves POST /stream/ticket.
func (s *Server) streamTicket(ctx context.Context, _ *struct{}) (*ticketOutput, error) {
	tok, err := s.issueTicket(userOf(ctx), time.Now())
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	out := &ticketOutput{}
	out.Body.Ticket, out.Body.ExpiresIn = tok, int(s.streams.ticketTTL/time.Second)
	return out, nil
}

// streamAuth admits viewers to the stream by the Authorization header,
// else a ?ticket=, else a ?token= (the original's way, kept for old
// clients). The first credential present is the only one tried.
func (s *Server) streamAuth(ctx huma.Context, next func(huma.Context)) {
	var u store.User
	err := errBadToken
	if h := ctx.Header("Authorization"); h != "" {
		u, err = s.authenticate(ctx.Context(), h)
	} else if t := ctx.Query("ticket"); t != "" {
		u, err = s.userOfTicket(ctx.Context(), t)
	} else if t := ctx.Query("token"); t != "" {
		u, err = s.userOfToken(ctx.Context(), t)
	}
	s.admit(ctx, viewer, u, err, next)
}
