package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// TestDocsPage: the page is public, self-contained, lists every
// operation of the document and every component schema, and says who
// may call what.
func TestDocsPage(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.do(t, http.MethodGet, "/api/v1/docs", "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	h := rec.Header()
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": docsCSP,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(docsCSP, "default-src 'none'; style-src 'sha256-") {
		t.Errorf("CSP %q", docsCSP)
	}
	page := rec.Body.String()
	doc := f.srv.OpenAPI()
	if len(doc.Paths) == 0 {
		t.Fatal("no operations")
	}
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if op == nil {
				continue
			}
			want := `<span class="m ` + strings.ToLower(method) + `">` + method + `</span> <code>/api/v1` + htmlEscaped(path) + `</code>`
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %s %s", method, path)
			}
			if !strings.Contains(page, `id="`+anchor("op", op.OperationID)+`"`) {
				t.Errorf("page lacks the anchor of %s", op.OperationID)
			}
		}
	}
	for name := range doc.Components.Schemas.Map() {
		if !strings.Contains(page, `id="`+anchor("schema", name)+`"`) {
			t.Errorf("page lacks schema %s", name)
		}
	}
	for _, want := range []string{
		"Access: public",                                            // login
		"Access: credentials: bearer; any role",                     // change-password
		"Access: credentials: bearer; some roles are refused (403)", // the rest
		`<a href="#schema-ErrorModel">ErrorModel</a>`,               // $ref as a link
		`<td><code>50</code></td>`,                                  // a default
		`1–1000`,                                                    // a range
		`<code>Authorization: Bearer &lt;token&gt;</code>`,          // backquotes in descriptions
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, banned := range []string{"<script", "<link", "<img", "<iframe", "<object", `href="http`, `href="//`, " src=", "@import", "url("} {
		if strings.Contains(page, banned) {
			t.Errorf("page contains %q: it must be self-contained", banned)
		}
	}
	// The docs route is not in the document it renders.
	if _, ok := doc.Paths["/docs"]; ok {
		t.Error("/docs is in the OpenAPI document")
	}
}

func htmlEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// TestDocsEscapes: whatever the document holds is text on the page,
// never markup, wherever it appears (descriptions, names, enum values,
// defaults, patterns, tags, $ref targets).
func TestDocsEscapes(t *testing.T) {
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	f := newFixture(t, nil)
	doc := f.srv.OpenAPI()
	doc.Info.Description = evil + " `" + evil + "`"
	doc.Info.Title = evil
	op := doc.Paths["/logs"].Get
	op.Summary, op.Description, op.Tags = evil, evil, []string{evil}
	op.OperationID = evil
	op.Parameters = append(op.Parameters, &huma.Param{Name: evil, In: "query", Description: evil, Schema: &huma.Schema{
		Type: "string", Pattern: evil, Enum: []any{evil}, Default: evil, Description: evil, Format: evil,
	}})
	op.Responses["418"] = &huma.Response{Description: evil, Content: map[string]*huma.MediaType{
		evil: {Schema: &huma.Schema{Ref: "#/components/schemas/" + evil}},
	}}
	doc.Components.Schemas.Map()[evil] = &huma.Schema{Type: "object", Description: evil,
		Properties: map[string]*huma.Schema{evil: {Type: "string", Examples: []any{evil}}}}

	out, err := renderDocs(doc)
	if err != nil {
		t.Fatal(err)
	}
	page := string(out)
	for _, bad := range []string{"<script", "<img", "onerror=alert(2)>", `"'&`} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the escaped text is missing: was it dropped instead of shown?")
	}
	for _, id := range []string{anchor("op", evil), anchor("schema", evil)} {
		if strings.ContainsAny(id, `<>"'& `) {
			t.Errorf("anchor %q is not plain", id)
		}
		if !strings.Contains(page, `id="`+id+`"`) || !strings.Contains(page, `href="#`+id+`"`) {
			t.Errorf("anchor %q is not both target and link", id)
		}
	}
}

// TestDocsSchemaView covers the compact notation of the shapes huma
// does not produce for the current routes.
func TestDocsSchemaView(t *testing.T) {
	s := map[string]any{
		"type": []any{"array", "null"}, "minItems": 1.0, "maxItems": 3.0, "uniqueItems": true,
		"items": map[string]any{"oneOf": []any{
			map[string]any{"type": "integer", "exclusiveMinimum": 0.0, "multipleOf": 5.0},
			map[string]any{"$ref": "#/components/schemas/Thing", "description": "a thing"},
		}},
	}
	v := viewSchema(s, 0)
	if v.Type != "array | null" || !v.Items.Expand || v.Items.Combiner != "oneOf" || len(v.Items.Variants) != 2 {
		t.Fatalf("view %+v items %+v", v, v.Items)
	}
	if got := strings.Join(v.Notes, ","); got != "items 1–3,unique items" {
		t.Errorf("notes %q", got)
	}
	if got := strings.Join(v.Items.Variants[0].Notes, ","); got != "> 0,multiple of 5" {
		t.Errorf("variant notes %q", got)
	}
	if r := v.Items.Variants[1]; r.Ref != "Thing" || r.Anchor != "schema-Thing" {
		t.Errorf("ref %+v", r)
	}
	ext := viewSchema(map[string]any{"type": "string", "x-frames": map[string]any{"oneOf": []any{
		map[string]any{"$ref": "#/components/schemas/Frame"}}}, "x-flag": true}, 0)
	if len(ext.Extensions) != 1 || ext.Extensions[0].Name != "x-frames" || ext.Extensions[0].Schema.Variants[0].Ref != "Frame" || !ext.Expand {
		t.Errorf("extension view %+v", ext)
	}
	deep := map[string]any{"type": "object"}
	cur := deep
	for range maxSchemaDepth + 5 {
		next := map[string]any{"type": "object"}
		cur["properties"] = map[string]any{"x": next}
		cur = next
	}
	v = viewSchema(deep, 0)
	for range maxSchemaDepth {
		v = v.Props[0].Schema
	}
	if v.Type != "…" || len(v.Props) != 0 {
		t.Errorf("depth not bounded: %+v", v)
	}
}

func TestDocsAccess(t *testing.T) {
	bearer := []map[string][]string{{"bearer": {}}}
	for _, c := range []struct {
		name    string
		global  []map[string][]string
		op      *[]map[string][]string
		refuses bool
		want    string
	}{
		{"no security anywhere", nil, nil, false, "public"},
		{"global bearer", bearer, nil, true, "credentials: bearer; some roles are refused (403)"},
		{"operation opts out", bearer, &[]map[string][]string{}, false, "public"},
		{"optional auth", nil, &[]map[string][]string{{"bearer": {}}, {}}, false, "public"},
		{"alternatives and a pair", nil, &[]map[string][]string{{"bearer": {}}, {"key": {}, "app": {}}}, false,
			"credentials: bearer or app + key; any role"},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := &oaOperation{Security: c.op, Responses: map[string]oaResponse{"200": {}}}
			if c.refuses {
				op.Responses["403"] = oaResponse{}
			}
			if got := accessOf(c.global, op); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
