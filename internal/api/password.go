package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/crypto/bcrypt"
)

// Password rules. bcrypt reads only 72 bytes, so longer passwords are
// refused rather than silently cut.
const (
	minPasswordBytes = 8
	maxPasswordBytes = 72
)

// bcryptCost is the work factor of hashes made outside a server (the CLI's
// and the first admin's) and of a server's unless its Config says (about
// 250 ms on a current core). A variable only so tests can run at
// bcrypt.MinCost.
var bcryptCost = 12

// hashWait is how long a request waits for a free hashing slot before it
// is told to retry.
const hashWait = 10 * time.Second

// HashPassword checks pw against the password rules (8 to 72 bytes) and
// returns its bcrypt hash, as the API stores it; the CLI's user commands
// use it so both make the same accounts.
func HashPassword(pw string) (string, error) {
	if len(pw) < minPasswordBytes || len(pw) > maxPasswordBytes {
		return "", fmt.Errorf("password must be %d to %d bytes", minPasswordBytes, maxPasswordBytes)
	}
	h, err := hashPassword(pw, bcryptCost)
	return string(h), err
}

// CheckUsername checks a new account's name against the API's rule: 1 to
// 64 bytes of letters, digits and . _ @ -.
func CheckUsername(name string) error {
	switch {
	case name == "" || len(name) > maxUsernameBytes:
		return fmt.Errorf("user name must be 1 to %d bytes", maxUsernameBytes)
	case !usernamePattern.MatchString(name):
		return fmt.Errorf("user name %q: use letters, digits and . _ @ -", name)
	}
	return nil
}

// usernamePattern is the rule of CheckUsername; the create-user body's
// struct tag declares it for the OpenAPI document (a test keeps the two
// equal).
var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]+$`)

func hashPassword(pw string, cost int) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// randomPassword returns 26 base32 characters (130 bits).
func randomPassword() string { return rand.Text() }

// withHashSlot runs fn once one of the server's hashing slots is free.
func (s *Server) withHashSlot(ctx context.Context, fn func()) error {
	ctx, cancel := context.WithTimeout(ctx, hashWait)
	defer cancel()
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return huma.Error503ServiceUnavailable("Server busy, retry later")
	}
	defer func() { <-s.hashSlots }()
	fn()
	return nil
}

// passwordMatches compares pw with hash (or with the decoy hash when hash
// is nil, so unknown users cost the same time).
func (s *Server) passwordMatches(ctx context.Context, hash []byte, pw string) (bool, error) {
	decoy := hash == nil
	if decoy {
		hash = s.dummyHash
	}
	var err error
	if slotErr := s.withHashSlot(ctx, func() { err = bcrypt.CompareHashAndPassword(hash, []byte(pw)) }); slotErr != nil {
		return false, slotErr
	}
	switch {
	case err == nil:
		return !decoy, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("compare password: %w", err)
	}
}

// newHash hashes pw in one of the server's hashing slots.
func (s *Server) newHash(ctx context.Context, pw string) ([]byte, error) {
	var h []byte
	var err error
	if slotErr := s.withHashSlot(ctx, func() { h, err = hashPassword(pw, s.hashCost) }); slotErr != nil {
		return nil, slotErr
	}
	return h, err
}
