package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginForcedChangeLogout(t *testing.T) {
	e := newEnv(t)
	e.addUser("admin", "first-password", "admin", true)
	b := e.browser()

	// Every page sends a visitor without a session to the login page,
	// remembering where it was going.
	if p := b.get("/logs?search=ssh"); p.URL.Path != "/login" || p.URL.Query().Get("next") != "/logs?search=ssh" {
		t.Fatalf("no session: landed on %s", p.URL)
	}
	p := b.post("/login", url.Values{"username": {"admin"}, "password": {"wrong"}, "next": {"/logs"}})
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Incorrect username or password") {
		t.Fatalf("wrong password: %d %s", p.Status, p.Body)
	}
	// The forced change comes first, whatever page is asked for.
	p = b.post("/login", url.Values{"username": {"admin"}, "password": {"first-password"}, "next": {"/logs"}})
	if p.URL.Path != "/password" || !strings.Contains(p.Body, "Choose a new password") {
		t.Fatalf("forced change: landed on %s", p.URL)
	}
	if p := b.get("/fleet"); p.URL.Path != "/password" {
		t.Fatalf("a page before the change: landed on %s", p.URL)
	}
	p = b.post("/password", url.Values{"old_password": {"first-password"}, "new_password": {"second-password"}, "confirm_password": {"other"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "differ") {
		t.Fatalf("mismatched confirmation: %d", p.Status)
	}
	p = b.post("/password", url.Values{"old_password": {"first-password"}, "new_password": {"second-password"}, "confirm_password": {"second-password"}})
	if p.URL.Path != "/" || !strings.Contains(p.Body, "Password changed.") {
		t.Fatalf("after the change: %d at %s", p.Status, p.URL)
	}
	if p := b.get("/logs"); p.URL.Path != "/logs" {
		t.Fatalf("a page after the change: landed on %s", p.URL)
	}

	// Logging out ends the session even for a copy of its cookie.
	u, _ := url.Parse(e.ts.URL)
	stolen := b.client.Jar.Cookies(u)
	b.post("/logout", nil)
	if p := b.get("/logs"); p.URL.Path != "/login" {
		t.Fatalf("after logout: landed on %s", p.URL)
	}
	thief := e.browser()
	thief.client.Jar.SetCookies(u, stolen)
	if p := thief.get("/logs"); p.URL.Path != "/login" {
		t.Fatalf("a copy of the logged-out cookie: landed on %s", p.URL)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "alice-password", "viewer", false)
	b := e.browser()
	b.get("/login")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/login",
		strings.NewReader(url.Values{"username": {"alice"}, "password": {"alice-password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == sessionCookie {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
		t.Fatalf("session cookie %+v", c)
	}
}

func TestSecureCookiesOption(t *testing.T) {
	e := newEnv(t)
	e.web.secure = true
	w := &recorder{header: http.Header{}}
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	e.web.setSession(w, r, "tok")
	if !strings.Contains(w.header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("Set-Cookie %q", w.header.Get("Set-Cookie"))
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.signedIn("admin")
	// A form without the session's token is refused and changes nothing.
	for _, token := range []string{"", "forged", e.web.csrfToken("another session")} {
		p := b.post("/logout", url.Values{"csrf": {token}})
		if p.Status != http.StatusForbidden {
			t.Fatalf("csrf %q: %d", token, p.Status)
		}
	}
	if p := b.get("/logs"); p.URL.Path != "/logs" {
		t.Fatalf("refused logout ended the session: %s", p.URL)
	}
	if !strings.Contains(e.logs.String(), "without a valid CSRF token") {
		t.Fatal("refusal not logged")
	}
	// A cross-site request is refused before any token is looked at.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/logout",
		strings.NewReader(url.Values{"csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.Status != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", p.Status)
	}
	// The script's header works like the form field.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/ui/ticket", nil)
	req.Header.Set("X-CSRF-Token", b.csrf)
	if p := b.do(req); p.Status != http.StatusOK || !strings.Contains(p.Body, `"ticket"`) {
		t.Fatalf("ticket: %d %s", p.Status, p.Body)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "/",
		"/logs?search=a":      "/logs?search=a",
		"//evil.example":      "/",
		"/\\evil.example":     "/",
		"https://evil":        "/",
		"javascript:alert(1)": "/",
		"/login?next=/x":      "/",
		"/api/v1/logs":        "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	p := e.browser().get("/login")
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "default-src 'none'", "frame-ancestors 'none'", "report-uri /csp-report"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", p.Header)
	}
	// No page carries inline script or style: the CSP would block them.
	for _, bad := range []string{"<script>", " style=", "onclick=", "onload="} {
		if strings.Contains(p.Body, bad) {
			t.Errorf("login page contains %q", bad)
		}
	}
}

func TestCSPReportLogged(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.ts.URL+"/csp-report",
		strings.NewReader(`{"csp-report":{"blocked-uri":"inline","violated-directive":"script-src"}}`))
	req.Header.Set("Content-Type", "application/csp-report")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if p := e.browser().do(req); p.Status != http.StatusNoContent {
		t.Fatalf("report: %d", p.Status)
	}
	if !strings.Contains(e.logs.String(), "content security policy violation") {
		t.Fatal("report not logged")
	}
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	u := e.web.static.url("app.js")
	p := b.get(u)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(p.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("%s: %d %v", u, p.Status, p.Header)
	}
	if p := b.get("/static/app.js"); p.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("unversioned: %v", p.Header)
	}
	if p := b.get("/static/nope.js"); p.Status != http.StatusNotFound {
		t.Fatalf("missing asset: %d", p.Status)
	}
}

func TestAPIStillServed(t *testing.T) {
	e := newEnv(t)
	p := e.browser().get("/api/v1/logs")
	if p.Status != http.StatusUnauthorized || !strings.Contains(p.Header.Get("Content-Type"), "problem+json") {
		t.Fatalf("%d %v", p.Status, p.Header)
	}
}

func TestHref(t *testing.T) {
	for _, tc := range []struct {
		pairs []any
		want  string
	}{
		{nil, "/logs"},
		{[]any{"search", "", "offset", 0}, "/logs"},
		{[]any{"search", "0"}, "/logs?search=0"},
		{[]any{"search", "service:ssh", "offset", 50}, "/logs?offset=50&search=service%3Assh"},
	} {
		if got, err := href("/logs", tc.pairs...); err != nil || got != tc.want {
			t.Errorf("href(%v) = %q, %v; want %q", tc.pairs, got, err, tc.want)
		}
	}
	if _, err := href("/logs", "search"); err == nil {
		t.Error("an odd pair was accepted")
	}
}

func TestGroupDigits(t *testing.T) {
	for in, want := range map[string]string{"0": "0", "999": "999", "1000": "1,000", "1234567": "1,234,567", "-1234": "-1,234", "x": "x"} {
		if got := groupDigits(in); got != want {
			t.Errorf("groupDigits(%q) = %q, want %q", in, got, want)
		}
	}
}
