package rdp

import (
	"errors"
	"strings"
	"testing"

	"decnet/internal/ntlmssp"
	"decnet/internal/service"
)

func TestPersonaKeys(t *testing.T) {
	info := Service{}.Info()
	for _, tc := range []struct {
		name string
		keys map[string]string
		want Persona
		err  string
	}{
		{"defaults", nil, Persona{NLA: true}, ""},
		{"windows member", map[string]string{"product": "windows", "domain": "corp.example.com", "version": "10.0.14393"},
			Persona{Product: Windows, Domain: "corp.example.com", Version: "10.0.14393", NLA: true}, ""},
		{"no nla", map[string]string{"nla": "false"}, Persona{}, ""},
		{"xrdp", map[string]string{"product": "xrdp"}, Persona{Product: XRDP, NLA: true}, ""},
		{"unknown product", map[string]string{"product": "citrix"}, Persona{}, "product"},
		{"xrdp with domain", map[string]string{"product": "xrdp", "domain": "corp"}, Persona{}, "Windows machine"},
		{"bad version", map[string]string{"version": "10.0"}, Persona{}, "major.minor.build"},
		{"version out of range", map[string]string{"version": "10.0.70000"}, Persona{}, "major.minor.build"},
		{"domain with space", map[string]string{"domain": "corp example"}, Persona{}, "DNS domain"},
		{"domain with backslash", map[string]string{"domain": `CORP\x`}, Persona{}, "DNS domain"},
		{"unknown key", map[string]string{"password": "x"}, Persona{}, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := service.NewPersona(info, tc.keys)
			if tc.err != "" {
				if !errors.Is(err, service.ErrPersonaKey) || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want one about %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := *p.(*Persona); got != tc.want {
				t.Errorf("persona %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPersonaProduct(t *testing.T) {
	for _, tc := range []struct {
		product, os, want string
	}{
		{"", "windows", Windows},
		{"", "linux", XRDP},
		{"", "", XRDP},
		{XRDP, "windows", XRDP},
		{Windows, "linux", Windows},
	} {
		if got := (&Persona{Product: tc.product}).product(tc.os); got != tc.want {
			t.Errorf("product %q on %q = %q, want %q", tc.product, tc.os, got, tc.want)
		}
	}
	v, err := parseWindowsVersion("6.3.9600")
	if err != nil || v != ntlmssp.NewVersion(6, 3, 9600) || v.String() != "6.3.9600" {
		t.Errorf("parseWindowsVersion = %v, %v", v, err)
	}
}

// New refuses what it cannot serve, and builds the NTLM persona from the
// decky's host name and the domain.
func TestNew(t *testing.T) {
	cfg := service.Config{Host: service.Host{Name: "d", Hostname: "SRV-FILES-42", OS: "windows"}, Emit: nil}
	srv, err := Service{}.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := srv.(*Server)
	if s.prod.name != Windows || s.ntlm.NetBIOSComputer != "SRV-FILES-42" || s.ntlm.DNSDomain != "SRV-FILES-42" {
		t.Errorf("server %s, NTLM persona %+v", s.prod.name, s.ntlm)
	}
	cfg.Persona = &Persona{Domain: strings.Repeat("d", 150) + ".example", NLA: true}
	if _, err := (Service{}).New(cfg); err == nil {
		t.Errorf("New accepted names too long for the NTLM challenge")
	}
	cfg.Persona = &Persona{Product: "vnc"}
	if _, err := (Service{}).New(cfg); err == nil {
		t.Errorf("New accepted an invalid persona")
	}
	if err := s.Serve(t.Context(), service.Listeners{}); err == nil {
		t.Errorf("Serve without a listener for port %d", Port)
	}
}

func TestFragment(t *testing.T) {
	f := Service{}.Fragment(service.Host{Name: "d", DataDir: "/srv/x"}, map[string]string{"nla": "false"})
	if !f.Data || !strings.Contains(strings.Join(f.Command, " "), "--data-dir "+service.ContainerDataDir) ||
		!strings.Contains(strings.Join(f.Command, " "), "--persona nla=false") {
		t.Errorf("fragment %+v", f)
	}
}
