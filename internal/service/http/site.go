package http

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "assets/*.tmpl"))

func asset(name string) []byte {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

// site is one decky's web content and the product that serves it.
type site struct {
	product   product
	server    string
	app       string
	persona   *Persona
	root      *os.Root // the files directory, or nil
	extra     []header
	installed time.Time // modification time of the preset's files
	fallback  string    // host Apache names when the request has none
	siteURL   string    // the web application's configured base URL
	blog      string    // the WordPress site title
}

// maxFile bounds what the files directory may serve in one response.
const maxFile = 16 << 20

// apacheKnown are the methods Apache registers; others get 501.
var apacheKnown = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "POST": true, "DELETE": true, "CONNECT": true, "OPTIONS": true,
	"TRACE": true, "PATCH": true, "PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true,
	"MOVE": true, "LOCK": true, "UNLOCK": true, "VERSION-CONTROL": true, "CHECKOUT": true,
	"UNCHECKOUT": true, "CHECKIN": true, "UPDATE": true, "LABEL": true, "REPORT": true,
	"MKWORKSPACE": true, "MKACTIVITY": true, "BASELINE-CONTROL": true, "MERGE": true,
}

const (
	apacheAllow = "POST,OPTIONS,HEAD,GET"
	iisAllow    = "GET, HEAD, OPTIONS, TRACE"
	iisOptions  = "OPTIONS, TRACE, GET, HEAD, POST"
)

// respond decides the answer to a well-formed request.
func (s *site) respond(req *request) *response {
	m := req.method
	switch {
	case s.product == nginx && strings.ContainsFunc(m, func(c rune) bool { return (c < 'A' || c > 'Z') && c != '_' && c != '-' }):
		return s.errorResp(req, 400, true)
	case m == "TRACE":
		return s.errorResp(req, 405, false)
	case s.product == apache && !apacheKnown[m]:
		return s.errorResp(req, 501, false)
	case m == "OPTIONS" && s.product == apache:
		return &response{status: 200, allow: apacheAllow, ctype: "text/html"}
	case m == "OPTIONS" && s.product == iis:
		return &response{status: 200, allow: iisOptions, public: iisOptions}
	case req.target == "*":
		return s.errorResp(req, 400, true)
	case s.product == apache && m == "PUT":
		return s.errorResp(req, 405, false)
	}
	if r := s.file(req); r != nil {
		return s.staticMethod(req, r)
	}
	if code := s.persona.ResponseCode; code != 0 {
		return s.forced(req, code)
	}
	if req.path() == "/" && s.persona.CustomBody != "" {
		return s.staticMethod(req, s.staticPage([]byte(s.persona.CustomBody), "text/html"))
	}
	if r := s.appPage(req); r != nil {
		if r.static != nil {
			return s.staticMethod(req, r)
		}
		return r
	}
	return s.errorResp(req, 404, false)
}

// forced is the answer of a persona with a fixed response_code.
func (s *site) forced(req *request, code int) *response {
	if code < 300 {
		r := s.mainPage(req)
		r.status = code
		return r
	}
	r := s.errorResp(req, code, false)
	if s.persona.CustomBody != "" {
		r.body, r.ctype = []byte(s.persona.CustomBody), "text/html"
	}
	if code == 401 {
		r.auth = s.challenges()
	}
	return r
}

// staticMethod applies the product's rules for methods other than GET and
// HEAD on a static file.
func (s *site) staticMethod(req *request, r *response) *response {
	switch req.method {
	case "GET", "HEAD":
		return r
	case "POST":
		if s.product == apache {
			return r
		}
	}
	return s.errorResp(req, 405, false)
}

// errorResp is the product's error page for status.
func (s *site) errorResp(req *request, status int, close bool) *response {
	host, port := hostPort(req.get("Host"), s.fallback, req.port)
	body, ctype := s.product.errorPage(status, s.server, req.method, host, port, "", req.get("User-Agent"))
	r := &response{status: status, body: body, ctype: ctype, close: close}
	if status == 405 || status == 501 {
		switch s.product {
		case apache:
			r.allow = apacheAllow
		case iis:
			r.allow = iisAllow
		}
	}
	return r
}

// redirect is the product's redirect page to loc.
func (s *site) redirect(req *request, status int, loc string) *response {
	host, port := hostPort(req.get("Host"), s.fallback, req.port)
	body, ctype := s.product.errorPage(status, s.server, req.method, host, port, loc, req.get("User-Agent"))
	return &response{status: status, body: body, ctype: ctype, location: loc}
}

// file serves the files directory. Only regular files are served;
// os.Root refuses paths and symlinks that leave the directory.
func (s *site) file(req *request) *response {
	if s.root == nil {
		return nil
	}
	p, err := url.PathUnescape(req.path())
	if err != nil || strings.ContainsRune(p, 0) {
		return nil
	}
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	st, err := s.root.Stat(rel)
	if err != nil {
		return nil
	}
	if st.IsDir() {
		if !strings.HasSuffix(p, "/") {
			return s.redirect(req, 301, s.baseURL(req)+req.path()+"/")
		}
		rel = path.Join(rel, "index.html")
		if st, err = s.root.Stat(rel); err != nil {
			return s.errorResp(req, 403, false)
		}
	}
	if !st.Mode().IsRegular() || st.Size() > maxFile {
		return s.errorResp(req, 403, false)
	}
	f, err := s.root.Open(rel)
	if err != nil {
		return s.errorResp(req, 403, false)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxFile))
	if err != nil {
		return s.errorResp(req, 403, false)
	}
	return &response{status: 200, body: body, ctype: s.mimeType(rel),
		static: &fileInfo{modTime: st.ModTime(), size: int64(len(body))}}
}

// mimeType is the product's Content-Type for a file name (Debian's
// mime.types for Apache, nginx's own table, IIS's staticContent).
func (s *site) mimeType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".html", ".htm":
		return "text/html"
	case ".txt", ".log", ".ini", ".conf", ".cfg":
		if ext == ".txt" || s.product == apache && ext == ".conf" {
			return "text/plain"
		}
	case ".css":
		return "text/css"
	case ".js":
		return "application/javascript"
	case ".json":
		return "application/json"
	case ".xml":
		if s.product == nginx {
			return "text/xml"
		}
		return "application/xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".svg":
		return "image/svg+xml"
	case ".ico":
		if s.product == apache {
			return "image/vnd.microsoft.icon"
		}
		return "image/x-icon"
	case ".pdf":
		return "application/pdf"
	case ".zip":
		return "application/zip"
	case ".gz", ".tgz":
		if s.product == apache {
			return "application/gzip"
		}
	}
	if s.product == apache {
		return "" // Apache 2.4 sends no type it does not know
	}
	return "application/octet-stream"
}

// baseURL is the scheme and authority the client used.
func (s *site) baseURL(req *request) string {
	if h := req.get("Host"); h != "" {
		return "http://" + h
	}
	return "http://" + s.fallback
}

// staticPage is an embedded file served like a file on disk.
func (s *site) staticPage(body []byte, ctype string) *response {
	return &response{status: 200, body: body, ctype: ctype, static: &fileInfo{modTime: s.installed, size: int64(len(body))}}
}

// mainPage is the page at "/".
func (s *site) mainPage(req *request) *response {
	if s.persona.CustomBody != "" {
		return s.staticPage([]byte(s.persona.CustomBody), "text/html")
	}
	get := *req
	get.method, get.target, get.body = "GET", "/", nil
	return s.appPage(&get)
}

// appPage is the preset's page for req, or nil when it has none.
func (s *site) appPage(req *request) *response {
	p := req.path()
	switch s.app {
	case appApache:
		switch {
		case p == "/" || p == "/index.html":
			return s.staticPage(s.apachePage(), "text/html")
		case p == "/server-status" || strings.HasPrefix(path.Base(p), ".ht"):
			return s.errorResp(req, 403, false)
		}
	case appNginx:
		if p == "/" || p == "/index.nginx-debian.html" {
			return s.staticPage(asset("nginx_default.html"), "text/html")
		}
	case appIIS:
		switch strings.ToLower(p) {
		case "/", "/iisstart.htm":
			return s.staticPage(asset("iis_default.html"), "text/html")
		case "/iisstart.png":
			return s.staticPage(iisStartPNG(), "image/png")
		}
	case appWordPress:
		return s.wordpress(req)
	case appPhpMyAdmin:
		return s.phpMyAdmin(req)
	}
	return nil
}

// apachePage is the distro's "It works" page.
func (s *site) apachePage() []byte {
	page := asset("apache_default.html")
	if strings.Contains(s.server, "(Ubuntu)") {
		page = bytes.ReplaceAll(page, []byte("Debian"), []byte("Ubuntu"))
	}
	return page
}

// iisStartPNG stands in for iisstart.png: the same size and colour.
var iisStartPNG = sync.OnceValue(func() []byte {
	img := image.NewPaletted(image.Rect(0, 0, 960, 600), color.Palette{color.RGBA{0x00, 0x72, 0xc6, 0xff}})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// wpHeaders are what WordPress sends on its login page.
func wpHeaders() []header {
	return []header{
		{"Expires", "Wed, 11 Jan 1984 05:00:00 GMT"},
		{"Cache-Control", "no-cache, must-revalidate, max-age=0"},
		{"Set-Cookie", "wordpress_test_cookie=WP%20Cookie%20check; path=/"},
		{"X-Frame-Options", "SAMEORIGIN"},
		{"Referrer-Policy", "strict-origin-when-cross-origin"},
	}
}

func (s *site) render(name string, data any) []byte {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		panic(fmt.Errorf("template %s: %w", name, err)) // the templates are fixed
	}
	return b.Bytes()
}

// wordpress is a stock WordPress 6.1 (Debian's package).
func (s *site) wordpress(req *request) *response {
	p := req.path()
	base := s.siteURL
	html := "text/html; charset=UTF-8"
	switch {
	case p == "/wp-login.php":
		user, _ := formCredentials(req)
		data := map[string]any{"Base": base, "Blog": s.blog, "User": user, "Known": user == "admin"}
		return &response{status: 200, ctype: html, dynamic: true, app: wpHeaders(), body: s.render("wp_login.tmpl", data)}
	case p == "/wp-admin" || strings.HasPrefix(p, "/wp-admin/"):
		if p == "/wp-admin" {
			return s.redirect(req, 301, s.baseURL(req)+"/wp-admin/")
		}
		loc := base + "/wp-login.php?redirect_to=" + url.QueryEscape(base+p) + "&reauth=1"
		return &response{status: 302, ctype: html, dynamic: true, location: loc,
			app: []header{{"Expires", "Wed, 11 Jan 1984 05:00:00 GMT"}, {"Cache-Control", "no-cache, must-revalidate, max-age=0"}, {"X-Redirect-By", "WordPress"}}}
	case p == "/xmlrpc.php":
		if req.method != "POST" {
			return &response{status: 405, ctype: "text/plain;charset=UTF-8", dynamic: true, body: []byte("XML-RPC server accepts POST requests only."),
				allow: "POST"}
		}
		return &response{status: 200, ctype: "text/xml; charset=UTF-8", dynamic: true, body: []byte(xmlrpcFault)}
	case p == "/robots.txt":
		return &response{status: 200, ctype: "text/plain; charset=UTF-8", dynamic: true,
			body: []byte("User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\nSitemap: " + base + "/wp-sitemap.xml\n")}
	case p == "/" || p == "/index.php":
		return &response{status: 200, ctype: html, dynamic: true, app: []header{{"Link", "<" + base + "/wp-json/>; rel=\"https://api.w.org/\""}},
			body: s.render("wp_home.tmpl", map[string]any{"Base": base, "Blog": s.blog})}
	case strings.HasPrefix(p, "/wp-content/") || strings.HasPrefix(p, "/wp-includes/") || strings.HasSuffix(p, ".php"):
		return nil // real files or nothing: Apache's own 404
	}
	return &response{status: 404, ctype: html, dynamic: true,
		app:  []header{{"Expires", "Wed, 11 Jan 1984 05:00:00 GMT"}, {"Cache-Control", "no-cache, must-revalidate, max-age=0"}, {"Link", "<" + base + "/wp-json/>; rel=\"https://api.w.org/\""}},
		body: s.render("wp_home.tmpl", map[string]any{"Base": base, "Blog": s.blog, "NotFound": true})}
}

const xmlrpcFault = `<?xml version="1.0" encoding="UTF-8"?>
<methodResponse>
  <fault>
    <value>
      <struct>
        <member>
          <name>faultCode</name>
          <value><int>403</int></value>
        </member>
        <member>
          <name>faultString</name>
          <value><string>Incorrect username or password.</string></value>
        </member>
      </struct>
    </value>
  </fault>
</methodResponse>
`

// phpMyAdmin is Debian's phpMyAdmin 5.2.1, at "/" and at its alias.
func (s *site) phpMyAdmin(req *request) *response {
	p := req.path()
	rest, ok := strings.CutPrefix(p, "/phpmyadmin")
	if !ok {
		rest = p
	}
	if rest != "/" && rest != "/index.php" {
		if rest == "" {
			return s.redirect(req, 301, s.baseURL(req)+"/phpmyadmin/")
		}
		return nil
	}
	user, pass := formCredentials(req)
	session := randomHex(16)
	data := map[string]any{"User": user, "HasPassword": pass != "", "Token": randomHex(16), "Session": randomHex(8)}
	cookiePath := "/"
	if ok {
		cookiePath = "/phpmyadmin/"
	}
	return &response{status: 200, ctype: "text/html; charset=utf-8", dynamic: true, body: s.render("pma_login.tmpl", data),
		app: []header{
			{"Set-Cookie", "phpMyAdmin=" + session + "; path=" + cookiePath + "; HttpOnly"},
			{"X-ob_mode", "1"},
			{"X-Frame-Options", "DENY"},
			{"Referrer-Policy", "no-referrer"},
			{"X-XSS-Protection", "1; mode=block"},
			{"X-Content-Type-Options", "nosniff"},
			{"X-Permitted-Cross-Domain-Policies", "none"},
			{"X-Robots-Tag", "noindex, nofollow"},
			{"Expires", time.Now().UTC().Format(dateFormat)},
			{"Cache-Control", "no-store, no-cache, must-revalidate,  pre-check=0, post-check=0, max-age=0"},
			{"Pragma", "no-cache"},
		}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// installTime is when the preset's files were written: kept in dataDir
// so that Last-Modified and ETag survive restarts, and otherwise derived
// from the decky's name, so that deckies differ.
func installTime(dataDir, name string, now time.Time) time.Time {
	h := fnv.New64a()
	h.Write([]byte(name))
	sum := h.Sum64()
	derived := now.Add(-time.Duration(30*24+sum%(300*24)) * time.Hour).Add(-time.Duration(sum>>20%86400e6) * time.Microsecond)
	if dataDir == "" {
		return derived.Truncate(time.Microsecond)
	}
	file := dataDir + "/http-installed"
	if b, err := os.ReadFile(file); err == nil {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err == nil {
			return t
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return derived.Truncate(time.Microsecond)
	}
	t := derived.Truncate(time.Microsecond).UTC()
	os.WriteFile(file, []byte(t.Format(time.RFC3339Nano)+"\n"), 0o600)
	return t
}
