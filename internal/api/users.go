package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"decnet/internal/store"
)

// Details of the user routes' refusals.
const (
	detailUserNotFound = "User not found"
	detailUserExists   = "Username already exists"
	detailDeleteSelf   = "You cannot delete your own account"
	detailRoleSelf     = "You cannot change your own role"
	detailLastAdmin    = "The last admin cannot be deleted or lose the admin role"
)

// registerUsers registers the users routes.
func (s *Server) registerUsers() {
	s.userLock = make(chan struct{}, 1)
	route(s, admin, huma.Operation{
		Method: http.MethodPost, Path: "/config/users", Tags: []string{"users"},
		Summary: "Create a user",
		Description: "Creates an account that must change its password at first login. Answers 201 with the " +
			"user; 409 when the username is taken.",
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusConflict, http.StatusServiceUnavailable},
	}, s.createUser)
	route(s, admin, huma.Operation{
		Method: http.MethodGet, Path: "/config/users", Tags: []string{"users"},
		Summary: "List users", Description: "Every account, oldest first.",
	}, s.listUsers)
	route(s, admin, huma.Operation{
		Method: http.MethodDelete, Path: "/config/users/{user_uuid}", Tags: []string{"users"},
		Summary: "Delete a user",
		Description: "Deletes the account; its tokens stop working at once. 403 for your own account, 409 for " +
			"the last admin.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusServiceUnavailable},
	}, s.deleteUser)
	route(s, admin, huma.Operation{
		Method: http.MethodPut, Path: "/config/users/{user_uuid}/role", Tags: []string{"users"},
		Summary: "Change a user's role",
		Description: "Takes effect on the user's next request. 403 for your own role, 409 when it would leave " +
			"no admin.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusServiceUnavailable},
	}, s.setUserRole)
	route(s, admin, huma.Operation{
		Method: http.MethodPut, Path: "/config/users/{user_uuid}/reset-password", Tags: []string{"users"},
		Summary: "Reset a user's password",
		Description: "Sets a new password the user must change at next login; the user's existing tokens stop " +
			"working.",
		Errors: []int{http.StatusNotFound, http.StatusServiceUnavailable},
	}, s.resetPassword)
}

// UserResponse is an account as the API shows it (the original's
// UserResponse).
type UserResponse struct {
	UUID               string `json:"uuid"`
	Username           string `json:"username"`
	Role               string `json:"role" enum:"viewer,analyst,admin"`
	MustChangePassword bool   `json:"must_change_password"`
}

func toUserResponse(u store.User) UserResponse {
	return UserResponse{UUID: u.UUID, Username: u.Username, Role: u.Role, MustChangePassword: u.MustChangePassword}
}

// UserParams is the path parameter of one user's routes (exported so
// huma reads it through embedding).
type UserParams struct {
	UserUUID string `path:"user_uuid" maxLength:"64" doc:"The user's UUID."`
}

// checkPasswordBytes refuses a password longer than bcrypt reads; the
// schema's maxLength counts characters, not bytes.
func checkPasswordBytes(field, pw string) error {
	if len(pw) <= maxPasswordBytes {
		return nil
	}
	return huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{
		Location: "body." + field, Message: fmt.Sprintf("longer than %d bytes", maxPasswordBytes)})
}

type createUserInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._@-]+$" doc:"Letters, digits and . _ @ -."`
		Password string `json:"password" minLength:"8" maxLength:"72" doc:"8 to 72 bytes; the user must change it at first login."`
		Role     string `json:"role,omitempty" enum:"viewer,analyst,admin" default:"viewer"`
	}
}

type userOutput struct {
	Body UserResponse
}

// createUser serves POST /config/users.
func (s *Server) createUser(ctx context.Context, in *createUserInput) (*userOutput, error) {
	req := in.Body
	if err := checkPasswordBytes("password", req.Password); err != nil {
		return nil, err
	}
	hash, err := s.newHash(ctx, req.Password)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	u := store.User{UUID: uuid.NewString(), Username: req.Username, PasswordHash: string(hash), Role: req.Role, MustChangePassword: true}
	if err := s.repo.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return nil, huma.Error409Conflict(detailUserExists)
	} else if err != nil {
		return nil, s.fail(ctx, err)
	}
	s.log.Info("user created", "by", userOf(ctx).Username, "user", u.Username, "role", u.Role)
	return &userOutput{Body: toUserResponse(u)}, nil
}

// users returns every account, oldest first.
func (s *Server) users(ctx context.Context) ([]UserResponse, error) {
	us, err := s.repo.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]UserResponse, len(us))
	for i, u := range us {
		out[i] = toUserResponse(u)
	}
	return out, nil
}

type listUsersInput struct {
	PageParams
}

type listUsersOutput struct {
	Body store.Page[UserResponse]
}

// listUsers serves GET /config/users; the few accounts are paged in
// memory so the answer has the shape of every list.
func (s *Server) listUsers(ctx context.Context, in *listUsersInput) (*listUsersOutput, error) {
	us, err := s.users(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	p := store.Page[UserResponse]{Total: int64(len(us)), Limit: in.Limit, Offset: in.Offset}
	if in.Offset < len(us) {
		p.Data = us[in.Offset:min(len(us), in.Offset+in.Limit)]
	}
	p.Data = nonNil(p.Data)
	return &listUsersOutput{Body: p}, nil
}

// changeUser runs change (a delete or role change of the account id,
// which the store refuses with ErrLastAdmin when no admin would be left)
// while no other user change of this server runs, and returns the
// account as it was.
func (s *Server) changeUser(ctx context.Context, id string, change func() error) (store.User, error) {
	select {
	case s.userLock <- struct{}{}:
	case <-ctx.Done():
		return store.User{}, huma.Error503ServiceUnavailable("request cancelled")
	}
	defer func() { <-s.userLock }()
	target, err := s.repo.UserByUUID(ctx, id)
	if err == nil {
		err = change()
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, huma.Error404NotFound(detailUserNotFound)
	case errors.Is(err, store.ErrLastAdmin):
		return store.User{}, huma.Error409Conflict(detailLastAdmin)
	case err != nil:
		return store.User{}, s.fail(ctx, err)
	}
	return target, nil
}

// deleteUser serves DELETE /config/users/{user_uuid}.
func (s *Server) deleteUser(ctx context.Context, in *UserParams) (*messageOutput, error) {
	me := userOf(ctx)
	if in.UserUUID == me.UUID {
		return nil, huma.Error403Forbidden(detailDeleteSelf)
	}
	u, err := s.changeUser(ctx, in.UserUUID, func() error { return s.repo.DeleteUser(ctx, in.UserUUID) })
	if err != nil {
		return nil, err
	}
	s.log.Info("user deleted", "by", me.Username, "user", u.Username)
	return message("User %s deleted", u.Username), nil
}

type setRoleInput struct {
	UserParams
	Body struct {
		Role string `json:"role" enum:"viewer,analyst,admin"`
	}
}

// setUserRole serves PUT /config/users/{user_uuid}/role.
func (s *Server) setUserRole(ctx context.Context, in *setRoleInput) (*messageOutput, error) {
	me := userOf(ctx)
	if in.UserUUID == me.UUID {
		return nil, huma.Error403Forbidden(detailRoleSelf)
	}
	role := in.Body.Role
	u, err := s.changeUser(ctx, in.UserUUID, func() error { return s.repo.SetRole(ctx, in.UserUUID, role) })
	if err != nil {
		return nil, err
	}
	s.log.Info("user role changed", "by", me.Username, "user", u.Username, "from", u.Role, "to", role)
	return message("Role of %s set to %s", u.Username, role), nil
}

type resetPasswordInput struct {
	UserParams
	Body struct {
		NewPassword string `json:"new_password" minLength:"8" maxLength:"72" doc:"8 to 72 bytes; the user must change it at next login."`
	}
}

// resetPassword serves PUT /config/users/{user_uuid}/reset-password. The
// new hash changes the password version, so the user's tokens die.
func (s *Server) resetPassword(ctx context.Context, in *resetPasswordInput) (*messageOutput, error) {
	if err := checkPasswordBytes("new_password", in.Body.NewPassword); err != nil {
		return nil, err
	}
	u, err := s.repo.UserByUUID(ctx, in.UserUUID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, huma.Error404NotFound(detailUserNotFound)
	} else if err != nil {
		return nil, s.fail(ctx, err)
	}
	hash, err := s.newHash(ctx, in.Body.NewPassword)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if err := s.repo.SetPassword(ctx, u.UUID, string(hash), true); errors.Is(err, store.ErrNotFound) {
		return nil, huma.Error404NotFound(detailUserNotFound)
	} else if err != nil {
		return nil, s.fail(ctx, err)
	}
	s.log.Info("password reset", "by", userOf(ctx).Username, "user", u.Username)
	return message("Password of %s reset; it must be changed at the next login", u.Username), nil
}
