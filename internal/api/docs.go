package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// The docs page is rendered on the server from the OpenAPI document: an
// operator's browser on an offline sensor network cannot fetch a renderer
// from a CDN, and a page that runs no script and loads nothing cannot be
// turned against the operator by a description in the document.

// docsCSS is the page's only style. The Content-Security-Policy admits it
// by its hash, so no other style, script, image or connection is allowed.
const docsCSS = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70em;padding:1em 2em;color:#1b1f24;background:#fff}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
h3{margin:1.6em 0 .4em;font-size:1.05em}
code,.schema{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
.text{white-space:pre-line}
.m{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;padding:.1em .4em;color:#fff;font-weight:600;font-size:.85em}
.get{background:#1f6feb}.post{background:#1a7f37}.put{background:#9a6700}.delete{background:#cf222e}.patch,.head,.options,.trace{background:#6e7781}
.op{border:1px solid #d0d7de;border-radius:6px;padding:.6em 1em;margin:1em 0}
.access{color:#57606a;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.4em 0}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.t{color:#8250df}.n{color:#57606a}.req{color:#cf222e}.dep{color:#cf222e;font-weight:600}
ul.props{list-style:none;margin:.2em 0;padding-left:1.4em;border-left:1px dotted #d0d7de}
nav ul{columns:2}
`

// docsCSP forbids everything but the page's own style.
var docsCSP = func() string {
	sum := sha256.Sum256([]byte(docsCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

const docsHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + docsCSS + `</style>
</head><body>
<h1>{{.Title}}</h1>
<p class="n">Version {{.Version}}{{with .Server}} · base URL <code>{{.}}</code>{{end}} · OpenAPI 3.1 document: <a href="openapi.json">openapi.json</a>, <a href="openapi.yaml">openapi.yaml</a></p>
{{with .Description}}<p class="text">{{template "text" .}}</p>{{end}}

<h2 id="auth">Authentication</h2>
{{range .Schemes}}<p>Scheme <code>{{.Name}}</code>: {{.Kind}}{{with .Description}} — <span class="text">{{template "text" .}}</span>{{end}}</p>{{end}}
<p>Operations whose access names <code>bearer</code> need the header <code>Authorization: Bearer &lt;token&gt;</code>; the token comes from the login operation.
Without a valid token they answer 401. A user who must change the password gets 403 from every operation except the password change.
Each account has one role: <em>viewer</em> reads everything but captured artifacts; <em>analyst</em> also downloads artifacts, forces mutations and sets mutation intervals;
<em>admin</em> may do everything. Operations that document a 403 refuse some roles.</p>

<nav><h2>Operations</h2>{{range .Tags}}<h3>{{.Name}}</h3><ul>{{range .Ops}}<li><a href="#{{.Anchor}}"><span class="m {{.Class}}">{{.Method}}</span> <code>{{.Path}}</code></a> {{.Summary}}</li>{{end}}</ul>{{end}}</nav>

{{range .Tags}}<h2 id="{{.Anchor}}">{{.Name}}</h2>
{{with .Description}}<p class="text">{{template "text" .}}</p>{{end}}
{{range .Ops}}<section class="op" id="{{.Anchor}}">
<h3><span class="m {{.Class}}">{{.Method}}</span> <code>{{.Path}}</code> {{.Summary}}{{if .Deprecated}} <span class="dep">deprecated</span>{{end}}</h3>
<p class="access">Access: {{.Access}}{{with .OperationID}} · operation <code>{{.}}</code>{{end}}</p>
{{with .Description}}<p class="text">{{template "text" .}}</p>{{end}}
{{with .Params}}<h4>Parameters</h4>
<table><tr><th>Name</th><th>In</th><th>Type</th><th>Constraints</th><th>Default</th><th>Description</th></tr>
{{range .}}{{template "param" .}}{{end}}</table>{{end}}
{{with .Body}}<h4>Request body{{if .Required}} <span class="req">(required)</span>{{end}}</h4>
{{with .Description}}<p class="text">{{template "text" .}}</p>{{end}}
{{range .Media}}<div><code>{{.Type}}</code>: <span class="schema">{{template "schema" .Schema}}</span></div>{{end}}{{end}}
<h4>Responses</h4>
<table><tr><th>Status</th><th>Description</th><th>Body</th></tr>
{{range .Responses}}<tr><td><code>{{.Status}}</code></td><td class="text">{{template "text" .Description}}{{range .Headers}}<div>Header <code>{{.Name}}</code>: <span class="schema">{{template "schema" .Schema}}</span></div>{{end}}</td>
<td>{{range .Media}}<div><code>{{.Type}}</code>: <span class="schema">{{template "schema" .Schema}}</span></div>{{else}}—{{end}}</td></tr>
{{end}}</table>
</section>
{{end}}{{end}}

<h2 id="schemas">Schemas</h2>
<p>Properties marked <span class="req">*</span> are always present in responses and required in requests.</p>
{{range .Schemas}}<h3 id="{{.Anchor}}">{{.Name}}</h3><div class="schema">{{template "schema" .Schema}}</div>{{end}}
</body></html>
{{define "text"}}{{range .}}{{if .Code}}<code>{{.Text}}</code>{{else}}{{.Text}}{{end}}{{end}}{{end}}
{{define "param"}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">*</span>{{end}}</td><td>{{.In}}</td>
<td class="schema">{{if .Schema}}{{template "type" .Schema}}{{end}}</td><td class="n">{{if .Schema}}{{range $i, $n := .Schema.Notes}}{{if $i}}, {{end}}{{$n}}{{end}}{{end}}</td>
<td>{{with .Default}}<code>{{.}}</code>{{end}}</td><td class="text">{{template "text" .Description}}</td></tr>{{end}}
{{define "type"}}{{if .Ref}}<a href="#{{.Anchor}}">{{.Ref}}</a>{{else}}<span class="t">{{.Type}}</span>{{with .Items}}[{{template "type" .}}]{{end}}{{with .Values}}{string → {{template "type" .}}}{{end}}{{end}}{{end}}
{{define "schema"}}{{if not .}}—{{else}}{{template "type" .}}{{range .Notes}} <span class="n">{{.}}</span>{{end}}{{with .Doc}} <span class="n">— {{template "text" .}}</span>{{end}}
{{with .Items}}{{if .Expand}}<ul class="props"><li>items: {{template "schema" .}}</li></ul>{{end}}{{end}}
{{with .Values}}{{if .Expand}}<ul class="props"><li>values: {{template "schema" .}}</li></ul>{{end}}{{end}}
{{with .Props}}<ul class="props">{{range .}}<li><code>{{.Name}}</code>{{if .Required}}<span class="req">*</span>{{end}}: {{template "schema" .Schema}}</li>{{end}}</ul>{{end}}
{{with .Variants}}<ul class="props">{{range .}}<li>{{$.Combiner}}: {{template "schema" .}}</li>{{end}}</ul>{{end}}
{{with .Extensions}}<ul class="props">{{range .}}<li><code>{{.Name}}</code>: {{template "schema" .Schema}}</li>{{end}}</ul>{{end}}{{end}}{{end}}
`

var docsTemplate = template.Must(template.New("docs").Parse(docsHTML))

// docsOutput is the docs page: HTML, not JSON, so huma passes the bytes
// through untouched.
type docsOutput struct {
	ContentType    string `header:"Content-Type"`
	CSP            string `header:"Content-Security-Policy"`
	ReferrerPolicy string `header:"Referrer-Policy"`
	Body           []byte
}

// registerDocs registers GET /docs, the human-readable reference. It is
// public like the document it renders, and hidden from that document.
func (s *Server) registerDocs() {
	// The document is complete once New returns, so the first request
	// renders the page for all.
	page := sync.OnceValues(func() ([]byte, error) { return renderDocs(s.api.OpenAPI()) })
	route(s, public, huma.Operation{
		Method: http.MethodGet, Path: "/docs", Hidden: true,
		Summary: "API reference (HTML)",
	}, func(ctx context.Context, _ *struct{}) (*docsOutput, error) {
		body, err := page()
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &docsOutput{
			ContentType:    "text/html; charset=utf-8",
			CSP:            docsCSP,
			ReferrerPolicy: "no-referrer",
			Body:           body,
		}, nil
	})
}

// renderDocs renders the reference page of doc. It reads the document in
// its JSON form, exactly as /openapi.json serves it, so the page shows
// what clients and validators see (OpenAPI 3.1 type lists, resolved
// nullability) rather than huma's Go structures.
func renderDocs(doc *huma.OpenAPI) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("docs: encode document: %w", err)
	}
	var d oaDocument
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("docs: decode document: %w", err)
	}
	page, err := d.view()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("docs: render: %w", err)
	}
	return buf.Bytes(), nil
}

// oaDocument is the part of an OpenAPI document the page shows.
type oaDocument struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]map[string]any `json:"schemas"`
		SecuritySchemes map[string]struct {
			Type         string `json:"type"`
			Scheme       string `json:"scheme"`
			BearerFormat string `json:"bearerFormat"`
			In           string `json:"in"`
			Name         string `json:"name"`
			Description  string `json:"description"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type oaOperation struct {
	Tags        []string               `json:"tags"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	OperationID string                 `json:"operationId"`
	Deprecated  bool                   `json:"deprecated"`
	Parameters  []oaParameter          `json:"parameters"`
	RequestBody *oaRequestBody         `json:"requestBody"`
	Responses   map[string]oaResponse  `json:"responses"`
	Security    *[]map[string][]string `json:"security"`
}

type oaParameter struct {
	Name        string         `json:"name"`
	In          string         `json:"in"`
	Description string         `json:"description"`
	Required    bool           `json:"required"`
	Deprecated  bool           `json:"deprecated"`
	Schema      map[string]any `json:"schema"`
}

type oaRequestBody struct {
	Description string                 `json:"description"`
	Required    bool                   `json:"required"`
	Content     map[string]oaMediaType `json:"content"`
}

type oaResponse struct {
	Description string                 `json:"description"`
	Headers     map[string]oaParameter `json:"headers"`
	Content     map[string]oaMediaType `json:"content"`
}

type oaMediaType struct {
	Schema map[string]any `json:"schema"`
}

// docsMethods are the operation keys of a path item, in display order.
var docsMethods = []string{"get", "post", "put", "patch", "delete", "head", "options", "trace"}

// textPart is a run of description text; Code marks a `backquoted` span.
type textPart struct {
	Text string
	Code bool
}

// richText splits s on backquotes, the only markup the page renders.
func richText(s string) []textPart {
	var parts []textPart
	for i, p := range strings.Split(s, "`") {
		if p != "" {
			parts = append(parts, textPart{Text: p, Code: i%2 == 1})
		}
	}
	return parts
}

type docsPage struct {
	Title, Version, Server string
	Description            []textPart
	Schemes                []docsScheme
	Tags                   []docsTag
	Schemas                []docsSchema
}

type docsScheme struct {
	Name, Kind  string
	Description []textPart
}

type docsTag struct {
	Name, Anchor string
	Description  []textPart
	Ops          []docsOp
}

type docsOp struct {
	Method, Class, Path, Summary, OperationID, Anchor, Access string
	Deprecated                                                bool
	Description                                               []textPart
	Params                                                    []docsParam
	Body                                                      *docsBody
	Responses                                                 []docsResponse
}

type docsParam struct {
	Name, In, Default string
	Required          bool
	Description       []textPart
	Schema            *schemaView
}

type docsBody struct {
	Required    bool
	Description []textPart
	Media       []docsMedia
}

type docsResponse struct {
	Status      string
	Description []textPart
	Headers     []docsParam
	Media       []docsMedia
}

type docsMedia struct {
	Type   string
	Schema *schemaView
}

type docsSchema struct {
	Name, Anchor string
	Schema       *schemaView
}

// schemaView is a JSON Schema in the page's compact notation: a type
// with its constraints, and the nested schemas of objects, arrays, maps
// and combinations. A $ref becomes a link to the named schema.
type schemaView struct {
	Ref, Anchor string
	Type        string
	Notes       []string
	Doc         []textPart
	Props       []propView
	Items       *schemaView
	Values      *schemaView
	// Expand is set on item and value schemas too rich for the one-line
	// type (constraints, properties, variants).
	Expand   bool
	Combiner string
	Variants []*schemaView
	// Extensions are x- keywords holding schemas (e.g. the frames of a
	// stream), drawn like properties.
	Extensions []propView
}

type propView struct {
	Name     string
	Required bool
	Schema   *schemaView
}

func (d *oaDocument) view() (*docsPage, error) {
	p := &docsPage{Title: d.Info.Title, Version: d.Info.Version, Description: richText(d.Info.Description)}
	if len(d.Servers) > 0 {
		p.Server = d.Servers[0].URL
	}
	for _, name := range sortedKeys(d.Components.SecuritySchemes) {
		sc := d.Components.SecuritySchemes[name]
		kind := sc.Type
		switch {
		case sc.Type == "http" && sc.Scheme != "":
			kind = "HTTP " + sc.Scheme
			if sc.BearerFormat != "" {
				kind += " (" + sc.BearerFormat + ")"
			}
		case sc.Type == "apiKey":
			kind = "API key in " + sc.In + " " + sc.Name
		}
		p.Schemes = append(p.Schemes, docsScheme{Name: name, Kind: kind, Description: richText(sc.Description)})
	}

	tagDocs := map[string]string{}
	for _, t := range d.Tags {
		tagDocs[t.Name] = t.Description
	}
	byTag := map[string][]docsOp{}
	for _, path := range sortedKeys(d.Paths) {
		item := d.Paths[path]
		for _, method := range docsMethods {
			raw, ok := item[method]
			if !ok {
				continue
			}
			var op oaOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("docs: operation %s %s: %w", method, path, err)
			}
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			byTag[tag] = append(byTag[tag], d.opView(method, path, p.Server, &op))
		}
	}
	for _, tag := range sortedKeys(byTag) {
		p.Tags = append(p.Tags, docsTag{Name: tag, Anchor: anchor("tag", tag), Description: richText(tagDocs[tag]), Ops: byTag[tag]})
	}
	for _, name := range sortedKeys(d.Components.Schemas) {
		p.Schemas = append(p.Schemas, docsSchema{Name: name, Anchor: anchor("schema", name), Schema: viewSchema(d.Components.Schemas[name], 0)})
	}
	return p, nil
}

func (d *oaDocument) opView(method, path, server string, op *oaOperation) docsOp {
	v := docsOp{
		Method: strings.ToUpper(method), Class: method, Path: server + path,
		Summary: op.Summary, OperationID: op.OperationID, Deprecated: op.Deprecated,
		Anchor: anchor("op", method+path), Description: richText(op.Description),
	}
	if op.OperationID != "" {
		// Unique in a valid document, unlike method+path once mangled.
		v.Anchor = anchor("op", op.OperationID)
	}
	v.Access = accessOf(d.Security, op)
	for _, prm := range op.Parameters {
		v.Params = append(v.Params, paramView(prm))
	}
	if rb := op.RequestBody; rb != nil {
		v.Body = &docsBody{Required: rb.Required, Description: richText(rb.Description), Media: mediaViews(rb.Content)}
	}
	codes := sortedKeys(op.Responses)
	// "default" sorts after the numeric codes.
	slices.SortStableFunc(codes, func(a, b string) int {
		return boolInt(a == "default") - boolInt(b == "default")
	})
	for _, code := range codes {
		r := op.Responses[code]
		rv := docsResponse{Status: code, Description: richText(r.Description), Media: mediaViews(r.Content)}
		for _, name := range sortedKeys(r.Headers) {
			h := r.Headers[name]
			h.Name = name
			rv.Headers = append(rv.Headers, paramView(h))
		}
		v.Responses = append(v.Responses, rv)
	}
	return v
}

// accessOf says who may call op, as far as the document tells: the
// security alternatives, and whether some callers are refused (403).
func accessOf(global []map[string][]string, op *oaOperation) string {
	security := global
	if op.Security != nil {
		security = *op.Security
	}
	var alts []string
	for _, req := range security {
		if len(req) == 0 {
			return "public"
		}
		alts = append(alts, strings.Join(sortedKeys(req), " + "))
	}
	if len(alts) == 0 {
		return "public"
	}
	a := "credentials: " + strings.Join(alts, " or ")
	if _, refuses := op.Responses["403"]; refuses {
		return a + "; some roles are refused (403)"
	}
	return a + "; any role"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func paramView(p oaParameter) docsParam {
	v := docsParam{Name: p.Name, In: p.In, Required: p.Required, Description: richText(p.Description)}
	if p.Schema != nil {
		v.Schema = viewSchema(p.Schema, 0)
		if def, ok := p.Schema["default"]; ok {
			v.Default = jsonText(def)
		}
		// The default has its own column; the schema's description is
		// the parameter's when the parameter has none.
		v.Schema.Notes = slices.DeleteFunc(v.Schema.Notes, func(n string) bool { return strings.HasPrefix(n, "default ") })
		if p.Description == "" {
			v.Description = v.Schema.Doc
		}
		v.Schema.Doc = nil
	}
	return v
}

func mediaViews(content map[string]oaMediaType) []docsMedia {
	var ms []docsMedia
	for _, t := range sortedKeys(content) {
		ms = append(ms, docsMedia{Type: t, Schema: viewSchema(content[t].Schema, 0)})
	}
	return ms
}

// maxSchemaDepth bounds the nesting the page draws; deeper schemas are
// cut with an ellipsis (components are linked, not inlined, so only an
// absurd inline schema reaches it).
const maxSchemaDepth = 12

const componentsPrefix = "#/components/schemas/"

// viewSchema turns a JSON Schema into its compact view; nil stays nil.
func viewSchema(s map[string]any, depth int) *schemaView {
	if s == nil {
		return nil
	}
	v := &schemaView{Doc: richText(str(s["description"]))}
	if ref := str(s["$ref"]); ref != "" {
		name := strings.TrimPrefix(ref, componentsPrefix)
		v.Ref, v.Anchor = name, anchor("schema", name)
		return v
	}
	if depth >= maxSchemaDepth {
		v.Type = "…"
		return v
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, str(x))
		}
	}
	v.Type = strings.Join(types, " | ")
	if f := str(s["format"]); f != "" {
		v.Type += " (" + f + ")"
	}
	if v.Type == "" {
		v.Type = "any"
	}
	v.Notes = schemaNotes(s)

	if props, ok := s["properties"].(map[string]any); ok {
		required := map[string]bool{}
		if rs, ok := s["required"].([]any); ok {
			for _, r := range rs {
				required[str(r)] = true
			}
		}
		for _, name := range sortedKeys(props) {
			sub, _ := props[name].(map[string]any)
			v.Props = append(v.Props, propView{Name: name, Required: required[name], Schema: viewSchema(sub, depth+1)})
		}
	}
	switch ap := s["additionalProperties"].(type) {
	case map[string]any:
		v.Values = viewSchema(ap, depth+1)
	case bool:
		if !ap && len(v.Props) == 0 {
			v.Notes = append(v.Notes, "no properties")
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		v.Items = viewSchema(items, depth+1)
	}
	for _, comb := range []string{"oneOf", "anyOf", "allOf"} {
		subs, ok := s[comb].([]any)
		if !ok {
			continue
		}
		v.Combiner = comb
		for _, sub := range subs {
			m, _ := sub.(map[string]any)
			v.Variants = append(v.Variants, viewSchema(m, depth+1))
		}
		break
	}
	for _, key := range sortedKeys(s) {
		if sub, ok := s[key].(map[string]any); ok && strings.HasPrefix(key, "x-") {
			v.Extensions = append(v.Extensions, propView{Name: key, Schema: viewSchema(sub, depth+1)})
		}
	}
	v.Expand = v.Ref == "" && (len(v.Notes) > 0 || len(v.Doc) > 0 || len(v.Props) > 0 || len(v.Variants) > 0 || len(v.Extensions) > 0 ||
		(v.Items != nil && v.Items.Expand) || (v.Values != nil && v.Values.Expand))
	return v
}

// schemaNotes lists a schema's constraints in reading order.
func schemaNotes(s map[string]any) []string {
	var notes []string
	num := func(k string) (string, bool) {
		f, ok := s[k].(float64)
		if !ok {
			return "", false
		}
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	bounds := func(minKey, maxKey, unit string) {
		lo, hasLo := num(minKey)
		hi, hasHi := num(maxKey)
		switch {
		case hasLo && hasHi:
			notes = append(notes, unit+lo+"–"+hi)
		case hasLo:
			notes = append(notes, unit+"≥ "+lo)
		case hasHi:
			notes = append(notes, unit+"≤ "+hi)
		}
	}
	bounds("minimum", "maximum", "")
	if x, ok := num("exclusiveMinimum"); ok {
		notes = append(notes, "> "+x)
	}
	if x, ok := num("exclusiveMaximum"); ok {
		notes = append(notes, "< "+x)
	}
	if x, ok := num("multipleOf"); ok {
		notes = append(notes, "multiple of "+x)
	}
	bounds("minLength", "maxLength", "length ")
	bounds("minItems", "maxItems", "items ")
	if b, _ := s["uniqueItems"].(bool); b {
		notes = append(notes, "unique items")
	}
	if p := str(s["pattern"]); p != "" {
		notes = append(notes, "pattern "+p)
	}
	if e, ok := s["enum"].([]any); ok {
		vals := make([]string, len(e))
		for i, x := range e {
			vals[i] = jsonText(x)
		}
		notes = append(notes, "one of "+strings.Join(vals, ", "))
	}
	if c, ok := s["const"]; ok {
		notes = append(notes, "always "+jsonText(c))
	}
	if d, ok := s["default"]; ok {
		notes = append(notes, "default "+jsonText(d))
	}
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		notes = append(notes, "e.g. "+jsonText(ex[0]))
	}
	for _, flag := range []string{"readOnly", "writeOnly", "deprecated"} {
		if b, _ := s[flag].(bool); b {
			notes = append(notes, flag)
		}
	}
	return notes
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// jsonText shows a value from the document as JSON.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// anchor makes an element id from a kind and a name: letters, digits
// and dashes only, so it is the same in the id and in the link.
func anchor(kind, name string) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteByte('-')
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
