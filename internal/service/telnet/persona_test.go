package telnet

import (
	"slices"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/accounts"
)

func TestPersona(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[string]string
		wantErr bool
		logins  map[string][]string
		retries int
	}{
		{"defaults", nil, false, map[string][]string{"root": {"root", "admin", "123456", "password"}, "admin": {"admin"},
			"ubuntu": {"ubuntu"}, "pi": {"raspberry"}, "user": {"user"}}, 5},
		{"password and users", map[string]string{"password": "s3cret", "users": "bob:pw, root:toor", "retries": "3"}, false,
			map[string][]string{"root": {"s3cret", "toor"}, "bob": {"pw"}}, 3},
		{"bad user", map[string]string{"users": "nocolon"}, true, nil, 0},
		{"bad retries", map[string]string{"retries": "-1"}, true, nil, 0},
		{"bad hostname", map[string]string{"hostname": "a b"}, true, nil, 0},
		{"unknown key", map[string]string{"banner": "x"}, true, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := service.NewPersona(Service{}.Info(), tc.keys)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				return
			}
			got := accounts.Pairs(p.(*Persona).Password, p.(*Persona).Users)
			if len(got) != len(tc.logins) {
				t.Fatalf("logins %v", got)
			}
			for u, pws := range tc.logins {
				if !slices.Equal(got[u], pws) {
					t.Errorf("%s: %v, want %v", u, got[u], pws)
				}
			}
			if r := p.(*Persona).retries(Inetutils); r != tc.retries {
				t.Errorf("retries %d", r)
			}
		})
	}
}

// TestFragment checks that the docker runtime gives the service a data
// volume for its filesystem and logins.
func TestFragment(t *testing.T) {
	f := service.FragmentOf(Service{}, service.Host{Name: "d1", Hostname: "web", Distro: "debian", IP: "10.0.0.5"},
		map[string]string{"password": "x"})
	if !f.Data || !slices.Contains(f.Command, "--data-dir") || !slices.Contains(f.Command, "password=x") || f.Command[1] != "telnet" {
		t.Fatalf("fragment %+v", f)
	}
	if info := (Service{}).Info(); len(info.Ports) != 1 || info.Ports[0] != (service.Port{Number: 23, Proto: service.TCP}) {
		t.Fatalf("ports %v", info.Ports)
	}
}

// TestBoundLogin checks that an account keeps the first password that
// worked, across a restart.
func TestBoundLogin(t *testing.T) {
	dir := t.TempDir()
	p := &Persona{Users: []string{"root:a", "root:b"}}
	cfg := service.Config{Host: service.Host{Name: "d", Hostname: "h", Distro: "debian", DataDir: dir}, Persona: p}
	s1, err := Service{}.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !s1.(*Server).accounts.Accept("root", "b") || s1.(*Server).accounts.Accept("root", "a") {
		t.Fatal("first password not bound")
	}
	s2, err := Service{}.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s2.(*Server).accounts.Accept("root", "a") || !s2.(*Server).accounts.Accept("root", "b") {
		t.Fatal("binding lost on restart")
	}
}
