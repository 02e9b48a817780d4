package k8s

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		method, path, query string
		want                reqInfo
	}{
		{"GET", "/", "", reqInfo{path: "/", verb: "get"}},
		{"OPTIONS", "/api", "", reqInfo{path: "/api", verb: "options"}},
		{"GET", "/api/v1", "", reqInfo{path: "/api/v1", verb: "get"}},
		{"GET", "/apis/apps/v1", "", reqInfo{path: "/apis/apps/v1", verb: "get"}},
		{"GET", "/api/v1/pods", "limit=500", reqInfo{resource: true, path: "/api/v1/pods", verb: "list", version: "v1", kind: "pods"}},
		{"GET", "/api/v1/namespaces/default/pods", "watch=true", reqInfo{resource: true, path: "/api/v1/namespaces/default/pods", verb: "watch", version: "v1", namespace: "default", kind: "pods"}},
		{"GET", "/api/v1/namespaces/default", "", reqInfo{resource: true, path: "/api/v1/namespaces/default", verb: "get", version: "v1", namespace: "default", kind: "namespaces", name: "default"}},
		{"PUT", "/api/v1/namespaces/x/finalize", "", reqInfo{resource: true, path: "/api/v1/namespaces/x/finalize", verb: "update", version: "v1", namespace: "x", kind: "namespaces", name: "x", subresource: "finalize"}},
		{"POST", "/api/v1/namespaces/production/pods/postgres-0/exec", "command=id", reqInfo{resource: true, path: "/api/v1/namespaces/production/pods/postgres-0/exec", verb: "create", version: "v1", namespace: "production", kind: "pods", name: "postgres-0", subresource: "exec"}},
		{"GET", "/apis/apps/v1/namespaces/kube-system/deployments/coredns", "", reqInfo{resource: true, path: "/apis/apps/v1/namespaces/kube-system/deployments/coredns", verb: "get", group: "apps", version: "v1", namespace: "kube-system", kind: "deployments", name: "coredns"}},
		{"DELETE", "/api/v1/namespaces/default/pods", "", reqInfo{resource: true, path: "/api/v1/namespaces/default/pods", verb: "deletecollection", version: "v1", namespace: "default", kind: "pods"}},
		{"GET", "/api/v1/watch/namespaces/default/pods/x", "", reqInfo{resource: true, path: "/api/v1/watch/namespaces/default/pods/x", verb: "watch", version: "v1", namespace: "default", kind: "pods", name: "x"}},
		{"GET", "/api/v1/namespaces/default/secrets", "fieldSelector=metadata.name%3Dtls", reqInfo{resource: true, path: "/api/v1/namespaces/default/secrets", verb: "list", version: "v1", namespace: "default", kind: "secrets", name: "tls"}},
		{"BREW", "/api/v1/nodes", "", reqInfo{resource: true, path: "/api/v1/nodes", version: "v1", kind: "nodes"}},
		{"GET", "/api/v1/proxy", "", reqInfo{path: "/api/v1/proxy", verb: "get", version: "v1"}},
	} {
		q, _ := url.ParseQuery(tc.query)
		if got := parseRequest(tc.method, tc.path, q); got != tc.want {
			t.Errorf("%s %s?%s:\n got %+v\nwant %+v", tc.method, tc.path, tc.query, got, tc.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-2 * time.Second, "<invalid>"}, {0, "0s"}, {119 * time.Second, "119s"}, {150 * time.Second, "2m30s"}, {5 * time.Minute, "5m"},
		{170 * time.Minute, "170m"}, {5*time.Hour + 7*time.Minute, "5h7m"}, {30 * time.Hour, "30h"}, {3*24*time.Hour + 4*time.Hour, "3d4h"},
		{179 * 24 * time.Hour, "179d"}, {(3*365 + 10) * 24 * time.Hour, "3y10d"}, {9 * 365 * 24 * time.Hour, "9y"},
	} {
		if got := humanDuration(tc.d); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestPersonaValidate(t *testing.T) {
	for _, tc := range []struct {
		p  Persona
		ok bool
	}{
		{Persona{Version: "v1.28.3", Auth: authAccept}, true},
		{Persona{Version: "v1.28.3", Auth: authReject, NodeName: "cp-1"}, true},
		{Persona{Version: "v1.99.0", Auth: authAccept}, false},
		{Persona{Version: "v1.28.3", Auth: "maybe"}, false},
		{Persona{Version: "v1.28.3", Auth: authAccept, NodeName: "a b"}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.p, err)
		}
	}
}

// TestDiscoveryGroups checks the /apis order and preferred versions of a
// v1.28 apiserver.
func TestDiscoveryGroups(t *testing.T) {
	var names []string
	for _, g := range groups(discovery128) {
		names = append(names, g.Name+"="+g.Preferred.Version)
	}
	want := "apiregistration.k8s.io=v1 apps=v1 events.k8s.io=v1 authentication.k8s.io=v1 authorization.k8s.io=v1 autoscaling=v2 batch=v1 certificates.k8s.io=v1 networking.k8s.io=v1 policy=v1 rbac.authorization.k8s.io=v1 storage.k8s.io=v1 admissionregistration.k8s.io=v1 apiextensions.k8s.io=v1 scheduling.k8s.io=v1 coordination.k8s.io=v1 node.k8s.io=v1 discovery.k8s.io=v1 flowcontrol.apiserver.k8s.io=v1beta3"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
