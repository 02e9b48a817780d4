package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/google/uuid"

	"decnet/internal/store"
)

// DefaultAdminUser is the first account's name unless DECNET_ADMIN_USER
// says otherwise.
const DefaultAdminUser = "admin"

// SeedAdmin creates the first account when the store has none, so a new
// installation can be logged into. The user is DECNET_ADMIN_USER (default
// admin), role admin. With DECNET_ADMIN_PASSWORD set (8 to 72 bytes) that
// is the password and need not be changed; otherwise the password is
// random, returned for the caller to show once, and must be changed at
// first login. Once any user exists SeedAdmin does nothing, so the
// environment never overrides a password set later (the original re-synced
// it on every start). Passwords are never logged.
func SeedAdmin(ctx context.Context, repo store.Repository, log *slog.Logger) (created bool, password string, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := repo.CountUsers(ctx)
	if err != nil {
		return false, "", fmt.Errorf("seed admin: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	name := os.Getenv(EnvAdminUser)
	if name == "" {
		name = DefaultAdminUser
	}
	if len(name) > maxUsernameBytes {
		return false, "", fmt.Errorf("seed admin: %s longer than %d bytes", EnvAdminUser, maxUsernameBytes)
	}
	pw, fromEnv := os.LookupEnv(EnvAdminPassword)
	if fromEnv && (len(pw) < minPasswordBytes || len(pw) > maxPasswordBytes) {
		return false, "", fmt.Errorf("seed admin: %s must be %d to %d bytes", EnvAdminPassword, minPasswordBytes, maxPasswordBytes)
	}
	if !fromEnv {
		pw = randomPassword()
	}
	hash, err := hashPassword(pw, bcryptCost)
	if err != nil {
		return false, "", fmt.Errorf("seed admin: %w", err)
	}
	err = repo.CreateUser(ctx, store.User{
		UUID:               uuid.NewString(),
		Username:           name,
		PasswordHash:       string(hash),
		Role:               store.RoleAdmin,
		MustChangePassword: !fromEnv,
	})
	if errors.Is(err, store.ErrConflict) {
		return false, "", nil // another process seeded it first
	}
	if err != nil {
		return false, "", fmt.Errorf("seed admin: %w", err)
	}
	log.Info("created the first admin user", "user", name, "password_from_env", fromEnv, "must_change_password", !fromEnv)
	if fromEnv {
		return true, "", nil
	}
	return true, pw, nil
}
