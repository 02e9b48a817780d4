package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/crypto/bcrypt"

	"decnet/internal/store"
	"decnet/internal/testutil"
)

// usersFixture is a server over SQLite with an admin, a viewer and their
// tokens.
type usersFixture struct {
	*fixture
	db            *store.SQLite
	admin, viewer store.User
	adminTok      string
	viewerTok     string
}

func newUsersFixture(t *testing.T) *usersFixture {
	t.Helper()
	f, db := newSQLiteFixture(t, nil)
	uf := &usersFixture{fixture: f, db: db}
	uf.admin = f.addUser(t, "root-ops", "admin-password", store.RoleAdmin, false)
	uf.viewer = f.addUser(t, "watcher", "viewer-password", store.RoleViewer, false)
	uf.adminTok, uf.viewerTok = f.token(t, uf.admin), f.token(t, uf.viewer)
	return uf
}

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		role   string // of the created user
		detail string // of a problem
		// location non-empty: a 422 whose errors say msg there.
		location, msg string
	}{
		{name: "default role", body: `{"username":"ana","password":"password1"}`, status: 201, role: store.RoleViewer},
		{name: "admin", body: `{"username":"second.admin@example","password":"password1","role":"admin"}`, status: 201, role: store.RoleAdmin},
		{name: "viewer", body: `{"username":"V_1-x","password":"password1","role":"viewer"}`, status: 201, role: store.RoleViewer},
		{name: "analyst", body: `{"username":"analyst1","password":"password1","role":"analyst"}`, status: 201, role: store.RoleAnalyst},
		{name: "64-character name", body: `{"username":"` + strings.Repeat("n", 64) + `","password":"password1"}`, status: 201, role: store.RoleViewer},
		{name: "taken", body: `{"username":"watcher","password":"password1"}`, status: 409, detail: "Username already exists"},
		{name: "empty name", body: `{"username":"","password":"password1"}`, status: 422, location: "body.username", msg: "expected length >= 1"},
		{name: "long name", body: `{"username":"` + strings.Repeat("n", 65) + `","password":"password1"}`, status: 422, location: "body.username", msg: "expected length <= 64"},
		{name: "space in name", body: `{"username":"a b","password":"password1"}`, status: 422, location: "body.username", msg: "expected string to match pattern"},
		{name: "slash in name", body: `{"username":"a/b","password":"password1"}`, status: 422, location: "body.username", msg: "pattern"},
		{name: "short password", body: `{"username":"ana","password":"1234567"}`, status: 422, location: "body.password", msg: "expected length >= 8"},
		{name: "long password", body: `{"username":"ana","password":"` + strings.Repeat("p", 73) + `"}`, status: 422, location: "body.password", msg: "expected length <= 72"},
		{name: "password over 72 bytes", body: `{"username":"ana","password":"` + strings.Repeat("é", 37) + `"}`, status: 422, location: "body.password", msg: "longer than 72 bytes"},
		{name: "unknown role", body: `{"username":"ana","password":"password1","role":"root"}`, status: 422, location: "body.role", msg: "expected value to be one of"},
		{name: "unknown field", body: `{"username":"ana","password":"password1","must_change_password":false}`, status: 422, location: "body.must_change_password", msg: "unexpected property"},
		{name: "missing password", body: `{"username":"ana"}`, status: 422, location: "body", msg: "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newUsersFixture(t)
			rec := f.do(t, "POST", "/api/v1/config/users", f.adminTok, tt.body)
			if tt.location != "" {
				expectInvalid(t, rec, tt.status, tt.location, tt.msg)
				return
			}
			m := expect(t, rec, tt.status, tt.detail)
			if tt.status != 201 {
				return
			}
			var req struct{ Username, Password string }
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			if len(m) != 4 || m["username"] != req.Username || m["role"] != tt.role || m["must_change_password"] != true || m["uuid"] == "" {
				t.Fatalf("response %v", m)
			}
			u, err := f.db.UserByName(t.Context(), req.Username)
			if err != nil {
				t.Fatal(err)
			}
			if u.UUID != m["uuid"] || u.Role != tt.role || !u.MustChangePassword {
				t.Fatalf("stored %+v", u)
			}
			if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.Password)) != nil {
				t.Fatal("stored hash does not match the password")
			}
			// The newcomer logs in and must change the password first.
			creds, _ := json.Marshal(map[string]string{"username": req.Username, "password": req.Password})
			lm := expect(t, f.do(t, "POST", "/api/v1/auth/login", "", string(creds)), 200, "")
			if lm["must_change_password"] != true {
				t.Fatalf("login %v", lm)
			}
			expect(t, f.do(t, "GET", "/api/v1/stats", lm["access_token"].(string), ""), 403, "Password change required")
		})
	}
}

func TestUserRoutesNeedAdmin(t *testing.T) {
	f := newUsersFixture(t)
	target := "/api/v1/config/users/" + f.admin.UUID
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/config/users", `{"username":"ana","password":"password1"}`},
		{"GET", "/api/v1/config/users", ""},
		{"DELETE", target, ""},
		{"PUT", target + "/role", `{"role":"viewer"}`},
		{"PUT", target + "/reset-password", `{"new_password":"password1"}`},
	} {
		expect(t, f.do(t, r.method, r.path, f.viewerTok, r.body), 403, "Insufficient permissions")
		expect(t, f.do(t, r.method, r.path, "", r.body), 401, "Could not validate credentials")
	}
	if u, err := f.db.UserByUUID(t.Context(), f.admin.UUID); err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("admin changed by refused requests: %+v %v", u, err)
	}
}

func TestListUsers(t *testing.T) {
	f := newUsersFixture(t)
	for i := range 3 {
		expect(t, f.do(t, "POST", "/api/v1/config/users", f.adminTok, fmt.Sprintf(`{"username":"user%d","password":"password1"}`, i)), 201, "")
	}
	names := func(m map[string]any) []string {
		var out []string
		for _, d := range m["data"].([]any) {
			out = append(out, d.(map[string]any)["username"].(string))
		}
		return out
	}
	tests := []struct {
		query  string
		limit  int
		offset int
		want   []string
	}{
		{"", 50, 0, []string{"root-ops", "watcher", "user0", "user1", "user2"}},
		{"limit=2", 2, 0, []string{"root-ops", "watcher"}},
		{"limit=2&offset=4", 2, 4, []string{"user2"}},
		{"offset=5", 50, 5, nil},
		{"offset=2147483647", 50, 2147483647, nil},
	}
	for _, tt := range tests {
		rec := f.do(t, "GET", "/api/v1/config/users?"+tt.query, f.adminTok, "")
		m := expect(t, rec, 200, "")
		if m["total"] != float64(5) || m["limit"] != float64(tt.limit) || m["offset"] != float64(tt.offset) ||
			fmt.Sprint(names(m)) != fmt.Sprint(tt.want) {
			t.Errorf("%q: %v", tt.query, m)
		}
		if tt.want == nil && !strings.Contains(rec.Body.String(), `"data":[]`) {
			t.Errorf("%q: empty page not []: %s", tt.query, rec.Body)
		}
		for _, d := range m["data"].([]any) {
			if u := d.(map[string]any); len(u) != 4 || u["uuid"] == "" {
				t.Errorf("row %v", u)
			}
		}
	}
	expectInvalid(t, f.do(t, "GET", "/api/v1/config/users?limit=0", f.adminTok, ""), 422, "query.limit", "expected number >= 1")
	if strings.Contains(f.do(t, "GET", "/api/v1/config/users", f.adminTok, "").Body.String(), "$2") {
		t.Fatal("a password hash is listed")
	}
}

func TestDeleteUser(t *testing.T) {
	tests := []struct {
		name   string
		target func(f *usersFixture) string
		status int
		detail string
	}{
		{"viewer", func(f *usersFixture) string { return f.viewer.UUID }, 200, "User watcher deleted"},
		{"self", func(f *usersFixture) string { return f.admin.UUID }, 403, "You cannot delete your own account"},
		{"unknown", func(*usersFixture) string { return "00000000-0000-0000-0000-000000000000" }, 404, "User not found"},
		{"not a uuid", func(*usersFixture) string { return "nobody" }, 404, "User not found"},
		{"too long", func(*usersFixture) string { return strings.Repeat("a", 65) }, 422, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newUsersFixture(t)
			rec := f.do(t, "DELETE", "/api/v1/config/users/"+tt.target(f), f.adminTok, "")
			if tt.status == 200 {
				m := expect(t, rec, 200, "")
				if m["message"] != tt.detail {
					t.Fatalf("message %v", m)
				}
			} else {
				expect(t, rec, tt.status, tt.detail)
			}
			n, _ := f.db.CountUsers(t.Context())
			if want := map[bool]int64{true: 1, false: 2}[tt.status == 200]; n != want {
				t.Fatalf("%d users left, want %d", n, want)
			}
			if tt.status == 200 {
				// The deleted user's token dies with the account.
				expect(t, f.do(t, "GET", "/api/v1/stats", f.viewerTok, ""), 401, "Could not validate credentials")
			}
		})
	}
}

func TestSetUserRole(t *testing.T) {
	tests := []struct {
		name   string
		target func(f *usersFixture) string
		body   string
		status int
		detail string
		role   string // the target's role afterwards
	}{
		{"promote to admin", func(f *usersFixture) string { return f.viewer.UUID }, `{"role":"admin"}`, 200, "Role of watcher set to admin", store.RoleAdmin},
		{"to analyst", func(f *usersFixture) string { return f.viewer.UUID }, `{"role":"analyst"}`, 200, "Role of watcher set to analyst", store.RoleAnalyst},
		{"same role", func(f *usersFixture) string { return f.viewer.UUID }, `{"role":"viewer"}`, 200, "Role of watcher set to viewer", store.RoleViewer},
		{"self", func(f *usersFixture) string { return f.admin.UUID }, `{"role":"viewer"}`, 403, "You cannot change your own role", ""},
		{"unknown", func(*usersFixture) string { return "00000000-0000-0000-0000-000000000000" }, `{"role":"viewer"}`, 404, "User not found", ""},
		{"bad role", func(f *usersFixture) string { return f.viewer.UUID }, `{"role":"superuser"}`, 422, "", store.RoleViewer},
		{"no role", func(f *usersFixture) string { return f.viewer.UUID }, `{}`, 422, "", store.RoleViewer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newUsersFixture(t)
			id := tt.target(f)
			rec := f.do(t, "PUT", "/api/v1/config/users/"+id+"/role", f.adminTok, tt.body)
			if tt.status == 200 {
				if m := expect(t, rec, 200, ""); m["message"] != tt.detail {
					t.Fatalf("message %v", m)
				}
			} else {
				expect(t, rec, tt.status, tt.detail)
			}
			if tt.role == "" {
				return
			}
			u, err := f.db.UserByUUID(t.Context(), id)
			if err != nil || u.Role != tt.role {
				t.Fatalf("stored %+v %v, want role %s", u, err, tt.role)
			}
			// The new role holds on the user's next request, same token.
			want := map[string]int{store.RoleAdmin: 200, store.RoleAnalyst: 403, store.RoleViewer: 403}[tt.role]
			expect(t, f.do(t, "GET", "/api/v1/config/users", f.viewerTok, ""), want, "")
		})
	}
}

func TestResetPassword(t *testing.T) {
	f := newUsersFixture(t)
	const path = "/api/v1/config/users/%s/reset-password"
	login := func(pw string) *httptest.ResponseRecorder {
		return f.do(t, "POST", "/api/v1/auth/login", "", `{"username":"watcher","password":"`+pw+`"}`)
	}
	for _, tt := range []struct {
		name, id, body string
		status         int
		location, msg  string
	}{
		{"unknown", "00000000-0000-0000-0000-000000000000", `{"new_password":"password1"}`, 404, "", "User not found"},
		{"short", f.viewer.UUID, `{"new_password":"short"}`, 422, "body.new_password", "expected length >= 8"},
		{"long", f.viewer.UUID, `{"new_password":"` + strings.Repeat("x", 73) + `"}`, 422, "body.new_password", "expected length <= 72"},
		{"over 72 bytes", f.viewer.UUID, `{"new_password":"` + strings.Repeat("é", 37) + `"}`, 422, "body.new_password", "longer than 72 bytes"},
		{"missing", f.viewer.UUID, `{}`, 422, "body", "new_password"},
	} {
		rec := f.do(t, "PUT", fmt.Sprintf(path, tt.id), f.adminTok, tt.body)
		if tt.location != "" {
			expectInvalid(t, rec, tt.status, tt.location, tt.msg)
		} else {
			expect(t, rec, tt.status, tt.msg)
		}
	}
	// Nothing refused changed the password.
	expect(t, f.do(t, "GET", "/api/v1/stats", f.viewerTok, ""), 200, "")

	m := expect(t, f.do(t, "PUT", fmt.Sprintf(path, f.viewer.UUID), f.adminTok, `{"new_password":"temporary-pw"}`), 200, "")
	if m["message"] != "Password of watcher reset; it must be changed at the next login" {
		t.Fatalf("message %v", m)
	}
	// The user's older tokens die; the old password is refused.
	expect(t, f.do(t, "GET", "/api/v1/stats", f.viewerTok, ""), 401, "Could not validate credentials")
	expect(t, login("viewer-password"), 401, "Incorrect username or password")
	lm := expect(t, login("temporary-pw"), 200, "")
	if lm["must_change_password"] != true {
		t.Fatalf("login after reset %v", lm)
	}
	tok := lm["access_token"].(string)
	expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 403, "Password change required")
	cm := expect(t, f.do(t, "POST", "/api/v1/auth/change-password", tok, `{"old_password":"temporary-pw","new_password":"my-own-password"}`), 200, "")
	expect(t, f.do(t, "GET", "/api/v1/stats", cm["access_token"].(string), ""), 200, "")
	// The admin's session is untouched.
	expect(t, f.do(t, "GET", "/api/v1/config/users", f.adminTok, ""), 200, "")
}

// TestLastAdminKept: a request authorised while its caller was an admin
// must not leave the installation without one.
func TestLastAdminKept(t *testing.T) {
	f := newUsersFixture(t)
	// A caller whose admin role went away between authorisation and the
	// change, as when another admin demoted it meanwhile.
	stale := context.WithValue(t.Context(), userKey{}, store.User{UUID: "gone", Username: "gone", Role: store.RoleAdmin})
	tests := []struct {
		name   string
		call   func() (*messageOutput, error)
		status int
	}{
		{"delete", func() (*messageOutput, error) {
			return f.srv.deleteUser(stale, &UserParams{UserUUID: f.admin.UUID})
		}, 409},
		{"demote to viewer", func() (*messageOutput, error) {
			in := &setRoleInput{UserParams: UserParams{UserUUID: f.admin.UUID}}
			in.Body.Role = store.RoleViewer
			return f.srv.setUserRole(stale, in)
		}, 409},
		{"demote to analyst", func() (*messageOutput, error) {
			in := &setRoleInput{UserParams: UserParams{UserUUID: f.admin.UUID}}
			in.Body.Role = store.RoleAnalyst
			return f.srv.setUserRole(stale, in)
		}, 409},
		{"keep admin", func() (*messageOutput, error) {
			in := &setRoleInput{UserParams: UserParams{UserUUID: f.admin.UUID}}
			in.Body.Role = store.RoleAdmin
			return f.srv.setUserRole(stale, in)
		}, 200},
		{"delete a viewer", func() (*messageOutput, error) {
			return f.srv.deleteUser(stale, &UserParams{UserUUID: f.viewer.UUID})
		}, 200},
	}
	for _, tt := range tests {
		_, err := tt.call()
		var se huma.StatusError
		switch {
		case tt.status == 200 && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.status != 200 && (!errors.As(err, &se) || se.GetStatus() != tt.status || !strings.Contains(se.Error(), detailLastAdmin)):
			t.Errorf("%s: %v, want %d %q", tt.name, err, tt.status, detailLastAdmin)
		}
	}
	if u, err := f.db.UserByUUID(t.Context(), f.admin.UUID); err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("last admin: %+v %v", u, err)
	}
}

// TestAdminsRemovingEachOther: admins deleting and demoting each other
// at once always leave one admin.
func TestAdminsRemovingEachOther(t *testing.T) {
	for round := range 10 {
		f, db := newSQLiteFixture(t, nil)
		admins := make([]store.User, 3)
		toks := make([]string, 3)
		for i := range admins {
			admins[i] = f.addUser(t, fmt.Sprintf("admin%d", i), "password1", store.RoleAdmin, false)
			toks[i] = f.token(t, admins[i])
		}
		var wg sync.WaitGroup
		statuses := make(chan int, 6)
		for i := range admins {
			for j := range admins {
				if i == j {
					continue
				}
				wg.Go(func() {
					var rec *httptest.ResponseRecorder
					if (i+j+round)%2 == 0 {
						rec = f.do(t, "DELETE", "/api/v1/config/users/"+admins[j].UUID, toks[i], "")
					} else {
						rec = f.do(t, "PUT", "/api/v1/config/users/"+admins[j].UUID+"/role", toks[i], `{"role":"viewer"}`)
					}
					statuses <- rec.Code
				})
			}
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			// 401/403: the caller was deleted or demoted first; 404:
			// the target was deleted first.
			if s != 200 && s != 401 && s != 403 && s != 404 && s != 409 {
				t.Fatalf("round %d: status %d", round, s)
			}
		}
		us, err := db.ListUsers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, u := range us {
			if u.Role == store.RoleAdmin {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("round %d: no admin left: %+v", round, us)
		}
	}
}

func TestUserChangesAudited(t *testing.T) {
	var logs *testutil.Logs
	f, _ := newSQLiteFixture(t, func(c *Config) { logs = captureLogs(c) })
	a := f.addUser(t, "root-ops", "admin-password", store.RoleAdmin, false)
	tok := f.token(t, a)
	m := expect(t, f.do(t, "POST", "/api/v1/config/users", tok, `{"username":"ana","password":"first-secret"}`), 201, "")
	id := m["uuid"].(string)
	expect(t, f.do(t, "PUT", "/api/v1/config/users/"+id+"/role", tok, `{"role":"admin"}`), 200, "")
	expect(t, f.do(t, "PUT", "/api/v1/config/users/"+id+"/reset-password", tok, `{"new_password":"second-secret"}`), 200, "")
	expect(t, f.do(t, "DELETE", "/api/v1/config/users/"+id, tok, ""), 200, "")
	for _, w := range []struct {
		msg   string
		attrs map[string]any
	}{
		{"user created", map[string]any{"by": "root-ops", "user": "ana", "role": "viewer"}},
		{"user role changed", map[string]any{"by": "root-ops", "user": "ana", "from": "viewer", "to": "admin"}},
		{"password reset", map[string]any{"by": "root-ops", "user": "ana"}},
		{"user deleted", map[string]any{"by": "root-ops", "user": "ana"}},
	} {
		recs := logs.Records(t, w.msg)
		if len(recs) != 1 {
			t.Fatalf("%d %q records:\n%s", len(recs), w.msg, logs.String())
		}
		for k, v := range w.attrs {
			if recs[0][k] != v {
				t.Errorf("%s: %s = %v, want %v", w.msg, k, recs[0][k], v)
			}
		}
	}
	for _, secret := range []string{"first-secret", "second-secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("password %q logged", secret)
		}
	}
}

// TestUsernameRuleMatchesSchema: CheckUsername (the CLI's rule) and the
// create-user body's documented pattern are one rule.
func TestUsernameRuleMatchesSchema(t *testing.T) {
	f, ok := reflect.TypeFor[createUserInput]().FieldByName("Body")
	if !ok {
		t.Fatal("no Body")
	}
	name, _ := f.Type.FieldByName("Username")
	if got := name.Tag.Get("pattern"); got != usernamePattern.String() {
		t.Fatalf("schema pattern %q, CheckUsername uses %q", got, usernamePattern)
	}
	for _, n := range []string{"alice", "a.b@c-d_e"} {
		if err := CheckUsername(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range []string{"", "a b", "a/b", strings.Repeat("a", 65)} {
		if CheckUsername(n) == nil {
			t.Errorf("%q accepted", n)
		}
	}
}
