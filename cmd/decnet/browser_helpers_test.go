package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"decnet/internal/testutil"
)

// The browser tests drive the dashboard in headless Chromium: a real
// browser runs the pages' scripts, applies the CSP and lays the pages out,
// which no HTTP-level test can show.

// startChromium starts one headless Chromium for the test, with a fresh
// profile, in the background: it takes seconds, which the caller spends
// starting the server. The returned func waits for it and returns its
// root context; each tab opens a browser context (cookie jar) of its own
// under it.
func startChromium(t *testing.T) (wait func() context.Context) {
	t.Helper()
	path := testutil.RequireTool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, so tabs can then ask for browser
	// contexts of their own.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	return func() context.Context {
		t.Helper()
		if err := <-started; err != nil {
			t.Fatalf("starting %s: %v", path, err)
		}
		return ctx
	}
}

// pageHooks runs before any script of every page a tab loads: it records
// calls of alert, confirm and prompt and every CSP violation, which an
// injected payload would cause, in window.__xss.
const pageHooks = `(() => {
  const rec = {dialogs: [], csp: []};
  Object.defineProperty(window, "__xss", {value: rec});
  for (const name of ["alert", "confirm", "prompt"]) {
    window[name] = function (msg) { rec.dialogs.push(name + "(" + String(msg) + ")"); return name === "confirm"; };
  }
  document.addEventListener("securitypolicyviolation", (e) => {
    rec.csp.push(e.violatedDirective + " blocked " + e.blockedURI + " " + (e.sample || ""));
  });
})();`

// tab is one browser tab in a browser context of its own (its own
// cookies, so its own dashboard session).
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the dashboard's origin, e.g. http://127.0.0.1:8000

	mu      sync.Mutex
	dialogs []string // native dialogs that opened anyway (the hooks were bypassed)
}

// actionTimeout bounds one browser step, so a page that never loads fails
// its step with a message instead of the whole test run timing out.
const actionTimeout = 20 * time.Second

// newTab opens a tab in a new browser context with the page hooks
// installed and native dialogs recorded and dismissed.
func newTab(t *testing.T, browser context.Context, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, base: base}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: pageHooks}); err != nil {
		t.Fatalf("installing the page hooks: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, fmt.Sprintf("native %s(%s)", ev.Type, ev.Message))
			tb.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return tb
}

// step runs browser actions with actionTimeout, failing the test with
// what was being done.
func (tb *tab) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v (page %s)", what, err, tb.location())
	}
}

// evalJS evaluates a JavaScript expression in the tab's page and decodes
// its value (promises are awaited).
func evalJS[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %.80q: %v (page %s)", expr, err, tb.location())
	}
	return v
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// location is the page's URL, or why it is unknown.
func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown: " + err.Error()
	}
	return loc
}

// path is the path (and query) of the page's URL.
func (tb *tab) path() string {
	tb.t.Helper()
	u, err := url.Parse(tb.location())
	if err != nil {
		tb.t.Fatal(err)
	}
	return u.RequestURI()
}

// open loads a page of the dashboard (a path, or a full URL) and returns
// the HTTP status of the document it ended on.
func (tb *tab) open(target string) int64 {
	tb.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = tb.base + target
	}
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(target))
	if err != nil {
		tb.t.Fatalf("opening %s: %v", target, err)
	}
	return resp.Status
}

// submit fills a form's fields (CSS selector -> value) and clicks its
// button, waiting for the page the form leads to; it returns that page's
// status.
func (tb *tab) submit(button string, fields map[string]string) int64 {
	tb.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for sel, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(sel), v))
	}
	tb.step("filling the form of "+button, steps...)
	return tb.click(button)
}

// click clicks an element that leads to another page (a link, a submit
// button) and waits for that page; it returns the page's status.
func (tb *tab) click(sel string) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("clicking %s on %s: %v", sel, tb.location(), err)
	}
	return resp.Status
}

// text is what the page shows: document.body.innerText (rendered text,
// hidden elements left out).
func (tb *tab) text() string {
	tb.t.Helper()
	return evalJS[string](tb, `document.body.innerText`)
}

// count is the number of elements matching a CSS selector.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return evalJS[int](tb, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// textOf is the innerText of the first element matching sel, "" when
// there is none.
func (tb *tab) textOf(sel string) string {
	tb.t.Helper()
	return evalJS[string](tb, `(document.querySelector(`+jsString(sel)+`) || {innerText: ""}).innerText`)
}

// waitFor polls a JavaScript condition in the page every 25 ms until it
// is true or timeout passes, and reports whether it became true.
func (tb *tab) waitFor(cond string, timeout time.Duration) bool {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	switch {
	case err == nil:
		return true
	case errors.Is(err, chromedp.ErrPollingTimeout):
		return false
	default:
		tb.t.Fatalf("waiting for %.80q: %v (page %s)", cond, err, tb.location())
		return false
	}
}

// pageAlarms are what the page hooks recorded (dialogs and CSP
// violations), plus native dialogs that opened despite them.
func (tb *tab) pageAlarms() []string {
	tb.t.Helper()
	rec := evalJS[struct {
		Dialogs []string `json:"dialogs"`
		CSP     []string `json:"csp"`
	}](tb, `window.__xss || {dialogs: ["page hooks missing"], csp: []}`)
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := append(append([]string{}, tb.dialogs...), rec.Dialogs...)
	for _, c := range rec.CSP {
		out = append(out, "CSP violation: "+c)
	}
	return out
}

// viewport is a screen the screenshots emulate.
type viewport struct {
	name          string
	width, height int64
}

// screens are those of the screenshots, the desktop first: a common
// laptop and a common phone (device scale 1, so a screenshot's pixels are
// CSS pixels).
func screens() []viewport {
	return []viewport{{"desktop", 1366, 768}, {"phone", 390, 844}}
}

// emulate makes the tab's page as large as vp.
func (tb *tab) emulate(vp viewport) {
	tb.t.Helper()
	tb.step("emulating the "+vp.name+" screen", chromedp.EmulateViewport(vp.width, vp.height, chromedp.EmulateScale(1)))
}

// outputDir is where the tests leave what a person may look at:
// $DECNET_TEST_OUTPUT, else test-output/ at the repository's root.
func outputDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("DECNET_TEST_OUTPUT"); d != "" {
		return d
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "test-output")
}

// shoot loads path at each viewport (anew, so the page lays itself out
// for that screen, as it would on that device) and saves a full-page PNG
// as <output>/screenshots/<name>-<viewport>.png. The tab is left at the
// desktop size, for the next page it loads.
func (tb *tab) shoot(name, path string) {
	tb.t.Helper()
	dir := filepath.Join(outputDir(tb.t), "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	for _, vp := range screens() {
		tb.emulate(vp)
		if st := tb.open(path); st != 200 {
			tb.t.Errorf("%s answered %d at the %s size", path, st, vp.name)
		}
		ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			tb.t.Fatalf("screenshot of %s at the %s size: %v", path, vp.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+vp.name+".png"), png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
	}
	tb.emulate(screens()[0])
}

// attacker runs real attack tools against the fleet, from attackerIP.
type attacker struct {
	t                    *testing.T
	n                    *node
	sshpass, redis, curl string
	sshHost, webHost, kv string // decky addresses
}

// ssh logs in with OpenSSH's client (through sshpass) and runs command.
// The options are in a config file: OpenSSH refuses shell metacharacters
// in a user name given on the command line (-l, user@, even -o User=),
// but takes a quoted one from its configuration as it is.
func (a *attacker) ssh(user, password, command string) string {
	a.t.Helper()
	if strings.ContainsAny(user, "\"\n") {
		a.t.Fatalf("ssh_config cannot quote the user name %q", user)
	}
	config := fmt.Sprintf(`Host decky
  HostName %s
  Port %s
  User "%s"
  BindAddress %s
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  PubkeyAuthentication no
  PreferredAuthentications password
`, a.sshHost, a.n.port("gate", "ssh"), user, attackerIP)
	file := filepath.Join(a.t.TempDir(), "ssh_config")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		a.t.Fatal(err)
	}
	return run(a.t, a.sshpass, "-p", password, "ssh", "-F", file, "decky", command)
}

// http requests path with curl as sent (--path-as-is) and the given
// User-Agent.
func (a *attacker) http(path, userAgent string) {
	a.t.Helper()
	run(a.t, a.curl, "-s", "-o", "/dev/null", "--interface", attackerIP, "--path-as-is", "-A", userAgent,
		"http://"+a.webHost+":"+a.n.port("web", "http")+path)
}

// redisCmd runs one command with redis-cli (which cannot bind a source
// address: routeAttacker makes it come from attackerIP).
func (a *attacker) redisCmd(args ...string) string {
	a.t.Helper()
	return run(a.t, a.redis, append([]string{"-h", a.kv, "-p", a.n.port("cache", "redis")}, args...)...)
}

// reloadUntil loads path until a JavaScript condition holds on the page,
// for pages without live updates whose data other processes build; it
// reports whether the condition held within timeout.
func (tb *tab) reloadUntil(path, cond string, timeout time.Duration) bool {
	tb.t.Helper()
	for deadline := time.Now().Add(timeout); ; {
		tb.open(path)
		if evalJS[bool](tb, cond) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond) // between loads, not to hammer the server
	}
}
