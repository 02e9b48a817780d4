package k8s

import (
	"net/url"
	"strings"
)

// reqInfo is what the apiserver's RequestInfoFactory reads from a request
// line: whether it names a resource, and which, with the verb RBAC checks.
type reqInfo struct {
	resource    bool // a resource request; otherwise a path ("/", "/api", "/version")
	path        string
	verb        string
	group       string
	version     string
	namespace   string
	kind        string // the resource: "pods"
	name        string
	subresource string
}

// specialVerbs are path prefixes that name the verb (/api/v1/watch/pods).
var specialVerbs = map[string]bool{"proxy": true, "watch": true}

// parseRequest reads method, path and query as RequestInfoFactory does.
func parseRequest(method, path string, q url.Values) reqInfo {
	ri := reqInfo{path: path, verb: strings.ToLower(method)}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 3 || (parts[0] != "api" && parts[0] != "apis") {
		return ri
	}
	if parts[0] == "apis" {
		if len(parts) < 4 {
			return ri
		}
		ri.group, parts = parts[1], parts[2:]
	} else {
		parts = parts[1:]
	}
	ri.resource = true
	ri.version, parts = parts[0], parts[1:]
	if specialVerbs[parts[0]] {
		if len(parts) < 2 {
			ri.resource = false
			return ri
		}
		ri.verb, parts = parts[0], parts[1:]
	} else {
		switch method {
		case "POST":
			ri.verb = "create"
		case "GET", "HEAD":
			ri.verb = "get"
		case "PUT":
			ri.verb = "update"
		case "PATCH":
			ri.verb = "patch"
		case "DELETE":
			ri.verb = "delete"
		default:
			ri.verb = ""
		}
	}
	if parts[0] == "namespaces" && len(parts) > 1 {
		ri.namespace = parts[1]
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		}
	}
	switch {
	case len(parts) >= 3 && ri.verb != "proxy" && ri.verb != "watch":
		ri.subresource = parts[2]
		fallthrough
	case len(parts) >= 2:
		ri.name = parts[1]
		fallthrough
	default:
		ri.kind = parts[0]
	}
	if ri.name == "" && ri.verb == "get" {
		ri.verb = "list"
		if w := q.Get("watch"); w == "1" || w == "true" {
			ri.verb = "watch"
		}
		if n, ok := strings.CutPrefix(q.Get("fieldSelector"), "metadata.name="); ok && n != "" && !strings.ContainsAny(n, "/%,") && n != "." && n != ".." {
			ri.name = n
		}
	}
	if ri.name == "" && ri.verb == "delete" {
		ri.verb = "deletecollection"
	}
	return ri
}

// fullResource is the resource with its subresource: "pods/exec".
func (ri reqInfo) fullResource() string {
	if ri.subresource != "" {
		return ri.kind + "/" + ri.subresource
	}
	return ri.kind
}
