package elasticsearch

import (
	"net"
	"net/url"
	"strings"
	"testing"

	"decnet/internal/service"
)

func TestEncodePretty(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"empty object", obj{}, "{ }\n"},
		{"empty array", obj{{"a", []any{}}}, "{\n  \"a\" : [ ]\n}\n"},
		{"array of objects", obj{{"h", []any{obj{{"x", 1}}}}}, "{\n  \"h\" : [\n    {\n      \"x\" : 1\n    }\n  ]\n}\n"},
		{"double", obj{{"p", fnum(100)}, {"q", fnum(75.67567567567568)}}, "{\n  \"p\" : 100.0,\n  \"q\" : 75.67567567567568\n}\n"},
		{"escapes", "a\"/\\\x01é", "\"a\\\"/\\\\\\u0001é\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(encode(tc.v, true)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{225: "225b", 1024: "1kb", 29562880: "28.2mb", 5 << 30: "5gb", 1536: "1.5kb"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %s, want %s", n, got, want)
		}
	}
}

// TestTable checks RestTable's padding: text left, numbers right, the
// last cell padded too, the header only with ?v, columns picked by ?h.
func TestTable(t *testing.T) {
	cols := []column{{"index", false}, {"docs.count", true}, {"name", false}}
	rows := [][]string{{"a", "5", "n1"}, {"bbbb", "12345", "n"}}
	for _, tc := range []struct{ query, want string }{
		{"", "a        5 n1\nbbbb 12345 n \n"},
		{"v", "index docs.count name\na              5 n1  \nbbbb       12345 n   \n"},
		{"h=name,index", "n1 a   \nn  bbbb\n"},
	} {
		q, _ := url.ParseQuery(tc.query)
		r := &request{query: q}
		pc, pr := pickColumns(r, cols, rows)
		if got := string(table(r, pc, pr)); got != tc.want {
			t.Errorf("?%s: got %q, want %q", tc.query, got, tc.want)
		}
	}
}

func TestPersona(t *testing.T) {
	for _, tc := range []struct {
		keys    map[string]string
		distro  string
		err     string
		secured bool
		build   string
	}{
		{nil, "debian", "", false, "deb"},
		{map[string]string{"version": "8.12.2"}, "rocky9", "", true, "rpm"},
		{map[string]string{"tls": "maybe"}, "", "tls", false, ""},
		{map[string]string{"version": "8.12.2", "security": "false"}, "alpine", "", false, "docker"},
		{map[string]string{"version": "7.17.9", "security": "true", "build_type": "tar"}, "debian", "", true, "tar"},
		{map[string]string{"version": "6.8.0"}, "", "version", false, ""},
		{map[string]string{"bait": "payroll"}, "", "bait", false, ""},
		{map[string]string{"build_flavor": "oss"}, "", "build_flavor", false, ""},
		{map[string]string{"users": "elastic"}, "", "users", false, ""},
	} {
		p, err := service.NewPersona(Service{}.Info(), tc.keys)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want one about %s", tc.keys, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.keys, err)
		}
		pp := p.(*Persona)
		if pp.secured() != tc.secured || pp.buildType(tc.distro) != tc.build {
			t.Errorf("%v on %s: secured %v build %s", tc.keys, tc.distro, pp.secured(), pp.buildType(tc.distro))
		}
	}
}

// TestWarningHeader checks which releases carry the security warning.
func TestWarningHeader(t *testing.T) {
	for _, tc := range []struct {
		p       *Persona
		product bool
		warning bool
	}{
		{persona(func(p *Persona) { p.Version = "7.10.2" }), false, false},
		{persona(nil), true, true},
		{persona(func(p *Persona) { p.ExplicitSecurityOff = true }), true, false},
		{persona(func(p *Persona) { p.Security = "true" }), true, false},
		{persona(func(p *Persona) { p.Version = "8.12.2" }), true, false},
	} {
		s := newServer(service.Config{}, tc.p)
		var product, warning bool
		for _, h := range s.contextHeaders(nil) {
			product = product || h.name == "X-elastic-product"
			warning = warning || h.name == "Warning"
		}
		if product != tc.product || warning != tc.warning {
			t.Errorf("%s security=%q explicit=%v: product %v warning %v", tc.p.Version, tc.p.Security, tc.p.ExplicitSecurityOff, product, warning)
		}
	}
}

// TestKeptBound checks that what clients write is kept only up to the
// node's budget, and acknowledged all the same.
func TestKeptBound(t *testing.T) {
	s := newServer(service.Config{Host: service.Host{Name: "bound"}}, persona(nil))
	c, peer := net.Pipe()
	defer c.Close()
	defer peer.Close()
	doc := []byte(`{"pad":"` + strings.Repeat("x", 1<<20-20) + `"}`)
	for i := range 12 {
		r := &request{method: "POST", target: "/note/_doc", path: "/note/_doc", version: "HTTP/1.1", query: url.Values{}, body: doc}
		if resp, _, _ := s.serve(c, r); resp.status != 201 {
			t.Fatalf("write %d: %d %s", i, resp.status, resp.body)
		}
	}
	if ix := s.indices["note"]; ix.count != 12 || len(ix.docs) != maxKept/len(doc) || s.kept > maxKept {
		t.Errorf("count %d, kept %d documents (%d bytes)", ix.count, len(ix.docs), s.kept)
	}
}
