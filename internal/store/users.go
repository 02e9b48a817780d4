package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// validRole reports whether r is a role users may hold.
func validRole(r string) bool { return r == RoleViewer || r == RoleAnalyst || r == RoleAdmin }

const userColumns = `uuid, username, password_hash, role, must_change_password, created_at`

// CreateUser implements Repository. An empty UUID gets a random one, an
// empty role is viewer and a zero CreatedAt is now.
func (s *SQL) CreateUser(ctx context.Context, u User) error {
	if u.UUID == "" {
		u.UUID = newUUID()
	}
	if u.Role == "" {
		u.Role = RoleViewer
	}
	if !validRole(u.Role) {
		return fmt.Errorf("create user %q: %w: unknown role %q", u.Username, ErrBadQuery, u.Role)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	_, err := s.w.ExecContext(ctx, s.d.q(`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?)`),
		u.UUID, u.Username, u.PasswordHash, u.Role, u.MustChangePassword, s.d.timeArg(u.CreatedAt))
	if s.d.isUnique(err) {
		return fmt.Errorf("create user %q: %w", u.Username, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// UserByName implements Repository.
func (s *SQL) UserByName(ctx context.Context, username string) (User, error) {
	return s.user(ctx, "username", username)
}

// UserByUUID implements Repository.
func (s *SQL) UserByUUID(ctx context.Context, uuid string) (User, error) {
	return s.user(ctx, "uuid", uuid)
}

// user reads the user whose column (a constant of the callers) is v.
func (s *SQL) user(ctx context.Context, column, v string) (User, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+userColumns+` FROM users WHERE `+column+` = ?`), v)
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
	us := []User{}
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.UUID, &u.Username, &u.PasswordHash, &u.Role, &u.MustChangePassword, timeCol{&u.CreatedAt}); err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// ListUsers implements Repository: every user, oldest first.
func (s *SQL) ListUsers(ctx context.Context) ([]User, error) {
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
func (s *SQL) SetPassword(ctx context.Context, uuid, hash string, mustChange bool) error {
	return s.updateUser(ctx, uuid, `UPDATE users SET password_hash = ?, must_change_password = ? WHERE uuid = ?`, hash, mustChange, uuid)
}

// otherAdmin is the condition, with the user's uuid bound, that an admin
// other than that user exists. The statement that demotes or deletes
// carries it, so the check and the change are one statement whoever
// runs them (the API, the CLI, two processes at once). The DISTINCT
// derived table is what lets MySQL read the table it changes.
const otherAdmin = `(SELECT COUNT(*) FROM (SELECT DISTINCT uuid FROM users WHERE role = 'admin' AND uuid <> ?) AS others) > 0`

// SetRole implements Repository.
func (s *SQL) SetRole(ctx context.Context, uuid, role string) error {
	if !validRole(role) {
		return fmt.Errorf("set role: %w: unknown role %q", ErrBadQuery, role)
	}
	return s.changeAdmin(ctx, uuid, `UPDATE users SET role = ? WHERE uuid = ? AND (? = 'admin' OR role <> 'admin' OR `+otherAdmin+`)`,
		role, uuid, role, uuid)
}

// DeleteUser implements Repository.
func (s *SQL) DeleteUser(ctx context.Context, uuid string) error {
	return s.changeAdmin(ctx, uuid, `DELETE FROM users WHERE uuid = ? AND (role <> 'admin' OR `+otherAdmin+`)`, uuid, uuid)
}

// changeAdmin runs a statement guarded by otherAdmin on one user: when it
// changes nothing, the user is missing (ErrNotFound) or is the last admin
// (ErrLastAdmin).
func (s *SQL) changeAdmin(ctx context.Context, uuid, query string, args ...any) error {
	err := s.updateUser(ctx, uuid, query, args...)
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, uerr := s.UserByUUID(ctx, uuid); uerr == nil {
		return fmt.Errorf("user %q: %w", uuid, ErrLastAdmin)
	}
	return err
}

// updateUser runs a statement on one user, ErrNotFound when none matched.
func (s *SQL) updateUser(ctx context.Context, uuid, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, s.d.q(query), args...)
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
func (s *SQL) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
