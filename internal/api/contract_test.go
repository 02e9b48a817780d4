package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	valerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"decnet/internal/event"
	"decnet/internal/store"
)

// The contract and RBAC tests walk the served OpenAPI document, so every
// route registered now or later is swept without being named here; what
// they need to know about a route beyond the document (a value for a
// path parameter, a valid value for a constrained field, who may call
// it) is looked up by name and fails loudly when missing.

// Actor kinds: the roles, a user who must change the password, and a
// request without a token.
const (
	kindNone       = "no-token"
	kindViewer     = store.RoleViewer
	kindAnalyst    = store.RoleAnalyst
	kindAdmin      = store.RoleAdmin
	kindMustChange = "must-change"
)

var actorKinds = []string{kindNone, kindViewer, kindAnalyst, kindAdmin, kindMustChange}

// actor is who sends a request.
type actor struct {
	kind     string
	user     store.User
	password string
	token    string
}

// contractFleet accepts every deployment, so deploy's success answer is
// swept too (fakeFleet answers "not supported").
type contractFleet struct{ *fakeFleet }

func (contractFleet) Deploy(context.Context, string) error { return nil }

var _ FleetControl = contractFleet{}

// contractEnv is the real server over SQLite, with data in every table
// the routes read, users of every kind and the served document loaded
// into a third-party validator.
type contractEnv struct {
	t        *testing.T
	srv      *Server
	ts       *httptest.Server
	repo     *store.SQLite
	actors   map[string]*actor
	artifact string // stored_as of the one captured file
	attacker string // UUID of the one attacker profile
	model    *v3.Document
	val      validator.Validator
	schemas  schema_validation.SchemaValidator

	actorHash string // of actorPassword

	mu    sync.Mutex
	fresh int
}

var contractBase = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func newContractEnv(t *testing.T) *contractEnv {
	t.Helper()
	repo, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "decnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	e := &contractEnv{t: t, repo: repo, actors: map[string]*actor{}}
	h, err := hashPassword(actorPassword, bcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	e.actorHash = string(h)

	artDir := t.TempDir()
	e.artifact = contractBase.Add(3*time.Minute).Format("2006-01-02T15:04:05Z") + "_0123456789ab_dropper.sh"
	if err := os.WriteFile(filepath.Join(artDir, e.artifact), []byte("#!/bin/sh\necho pwned\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.seed()

	srv, err := New(Config{
		Repo:      repo,
		JWTSecret: testSecret,
		Fleet: contractFleet{newFakeFleet(
			Decky{Name: "web-01", IP: "127.77.0.10", Hostname: "web01", Distro: "debian", OS: "linux", Services: []string{"ssh", "http"}, Active: true},
			Decky{Name: "db-01", IP: "127.77.0.11", Hostname: "db01", Distro: "ubuntu", OS: "linux", Services: []string{"mysql"}},
		)},
		ArtifactDirs: func(decky string) []string {
			if decky == "web-01" {
				return []string{artDir}
			}
			return nil
		},
		// Reinit needs it; the other routes do not care.
		Developer: true,
		Version:   "contract",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)

	for _, kind := range actorKinds[1:] {
		e.actors[kind] = e.newActor(kind)
	}
	e.actors[kindNone] = &actor{kind: kindNone}
	// The admin's token comes from a real login, the others' too: the
	// login route is part of what is under test.
	for _, kind := range actorKinds[1:] {
		a := e.actors[kind]
		body, _ := json.Marshal(map[string]string{"username": a.user.Username, "password": a.password})
		resp, data := e.send(t.Context(), http.MethodPost, "/auth/login", "", "application/json", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("login %s: %d %s", kind, resp.StatusCode, data)
		}
		var tok tokenBody
		if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
			t.Fatalf("login %s: %v %s", kind, err, data)
		}
		a.token = tok.AccessToken
	}

	resp, raw := e.send(t.Context(), http.MethodGet, "/openapi.json", e.actors[kindAdmin].token, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, raw)
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatalf("openapi.json does not load: %v", err)
	}
	model, errs := doc.BuildV3Model()
	if errs != nil {
		t.Fatalf("openapi.json model: %v", errs)
	}
	e.model = &model.Model
	val, verrs := validator.NewValidator(doc)
	if len(verrs) > 0 {
		t.Fatalf("validator: %v", verrs)
	}
	e.val = val
	e.schemas = schema_validation.NewSchemaValidator()
	return e
}

// seed stores events of every kind the routes show: credentials (a
// bounty), commands, a captured file, traffic from a second attacker;
// and the profile of the first attacker.
func (e *contractEnv) seed() {
	t := e.t
	ip := "192.0.2.7"
	at := func(m int) time.Time { return contractBase.Add(time.Duration(m) * time.Minute) }
	recs := []event.Record{
		{Timestamp: at(0), Decky: "web-01", Service: "ssh", EventType: "auth", Severity: event.Warning, AttackerIP: ip,
			Fields:  map[string]string{"src_ip": ip, "username": "root", "password": "toor", "success": "false"},
			RawLine: `<36>1 2024-05-01T10:00:00Z web01 ssh - auth [x@1 username="root"]`},
		{Timestamp: at(1), Decky: "web-01", Service: "ssh", EventType: "command", Severity: event.Notice, AttackerIP: ip,
			Fields: map[string]string{"src_ip": ip, "command": "uname -a", "username": "root"}, RawLine: "<37>1 2024-05-01T10:01:00Z web01 ssh - command -"},
		{Timestamp: at(2), Decky: "web-01", Service: "http", EventType: "request", Severity: event.Info, AttackerIP: ip,
			Fields: map[string]string{"src_ip": ip, "path": "/admin", "user_agent": "sqlmap/1.7"}, RawLine: "<38>1 2024-05-01T10:02:00Z web01 http - request -"},
		{Timestamp: at(3), Decky: "web-01", Service: "ssh", EventType: "file_captured", Severity: event.Warning, AttackerIP: ip,
			Fields:  map[string]string{"src_ip": ip, "stored_as": e.artifact, "orig_path": "/tmp/dropper.sh", "sha256": strings.Repeat("ab", 32), "size": "21", "stored": "true"},
			RawLine: "<36>1 2024-05-01T10:03:00Z web01 ssh - file_captured -"},
		{Timestamp: at(4), Decky: "db-01", Service: "mysql", EventType: "connect", Severity: event.Info, AttackerIP: "192.0.2.8",
			Fields: map[string]string{"src_ip": "192.0.2.8"}, RawLine: "<38>1 2024-05-01T10:04:00Z db01 mysql - connect -"},
	}
	if err := e.repo.Ingest(t.Context(), recs, "ingest", []byte("5")); err != nil {
		t.Fatal(err)
	}
	// Profiles as the profiler writes them: one with a behaviour, one
	// without (its behavior is null).
	for i, p := range []struct {
		ip       string
		behavior *store.Behavior
	}{
		{ip, &store.Behavior{BehaviorClass: "interactive", ToolGuesses: []string{}, UpdatedAt: at(5)}},
		{"192.0.2.8", nil},
	} {
		act, err := e.repo.Activity(t.Context(), p.ip, 10)
		if err != nil {
			t.Fatalf("activity: %v", err)
		}
		id, err := e.repo.UpsertAttacker(t.Context(), store.Attacker{
			IP: p.ip, FirstSeen: act.FirstSeen, LastSeen: act.LastSeen, EventCount: act.EventCount,
			ServiceCount: len(act.Services), DeckyCount: len(act.Deckies), Services: act.Services, Deckies: act.Deckies,
			CommandCount: act.CommandCount, Commands: act.Commands, UpdatedAt: at(5), Behavior: p.behavior,
		})
		if err != nil {
			t.Fatalf("upsert attacker: %v", err)
		}
		if i == 0 {
			e.attacker = id
		}
	}
}

// actorPassword is every actor's password: hashing one per actor would
// make hashing most of the sweep's time.
const actorPassword = "actor-password-1"

// newActor creates a user of kind (a must-change user is an admin, so
// only the flag can be what refuses it).
func (e *contractEnv) newActor(kind string) *actor {
	e.t.Helper()
	e.mu.Lock()
	e.fresh++
	n := e.fresh
	e.mu.Unlock()
	role, must := kind, false
	if kind == kindMustChange {
		role, must = store.RoleAdmin, true
	}
	u := store.User{UUID: uuid.NewString(), Username: fmt.Sprintf("%s-%04d", role, n), PasswordHash: e.actorHash, Role: role, MustChangePassword: must}
	if err := e.repo.CreateUser(e.t.Context(), u); err != nil {
		e.t.Fatal(err)
	}
	a := &actor{kind: kind, user: u, password: actorPassword}
	var err error
	if a.token, err = e.srv.issueToken(u); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// freshActor is a new user of kind, for requests that may spend their
// caller (a password change ends the caller's tokens).
func (e *contractEnv) freshActor(kind string) *actor {
	if kind == kindNone {
		return e.actors[kindNone]
	}
	return e.newActor(kind)
}

// send makes one request to the server; path is relative to Prefix and
// already escaped.
func (e *contractEnv) send(ctx context.Context, method, path, token, contentType string, body []byte) (*http.Response, []byte) {
	e.t.Helper()
	req, err := e.newRequest(ctx, method, path, token, contentType, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp, data
}

func (e *contractEnv) newRequest(ctx context.Context, method, path, token, contentType string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.ts.URL+Prefix+path, r)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// operation is one operation of the served document.
type operation struct {
	method string // upper case
	path   string // template relative to the server URL, e.g. /logs/{id}
	op     *v3.Operation
}

func (o operation) String() string { return o.method + " " + o.path }

// stream reports whether the operation answers a Server-Sent Events
// stream, which only ends when the client leaves.
func (o operation) stream() bool {
	if o.op.Responses == nil || o.op.Responses.Codes == nil {
		return false
	}
	ok := o.op.Responses.Codes.GetOrZero("200")
	return ok != nil && ok.Content != nil && ok.Content.GetOrZero("text/event-stream") != nil
}

// params are the operation's parameters in one place (path, query,
// header).
func (o operation) params(in string) []*v3.Parameter {
	var ps []*v3.Parameter
	for _, p := range o.op.Parameters {
		if p.In == in {
			ps = append(ps, p)
		}
	}
	return ps
}

// jsonBody is the operation's JSON request body schema, nil when it has
// none.
func (o operation) jsonBody() (*base.Schema, bool) {
	rb := o.op.RequestBody
	if rb == nil || rb.Content == nil {
		return nil, false
	}
	mt := rb.Content.GetOrZero("application/json")
	if mt == nil || mt.Schema == nil {
		return nil, false
	}
	return mt.Schema.Schema(), rb.Required != nil && *rb.Required
}

// documented reports whether the operation documents status code (or
// its range); a "default" response does not count.
func (o operation) documented(code int) bool {
	if o.op.Responses == nil || o.op.Responses.Codes == nil {
		return false
	}
	return o.op.Responses.Codes.GetOrZero(strconv.Itoa(code)) != nil ||
		o.op.Responses.Codes.GetOrZero(fmt.Sprintf("%dXX", code/100)) != nil
}

var methodOrder = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// operations lists the document's operations in the order the sweeps
// run them: reads, then writes, then deletions, and last the deletions
// without a target (purges), which would leave the others nothing.
func (e *contractEnv) operations() []operation {
	var ops []operation
	for path, item := range e.model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			ops = append(ops, operation{method: strings.ToUpper(method), path: path, op: op})
		}
	}
	rank := func(o operation) int {
		r := slices.Index(methodOrder, o.method)
		if r < 0 {
			r = len(methodOrder)
		}
		if o.method == http.MethodDelete && len(o.params("path")) == 0 {
			r += 10
		}
		return r
	}
	slices.SortFunc(ops, func(a, b operation) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a.path, b.path)
	})
	return ops
}

// queryCredentials are the names of the query parameters that the
// operation's security alternatives accept credentials in.
func (e *contractEnv) queryCredentials(o operation) []string {
	var names []string
	for _, req := range o.op.Security {
		if req == nil || req.Requirements == nil {
			continue
		}
		for scheme := range req.Requirements.KeysFromOldest() {
			sc := e.model.Components.SecuritySchemes.GetOrZero(scheme)
			if sc != nil && sc.Type == "apiKey" && sc.In == "query" && !slices.Contains(names, sc.Name) {
				names = append(names, sc.Name)
			}
		}
	}
	return names
}

// pathValue is an existing target for a path parameter. Users are made
// fresh for each request: the routes on them change or delete them.
func (e *contractEnv) pathValue(o operation, name string) string {
	switch {
	case strings.Contains(o.path, "/users/"):
		return e.newActor(kindViewer).user.UUID
	case name == "stored_as":
		return e.artifact
	case strings.HasPrefix(name, "decky") || name == "name":
		return "web-01"
	case strings.Contains(name, "uuid") || name == "id" || strings.HasPrefix(name, "attacker"):
		return e.attacker
	}
	e.t.Fatalf("%s: no known value for path parameter %q: teach contractEnv.pathValue", o, name)
	return ""
}

// fillPath substitutes path parameters: with vals where given, else
// with an existing target.
func (e *contractEnv) fillPath(o operation, vals map[string]string) string {
	p := o.path
	for _, prm := range o.params("path") {
		v, ok := vals[prm.Name]
		if !ok {
			v = url.PathEscape(e.pathValue(o, prm.Name))
		}
		p = strings.Replace(p, "{"+prm.Name+"}", v, 1)
	}
	return p
}

// validINI deploys one more decky.
const validINI = "[general]\nnet = 127.77.0.0/24\n\n[decky-03]\nservices = ssh\n"

// hints are valid values, by field name, for fields whose schema alone
// cannot produce one (patterns, credentials, formats the server parses)
// or whose interesting values the schema does not list. Candidates that
// the field's schema refuses are skipped.
func (e *contractEnv) hints(o operation, a *actor, name string) []any {
	login := strings.HasSuffix(o.path, "/login")
	creds := a
	if creds == nil || creds.kind == kindNone {
		creds = e.actors[kindAdmin]
	}
	switch name {
	case "username":
		if login {
			return []any{creds.user.Username}
		}
		e.mu.Lock()
		e.fresh++
		n := e.fresh
		e.mu.Unlock()
		return []any{fmt.Sprintf("new-user-%04d", n)}
	case "password":
		if login {
			return []any{creds.password}
		}
		return []any{"a-good-password-1"}
	case "old_password":
		return []any{creds.password}
	case "new_password":
		return []any{"another-password-2"}
	case "role":
		return []any{store.RoleAnalyst, store.RoleViewer, store.RoleAdmin}
	case "ini_content", "ini":
		return []any{validINI}
	case "mutate_interval", "global_mutation_interval", "interval":
		return []any{60, "60m", "2d", "1y", nil}
	case "deployment_limit":
		return []any{10, 500, 1}
	case "search":
		return []any{"service:ssh", "root", `username:"root"`, "event:auth attacker:192.0.2.7", "192.0.2"}
	case "start_time", "since":
		return []any{"2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "2024-05-01T12:00:00+02:00"}
	case "end_time", "until":
		return []any{"2024-05-01T11:00:00Z", "2024-05-01 10:02:00"}
	case "bounty_type":
		return []any{"credential", "fingerprint"}
	case "service":
		return []any{"ssh", "mysql"}
	case "decky":
		return []any{"web-01"}
	case "interval_minutes":
		return []any{15, 1, 1440}
	case "lastEventId", "last_event_id":
		return []any{0, 1, 3}
	case "Last-Event-ID":
		return []any{"0", "3", "9223372036854775807"}
	}
	return nil
}

// fits reports whether v is valid for s.
func (e *contractEnv) fits(s *base.Schema, v any) bool {
	ok, _ := e.schemas.ValidateSchemaObject(s, v)
	return ok
}

// nodeValue decodes a value of the document (default, example, enum).
func nodeValue[T any, P interface {
	*T
	Decode(any) error
}](n P) (any, bool) {
	var v any
	if n == nil || n.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

func hasType(s *base.Schema, t string) bool { return slices.Contains(s.Type, t) }

// validValues are values for a field that its schema accepts: hints,
// the default, examples, every enum value, and the bounds.
func (e *contractEnv) validValues(o operation, a *actor, name string, s *base.Schema) []any {
	var vals []any
	add := func(v any) {
		if e.fits(s, v) && !slices.ContainsFunc(vals, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
			vals = append(vals, v)
		}
	}
	for _, h := range e.hints(o, a, name) {
		add(h)
	}
	if v, ok := nodeValue(s.Default); ok {
		add(v)
	}
	for _, ex := range s.Examples {
		if v, ok := nodeValue(ex); ok {
			add(v)
		}
	}
	for _, en := range s.Enum {
		if v, ok := nodeValue(en); ok {
			add(v)
		}
	}
	switch {
	case hasType(s, "integer") || hasType(s, "number"):
		lo, hi := 0.0, 100.0
		if s.Minimum != nil {
			lo = *s.Minimum
			add(lo)
		}
		if s.Maximum != nil {
			hi = *s.Maximum
			add(hi)
		}
		add(math.Floor((lo + hi) / 2))
	case hasType(s, "boolean"):
		add(true)
		add(false)
	case hasType(s, "string") && s.Pattern == "" && s.Format == "" && len(s.Enum) == 0:
		n := int64(1)
		if s.MinLength != nil && *s.MinLength > n {
			n = *s.MinLength
		}
		add(strings.Repeat("a", int(n)))
		if s.MaxLength != nil {
			add(strings.Repeat("a", int(*s.MaxLength)))
		}
	case hasType(s, "object"):
		if v, err := e.validObject(o, a, s, 0); err == nil {
			add(v)
		}
	case hasType(s, "array"):
		add([]any{})
	}
	return vals
}

// validObject builds the smallest object s accepts: its required
// properties, each with its first valid value.
func (e *contractEnv) validObject(o operation, a *actor, s *base.Schema, depth int) (map[string]any, error) {
	obj := map[string]any{}
	if depth > 8 {
		return nil, fmt.Errorf("schema nested too deep")
	}
	for _, name := range s.Required {
		var ps *base.Schema
		if s.Properties != nil {
			if p := s.Properties.GetOrZero(name); p != nil {
				ps = p.Schema()
			}
		}
		if ps == nil {
			return nil, fmt.Errorf("required property %q has no schema", name)
		}
		vals := e.validValues(o, a, name, ps)
		if len(vals) == 0 {
			return nil, fmt.Errorf("no valid value for property %q (pattern %q, type %v): add a hint", name, ps.Pattern, ps.Type)
		}
		obj[name] = vals[0]
	}
	if !e.fits(s, obj) {
		_, errs := e.schemas.ValidateSchemaObject(s, obj)
		return nil, fmt.Errorf("built object %v does not fit its schema: %s", obj, validationText(errs))
	}
	return obj, nil
}

// invalidValues are values of the right kind that break one constraint
// each, and values of the wrong type, all as the raw text a query or
// path parameter carries.
func invalidValues(s *base.Schema) []string {
	var vals []string
	switch {
	case hasType(s, "integer") || hasType(s, "number"):
		vals = append(vals, "abc", "1e400", "99999999999999999999999", "0x10", " 1")
		if hasType(s, "integer") {
			vals = append(vals, "1.5")
		}
		if s.Minimum != nil {
			vals = append(vals, strconv.FormatFloat(*s.Minimum-1, 'f', -1, 64))
		}
		if s.Maximum != nil {
			vals = append(vals, strconv.FormatFloat(*s.Maximum+1, 'f', -1, 64))
		}
	case hasType(s, "boolean"):
		vals = append(vals, "maybe", "2")
	case hasType(s, "string"):
		if s.MaxLength != nil {
			vals = append(vals, strings.Repeat("x", int(*s.MaxLength)+1))
		}
		if s.MinLength != nil && *s.MinLength > 1 {
			vals = append(vals, strings.Repeat("x", int(*s.MinLength)-1))
		}
		if len(s.Enum) > 0 {
			vals = append(vals, "zz-not-listed")
		}
		if s.Pattern != "" {
			vals = append(vals, "<Not A Match!>")
		}
	}
	return vals
}

// wrongTypes are JSON values of a type s does not have.
func wrongTypes(s *base.Schema) []any {
	var vals []any
	for _, c := range []struct {
		typ string
		v   any
	}{{"string", 12345}, {"integer", "12"}, {"number", "1.5"}, {"boolean", "true"}, {"object", []any{}}, {"array", map[string]any{}}} {
		if hasType(s, c.typ) && !hasType(s, "null") {
			vals = append(vals, c.v)
		}
	}
	if len(vals) > 0 && !hasType(s, "string") {
		vals = append(vals, nil)
	}
	return vals
}

// violations are JSON values of s's type that break one constraint.
func violations(s *base.Schema) []any {
	var vals []any
	switch {
	case hasType(s, "integer") || hasType(s, "number"):
		if s.Minimum != nil {
			vals = append(vals, *s.Minimum-1)
		}
		if s.Maximum != nil {
			vals = append(vals, *s.Maximum+1)
		}
		if hasType(s, "integer") {
			vals = append(vals, 1.5, 1e30)
		}
	case hasType(s, "string"):
		if s.MaxLength != nil {
			vals = append(vals, strings.Repeat("x", int(*s.MaxLength)+1))
		}
		if s.MinLength != nil && *s.MinLength > 0 {
			vals = append(vals, strings.Repeat("x", int(*s.MinLength)-1))
		}
		if len(s.Enum) > 0 {
			vals = append(vals, "zz-not-listed")
		}
		if s.Pattern != "" {
			vals = append(vals, "<Not A Match!>")
		}
	}
	return vals
}

// oddStrings are strings that break nothing in a schema without a
// pattern but are known to trip hand-written code.
var oddStrings = []any{"nul\x00byte-in-the-middle", "\u202eright-to-left-override", "😀-outside-the-bmp", " padded ", "line\nbreak"}

// sweepCase is one request of the sweep.
type sweepCase struct {
	label       string // what it tries, for failure messages
	valid       bool   // every part is valid per the document
	path        string // escaped, with query, relative to Prefix
	header      http.Header
	body        []byte
	contentType string
	// bodyFor builds the body for the actual caller (credentials in
	// login and password change bodies); it overrides body.
	bodyFor func(a *actor) ([]byte, error)
}

// cases builds the sweep of one operation: valid requests from the
// parameter schemas and hints, then invalid ones of every kind.
func (e *contractEnv) cases(o operation) []sweepCase {
	var cs []sweepCase
	bodySchema, bodyRequired := o.jsonBody()
	validBody := func(a *actor) ([]byte, error) {
		if bodySchema == nil {
			return nil, nil
		}
		obj, err := e.validObject(o, a, bodySchema, 0)
		if err != nil {
			return nil, err
		}
		return json.Marshal(obj)
	}
	ct := ""
	if bodySchema != nil {
		ct = "application/json"
	}
	target := func(query url.Values, paths map[string]string) string {
		p := e.fillPath(o, paths)
		if len(query) > 0 {
			p += "?" + query.Encode()
		}
		return p
	}
	valid := func(label string, q url.Values) {
		cs = append(cs, sweepCase{label: label, valid: true, path: target(q, nil), contentType: ct, bodyFor: validBody})
	}
	invalid := func(label, path string, body []byte, ctype string) {
		cs = append(cs, sweepCase{label: label, path: path, body: body, contentType: ctype})
	}
	// badParam is an invalid parameter in an otherwise valid request,
	// so the parameter is what the server judges.
	badParam := func(label, path string) {
		cs = append(cs, sweepCase{label: label, path: path, contentType: ct, bodyFor: validBody})
	}

	valid("minimal valid request", nil)
	all := url.Values{}
	for _, prm := range o.params("query") {
		s := prm.Schema.Schema()
		vals := e.validValues(o, nil, prm.Name, s)
		for _, v := range vals {
			valid(fmt.Sprintf("query %s=%.40s", prm.Name, queryText(v)), url.Values{prm.Name: {queryText(v)}})
		}
		if len(vals) > 0 {
			all.Set(prm.Name, queryText(vals[0]))
		}
	}
	if len(all) > 1 {
		valid("every query parameter", all)
	}
	if bodySchema != nil {
		// Optional properties too, one at a time, with each valid value.
		if bodySchema.Properties != nil {
			for name, ps := range bodySchema.Properties.FromOldest() {
				if slices.Contains(bodySchema.Required, name) {
					continue
				}
				for _, v := range e.validValues(o, nil, name, ps.Schema()) {
					cs = append(cs, sweepCase{label: fmt.Sprintf("body with %s=%v", name, v), valid: true, path: target(nil, nil),
						contentType: ct, bodyFor: func(a *actor) ([]byte, error) {
							obj, err := e.validObject(o, a, bodySchema, 0)
							if err != nil {
								return nil, err
							}
							obj[name] = v
							return json.Marshal(obj)
						}})
				}
			}
		}
	}

	for _, prm := range o.params("query") {
		s := prm.Schema.Schema()
		for _, v := range invalidValues(s) {
			badParam(fmt.Sprintf("query %s=%.40q", prm.Name, v), target(url.Values{prm.Name: {v}}, nil))
		}
		if vals := e.validValues(o, nil, prm.Name, s); len(vals) > 0 {
			badParam("query "+prm.Name+" twice", target(url.Values{prm.Name: {queryText(vals[0]), queryText(vals[0])}}, nil))
		}
	}
	for _, prm := range o.params("header") {
		s := prm.Schema.Schema()
		name := http.CanonicalHeaderKey(prm.Name)
		for _, v := range e.validValues(o, nil, prm.Name, s) {
			cs = append(cs, sweepCase{label: fmt.Sprintf("header %s: %.40s", prm.Name, queryText(v)), valid: true, path: target(nil, nil),
				header: http.Header{name: {queryText(v)}}, contentType: ct, bodyFor: validBody})
		}
		for _, v := range append(invalidValues(s), "", "1, 2") {
			cs = append(cs, sweepCase{label: fmt.Sprintf("header %s: %.40q", prm.Name, v), path: target(nil, nil),
				header: http.Header{name: {v}}, contentType: ct, bodyFor: validBody})
		}
	}
	// Credentials the document allows in the query: garbage, and an
	// access token where the scheme wants something else. Callers with
	// a header send both, which must not confuse the server either.
	for _, name := range e.queryCredentials(o) {
		for _, v := range []string{"garbage", "a.b.c", e.actors[kindAdmin].token + "x", strings.Repeat("x", 5000)} {
			badParam(fmt.Sprintf("query credential %s=%.20s", name, v), target(url.Values{name: {v}}, nil))
		}
	}
	if len(o.params("query")) > 0 || o.method == http.MethodGet {
		badParam("unknown query parameter", target(url.Values{"zz_unknown": {"1"}}, nil))
		badParam("bad query escape", target(nil, nil)+"?limit=%zz")
	}
	for _, prm := range o.params("path") {
		s := prm.Schema.Schema()
		bad := []string{"zz-does-not-exist", uuid.Nil.String(), "%2e%2e", "..%2f..%2fetc%2fpasswd", "a%00b", "A%20B",
			strings.Repeat("a", 300), "%E2%80%AE", "-1"}
		for _, v := range invalidValues(s) {
			bad = append(bad, url.PathEscape(v))
		}
		for _, v := range bad {
			badParam(fmt.Sprintf("path %s=%.40q", prm.Name, v), target(nil, map[string]string{prm.Name: v}))
		}
	}

	if bodySchema != nil {
		p := target(nil, nil)
		good, err := validBody(e.actors[kindAdmin])
		if err != nil {
			e.t.Errorf("%s: %v", o, err)
			return cs
		}
		var goodObj map[string]any
		json.Unmarshal(good, &goodObj)
		with := func(edit func(m map[string]any)) []byte {
			m := map[string]any{}
			for k, v := range goodObj {
				m[k] = v
			}
			edit(m)
			b, _ := json.Marshal(m)
			return b
		}
		for _, c := range []struct{ label, body string }{
			{"malformed JSON", `{"`}, {"truncated JSON", string(good[:len(good)-1])}, {"trailing data", string(good) + "{}"},
			{"null body", "null"}, {"array body", "[]"}, {"string body", `"x"`}, {"number body", "1"}, {"empty object", "{}"},
			{"duplicate keys", strings.Replace(string(good), "{", `{"zz":1,"zz":2,`, 1)},
		} {
			invalid(c.label, p, []byte(c.body), "application/json")
		}
		if bodyRequired {
			invalid("no body", p, nil, "application/json")
		}
		invalid("unknown body field", p, with(func(m map[string]any) { m["zz_unknown"] = true }), "application/json")
		invalid("text/plain body", p, good, "text/plain")
		invalid("form body", p, []byte("a=b"), "application/x-www-form-urlencoded")
		invalid("oversized body", p, with(func(m map[string]any) { m["zz_pad"] = strings.Repeat("x", maxBodyBytes) }), "application/json")
		for _, name := range bodySchema.Required {
			invalid("missing "+name, p, with(func(m map[string]any) { delete(m, name) }), "application/json")
		}
		if bodySchema.Properties != nil {
			for name, ps := range bodySchema.Properties.FromOldest() {
				s := ps.Schema()
				vals := append(wrongTypes(s), violations(s)...)
				if hasType(s, "string") && s.Pattern == "" && len(s.Enum) == 0 {
					vals = append(vals, oddStrings...)
				}
				for _, v := range vals {
					invalid(fmt.Sprintf("body %s=%.40v", name, v), p, with(func(m map[string]any) { m[name] = v }), "application/json")
				}
			}
		}
	}
	return cs
}

// queryText is a value as a query string carries it.
func queryText(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// allowed5xx are the server errors the document promises for a reason
// other than a fault: a runtime that cannot do the operation, a failing
// component.
var allowed5xx = map[string][]int{
	"GET /health":                       {http.StatusServiceUnavailable},
	"POST /deckies/deploy":              {http.StatusNotImplemented},
	"POST /deckies/{decky_name}/mutate": {http.StatusNotImplemented},
}

// streamWait is how long a stream is read before the client leaves.
const streamWait = 200 * time.Millisecond

// streamsAtOnce is how many streams the sweep holds open at a time.
const streamsAtOnce = 12

// result is one request and what came back.
type result struct {
	op    operation
	c     sweepCase
	who   string
	req   *http.Request // a fresh copy, for the validator
	resp  *http.Response
	body  []byte
	err   error
	valid bool // the validator accepts the request
}

// do sends c as a to o and records the outcome.
func (e *contractEnv) do(o operation, c sweepCase, a *actor) result {
	r := result{op: o, c: c, who: a.kind}
	body := c.body
	if c.bodyFor != nil {
		var err error
		if body, err = c.bodyFor(a); err != nil {
			r.err = err
			return r
		}
	}
	ctx, cancel := context.WithCancel(e.t.Context())
	defer cancel()
	// Whether the inputs are valid does not depend on the caller: the
	// validator sees a token even when the request carries none.
	vtoken := a.token
	if vtoken == "" {
		vtoken = e.actors[kindAdmin].token
	}
	var reqs [3]*http.Request // sent, shown to the response and the request validators
	for i, tc := range []struct {
		ctx   context.Context
		token string
	}{{ctx, a.token}, {context.Background(), a.token}, {context.Background(), vtoken}} {
		req, err := e.newRequest(tc.ctx, o.method, c.path, tc.token, c.contentType, body)
		if err != nil {
			r.err = err
			return r
		}
		for k, vs := range c.header {
			req.Header[k] = vs
		}
		reqs[i] = req
	}
	req, vreq := reqs[0], reqs[2]
	r.req = reqs[1]
	r.valid, _ = e.val.ValidateHttpRequestSync(vreq)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	r.resp = resp
	if o.stream() {
		// A stream ends when the client leaves, streamWait after the
		// headers came: the read error that follows is expected.
		time.AfterFunc(streamWait, cancel)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil && !(o.stream() && ctx.Err() != nil) {
		r.err = fmt.Errorf("read body: %w", err)
	}
	r.body = data
	return r
}

// finding is one broken promise: kind groups the findings of an
// operation (one line per kind in the report), detail is an example.
type finding struct{ kind, detail string }

// check asserts the contract on one result.
func (e *contractEnv) check(r result) []finding {
	if r.err != nil {
		return []finding{{"request failed", r.err.Error()}}
	}
	var fs []finding
	code := r.resp.StatusCode
	if code >= 500 && !slices.Contains(allowed5xx[r.op.String()], code) {
		fs = append(fs, finding{fmt.Sprintf("server error %d", code), fmt.Sprintf("%.300s", r.body)})
	}
	switch {
	case !r.op.documented(code):
		// The validator would only say the same.
		fs = append(fs, finding{fmt.Sprintf("undocumented status %d", code), fmt.Sprintf("%.200s", r.body)})
	case r.op.stream() && code == http.StatusOK:
		if ct := r.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			fs = append(fs, finding{"stream Content-Type", ct})
		}
	default:
		resp := *r.resp
		resp.Body = io.NopCloser(bytes.NewReader(r.body))
		if ok, errs := e.val.ValidateHttpResponse(r.req, &resp); !ok {
			for _, v := range validationText(errs) {
				fs = append(fs, finding{fmt.Sprintf("response %d does not match the document: %s", code, v), fmt.Sprintf("%.300s", r.body)})
			}
		}
	}
	if r.c.valid && !r.valid {
		fs = append(fs, finding{"the sweep built a request the document refuses (fix the sweep's hints)", ""})
	}
	if !r.valid && code < 300 {
		fs = append(fs, finding{fmt.Sprintf("answered %d to a request the document refuses", code), fmt.Sprintf("%.200s", r.body)})
	}
	return fs
}

// statusSummary counts the answers by status, e.g. "200×12 401×3".
func statusSummary(rs []result) string {
	n := map[int]int{}
	for _, r := range rs {
		if r.resp != nil {
			n[r.resp.StatusCode]++
		}
	}
	codes := make([]int, 0, len(n))
	for c := range n {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var b strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&b, "%d×%d ", c, n[c])
	}
	return strings.TrimSpace(b.String())
}

// validationText is what the validator found, one item per problem:
// each schema violation by its location, else the message.
func validationText(errs []*valerrors.ValidationError) []string {
	var items []string
	add := func(s string) {
		if !slices.Contains(items, s) {
			items = append(items, s)
		}
	}
	for _, e := range errs {
		if len(e.SchemaValidationErrors) == 0 {
			add(strings.TrimSpace(e.Message + ": " + e.Reason))
			continue
		}
		for _, se := range e.SchemaValidationErrors {
			add(fmt.Sprintf("%s: %s", arrayIndex.ReplaceAllString(se.FieldPath, "[*]"), sortQuoted(se.Reason)))
		}
	}
	slices.Sort(items)
	return items
}

// arrayIndex and quotedList make validation messages the same for
// every element and every map order, so alike failures group.
var (
	arrayIndex = regexp.MustCompile(`\[\d+\]`)
	quotedList = regexp.MustCompile(`'[^']*'(, '[^']*')+`)
)

func sortQuoted(s string) string {
	return quotedList.ReplaceAllStringFunc(s, func(list string) string {
		items := strings.Split(list, ", ")
		slices.Sort(items)
		return strings.Join(items, ", ")
	})
}

// TestContract sweeps every operation of the served document with valid
// and invalid requests as every kind of caller, and checks each answer
// against the document with an independent validator: no server error
// but the documented ones, every status documented, every body, header
// and content type as documented.
func TestContract(t *testing.T) {
	e := newContractEnv(t)
	if ok, errs := e.val.ValidateDocument(); !ok {
		t.Errorf("the served document is not valid OpenAPI: %s", strings.Join(validationText(errs), "; "))
	}
	ops := e.operations()
	if len(ops) == 0 {
		t.Fatal("the document has no operations")
	}

	succeeded := map[string]bool{}
	requests := 0
	for _, o := range ops {
		start := time.Now()
		cs := e.cases(o)
		var results []result
		if o.stream() {
			results = e.runStreams(o, cs)
		} else {
			// A write that succeeds may spend its caller (a password
			// change ends the caller's tokens): the next request of that
			// kind gets a new user. A refused one changes nothing.
			callers := map[string]*actor{}
			for _, kind := range actorKinds {
				callers[kind] = e.actors[kind]
				if o.method != http.MethodGet {
					callers[kind] = e.freshActor(kind)
				}
			}
			for _, c := range cs {
				for _, kind := range actorKinds {
					r := e.do(o, c, callers[kind])
					if o.method != http.MethodGet && r.resp != nil && r.resp.StatusCode < 300 {
						callers[kind] = e.freshActor(kind)
					}
					results = append(results, r)
				}
			}
		}
		requests += len(results)
		// One line per kind of finding, with its count and first case:
		// a broken route fails most of its sweep the same way.
		var kinds []string
		count := map[string]int{}
		example := map[string]string{}
		for _, r := range results {
			for _, f := range e.check(r) {
				if count[f.kind] == 0 {
					kinds = append(kinds, f.kind)
					example[f.kind] = fmt.Sprintf("as %s, %s [%s]: %s", r.who, r.c.label, r.c.path, f.detail)
				}
				count[f.kind]++
			}
			if r.resp != nil && r.resp.StatusCode < 300 && r.who == kindAdmin {
				succeeded[o.String()] = true
			}
		}
		for _, k := range kinds {
			t.Errorf("%s: %s (%d of %d requests), e.g. %s", o, k, count[k], len(results), example[k])
		}
		t.Logf("%-50s %s %v", o, statusSummary(results), time.Since(start))
	}
	for _, o := range ops {
		if !succeeded[o.String()] {
			t.Errorf("%s: no request of the sweep succeeded as admin, so its success answer was never checked", o)
		}
	}

	requests += e.sweepUnrouted(t, ops)
	t.Logf("%d operations, %d requests", len(ops), requests)
}

// runStreams sends each case as each kind to a stream operation. Each
// stream takes streamWait; they only read, so they run side by side,
// fewer at once than the server's per-user limit of streams.
func (e *contractEnv) runStreams(o operation, cs []sweepCase) []result {
	results := make([]result, len(cs)*len(actorKinds))
	var wg sync.WaitGroup
	slots := make(chan struct{}, streamsAtOnce)
	for i, c := range cs {
		for j, kind := range actorKinds {
			a := e.actors[kind]
			wg.Go(func() {
				slots <- struct{}{}
				defer func() { <-slots }()
				results[i*len(actorKinds)+j] = e.do(o, c, a)
			})
		}
	}
	wg.Wait()
	return results
}

// sweepUnrouted checks what the document does not describe: unknown
// paths answer 404 and known paths with other methods 405 (with Allow),
// both as problem documents of the documented error shape.
func (e *contractEnv) sweepUnrouted(t *testing.T, ops []operation) int {
	errModel := e.model.Components.Schemas.GetOrZero("ErrorModel")
	if errModel == nil {
		t.Fatal("the document has no ErrorModel schema")
	}
	admin := e.actors[kindAdmin]
	expect := func(method, path string, status int, allow []string) {
		t.Helper()
		for _, token := range []string{"", admin.token} {
			req, err := http.NewRequestWithContext(t.Context(), method, e.ts.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := e.ts.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != status {
				t.Errorf("%s %s: status %d, want %d (%.200s)", method, path, resp.StatusCode, status, data)
				continue
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s %s: Content-Type %q", method, path, ct)
			}
			if ok, errs := e.schemas.ValidateSchemaBytes(errModel.Schema(), data); !ok {
				t.Errorf("%s %s: body is not an ErrorModel: %s", method, path, strings.Join(validationText(errs), "; "))
			}
			got := strings.Split(resp.Header.Get("Allow"), ", ")
			for _, m := range allow {
				if !slices.Contains(got, m) {
					t.Errorf("%s %s: Allow %q lacks %s", method, path, resp.Header.Get("Allow"), m)
				}
			}
		}
	}
	n := 0
	for _, p := range []string{"/nope", "/", "", "/logs/zz", "/logs/", "//logs", "/./logs", "/zz/../logs", "/LOGS", "/openapi.zz", "/docs/zz"} {
		expect(http.MethodGet, Prefix+p, http.StatusNotFound, nil)
		n += 2
	}
	for _, p := range []string{"/", "/api", "/api/v2/logs", "/favicon.ico"} {
		expect(http.MethodGet, p, http.StatusNotFound, nil)
		n += 2
	}
	byPath := map[string][]string{}
	for _, o := range ops {
		byPath[o.path] = append(byPath[o.path], o.method)
	}
	for _, path := range sortedKeys(byPath) {
		methods := byPath[path]
		o := operation{path: path}
		for _, op := range ops {
			if op.path == path {
				o = op
				break
			}
		}
		target := Prefix + e.fillPath(o, nil)
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			if !slices.Contains(methods, m) {
				expect(m, target, http.StatusMethodNotAllowed, methods)
				n += 2
			}
		}
	}
	return n
}
