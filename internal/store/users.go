package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// UserAdmin is the account management the API's admin endpoints need
// beyond Repository (list, delete, change role). *SQLite implements it.
type UserAdmin interface {
	ListUsers(ctx context.Context) ([]User, error)
	DeleteUser(ctx context.Context, uuid string) error    // ErrNotFound
	SetRole(ctx context.Context, uuid, role string) error // ErrNotFound
}

// validRole reports whether r is a role users may hold.
func validRole(r string) bool { return r == RoleAdmin || r == RoleViewer }

const userColumns = `uuid, username, password_hash, role, must_change_password, created_at`

// CreateUser implements Repository. An empty UUID gets a random one, an
// empty role is viewer and a zero CreatedAt is now.
func (s *SQLite) CreateUser(ctx context.Context, u User) error {
	if u.UUID == "" {
		u.UUID = newUUID()
	}
	if u.Role == "" {
		u.Role = RoleViewer
	}
	if !validRole(u.Role) {
		return fmt.Errorf("create user %q: unknown role %q", u.Username, u.Role)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.UUID, u.Username, u.PasswordHash, u.Role, u.MustChangePassword, formatTime(u.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("create user %q: %w", u.Username, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// UserByName implements Repository.
func (s *SQLite) UserByName(ctx context.Context, username string) (User, error) {
	return s.user(ctx, "username", username)
}

// UserByUUID implements Repository.
func (s *SQLite) UserByUUID(ctx context.Context, uuid string) (User, error) {
	return s.user(ctx, "uuid", uuid)
}

// user reads the user whose column (a constant of the callers) is v.
func (s *SQLite) user(ctx context.Context, column, v string) (User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+column+` = ?`, v)
	if err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	us, err := scanUsers(rows)
	if err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	if len(us) == 0 {
		return User{}, fmt.Errorf("user %s %q: %w", column, v, ErrNotFound)
	}
	return us[0], nil
}

func scanUsers(rows *sql.Rows) ([]User, error) {
	defer rows.Close()
	var us []User
	for rows.Next() {
		var u User
		var created string
		if err := rows.Scan(&u.UUID, &u.Username, &u.PasswordHash, &u.Role, &u.MustChangePassword, &created); err != nil {
			return nil, err
		}
		var err error
		if u.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// ListUsers returns every user, oldest first.
func (s *SQLite) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	us, err := scanUsers(rows)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// SetPassword implements Repository.
func (s *SQLite) SetPassword(ctx context.Context, uuid, hash string, mustChange bool) error {
	return s.updateUser(ctx, uuid, `UPDATE users SET password_hash = ?, must_change_password = ? WHERE uuid = ?`, hash, mustChange, uuid)
}

// SetRole changes a user's role.
func (s *SQLite) SetRole(ctx context.Context, uuid, role string) error {
	if !validRole(role) {
		return fmt.Errorf("set role: unknown role %q", role)
	}
	return s.updateUser(ctx, uuid, `UPDATE users SET role = ? WHERE uuid = ?`, role, uuid)
}

// DeleteUser removes a user.
func (s *SQLite) DeleteUser(ctx context.Context, uuid string) error {
	return s.updateUser(ctx, uuid, `DELETE FROM users WHERE uuid = ?`, uuid)
}

// updateUser runs a statement on one user, ErrNotFound when none matched.
func (s *SQLite) updateUser(ctx context.Context, uuid, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("user %q: %w", uuid, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("user %q: %w", uuid, err)
	} else if n == 0 {
		return fmt.Errorf("user %q: %w", uuid, ErrNotFound)
	}
	return nil
}

// CountUsers implements Repository.
func (s *SQLite) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

var _ UserAdmin = (*SQLite)(nil)
