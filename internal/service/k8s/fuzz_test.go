package k8s

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// The seeds under testdata/fuzz are kubectl v1.28's and curl's requests.

func FuzzParseRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, method, path, query string) {
		q, _ := url.ParseQuery(query)
		ri := parseRequest(method, path, q)
		if !ri.resource && (ri.kind != "" || ri.name != "") {
			t.Fatalf("a path request with a resource: %+v", ri)
		}
	})
}

func FuzzParseWorkload(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := parseWorkload(body)
		if err != nil {
			return
		}
		fields := workloadFields(w)
		for _, k := range []string{"privileged", "host_network", "host_pid", "host_ipc"} {
			if fields[k] != "true" && fields[k] != "false" {
				t.Fatalf("%s = %q", k, fields[k])
			}
		}
	})
}

// FuzzServe runs whole requests through the handler, authenticated or
// not, on both ports.
func FuzzServe(f *testing.F) {
	srv, err := NewServer(service.Config{Host: service.Host{Name: "fuzz", Hostname: "cp", IP: testIP}, Emit: &testutil.Events{}}, defaultPersona().(*Persona))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, target, auth, accept string, body []byte, insecure bool) {
		if !validMethod(method) {
			return
		}
		r, err := http.NewRequest(method, "http://x"+target, bytes.NewReader(body))
		if err != nil || r.URL.Path == "" {
			return
		}
		r.Header.Set("Authorization", auth)
		r.Header.Set("Accept", accept)
		port := SecurePort
		if insecure {
			port = InsecurePort
		}
		cs := &connState{port: port, fields: map[string]string{}, seen: map[string]bool{}}
		r = r.WithContext(contextWith(r, cs))
		w := httptest.NewRecorder()
		srv.serveHTTP(w, r)
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '/' || c == ':' {
			return false
		}
	}
	return true
}

func contextWith(r *http.Request, cs *connState) context.Context {
	return context.WithValue(r.Context(), connKey{}, cs)
}
