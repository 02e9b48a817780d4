package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"decnet/internal/store"
)

func TestLogin(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "alice", "correct horse", store.RoleViewer, false)
	f.addUser(t, "bob", "battery staple", store.RoleAdmin, true)
	long := strings.Repeat("p", 73)

	tests := []struct {
		name       string
		body       string
		status     int
		detail     string // the problem's detail contains it
		location   string // else: an errors entry at location says msg
		msg        string
		mustChange bool
	}{
		{name: "ok", body: `{"username":"alice","password":"correct horse"}`, status: 200},
		{name: "ok, must change", body: `{"username":"bob","password":"battery staple"}`, status: 200, mustChange: true},
		{name: "wrong password", body: `{"username":"alice","password":"wrong"}`, status: 401, detail: "Incorrect username or password"},
		{name: "unknown user", body: `{"username":"mallory","password":"correct horse"}`, status: 401, detail: "Incorrect username or password"},
		{name: "password too long", body: `{"username":"alice","password":"` + long + `"}`, status: 422, location: "body.password", msg: "expected length <= 72"},
		// 37 characters pass the schema, but bcrypt reads 72 bytes.
		{name: "password too many bytes", body: `{"username":"alice","password":"` + strings.Repeat("é", 37) + `"}`, status: 422, detail: "password longer than 72 bytes"},
		{name: "empty username", body: `{"username":"","password":"x"}`, status: 422, location: "body.username", msg: "expected length >= 1"},
		{name: "username too long", body: `{"username":"` + strings.Repeat("u", 65) + `","password":"x"}`, status: 422, location: "body.username", msg: "expected length <= 64"},
		{name: "empty password", body: `{"username":"alice","password":""}`, status: 422, location: "body.password", msg: "expected length >= 1"},
		{name: "missing password", body: `{"username":"alice"}`, status: 422, location: "body", msg: "password"},
		{name: "unknown field", body: `{"username":"alice","password":"correct horse","role":"admin"}`, status: 422, location: "body.role", msg: "unexpected property"},
		{name: "bad json", body: `{"username":"alice",`, status: 400, location: "body", msg: "unexpected end of JSON input"},
		{name: "wrong type", body: `{"username":1,"password":"x"}`, status: 422, location: "body.username", msg: "expected string"},
		{name: "array body", body: `[1,2]`, status: 422, location: "body", msg: "expected object"},
		{name: "null body", body: `null`, status: 422, location: "body", msg: "expected object"},
		{name: "trailing data", body: `{"username":"alice","password":"correct horse"} {}`, status: 400, location: "body", msg: "after top-level value"},
		{name: "empty body", body: ``, status: 400, detail: "request body is required"},
		{name: "too large", body: `{"username":"` + strings.Repeat("a", maxBodyBytes) + `"}`, status: 413, detail: "request body is too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(t, "POST", "/api/v1/auth/login", "", tt.body)
			if tt.location != "" {
				expectInvalid(t, rec, tt.status, tt.location, tt.msg)
				return
			}
			m := expect(t, rec, tt.status, tt.detail)
			if tt.status != 200 {
				return
			}
			if m["token_type"] != "bearer" || m["must_change_password"] != tt.mustChange {
				t.Fatalf("response %v", m)
			}
			tok, _ := m["access_token"].(string)
			if got := f.do(t, "GET", "/api/v1/stats", tok, ""); tt.mustChange != (got.Code == 403) {
				t.Fatalf("token use: status %d", got.Code)
			}
		})
	}
}

func TestLoginContentType(t *testing.T) {
	f := newFixture(t, nil)
	req := `{"username":"a","password":"b"}`
	for _, tt := range []struct {
		ct     string
		status int
	}{
		{"text/plain", 415},
		{"application/x-www-form-urlencoded", 415},
		{"application/json; charset=utf-8", 401},
		{"", 401},
	} {
		r := newRequest("POST", "/api/v1/auth/login", req)
		if tt.ct != "" {
			r.Header.Set("Content-Type", tt.ct)
		}
		rec := serve(f, r)
		expect(t, rec, tt.status, "")
	}
}

func TestLoginStoreFailure(t *testing.T) {
	f := newFixture(t, nil)
	f.repo.err = errors.New("disk on fire")
	rec := f.do(t, "POST", "/api/v1/auth/login", "", `{"username":"a","password":"b"}`)
	expect(t, rec, 500, "Internal server error")
	if strings.Contains(rec.Body.String(), "disk") {
		t.Fatal("internal error text leaked to the client")
	}
}

func TestLoginTokenClaims(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser(t, "alice", "correct horse", store.RoleViewer, false)
	m := expect(t, f.do(t, "POST", "/api/v1/auth/login", "", `{"username":"alice","password":"correct horse"}`), 200, "")
	var c claims
	tok, err := jwt.ParseWithClaims(m["access_token"].(string), &c, func(*jwt.Token) (any, error) { return testSecret, nil })
	if err != nil {
		t.Fatal(err)
	}
	if tok.Method.Alg() != "HS256" || c.Subject != u.UUID || c.UUID != u.UUID {
		t.Fatalf("alg %s claims %+v", tok.Method.Alg(), c)
	}
	if ttl := c.ExpiresAt.Sub(c.IssuedAt.Time); ttl != 24*time.Hour {
		t.Fatalf("token lifetime %s", ttl)
	}
}

// sign makes a token with arbitrary claims, method and key.
func sign(t *testing.T, m jwt.SigningMethod, c jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBearerTokens(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser(t, "alice", "correct horse", store.RoleViewer, false)
	now := time.Now()
	valid := func() claims {
		return claims{UUID: u.UUID, PasswordVer: passwordVersion(u.PasswordHash), RegisteredClaims: jwt.RegisteredClaims{
			Subject: u.UUID, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	}
	with := func(edit func(*claims)) claims { c := valid(); edit(&c); return c }

	tests := []struct {
		name   string
		header string // the whole Authorization header
		status int
	}{
		{"valid", "Bearer " + sign(t, jwt.SigningMethodHS256, valid(), testSecret), 200},
		{"scheme case", "bearer " + sign(t, jwt.SigningMethodHS256, valid(), testSecret), 200},
		{"missing", "", 401},
		{"basic scheme", "Basic YWxpY2U6eA==", 401},
		{"bearer without token", "Bearer ", 401},
		{"garbage", "Bearer not.a.jwt", 401},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, with(func(c *claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
		}), testSecret), 401},
		{"no expiry", "Bearer " + sign(t, jwt.SigningMethodHS256, with(func(c *claims) { c.ExpiresAt = nil }), testSecret), 401},
		{"issued in the future", "Bearer " + sign(t, jwt.SigningMethodHS256, with(func(c *claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
		}), testSecret), 401},
		{"wrong signature", "Bearer " + sign(t, jwt.SigningMethodHS256, valid(), []byte("another-secret-of-enough-length-000")), 401},
		{"alg none", "Bearer " + sign(t, jwt.SigningMethodNone, valid(), jwt.UnsafeAllowNoneSignatureType), 401},
		{"HS512 with the right key", "Bearer " + sign(t, jwt.SigningMethodHS512, valid(), testSecret), 401},
		{"unknown user", "Bearer " + sign(t, jwt.SigningMethodHS256, with(func(c *claims) { c.Subject = "nobody" }), testSecret), 401},
		{"no subject", "Bearer " + sign(t, jwt.SigningMethodHS256, with(func(c *claims) { c.Subject = "" }), testSecret), 401},
		{"old password", "Bearer " + sign(t, jwt.SigningMethodHS256, with(func(c *claims) { c.PasswordVer = "0000" }), testSecret), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest("GET", "/api/v1/logs", "")
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			rec := serve(f, r)
			if tt.status == 401 {
				expect(t, rec, 401, "Could not validate credentials")
				if rec.Header().Get("WWW-Authenticate") != "Bearer" {
					t.Fatalf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
				}
				return
			}
			expect(t, rec, tt.status, "")
		})
	}
}

func TestRoles(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct {
		role   string
		status int
	}{
		{store.RoleAdmin, 200},
		{store.RoleAnalyst, 200},
		{store.RoleViewer, 200},
		{"auditor", 403},
	} {
		u := f.addUser(t, "user-"+tt.role, "password1", tt.role, false)
		for _, path := range []string{"/api/v1/logs", "/api/v1/bounty", "/api/v1/stats", "/api/v1/health"} {
			rec := f.do(t, "GET", path, f.token(t, u), "")
			if tt.status == 403 {
				expect(t, rec, 403, "Insufficient permissions")
			} else {
				expect(t, rec, tt.status, "")
			}
		}
	}
}

// TestMustChangePasswordFlow walks a newcomer's first login: the seeded
// admin's random password, the forced change, and the session after it.
func TestMustChangePasswordFlow(t *testing.T) {
	t.Setenv(EnvAdminUser, "")
	unsetEnv(t, EnvAdminPassword)
	f := newFixture(t, nil)
	created, pw, err := SeedAdmin(t.Context(), f.repo, nil)
	if err != nil || !created {
		t.Fatalf("seed: %v %v", created, err)
	}
	login := func(pw string) map[string]any {
		return expect(t, f.do(t, "POST", "/api/v1/auth/login", "", `{"username":"admin","password":"`+pw+`"}`), 200, "")
	}
	m := login(pw)
	if m["must_change_password"] != true {
		t.Fatalf("seeded admin not flagged: %v", m)
	}
	tok := m["access_token"].(string)
	for _, path := range []string{"/api/v1/logs", "/api/v1/bounty", "/api/v1/stats", "/api/v1/health"} {
		expect(t, f.do(t, "GET", path, tok, ""), 403, "Password change required before accessing this resource")
	}

	// /auth/me answers while the change is pending, so a client can tell
	// a forced change from a bad token.
	if me := expect(t, f.do(t, "GET", "/api/v1/auth/me", tok, ""), 200, ""); me["username"] != "admin" || me["role"] != "admin" || me["must_change_password"] != true {
		t.Fatalf("me before the change: %v", me)
	}

	const cp = "/api/v1/auth/change-password"
	expect(t, f.do(t, "POST", cp, "", `{"old_password":"`+pw+`","new_password":"n3w-password"}`), 401, "Could not validate credentials")
	expect(t, f.do(t, "POST", cp, tok, `{"old_password":"wrong","new_password":"n3w-password"}`), 401, "Incorrect old password")
	expectInvalid(t, f.do(t, "POST", cp, tok, `{"old_password":"`+pw+`","new_password":"short"}`), 422, "body.new_password", "expected length >= 8")
	expectInvalid(t, f.do(t, "POST", cp, tok, `{"old_password":"`+pw+`","new_password":"`+strings.Repeat("x", 73)+`"}`), 422, "body.new_password", "expected length <= 72")
	expect(t, f.do(t, "POST", cp, tok, `{"old_password":"`+pw+`","new_password":"`+strings.Repeat("é", 37)+`"}`), 422, "at most 72 bytes")
	expect(t, f.do(t, "POST", cp, tok, `{"old_password":"`+pw+`","new_password":"`+pw+`"}`), 422, "must differ")
	expectInvalid(t, f.do(t, "POST", cp, tok, `{"old_password":"`+pw+`"}`), 422, "body", "new_password")
	expectInvalid(t, f.do(t, "POST", cp, tok, `{"old_password":"`+pw+`","new_password":"n3w-password","x":1}`), 422, "body.x", "unexpected property")

	m = expect(t, f.do(t, "POST", cp, tok, `{"old_password":"`+pw+`","new_password":"n3w-password"}`), 200, "")
	if m["message"] != "Password changed successfully" || m["must_change_password"] != false || m["token_type"] != "bearer" {
		t.Fatalf("change response %v", m)
	}
	newTok := m["access_token"].(string)
	expect(t, f.do(t, "GET", "/api/v1/stats", tok, ""), 401, "Could not validate credentials")
	expect(t, f.do(t, "GET", "/api/v1/stats", newTok, ""), 200, "")
	if me := expect(t, f.do(t, "GET", "/api/v1/auth/me", newTok, ""), 200, ""); me["must_change_password"] != false {
		t.Fatalf("me after the change: %v", me)
	}

	expect(t, f.do(t, "POST", "/api/v1/auth/login", "", `{"username":"admin","password":"`+pw+`"}`), 401, "")
	if m := login("n3w-password"); m["must_change_password"] != false {
		t.Fatalf("flag not cleared: %v", m)
	}
}

func TestHashSlotsBusy(t *testing.T) {
	f := newFixture(t, nil)
	f.addUser(t, "alice", "correct horse", store.RoleViewer, false)
	for range cap(f.srv.hashSlots) {
		f.srv.hashSlots <- struct{}{}
	}
	r := newRequest("POST", "/api/v1/auth/login", `{"username":"alice","password":"correct horse"}`)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	rec := serve(f, r.WithContext(ctx))
	expect(t, rec, http.StatusServiceUnavailable, "Server busy")
}
