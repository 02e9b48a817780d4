package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// rbacTable is who may call each operation, written by hand from the
// roles' definitions rather than read from route registrations, so a
// route registered at the wrong level fails here. Every operation of
// the document must be listed: a new route is classified on purpose.
//
// viewer reads everything but artifact bytes; analyst also downloads
// artifacts, forces mutations and sets mutation intervals; admin does
// everything (deploy, limits, users, reinit).
var rbacTable = map[string]access{
	"POST /auth/login":           public,
	"POST /auth/change-password": anyUser,
	"GET /auth/me":               anyUser,

	"GET /logs":                          viewer,
	"GET /logs/histogram":                viewer,
	"GET /bounty":                        viewer,
	"GET /stats":                         viewer,
	"GET /stats/services":                viewer,
	"GET /health":                        viewer,
	"GET /stream":                        viewer,
	"POST /stream/ticket":                viewer,
	"GET /deckies":                       viewer,
	"GET /attackers":                     viewer,
	"GET /attackers/{uuid}":              viewer,
	"GET /attackers/{uuid}/commands":     viewer,
	"GET /attackers/{uuid}/artifacts":    viewer,
	"GET /config":                        viewer,
	"GET /artifacts/{decky}/{stored_as}": analyst,

	"POST /deckies/{decky_name}/mutate":         analyst,
	"PUT /deckies/{decky_name}/mutate-interval": analyst,
	"PUT /config/global-mutation-interval":      analyst,

	"POST /deckies/deploy":                         admin,
	"PUT /config/deployment-limit":                 admin,
	"GET /config/users":                            admin,
	"POST /config/users":                           admin,
	"DELETE /config/users/{user_uuid}":             admin,
	"PUT /config/users/{user_uuid}/role":           admin,
	"PUT /config/users/{user_uuid}/reset-password": admin,
	"DELETE /config/reinit":                        admin,
}

// expectAccess sends c as a and checks the answer against level.
func (e *contractEnv) expectAccess(t *testing.T, o operation, level access, c sweepCase, a *actor, via string) {
	t.Helper()
	key, who := o.String(), a.kind+via
	r := e.do(o, c, a)
	if r.err != nil {
		t.Errorf("%s as %s: %v", key, who, r.err)
		return
	}
	code := r.resp.StatusCode
	switch {
	case admits(a.kind, level):
		if code >= 300 {
			t.Errorf("%s (%s) as %s: status %d, want success: %.300s", key, accessNames[level], who, code, r.body)
		}
	case a.kind == kindNone:
		if code != http.StatusUnauthorized || r.resp.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s (%s) without token: status %d (WWW-Authenticate %q), want 401 Bearer",
				key, accessNames[level], code, r.resp.Header.Get("WWW-Authenticate"))
		}
	default:
		detail := detailNoPermission
		if a.kind == kindMustChange {
			detail = detailMustChange
		}
		if code != http.StatusForbidden || !strings.Contains(string(r.body), detail) {
			t.Errorf("%s (%s) as %s: status %d %.200s, want 403 %q", key, accessNames[level], who, code, r.body, detail)
		}
	}
}

// queryCredential is a's credential for the query parameter name.
func (e *contractEnv) queryCredential(t *testing.T, name string, a *actor) string {
	t.Helper()
	switch name {
	case "token":
		return a.token
	case "ticket":
		resp, body := e.send(t.Context(), http.MethodPost, "/stream/ticket", a.token, "", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("ticket for %s: %d %s", a.kind, resp.StatusCode, body)
		}
		var tk struct {
			Ticket string `json:"ticket"`
		}
		if err := json.Unmarshal(body, &tk); err != nil || tk.Ticket == "" {
			t.Fatalf("ticket: %v %s", err, body)
		}
		return tk.Ticket
	}
	t.Errorf("no way to get a %q query credential: teach queryCredential", name)
	return ""
}

var accessNames = map[access]string{public: "public", anyUser: "anyUser", viewer: "viewer", analyst: "analyst", admin: "admin"}

// admits reports whether an actor of kind may call a route at level.
func admits(kind string, level access) bool {
	switch kind {
	case kindNone:
		return level == public
	case kindMustChange:
		return level <= anyUser
	}
	return roleRank[kind] >= level
}

// TestRBAC calls every operation of the document with valid inputs as
// each kind of caller: no token is 401 unless public, a user who must
// change the password is 403 everywhere but the password change, a role
// below the operation's is 403, and everyone else gets through and
// succeeds (each call with a fresh caller and fresh targets, so one call
// cannot spend what the next needs).
func TestRBAC(t *testing.T) {
	e := newContractEnv(t)
	ops := e.operations()
	seen := map[string]bool{}
	for _, o := range ops {
		key := o.String()
		seen[key] = true
		level, ok := rbacTable[key]
		if !ok {
			t.Errorf("%s is not in rbacTable: classify it (public, anyUser, viewer, analyst or admin)", key)
			continue
		}
		c := e.cases(o)[0] // the minimal valid request
		for _, kind := range actorKinds {
			c.path = e.fillPath(o, nil) // fresh targets for each call
			e.expectAccess(t, o, level, c, e.freshActor(kind), "")
		}
		// The same with each credential the document allows in the
		// query instead of the header.
		for _, name := range e.queryCredentials(o) {
			for _, kind := range actorKinds[1:] {
				// A must-change user is flagged after getting the
				// credential (an admin of the day before whose password
				// was reset since): the flag, not the credential's
				// issuer, must refuse it.
				a := e.freshActor(kind)
				if kind == kindMustChange {
					a = e.freshActor(kindAdmin)
				}
				cred := e.queryCredential(t, name, a)
				if kind == kindMustChange {
					if err := e.repo.SetPassword(t.Context(), a.user.UUID, a.user.PasswordHash, true); err != nil {
						t.Fatal(err)
					}
				}
				c.path = e.fillPath(o, nil) + "?" + url.Values{name: {cred}}.Encode()
				e.expectAccess(t, o, level, c, &actor{kind: kind, user: a.user, password: a.password}, "?"+name)
			}
		}
	}
	for _, key := range sortedKeys(rbacTable) {
		if !seen[key] {
			t.Errorf("rbacTable lists %s, which the document does not have", key)
		}
	}
	if !slices.ContainsFunc(ops, func(o operation) bool { return rbacTable[o.String()] > viewer }) {
		t.Error("no operation above viewer: the table cannot have been checked")
	}
}
