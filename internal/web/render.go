package web

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates, one set per page: the shared layout
// and partials (templates/_*.html) plus the page's own file.
type pages map[string]*template.Template

func parsePages(static *staticFiles) (pages, error) {
	base, err := template.New("").Funcs(templateFuncs(static)).ParseFS(templateFS, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	ps := pages{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, err
		}
		ps[name] = t
	}
	return ps, nil
}

// view is what the layout renders: the page's own data is Page.
type view struct {
	// Name is the page's template name; the navigation marks it.
	Name  string
	User  *visitor
	Flash *flashMessage
	Page  any
}

// Can reports whether the signed-in user's role reaches role ("viewer",
// "analyst", "admin"): templates show an action only to roles the API
// lets take it.
func (v view) Can(role string) bool { return v.User != nil && v.User.can(role) }

// CSRF is the token every form of the page carries.
func (v view) CSRF() string {
	if v.User == nil {
		return ""
	}
	return v.User.csrf
}

// render writes page name with data, or a 500 when the template fails
// (rendered into a buffer first, so a failure never sends half a page).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("dashboard page has no template", "page", name)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	v := view{Name: name, User: visitorOf(r), Page: data, Flash: s.takeFlash(w, r)}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("dashboard page failed to render", "page", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorView struct {
	Status  int
	Title   string
	Message string
}

// errorPage renders an error in the layout.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.render(w, r, status, "error", errorView{Status: status, Title: http.StatusText(status), Message: message})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
}

// fail answers a page whose API call failed: an ended session goes to
// the login page, a refusal or a bad request shows the API's reason, and
// anything else is logged and shown without internals.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		s.toLogin(w, r)
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		s.errorPage(w, r, http.StatusNotFound, "Not found: it may have been deleted or purged.")
	case errors.As(err, &ae) && ae.Status < 500 || errors.As(err, &ae) && ae.Status == http.StatusNotImplemented:
		s.errorPage(w, r, ae.Status, ae.Error())
	case r.Context().Err() != nil:
		// The browser left; nobody reads the answer.
	default:
		s.log.Error("dashboard page failed", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, http.StatusBadGateway, "The data behind this page could not be read. The server log has the reason.")
	}
}

// Flash messages survive one redirect (POST, then GET) in a cookie.
const flashCookie = "flash"

// Kinds of flash message.
const (
	flashOK    = "ok"
	flashError = "error"
)

type flashMessage struct {
	Kind string
	Text string
}

func (s *Server) flash(w http.ResponseWriter, r *http.Request, kind, text string) {
	if len(text) > 2000 {
		text = text[:2000] + "…"
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + text)),
		Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure || r.TLS != nil,
	})
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) *flashMessage {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure || r.TLS != nil})
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	kind, text, ok := strings.Cut(string(raw), "\x00")
	if !ok || (kind != flashOK && kind != flashError) {
		return nil
	}
	return &flashMessage{Kind: kind, Text: text}
}

// done finishes a form's POST: the outcome as a flash message, then back
// to the page (POST, redirect, GET, so a reload does not resend).
func (s *Server) done(w http.ResponseWriter, r *http.Request, back string, err error, okText string) {
	var ae *apiError
	switch {
	case err == nil:
		s.flash(w, r, flashOK, okText)
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		s.toLogin(w, r)
		return
	case errors.As(err, &ae) && (ae.Status < 500 || ae.Status == http.StatusNotImplemented):
		s.flash(w, r, flashError, ae.Error())
	default:
		s.log.Error("dashboard action failed", "path", r.URL.Path, "err", err)
		s.flash(w, r, flashError, "The action failed; the server log has the reason.")
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// navLink is one entry of the navigation.
type navLink struct {
	Href, Label string
	Current     bool
}

// kv is one key and value of a map, for templates that list maps in key
// order.
type kv struct {
	Key   string
	Value string
}

func templateFuncs(static *staticFiles) template.FuncMap {
	return template.FuncMap{
		// asset is the versioned URL of a static file.
		"asset": static.url,
		// iso and utc format a time for <time datetime> and its title.
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" },
		// count groups digits: 1234567 → 1,234,567.
		"count": func(n any) string { return groupDigits(fmt.Sprint(n)) },
		"join":  strings.Join,
		// navItem is one link of the navigation; current marks the page
		// shown.
		"navItem": func(current, name, href, label string) navLink {
			return navLink{Href: href, Label: label, Current: current == name}
		},
		"href": href,
		// sorted lists a map's entries in key order, values as text.
		"sorted": func(m any) []kv {
			var out []kv
			switch m := m.(type) {
			case map[string]string:
				for _, k := range slices.Sorted(maps.Keys(m)) {
					out = append(out, kv{k, m[k]})
				}
			case map[string]any:
				for _, k := range slices.Sorted(maps.Keys(m)) {
					out = append(out, kv{k, text(m[k])})
				}
			}
			return out
		},
	}
}

// href builds a URL from a path and key, value pairs, leaving out zero
// values (an empty string, a 0 offset). A search for the text "0" is a
// non-empty string and stays.
func href(p string, pairs ...any) (string, error) {
	if len(pairs)%2 != 0 {
		return "", errors.New("href: odd number of key/value arguments")
	}
	q := url.Values{}
	for i := 0; i < len(pairs); i += 2 {
		if v := pairs[i+1]; v != nil && !reflect.ValueOf(v).IsZero() {
			q.Set(fmt.Sprint(pairs[i]), fmt.Sprint(v))
		}
	}
	if len(q) == 0 {
		return p, nil
	}
	return p + "?" + q.Encode(), nil
}

// text shows a decoded JSON value: a string as itself, anything else
// (numbers, lists, objects) as JSON, never Go's notation.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// groupDigits puts thousands separators into a decimal integer.
func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if _, err := strconv.ParseUint(s, 10, 64); err != nil || len(s) <= 3 {
		if neg {
			return "-" + s
		}
		return s
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 && !(neg && b.Len() == 1) {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
