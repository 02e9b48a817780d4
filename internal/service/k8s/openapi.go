package k8s

import (
	"strings"
)

// openAPIRoot is /openapi/v3: where each group version's document is.
func (s *Server) openAPIRoot() obj {
	paths := obj{}
	for _, gv := range discovery128 {
		p := gvPath(gv)
		paths = append(paths, kv{p, obj{{"serverRelativeURL", "/openapi/v3/" + p + "?hash=" + strings.ToUpper(hashName(s.rel.GitCommit+p)+hashName(p+s.rel.GitCommit))}}})
	}
	return obj{{"paths", paths}}
}

// gvPath is a group version's discovery path without the slash: "api/v1".
func gvPath(gv groupVersion) string {
	if gv.group == "" {
		return "api/" + gv.version
	}
	return "apis/" + gv.group + "/" + gv.version
}

// openAPIDoc is a group version's OpenAPI v3 document, reduced to the
// creation operations and their fieldValidation parameter: what kubectl
// reads to choose server-side validation. Schemas are left out.
func (s *Server) openAPIDoc(p string) (obj, bool) {
	for _, gv := range discovery128 {
		if gvPath(gv) != p {
			continue
		}
		paths := obj{}
		for _, r := range gv.resources {
			if strings.Contains(r.Name, "/") || !strings.Contains(strings.Join(r.Verbs, ","), "create") {
				continue
			}
			url := "/" + p + "/" + r.Name
			if r.Namespaced {
				url = "/" + p + "/namespaces/{namespace}/" + r.Name
			}
			op := obj{{"tags", []string{strings.ReplaceAll(p, "/", "_")}}, {"description", "create " + r.Kind},
				{"operationId", "create" + r.Kind},
				{"parameters", []obj{
					{{"name", "dryRun"}, {"in", "query"}, {"schema", obj{{"type", "string"}, {"uniqueItems", true}}}},
					{{"name", "fieldManager"}, {"in", "query"}, {"schema", obj{{"type", "string"}, {"uniqueItems", true}}}},
					{{"name", "fieldValidation"}, {"in", "query"}, {"schema", obj{{"type", "string"}, {"uniqueItems", true}}}},
				}},
				{"x-kubernetes-action", "post"},
				{"x-kubernetes-group-version-kind", obj{{"group", gv.group}, {"version", gv.version}, {"kind", r.Kind}}}}
			paths = append(paths, kv{url, obj{{"post", op}}})
		}
		return obj{{"openapi", "3.0.0"}, {"info", obj{{"title", "Kubernetes"}, {"version", s.rel.GitVersion}}}, {"paths", paths}}, true
	}
	return nil, false
}

// openAPIv2 is /openapi/v2 in protobuf (gnostic's openapi_v2.Document),
// reduced to its version and info: kubectl apply fetches it before it
// sends anything, and needs no more to create objects.
func (s *Server) openAPIv2() []byte {
	info := append(pbString(1, "Kubernetes"), pbString(2, s.rel.GitVersion)...)
	return append(pbString(1, "2.0"), pbBytes(2, info)...)
}

// pbBytes is a length-delimited protobuf field.
func pbBytes(field int, b []byte) []byte {
	out := []byte{byte(field<<3 | 2)}
	n := len(b)
	for n >= 0x80 {
		out = append(out, byte(n)|0x80)
		n >>= 7
	}
	return append(append(out, byte(n)), b...)
}

func pbString(field int, s string) []byte { return pbBytes(field, []byte(s)) }
