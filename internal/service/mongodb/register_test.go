package mongodb

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"decnet/internal/service"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestPersona(t *testing.T) {
	for _, tc := range []struct {
		keys    map[string]string
		wantErr bool
		wire    int32
		limits  bool
	}{
		{nil, false, 17, true},
		{map[string]string{"version": "4.4.29"}, false, 9, false},
		{map[string]string{"version": "5.0.26"}, false, 13, false},
		{map[string]string{"version": "7.0.14", "auth": "true"}, false, 21, true},
		{map[string]string{"version": "6.0"}, true, 0, false},
		{map[string]string{"version": "9.9.9"}, true, 0, false},
		{map[string]string{"version": "6.9.1"}, true, 0, false},
		{map[string]string{"git_version": "abc"}, true, 0, false},
		{map[string]string{"flavour": "x"}, true, 0, false},
	} {
		p, err := service.NewPersona(Service{}.Info(), tc.keys)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err = %v", tc.keys, err)
			continue
		}
		if err != nil {
			continue
		}
		f := factsOf(p.(*Persona).Version)
		if f.wire != tc.wire || f.opQueryLimits != tc.limits {
			t.Errorf("%v: wire %d limits %v", tc.keys, f.wire, f.opQueryLimits)
		}
	}
}

// TestBuildInfoGolden pins the bytes of the buildInfo reply, whose field
// order and values a fingerprinter compares.
func TestBuildInfoGolden(t *testing.T) {
	s := newServer(service.Config{Host: service.Host{Distro: "ubuntu22"}, Emit: testConfig().Emit}, &Persona{Version: "6.0.19"})
	cl := &client{id: 1, fields: map[string]string{}, convs: map[int32]*scramConv{}}
	in := msg(0, doc{{"buildInfo", int32(1)}, {"$db", "admin"}}, "", nil, false)
	out, _, _ := s.message(cl, parseHeader(in), in)
	clear(out[4:8]) // the reply's own requestID varies per decky
	path := filepath.Join("testdata", "buildinfo-6.0.19.golden")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("buildInfo reply differs from %s (run with -update after checking):\n%s", path, toJSON(replyDoc(t, out)))
	}
}
