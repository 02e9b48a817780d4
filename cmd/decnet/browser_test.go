package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/api"
	"decnet/internal/store"
	"decnet/internal/testutil"
)

// browserFleet is the fleet of the browser test: one decky per service,
// so the attacker's path through them is a traversal. The ssh decky also
// accepts the XSS test's hostile username with its hostile password, so
// that login reaches the shell and its command is recorded too.
const browserFleet = `[gate]
services = ssh
[gate.ssh]
users = root:` + sshRootPassword + `, ` + xssUser + `:` + xssPass + `
[web]
services = http
[cache]
services = redis
`

const sshRootPassword = "Tr0ub4dor&3"

// The XSS payloads, one per field an attacker controls, each with its own
// marker so a finding names the field.
const (
	xssUser  = `<script>alert('xss-user')</script>`
	xssPass  = `"><img src=x onerror=alert('xss-pass')>`
	xssCmd   = `echo "<svg onload=alert('xss-cmd')>" "javascript:alert('xss-cmd')"`
	xssPath  = `/<script>alert('xss-path')</script>`
	xssAgent = `<img src=x onerror=alert('xss-ua')>`
	xssKey   = `<iframe src=javascript:alert('xss-redis')>`
)

// xssFile is where the XSS test's command writes a file: the decky keeps
// it, and its name reaches the attacker's page and the download link.
const xssFile = `/tmp/<img src=x onerror=alert('xss-file')>.txt`

// flowCommand is what the live-feed attack types.
const flowCommand = "cat /etc/passwd; uname -a"

// dashboard is the shared state of the browser test: one decnet process,
// one browser, the admin's tab, and what the subtests learn on the way.
type dashboard struct {
	n        *node
	url      string // the printed dashboard URL
	base     string // its origin
	password string // the admin's password, once changed
	browser  context.Context
	admin    *tab
	attack   *attacker

	attackerPage string // /attackers/{uuid} of attackerIP, found by Flow
}

// enter makes the shared helpers report to the subtest t (they are used
// by one subtest at a time).
func (d *dashboard) enter(t *testing.T) *tab {
	d.n.t, d.attack.t, d.admin.t = t, t, t
	return d.admin
}

// token is an API token of the admin.
func (d *dashboard) token() string {
	tok, _ := d.n.login("admin", d.password)
	return tok
}

// startDashboard starts `decnet up` with the browser fleet and no preset
// admin, and reads the dashboard URL and the admin password it prints.
func startDashboard(t *testing.T) *dashboard {
	t.Helper()
	const ipBase = "127.77.230.10"
	a := &attacker{t: t,
		sshpass: testutil.RequireTool(t, "sshpass"), redis: testutil.RequireTool(t, "redis-cli"),
		curl:    testutil.RequireTool(t, "curl"),
		sshHost: ipBase, webHost: "127.77.230.11", kv: "127.77.230.12"}
	testutil.RequireTool(t, "ssh")
	if !routeAttacker(t, "127.77.230.0/24") && testutil.InCI() {
		t.Fatal("CI runs as root: the attacker route must work")
	}
	dir := t.TempDir()
	ini := filepath.Join(dir, "fleet.ini")
	if err := os.WriteFile(ini, []byte(browserFleet), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	n := startDecnet(t, listen, nil, "up", "--data-dir", filepath.Join(dir, "data"), "--listen", listen,
		"--config", ini, "--ip-base", ipBase)
	a.n = n
	out := n.output()
	d := &dashboard{n: n, attack: a}
	if m := regexp.MustCompile(`Dashboard: +(http://\S+)`).FindStringSubmatch(out); m != nil {
		d.url = m[1]
	}
	if m := regexp.MustCompile(`Admin: +user "admin", password (\S+)`).FindStringSubmatch(out); m != nil {
		d.password = m[1]
	}
	if d.url == "" || d.password == "" {
		t.Fatalf("decnet up did not print the dashboard URL and the admin password:\n%s", out)
	}
	d.base = strings.TrimSuffix(d.url, "/")
	return d
}

// TestBrowserDashboard drives the dashboard of a real `decnet up` in
// headless Chromium, with real attacks on its fleet: the first sign-in,
// the live overview, the log explorer and the attacker's page (Flow);
// hostile attacker text on every page that shows it (XSS); what a viewer
// sees and may do (Roles); and every page at a desktop and a phone size
// (Screenshots, in test-output/screenshots).
func TestBrowserDashboard(t *testing.T) {
	start := time.Now()
	browser := startChromium(t)
	d := startDashboard(t)
	t.Logf("decnet up ready in %v", time.Since(start).Round(time.Millisecond))
	d.browser = browser()
	d.admin = newTab(t, d.browser, d.base)
	t.Logf("chromium ready at %v", time.Since(start).Round(time.Millisecond))

	if !t.Run("Flow", d.flow) {
		t.Fatal("the other subtests need the admin signed in and the attacker's page found by Flow")
	}
	t.Run("XSS", d.xss)
	t.Run("Roles", d.roles)
	t.Run("Downloads", d.downloads)
	t.Run("Screenshots", d.screenshots)
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// flow: the printed URL leads to the login page; the printed password
// signs the admin in and must be changed; the overview follows, and
// shows a fresh attack live; the log explorer finds it, and the
// attacker's page lists what it typed.
func (d *dashboard) flow(t *testing.T) {
	tb := d.enter(t)
	tb.open(d.url)
	if p := tb.path(); p != "/login" {
		t.Fatalf("the printed URL %s led to %s, want the login page", d.url, p)
	}
	tb.shoot("login", "/login")
	tb.submit(`form[action="/login"] button[type=submit]`, map[string]string{
		`input[name=username]`: "admin", `input[name=password]`: d.password})
	if p := tb.path(); p != "/password" {
		t.Fatalf("the first login led to %s, want the forced password change; page says:\n%s", p, tb.text())
	}
	tb.shoot("password", "/password")
	newPassword := "browser-admin-" + d.password[:6]
	tb.submit(`form[action="/password"] button[type=submit]`, map[string]string{
		`input[name=old_password]`: d.password, `input[name=new_password]`: newPassword,
		`input[name=confirm_password]`: newPassword})
	if p := tb.path(); p != "/" {
		t.Fatalf("the password change led to %s, want the overview; page says:\n%s", p, tb.text())
	}
	d.password = newPassword
	if got := tb.textOf(".flash"); !strings.Contains(got, "Password changed") {
		t.Errorf("no confirmation of the password change on the overview; flash %q", got)
	}
	d.liveFeed(t, tb)
	d.searchLogs(t, tb)
	d.attackerCommands(t, tb)
}

// feedWatch records, in the overview, when each feed row first appeared
// (window.__seen: data-id -> Date.now()), and sets window.__noReload,
// which a reload or navigation would lose.
const feedWatch = `(() => {
  const feed = document.querySelector("#feed");
  if (!feed) return false;
  window.__noReload = true;
  const seen = window.__seen = {};
  const note = () => {
    for (const row of feed.querySelectorAll("[data-id]")) {
      if (!(row.dataset.id in seen)) seen[row.dataset.id] = Date.now();
    }
  };
  note();
  new MutationObserver(note).observe(feed, {childList: true, subtree: true});
  return true;
})()`

// liveLatency is the longest an attack may take to reach the open
// overview (the bound).
const liveLatency = 2 * time.Second

// waitLive waits until the page's live stream says it is live.
func waitLive(t *testing.T, tb *tab) {
	t.Helper()
	if !tb.waitFor(`(document.querySelector("#live-state") || {dataset: {}}).dataset.state === "live"`, 10*time.Second) {
		t.Fatalf("the live stream of %s did not go live in 10s: #live-state is %q", tb.path(), tb.textOf("#live-state"))
	}
}

// liveFeed: an ssh attack made while the overview is open appears in its
// feed within liveLatency of the attack's end, without a reload.
func (d *dashboard) liveFeed(t *testing.T, tb *tab) {
	waitLive(t, tb)
	if !evalJS[bool](tb, feedWatch) {
		t.Fatalf("the overview has no #feed; page says:\n%s", tb.text())
	}
	out := d.attack.ssh("root", sshRootPassword, flowCommand)
	end := time.Now()
	if !strings.Contains(out, "root:x:0:0:") || !strings.Contains(out, "Linux") {
		t.Errorf("%q answered %q", flowCommand, out)
	}
	logs := d.n.logs(d.token(), `event:command attacker:`+attackerIP+` command:"`+flowCommand+`"`)
	if len(logs) != 1 {
		t.Fatalf("want the one command log of the attack, the API has %+v", logs)
	}
	id := logs[0].ID
	seen := fmt.Sprintf("window.__seen[%d]", id)
	tb.waitFor(seen+" !== undefined", time.Until(end.Add(liveLatency+3*time.Second)))
	at := evalJS[int64](tb, seen+" || 0")
	if at == 0 {
		t.Fatalf("the attack's command (log %d) never appeared in the feed; feed rows: %s", id, tb.textOf("#feed tbody"))
	}
	latency := time.UnixMilli(at).Sub(end)
	t.Logf("attack end -> feed row %d: %v", id, latency)
	if latency > liveLatency {
		t.Errorf("the attack's command reached the feed %v after the attack ended, want at most %v", latency, liveLatency)
	}
	if !evalJS[bool](tb, `window.__noReload === true`) {
		t.Error("the overview reloaded or navigated to show the attack; it must update in place")
	}
	row := tb.textOf(fmt.Sprintf(`#feed tr[data-id="%d"]`, id))
	for _, want := range []string{attackerIP, "command", flowCommand} {
		if !strings.Contains(row, want) {
			t.Errorf("the feed row of the attack lacks %q: %q", want, row)
		}
	}
}

// searchLogs: the log explorer's search finds the attack's command, and
// only rows that match the search.
func (d *dashboard) searchLogs(t *testing.T, tb *tab) {
	tb.open("/logs")
	search := "event:command attacker:" + attackerIP
	tb.submit(`#search ~ button[type=submit]`, map[string]string{"#search": search})
	if got := evalJS[string](tb, `new URLSearchParams(location.search).get("search") || ""`); got != search {
		t.Errorf("the search form led to %s, want its search %q in the URL", tb.path(), search)
	}
	rows := evalJS[[]string](tb, `[...document.querySelectorAll("#log-table tbody tr[data-id]")].map(r => r.innerText)`)
	found := false
	for _, r := range rows {
		if !strings.Contains(r, attackerIP) || !strings.Contains(r, "command") {
			t.Errorf("a row that does not match %q: %q", search, r)
		}
		found = found || strings.Contains(r, flowCommand)
	}
	if !found {
		t.Errorf("no row of #log-table shows %q; table: %q", flowCommand, tb.textOf("#log-table"))
	}
}

// attackerCommands: the attackers list links to the attacker's page,
// which lists the command typed. Profiles are built by the profiler every
// few seconds, so both pages are reloaded until they show it.
func (d *dashboard) attackerCommands(t *testing.T, tb *tab) {
	link := `#attackers-table a[href^="/attackers/"]`
	href := `([...document.querySelectorAll(` + jsString(link) + `)].find(a => a.textContent.trim() === ` +
		jsString(attackerIP) + `) || {getAttribute: () => ""}).getAttribute("href")`
	if !tb.reloadUntil("/attackers", href+` !== ""`, 15*time.Second) {
		t.Fatalf("no link to %s in #attackers-table within 15s; page says:\n%s", attackerIP, tb.text())
	}
	tb.click(`#attackers-table a[href="` + evalJS[string](tb, href) + `"]`)
	if !strings.HasPrefix(tb.path(), "/attackers/") || tb.count("#commands") == 0 {
		t.Fatalf("the attacker's link led to %s, without #commands", tb.path())
	}
	d.attackerPage = tb.path()
	has := `document.querySelector("#commands").innerText.includes(` + jsString(flowCommand) + `)`
	if !tb.reloadUntil(d.attackerPage, has, 15*time.Second) {
		t.Errorf("the attacker's page %s does not list %q in #commands within 15s: %q", d.attackerPage, flowCommand, tb.textOf("#commands"))
	}
}

// payloadOn is a payload a page must show as text, inside scope (a CSS
// selector; "body" for anywhere).
type payloadOn struct {
	scope, payload string
}

// everyPayload is each payload, anywhere on the page.
func everyPayload() []payloadOn {
	var out []payloadOn
	for _, p := range []string{xssUser, xssPass, xssCmd, xssPath, xssAgent, xssKey, xssFile} {
		out = append(out, payloadOn{"body", p})
	}
	return out
}

// xss: attacks whose every attacker-controlled field is an XSS payload,
// made with the real tools while the overview is open. Every page that
// shows them must show them as text: no dialog opens, the CSP reports
// nothing (in the page or to the server), and the payload text is there.
func (d *dashboard) xss(t *testing.T) {
	tb := d.enter(t)
	probed := probeAlarms(t, tb, d.n)
	tb.open("/")
	waitLive(t, tb)
	// The command runs in the decky's shell: its echo writes the file.
	if out := d.attack.ssh(xssUser, xssPass, xssCmd+` > "`+xssFile+`"`); out != "" {
		t.Errorf("the hostile command answered %q, want nothing (its output went to the file)", out)
	}
	d.attack.http(xssPath, xssAgent)
	if out := d.attack.redisCmd("SET", xssKey, "v"); strings.TrimSpace(out) != "OK" {
		t.Errorf("redis SET of the hostile key answered %q", out)
	}
	feedHas := `[` + strings.Join(payloadTexts(everyPayload()), ",") + `].every(p => document.querySelector("#feed").innerText.includes(p))`
	if !tb.waitFor(feedHas, 5*time.Second) {
		t.Errorf("the live feed does not show every payload as text within 5s:\n%s", tb.textOf("#feed"))
	}
	checkAlarms(t, tb, "overview (live rows)")

	pages := []struct {
		name, path string
		want       []payloadOn
	}{
		{"overview", "/", everyPayload()},
		{"logs", "/logs?range=all&search=" + url.QueryEscape("attacker:"+attackerIP), everyPayload()},
		{"bounty", "/bounty", []payloadOn{{"#bounty-table", xssUser}, {"#bounty-table", xssPass}, {"#bounty-table", xssAgent}}},
		{"attackers", "/attackers", nil},
		{"attacker", d.attackerPage, []payloadOn{{"#commands", xssCmd}, {"#commands", xssKey}, {"#fingerprints", xssAgent},
			{"#artifacts", xssFile}, {"#timeline", xssUser}, {"#timeline", xssPass}, {"#timeline", xssPath}}},
		{"traversals", "/traversals", nil},
		{"fleet", "/fleet", nil}, // the persona keys hold the hostile login
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			tb.t = t
			// Profiles and bounties are written by workers: wait for them.
			if !tb.reloadUntil(p.path, shows(p.want), 15*time.Second) {
				for _, w := range p.want {
					if got := tb.textOf(w.scope); !strings.Contains(got, w.payload) {
						t.Errorf("%s does not show %q as text in %s, which shows:\n%s", p.path, w.payload, w.scope, got)
					}
				}
			}
			checkAlarms(t, tb, p.path)
		})
	}
	tb.t = t
	if out := d.n.output(); strings.Count(out, cspLogged) != probed {
		t.Errorf("the dashboard logged CSP violations besides the probe's %d:\n%s", probed, out)
	}
}

// cspLogged is how the dashboard logs a CSP report.
const cspLogged = "content security policy violation"

// probeAlarms shows that the XSS checks can fail: a page that calls alert
// and adds an inline script trips both page hooks, and the browser's CSP
// report reaches the server's log. It returns the count of CSP reports
// logged, the probe's included.
func probeAlarms(t *testing.T, tb *tab, n *node) int {
	t.Helper()
	tb.open("/")
	evalJS[bool](tb, `(() => {
  alert("probe");
  const s = document.createElement("script");
  s.textContent = "window.__ran = true";
  document.body.append(s);
  return true;
})()`)
	tb.waitFor(`window.__xss.csp.length > 0`, 5*time.Second)
	alarms := strings.Join(tb.pageAlarms(), "; ")
	if !strings.Contains(alarms, "alert(probe)") || !strings.Contains(alarms, "CSP violation") {
		t.Fatalf("the page hooks missed a probe's alert and inline script: %q", alarms)
	}
	if evalJS[bool](tb, `window.__ran === true`) {
		t.Fatal("an inline script ran: the page has no working CSP")
	}
	var count int
	testutil.Eventually(t, "the probe's CSP report in the server log", func() bool {
		count = strings.Count(n.output(), cspLogged)
		return count > 0
	})
	return count
}

// payloadTexts are the payloads as JavaScript string literals.
func payloadTexts(ps []payloadOn) []string {
	var out []string
	for _, p := range ps {
		out = append(out, jsString(p.payload))
	}
	return out
}

// shows is a JavaScript condition: every payload is in the innerText of
// its scope.
func shows(ps []payloadOn) string {
	conds := []string{"true"}
	for _, p := range ps {
		conds = append(conds, `(document.querySelector(`+jsString(p.scope)+`) || {innerText: ""}).innerText.includes(`+jsString(p.payload)+`)`)
	}
	return strings.Join(conds, " && ")
}

// checkAlarms fails when the page opened a dialog or broke its CSP.
func checkAlarms(t *testing.T, tb *tab, page string) {
	t.Helper()
	if alarms := tb.pageAlarms(); len(alarms) > 0 {
		t.Errorf("%s ran attacker text as code: %s", page, strings.Join(alarms, "; "))
	}
}

// The controls a viewer must not see: they deploy, mutate, set
// intervals and limits, download captured files and manage users.
const (
	deployForm   = "#deploy-form"
	mutateForm   = ".mutate-form"
	intervalForm = ".interval-form"
	limitForm    = "#limit-form"
	downloadLink = "a.download"
	userForm     = "#user-form"
	roleForm     = ".role-form"
	resetForm    = ".reset-form"
	deleteForm   = ".delete-form"
)

// roles: a viewer, created through the API, signs in (changing the
// password it was given) and sees no control its role may not use,
// where the admin sees them; requests crafted from the viewer's pages
// with its valid CSRF token are refused and change nothing, while the
// same request from the admin works.
func (d *dashboard) roles(t *testing.T) {
	admin := d.enter(t)
	token := d.token()
	const viewerName, viewerFirst, viewerPassword = "viewer-1", "viewer-first-pw", "viewer-own-password"
	var created struct {
		UUID               string `json:"uuid"`
		MustChangePassword bool   `json:"must_change_password"`
	}
	if st := d.apiCall(t, token, "POST", "/config/users",
		map[string]string{"username": viewerName, "password": viewerFirst, "role": "viewer"}, &created); st != 201 || !created.MustChangePassword {
		t.Fatalf("creating the viewer: status %d, %+v; want 201 and a forced password change", st, created)
	}

	viewer := newTab(t, d.browser, d.base)
	viewer.open("/login")
	viewer.submit(`form[action="/login"] button[type=submit]`, map[string]string{
		`input[name=username]`: viewerName, `input[name=password]`: viewerFirst})
	if p := viewer.path(); p != "/password" {
		t.Fatalf("the viewer's first login led to %s, want the forced password change", p)
	}
	viewer.submit(`form[action="/password"] button[type=submit]`, map[string]string{
		`input[name=old_password]`: viewerFirst, `input[name=new_password]`: viewerPassword,
		`input[name=confirm_password]`: viewerPassword})
	if p := viewer.path(); p != "/" {
		t.Fatalf("the viewer's password change led to %s, want the overview", p)
	}

	// A file with a plain name: the decky keeps it, the admin's page links it.
	d.attack.ssh("root", sshRootPassword, "echo kept-by-the-decky > "+lootFile)
	download := d.downloadHref(t, admin)
	checkControls(t, admin, viewer, d.attackerPage)
	d.craftedRequests(t, admin, viewer, token, created.UUID, download)
}

// lootFile is the plain file an attacker leaves for the download checks.
const lootFile = "/tmp/loot.txt"

// checkControls: each page shows the admin its controls and the viewer
// none of the forbidden ones.
func checkControls(t *testing.T, admin, viewer *tab, attackerPage string) {
	forbidden := []string{deployForm, mutateForm, intervalForm, limitForm, downloadLink, userForm, roleForm, resetForm, deleteForm}
	for _, c := range []struct {
		path  string
		admin []string // what the admin's page has, so the viewer's check could fail
	}{
		{"/fleet", []string{deployForm, mutateForm, intervalForm}},
		{"/config", []string{intervalForm, limitForm, userForm, roleForm, resetForm, deleteForm}},
		{attackerPage, []string{downloadLink}},
	} {
		admin.open(c.path)
		for _, sel := range c.admin {
			if admin.count(sel) == 0 {
				t.Errorf("the admin's %s has no %s", c.path, sel)
			}
		}
		viewer.open(c.path)
		if p := viewer.path(); p != c.path {
			t.Errorf("the viewer asked for %s and got %s", c.path, p)
		}
		for _, sel := range forbidden {
			if n := viewer.count(sel); n > 0 {
				t.Errorf("the viewer's %s shows %d %s", c.path, n, sel)
			}
		}
	}
}

// downloadHref is the admin's download link of lootFile, once the
// attacker's page lists it.
func (d *dashboard) downloadHref(t *testing.T, admin *tab) string {
	t.Helper()
	href := `([...document.querySelectorAll("#artifacts tr")].find(r => r.innerText.includes(` + jsString(lootFile) +
		`))?.querySelector("a.download")?.getAttribute("href") || "")`
	if !admin.reloadUntil(d.attackerPage, href+` !== ""`, 10*time.Second) {
		t.Fatalf("the admin's attacker page has no download link of %s: %q", lootFile, admin.textOf("#artifacts"))
	}
	return evalJS[string](admin, href)
}

// downloads: every download link the admin sees on the attacker's page
// works. The captured files' names are the attacker's, so this covers
// names with spaces, quotes and angle brackets (the XSS test's file).
func (d *dashboard) downloads(t *testing.T) {
	admin := d.enter(t)
	admin.open(d.attackerPage)
	links := evalJS[[]string](admin, `[...document.querySelectorAll("a.download")].map(a => a.getAttribute("href"))`)
	if len(links) < 2 {
		t.Fatalf("want the download links of %s and of the XSS test's file, the page has %q", lootFile, links)
	}
	for _, href := range links {
		if got := craft(admin, "GET", href, nil); got.Status != 200 {
			t.Errorf("the admin's download link %s answered %+v, want the file", href, got)
		}
	}
}

// craftJS sends a form the way a crafted page script would: the page's own
// CSRF token, the session cookie, the fields; it follows the redirect
// and returns the status, where it ended and the page's flash messages.
const craftJS = `(async (method, path, fields) => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const init = {method, credentials: "same-origin", headers: {"X-CSRF-Token": token}};
  if (method !== "GET") {
    const body = new URLSearchParams(fields);
    body.set("csrf", token);
    init.body = body;
  }
  const r = await fetch(path, init);
  const doc = new DOMParser().parseFromString(await r.text(), "text/html");
  const flash = [...doc.querySelectorAll(".flash, #main h1")].map(e => e.textContent.trim()).join(" | ");
  return {status: r.status, url: new URL(r.url).pathname, flash};
})`

// crafted is the answer to a crafted request.
type crafted struct {
	Status int    `json:"status"`
	URL    string `json:"url"`
	Flash  string `json:"flash"`
}

func craft(tb *tab, method, path string, fields map[string]string) crafted {
	tb.t.Helper()
	b, _ := json.Marshal(fields)
	return evalJS[crafted](tb, fmt.Sprintf("%s(%s, %s, %s)", craftJS, jsString(method), jsString(path), b))
}

// refused reports whether the dashboard refused the request for the role:
// a 403, or the API's refusal as an error flash.
func (c crafted) refused() bool {
	return c.Status == 403 || strings.Contains(c.Flash, "Insufficient permissions")
}

// craftedRequests: every state change a viewer's page could be made to
// send, with the viewer's valid CSRF token, is refused and changes
// nothing; the download is refused too. The admin's same interval
// request works, so the requests themselves are well formed.
func (d *dashboard) craftedRequests(t *testing.T, admin, viewer *tab, token, viewerUUID, download string) {
	adminUUID := d.userUUID(t, token, "admin")
	before := d.fleetState(t, token)
	viewer.open("/fleet")
	for _, c := range []struct {
		path   string
		fields map[string]string
	}{
		{"/fleet/gate/mutate", nil},
		{"/fleet/cache/interval", map[string]string{"interval": "45m", "use": "own"}},
		{"/fleet/deploy", map[string]string{"ini": "[intruder]\nservices = ssh\n"}},
		{"/config/global-mutation-interval", map[string]string{"interval": "5m"}},
		{"/config/deployment-limit", map[string]string{"deployment_limit": "1"}},
		{"/config/users", map[string]string{"username": "mallory", "password": "mallory-password", "role": "admin"}},
		{"/config/users/" + viewerUUID + "/role", map[string]string{"role": "admin"}},
		{"/config/users/" + adminUUID + "/password", map[string]string{"new_password": "taken-over-password"}},
		{"/config/users/" + adminUUID + "/delete", nil},
		{"/config/reinit", nil},
	} {
		if got := craft(viewer, "POST", c.path, c.fields); !got.refused() {
			t.Errorf("the viewer's POST %s was not refused: %+v", c.path, got)
		}
	}
	if got := craft(viewer, "GET", download, nil); got.Status != 403 {
		t.Errorf("the viewer's GET %s answered %+v, want 403", download, got)
	}
	if after := d.fleetState(t, token); after != before {
		t.Errorf("the viewer's refused requests changed the fleet or the settings:\nbefore %s\nafter  %s", before, after)
	}

	admin.open("/fleet")
	if got := craft(admin, "POST", "/fleet/cache/interval", map[string]string{"interval": "45m", "use": "own"}); got.Status != 200 || !strings.Contains(got.Flash, "interval") {
		t.Errorf("the admin's interval request answered %+v, want the fleet page with a confirmation", got)
	}
	if after := d.fleetState(t, token); !strings.Contains(after, `"name":"cache"`) || after == before {
		t.Errorf("the admin's interval request changed nothing: %s", after)
	}
}

// fleetState is what a refused request must not change: the deckies
// (mutations, intervals), the settings with the users, and the counts of
// what was collected, as JSON.
func (d *dashboard) fleetState(t *testing.T, token string) string {
	t.Helper()
	var state []string
	for _, path := range []string{"/deckies", "/config", "/stats"} {
		var v json.RawMessage
		d.n.get(token, path, &v)
		state = append(state, string(v))
	}
	return strings.Join(state, "\n")
}

// userUUID is the UUID of a user, from GET /config/users.
func (d *dashboard) userUUID(t *testing.T, token, name string) string {
	t.Helper()
	var users store.Page[api.UserResponse]
	d.n.get(token, "/config/users?limit=100", &users)
	for _, u := range users.Data {
		if u.Username == name {
			return u.UUID
		}
	}
	t.Fatalf("no user %q in %+v", name, users)
	return ""
}

// apiCall sends a JSON request to the API and decodes the answer into out;
// it returns the status.
func (d *dashboard) apiCall(t *testing.T, token, method, path string, body, out any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, d.n.api+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s %s: %d, %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode
}

// screenshots: every page at both sizes, as the admin sees it with the
// attacks of the other subtests in it (login and password were taken by
// Flow, before the admin signed in).
func (d *dashboard) screenshots(t *testing.T) {
	tb := d.enter(t)
	for _, p := range []struct{ name, path string }{
		{"overview", "/"}, {"fleet", "/fleet"}, {"logs", "/logs"}, {"bounty", "/bounty"},
		{"attackers", "/attackers"}, {"attacker", d.attackerPage}, {"traversals", "/traversals"},
		{"config", "/config"}, {"health", "/health"},
	} {
		tb.shoot(p.name, p.path)
	}
}
