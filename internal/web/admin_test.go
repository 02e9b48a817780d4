package web

import (
	"bytes"
	"context"
	"errors"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"decnet/internal/api"
	"decnet/internal/event"
	"decnet/internal/store"
)

// Each page's test shares one env and one browser per role across its
// cases, resetting the fleet between them: every sign-in costs bcrypt
// hashes, which the race detector makes slow.

// roleBrowsers signs in one browser per role.
func (e *env) roleBrowsers() map[string]*browser {
	e.t.Helper()
	bs := map[string]*browser{}
	for _, role := range []string{store.RoleViewer, store.RoleAnalyst, store.RoleAdmin} {
		bs[role] = e.signedIn(role)
	}
	return bs
}

// has fails the test unless the page contains each of want and none of
// not.
func (p page) has(t *testing.T, want []string, not ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.Body, w) {
			t.Errorf("%s (%d) lacks %q", p.URL.Path, p.Status, w)
		}
	}
	for _, n := range not {
		if strings.Contains(p.Body, n) {
			t.Errorf("%s (%d) contains %q", p.URL.Path, p.Status, n)
		}
	}
}

// reset puts the fleet back as it was: deckies, no changes recorded, a
// global interval of 30 minutes.
func (f *testFleet) reset(deckies []api.Decky) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deckies = slices.Clone(deckies)
	f.mutated, f.deployed, f.global = nil, nil, 30
}

func (f *testFleet) snapshot() (mutated, deployed []string, global int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.mutated), slices.Clone(f.deployed), f.global
}

func (f *testFleet) interval(name string) *int {
	for _, d := range f.Deckies() {
		if d.Name == name {
			return d.MutateInterval
		}
	}
	return nil
}

// forbidden is the API's refusal of a role below the route's.
const forbidden = "Insufficient permissions"

func minutes(n int) *int { return &n }

func TestFleetPage(t *testing.T) {
	e := newEnv(t)
	fleet := e.fleet.Deckies()
	b := e.roleBrowsers()

	t.Run("shows deckies", func(t *testing.T) {
		ds := slices.Clone(fleet)
		ds[0].ServiceConfig = map[string]map[string]string{
			"ssh": {"password": "Summer2024!", "banner": "<script>alert(1)</script>"},
		}
		ds[0].Ports = map[string]int{"ssh": 10022, "http": 10080}
		ds[1].MutateInterval, ds[1].Active = minutes(45), false
		e.fleet.reset(ds)
		p := b["viewer"].get("/fleet")
		if p.Status != http.StatusOK {
			t.Fatalf("GET /fleet: %d\n%s", p.Status, p.Body)
		}
		p.has(t, []string{`id="deckies"`, "web-01", "127.77.0.10", "web-prod-01", "debian12", "web-server", "db-01",
			"database-server", "ubuntu22", "redis", "global (30m)", "every 45m", "inactive", "2 persona keys",
			"Summer2024!", html.EscapeString("<script>alert(1)</script>"), "ssh <b>:10022</b>", "http <b>:10080</b>"}, "<script>alert(1)", "<time datetime=")
		e.fleet.Mutate(t.Context(), "web-01")
		b["viewer"].get("/fleet").has(t, []string{`<time datetime="`})
	})

	t.Run("forms by role", func(t *testing.T) {
		e.fleet.reset(fleet)
		analyst := []string{`class="mutate-form`, `action="/fleet/web-01/mutate"`, `class="interval-form`, `action="/fleet/db-01/interval"`}
		admin := []string{`id="deploy-form"`, `action="/fleet/deploy"`}
		both := append(slices.Clone(analyst), admin...)
		cases := []struct {
			role      string
			shown, no []string
		}{
			{"viewer", nil, both},
			{"analyst", analyst, admin},
			{"admin", both, nil},
		}
		for _, c := range cases {
			b[c.role].get("/fleet").has(t, append([]string{"web-01", "db-01"}, c.shown...), c.no...)
		}
	})

	t.Run("mutate", func(t *testing.T) {
		cases := []struct {
			role, decky, want string
			mutated           []string
		}{
			{"viewer", "web-01", forbidden, nil},
			{"analyst", "web-01", "Successfully mutated web-01", []string{"web-01"}},
			{"admin", "db-01", "Successfully mutated db-01", []string{"db-01"}},
			{"analyst", "nope-01", "Decky not found", nil},
		}
		for _, c := range cases {
			e.fleet.reset(fleet)
			b[c.role].get("/fleet")
			p := b[c.role].post("/fleet/"+c.decky+"/mutate", nil)
			if p.URL.Path != "/fleet" {
				t.Errorf("%s: landed on %s, want /fleet", c.role, p.URL)
			}
			p.has(t, []string{c.want})
			if got, _, _ := e.fleet.snapshot(); !slices.Equal(got, c.mutated) {
				t.Errorf("%s mutating %s: mutated %v, want %v", c.role, c.decky, got, c.mutated)
			}
		}
	})

	t.Run("interval", func(t *testing.T) {
		cases := []struct {
			role     string
			form     url.Values
			want     string
			interval *int
		}{
			{"viewer", url.Values{"interval": {"45m"}, "use": {"own"}}, forbidden, nil},
			{"analyst", url.Values{"interval": {"45"}, "use": {"own"}}, "set to 45 minutes", minutes(45)},
			{"analyst", url.Values{"interval": {" 2h "}}, "set to 120 minutes", minutes(120)},
			{"admin", url.Values{"interval": {"1d"}}, "set to 1440 minutes", minutes(1440)},
			{"analyst", url.Values{"interval": {"soon"}}, "the unit must be m, h, d, M or y", nil},
			{"analyst", url.Values{"interval": {"0"}}, "the count must be at least 1", nil},
			{"analyst", url.Values{"interval": {""}}, "Enter a mutation interval", nil},
		}
		for _, c := range cases {
			e.fleet.reset(fleet)
			b[c.role].get("/fleet")
			b[c.role].post("/fleet/web-01/interval", c.form).has(t, []string{c.want})
			got := e.fleet.interval("web-01")
			if (got == nil) != (c.interval == nil) || got != nil && *got != *c.interval {
				t.Errorf("%s %v: interval %v, want %v", c.role, c.form, got, c.interval)
			}
		}

		ds := slices.Clone(fleet)
		ds[0].MutateInterval = minutes(90)
		e.fleet.reset(ds)
		b["analyst"].get("/fleet").has(t, []string{"every 90m", `value="90m"`})
		p := b["analyst"].post("/fleet/web-01/interval", url.Values{"interval": {"90m"}, "use": {"global"}})
		p.has(t, []string{"set to the global interval", "global (30m)"}, "every 90m")
		if got := e.fleet.interval("web-01"); got != nil {
			t.Errorf("interval %d, want the global one", *got)
		}
	})

	const ini = "[web-02]\nservices = ssh\n"
	// A refused deployment shows the page again where it was posted, with
	// the reason and the document, rather than redirecting and losing it.
	t.Run("deploy", func(t *testing.T) {
		cases := []struct {
			role, ini string
			status    int
			at        string
			want      []string
			deployed  []string
		}{
			{"viewer", ini, http.StatusForbidden, "/fleet/deploy", []string{forbidden}, nil},
			{"analyst", ini, http.StatusForbidden, "/fleet/deploy", []string{forbidden}, nil},
			{"admin", ini, http.StatusOK, "/fleet", []string{"Deckies deployed successfully"}, []string{ini}},
			{"admin", "invalid\n", http.StatusConflict, "/fleet/deploy", []string{"line 1: not an INI section", ">invalid\n</textarea>"}, nil},
			{"admin", " \n", http.StatusUnprocessableEntity, "/fleet/deploy", []string{"Paste an INI document"}, nil},
		}
		for _, c := range cases {
			e.fleet.reset(fleet)
			b[c.role].get("/fleet")
			p := b[c.role].post("/fleet/deploy", url.Values{"ini": {c.ini}})
			if p.Status != c.status || p.URL.Path != c.at {
				t.Errorf("%s deploying %q: %d at %s, want %d at %s", c.role, c.ini, p.Status, p.URL.Path, c.status, c.at)
			}
			p.has(t, append(c.want, `id="deckies"`))
			if _, got, _ := e.fleet.snapshot(); !slices.Equal(got, c.deployed) {
				t.Errorf("%s deploying %q: deployed %q, want %q", c.role, c.ini, got, c.deployed)
			}
		}
	})

	t.Run("deploy upload", func(t *testing.T) {
		e.fleet.reset(fleet)
		a := b["admin"]
		a.get("/fleet")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", a.csrf)
		mw.WriteField("ini", "")
		fw, err := mw.CreateFormFile("ini_file", "fleet.ini")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(ini))
		mw.Close()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/fleet/deploy", &buf)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", e.ts.URL)
		a.do(req).has(t, []string{"Deckies deployed successfully"})
		if _, got, _ := e.fleet.snapshot(); !slices.Equal(got, []string{ini}) {
			t.Errorf("deployed %q, want the uploaded file", got)
		}
	})

	t.Run("empty", func(t *testing.T) {
		e.fleet.reset(nil)
		b["admin"].get("/fleet").has(t, []string{`id="deckies"`, "decnet up --config fleet.ini", `id="deploy-form"`},
			`class="mutate-form`)
	})

	// Without a fleet (or with a runtime that cannot deploy) the API says
	// why with a 501: the admin reads the reason and keeps the document.
	t.Run("deploy not supported", func(t *testing.T) {
		e.reconfigure(func(c *api.Config) { c.Fleet = nil })
		a := b["admin"]
		a.get("/fleet").has(t, []string{"decnet up"})
		p := a.post("/fleet/deploy", url.Values{"ini": {ini}})
		if p.Status != http.StatusNotImplemented {
			t.Errorf("status %d, want 501", p.Status)
		}
		p.has(t, []string{"no fleet runs with this API", "[web-02]"})
	})
}

// userID is the UUID of an account.
func (e *env) userID(name string) string {
	e.t.Helper()
	u, err := e.repo.UserByName(e.t.Context(), name)
	if err != nil {
		e.t.Fatalf("user %s: %v", name, err)
	}
	return u.UUID
}

// canLogin reports whether name can sign in with password.
func (e *env) canLogin(name, password string) bool {
	b := e.browser()
	b.get("/login")
	return b.post("/login", url.Values{"username": {name}, "password": {password}}).URL.Path != "/login"
}

// userIs checks an account's role (role "" for no account).
func (e *env) userIs(t *testing.T, name, role string) {
	t.Helper()
	u, err := e.repo.UserByName(t.Context(), name)
	switch {
	case role == "" && !errors.Is(err, store.ErrNotFound):
		t.Errorf("user %s: %v, want none", name, err)
	case role != "" && (err != nil || u.Role != role):
		t.Errorf("user %s: role %q (%v), want %q", name, u.Role, err, role)
	}
}

func TestConfigPage(t *testing.T) {
	e := newEnv(t)
	b := e.roleBrowsers()

	t.Run("forms by role", func(t *testing.T) {
		cases := []struct {
			role      string
			shown, no []string
		}{
			{"viewer", []string{"Admins manage users", "30m"}, []string{`id="limit-form"`, `id="global-interval-form"`,
				`id="user-form"`, `id="users"`, `id="reinit-form"`, `action="/config/`}},
			{"analyst", []string{`id="global-interval-form"`, `value="30m"`}, []string{`id="limit-form"`, `id="user-form"`,
				`id="users"`, `id="reinit-form"`, `action="/config/users`, `action="/config/deployment-limit"`}},
			{"admin", []string{`id="limit-form"`, `id="global-interval-form"`, `id="user-form"`, `id="users"`,
				"viewer-user", "analyst-user", "admin-user", "(you)"}, []string{`id="reinit-form"`}},
		}
		for _, c := range cases {
			p := b[c.role].get("/config")
			if p.Status != http.StatusOK {
				t.Fatalf("GET /config as %s: %d\n%s", c.role, p.Status, p.Body)
			}
			p.has(t, c.shown, c.no...)
		}
	})

	t.Run("deployment limit", func(t *testing.T) {
		steps := []struct {
			role, value, want string
			stored            string // "" for none
		}{
			{"viewer", "25", forbidden, ""},
			{"analyst", "25", forbidden, ""},
			{"admin", "many", "must be a whole number", ""},
			{"admin", "501", "body.deployment_limit", ""},
			{"admin", "25", "Deployment limit set to 25", "25"},
		}
		for _, s := range steps {
			b[s.role].get("/config")
			b[s.role].post("/config/deployment-limit", url.Values{"deployment_limit": {s.value}}).has(t, []string{s.want})
			raw, err := e.repo.State(t.Context(), api.StateDeploymentLimit)
			if s.stored == "" && !errors.Is(err, store.ErrNotFound) || s.stored != "" && string(raw) != s.stored {
				t.Errorf("%s setting %s: stored %q (%v), want %q", s.role, s.value, raw, err, s.stored)
			}
		}
		b["viewer"].get("/config").has(t, []string{"25 deckies"})
	})

	t.Run("global interval", func(t *testing.T) {
		cases := []struct {
			role, value, want string
			global            int
		}{
			{"viewer", "2h", forbidden, 30},
			{"analyst", "2h", "Global mutation interval set to 2h", 120},
			{"admin", "1d", "Global mutation interval set to 1d", 1440},
			{"analyst", "90", "Global mutation interval set to 90m", 90},
			{"analyst", "2 hours", "the unit must be", 30},
		}
		for _, c := range cases {
			e.fleet.reset(e.fleet.Deckies())
			b[c.role].get("/config")
			b[c.role].post("/config/global-mutation-interval", url.Values{"interval": {c.value}}).has(t, []string{c.want})
			if _, _, got := e.fleet.snapshot(); got != c.global {
				t.Errorf("%s setting %s: global interval %d, want %d", c.role, c.value, got, c.global)
			}
		}
	})

	t.Run("create user", func(t *testing.T) {
		form := func(name, pw, role string) url.Values {
			return url.Values{"username": {name}, "password": {pw}, "role": {role}}
		}
		steps := []struct {
			role string
			form url.Values
			want string
		}{
			{"viewer", form("carol", "carol-initial", "analyst"), forbidden},
			{"analyst", form("carol", "carol-initial", "admin"), forbidden},
			{"admin", form("carol", "short", "viewer"), "body.password"},
			{"admin", form("", "carol-initial", "viewer"), "Enter a username"},
			{"admin", form("admin-user", "carol-initial", "viewer"), "Username already exists"},
		}
		for _, s := range steps {
			b[s.role].get("/config")
			b[s.role].post("/config/users", s.form).has(t, []string{s.want})
			e.userIs(t, "carol", "")
		}
		b["admin"].get("/config")
		p := b["admin"].post("/config/users", form("carol", "carol-initial", "analyst"))
		p.has(t, []string{"User carol created as analyst", `<th scope="row" class="user-name">carol</th>`, "must change"})
		e.userIs(t, "carol", store.RoleAnalyst)
		c := e.browser()
		if p := c.login("carol", "carol-initial"); p.URL.Path != "/password" {
			t.Errorf("carol's first login lands on %s, want /password", p.URL)
		}
	})

	t.Run("user changes", func(t *testing.T) {
		e.addUser("dave", "dave-password", store.RoleViewer, false)
		dave, admin := e.userID("dave"), e.userID("admin-user")
		steps := []struct {
			role, path string
			form       url.Values
			want       string
			daveRole   string // "" once deleted
		}{
			{"analyst", "/config/users/" + dave + "/role", url.Values{"role": {"admin"}}, forbidden, "viewer"},
			{"viewer", "/config/users/" + dave + "/password", url.Values{"new_password": {"dave-reset-pw"}}, forbidden, "viewer"},
			{"analyst", "/config/users/" + dave + "/delete", nil, forbidden, "viewer"},
			{"admin", "/config/users/" + admin + "/role", url.Values{"role": {"viewer"}}, "You cannot change your own role", "viewer"},
			{"admin", "/config/users/" + admin + "/delete", nil, "You cannot delete your own account", "viewer"},
			{"admin", "/config/users/" + dave + "/role", url.Values{"role": {"analyst"}}, "Role of dave set to analyst", "analyst"},
			{"admin", "/config/users/" + dave + "/password", url.Values{"new_password": {"short"}}, "body.new_password", "analyst"},
			{"admin", "/config/users/" + dave + "/password", url.Values{"new_password": {"dave-reset-pw"}},
				"must be changed at the next login", "analyst"},
			{"admin", "/config/users/" + dave + "/delete", nil, "User dave deleted", ""},
			{"admin", "/config/users/" + dave + "/delete", nil, "User not found", ""},
		}
		for _, s := range steps {
			b[s.role].get("/config")
			p := b[s.role].post(s.path, s.form)
			if p.URL.Path != "/config" {
				t.Errorf("%s POST %s: landed on %s", s.role, s.path, p.URL)
			}
			p.has(t, []string{s.want})
			e.userIs(t, "dave", s.daveRole)
			e.userIs(t, "admin-user", store.RoleAdmin)
			if s.want == "must be changed at the next login" && !e.canLogin("dave", "dave-reset-pw") {
				t.Error("dave cannot log in with the reset password")
			}
		}
	})

	t.Run("reinit", func(t *testing.T) {
		e.ingest(event.Record{Decky: "web-01", Service: "ssh", EventType: "connect", AttackerIP: "127.9.9.9"})
		logsLeft := func() int64 {
			n, err := e.repo.CountLogs(t.Context(), store.LogQuery{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		b["admin"].get("/config")
		b["admin"].post("/config/reinit", nil).has(t, []string{"only available in developer mode"})

		e.reconfigure(func(c *api.Config) { c.Developer = true })
		b["analyst"].get("/config").has(t, nil, `id="reinit-form"`, `action="/config/reinit"`)
		b["analyst"].post("/config/reinit", nil).has(t, []string{forbidden})
		if n := logsLeft(); n != 1 {
			t.Fatalf("%d logs after refused purges, want 1", n)
		}
		b["admin"].get("/config").has(t, []string{`id="reinit-form"`, "Danger zone", `data-confirm="Purge all collected data?`})
		b["admin"].post("/config/reinit", nil).has(t, []string{"Purged 1 logs, 0 bounties and 0 attacker profiles"})
		if n := logsLeft(); n != 0 {
			t.Errorf("%d logs after the purge", n)
		}
	})
}

func TestHealthPage(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("viewer")
	failing := func(context.Context) error { return errors.New("stopped: disk full") }
	ok := func(context.Context) error { return nil }
	cases := []struct {
		name   string
		checks []api.Check
		want   []string
	}{
		{"healthy", []api.Check{{Name: "ingester", Critical: true, Probe: ok}},
			[]string{">healthy<", "database", "ingester", `<span class="tag ok">ok</span>`}},
		{"degraded", []api.Check{{Name: "ingester", Critical: true, Probe: ok}, {Name: "profiler", Probe: failing}},
			[]string{">degraded<", "profiler", "stopped: disk full", `<span class="tag bad">failing</span>`}},
		// The API answers 503 with the components: the page shows them.
		{"unhealthy", []api.Check{{Name: "ingester", Critical: true, Probe: failing}},
			[]string{">unhealthy<", "ingester", "stopped: disk full", "A critical component is failing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.reconfigure(func(cfg *api.Config) { cfg.Checks = c.checks })
			p := b.get("/health")
			if p.Status != http.StatusOK {
				t.Fatalf("GET /health: %d\n%s", p.Status, p.Body)
			}
			p.has(t, append(c.want, `id="components"`, `href="/api/v1/docs"`, `href="/api/v1/openapi.json"`))
		})
	}

	t.Run("links work", func(t *testing.T) {
		for _, path := range []string{"/api/v1/docs", "/api/v1/openapi.json", "/api/v1/openapi.yaml"} {
			if p := b.get(path); p.Status != http.StatusOK {
				t.Errorf("GET %s: %d", path, p.Status)
			}
		}
	})

	// Without a session the pages send to the login page and the forms
	// change nothing.
	t.Run("admin pages need a session", func(t *testing.T) {
		anon := e.browser()
		for _, path := range []string{"/fleet", "/config", "/health"} {
			if p := anon.get(path); p.URL.Path != "/login" {
				t.Errorf("GET %s without a session: at %s", path, p.URL)
			}
		}
		anon.post("/fleet/web-01/mutate", url.Values{"csrf": {"forged"}})
		if got, _, _ := e.fleet.snapshot(); len(got) != 0 {
			t.Errorf("mutated without a session: %v", got)
		}
	})
}
