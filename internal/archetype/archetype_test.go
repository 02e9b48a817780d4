package archetype

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestArchetypeCatalogue(t *testing.T) {
	want := []struct {
		slug, services, distros, os string
	}{
		{"windows-workstation", "smb,rdp", "debian,ubuntu22", "windows"},
		{"windows-server", "smb,rdp,ldap", "debian,ubuntu22", "windows"},
		{"domain-controller", "ldap,smb,rdp,llmnr", "debian,ubuntu22", "windows"},
		{"linux-server", "ssh,http", "debian,ubuntu22,rocky9,fedora", "linux"},
		{"web-server", "http,ftp", "debian,ubuntu22,ubuntu20", "linux"},
		{"database-server", "mysql,postgres,redis", "debian,ubuntu22", "linux"},
		{"mail-server", "smtp,pop3,imap", "debian,ubuntu22", "linux"},
		{"file-server", "smb,ftp,ssh", "debian,ubuntu22,rocky9", "linux"},
		{"printer", "snmp,ftp", "alpine,debian", "embedded"},
		{"iot-device", "mqtt,snmp,telnet", "alpine", "embedded"},
		{"industrial-control", "conpot", "debian", "embedded"},
		{"voip-server", "sip", "debian,ubuntu22", "linux"},
		{"monitoring-node", "snmp,ssh", "debian,rocky9", "linux"},
		{"devops-host", "docker_api,ssh,k8s", "ubuntu22,debian", "linux"},
		{"deaddeck", "ssh", "debian,ubuntu22", "linux"},
	}
	all := All()
	if len(all) != len(want) {
		t.Fatalf("All() has %d archetypes, want %d", len(all), len(want))
	}
	for i, w := range want {
		t.Run(w.slug, func(t *testing.T) {
			a, err := Lookup(w.slug)
			if err != nil {
				t.Fatal(err)
			}
			if all[i].Slug != w.slug {
				t.Errorf("All()[%d] = %s, want %s (catalogue order)", i, all[i].Slug, w.slug)
			}
			if got := strings.Join(a.Services, ","); got != w.services {
				t.Errorf("services %s, want %s", got, w.services)
			}
			if got := strings.Join(a.PreferredDistros, ","); got != w.distros {
				t.Errorf("distros %s, want %s", got, w.distros)
			}
			if a.OS != w.os {
				t.Errorf("os %s, want %s", a.OS, w.os)
			}
			if a.DisplayName == "" || a.Description == "" {
				t.Error("missing display name or description")
			}
			for _, d := range a.PreferredDistros {
				if _, err := LookupDistro(d); err != nil {
					t.Error(err)
				}
			}
			if _, err := LookupOS(a.OS); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	a, _ := Lookup("deaddeck")
	a.Services[0] = "telnet"
	All()[0].PreferredDistros[0] = "kali"
	if b, _ := Lookup("deaddeck"); b.Services[0] != "ssh" {
		t.Fatal("Lookup shares the catalogue's slice")
	}
	if All()[0].PreferredDistros[0] != "debian" {
		t.Fatal("All shares the catalogue's slice")
	}
	f := OSOrLinux("bsd")
	f.Sysctls["net.ipv4.ip_default_ttl"] = "1"
	if OSOrLinux("bsd").TTL != 64 || OSOrLinux("bsd").Sysctls["net.ipv4.ip_default_ttl"] != "64" {
		t.Fatal("OS family map shared")
	}
}

func TestLookupErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"archetype", second(Lookup("mainframe")), `unknown archetype "mainframe"; valid: windows-workstation, windows-server, domain-controller, linux-server, web-server, database-server, mail-server, file-server, printer, iot-device, industrial-control, voip-server, monitoring-node, devops-host, deaddeck`},
		{"distro", second(LookupDistro("gentoo")), `unknown distro "gentoo"; valid: debian, ubuntu22, ubuntu20, rocky9, centos7, alpine, fedora, kali, arch`},
		{"os", second(LookupOS("amiga")), `unknown OS family "amiga"; valid: linux, windows, bsd, embedded, cisco`},
		{"case matters", second(Lookup("Deaddeck")), `unknown archetype "Deaddeck"; valid: windows-workstation`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.want) {
				t.Fatalf("error %v, want prefix %q", tt.err, tt.want)
			}
			if !errors.Is(tt.err, ErrUnknown) {
				t.Fatal("error does not wrap ErrUnknown")
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestDistros(t *testing.T) {
	want := []struct {
		slug, image, style, base string
	}{
		{"debian", "debian:bookworm-slim", "generic", "debian:bookworm-slim"},
		{"ubuntu22", "ubuntu:22.04", "generic", "ubuntu:22.04"},
		{"ubuntu20", "ubuntu:20.04", "generic", "ubuntu:20.04"},
		{"rocky9", "rockylinux:9-minimal", "rhel", "debian:bookworm-slim"},
		{"centos7", "centos:7", "rhel", "debian:bookworm-slim"},
		{"alpine", "alpine:3.19", "minimal", "debian:bookworm-slim"},
		{"fedora", "fedora:39", "rhel", "debian:bookworm-slim"},
		{"kali", "kalilinux/kali-rolling", "rolling", "kalilinux/kali-rolling"},
		{"arch", "archlinux:latest", "rolling", "debian:bookworm-slim"},
	}
	all := AllDistros()
	if len(all) != len(want) {
		t.Fatalf("%d distros, want %d", len(all), len(want))
	}
	for i, w := range want {
		d, err := LookupDistro(w.slug)
		if err != nil {
			t.Fatal(err)
		}
		if all[i] != d {
			t.Errorf("AllDistros()[%d] = %s, want %s", i, all[i].Slug, w.slug)
		}
		if d.Image != w.image || string(d.HostnameStyle) != w.style || d.BuildBase != w.base || d.DisplayName == "" {
			t.Errorf("%s = %+v", w.slug, d)
		}
	}
}

func TestOSFamilies(t *testing.T) {
	// Columns of the original's table, rows in sysctlOrder.
	want := map[string][]string{
		"linux":    {"64", "6", "1", "1", "1", "2", "0", "60", "1000", "6168"},
		"windows":  {"128", "2", "0", "1", "1", "0", "0", "30", "0", "0"},
		"bsd":      {"64", "6", "1", "1", "1", "0", "0", "60", "250", "6168"},
		"embedded": {"255", "3", "0", "0", "0", "0", "1", "15", "0", "0"},
		"cisco":    {"255", "2", "0", "0", "0", "0", "1", "15", "0", "0"},
	}
	if n := len(AllOS()); n != len(want) {
		t.Fatalf("%d families, want %d", n, len(want))
	}
	for slug, vals := range want {
		f, err := LookupOS(slug)
		if err != nil {
			t.Fatal(err)
		}
		sorted := f.SortedSysctls()
		if len(sorted) != len(vals) {
			t.Fatalf("%s: %d sysctls", slug, len(sorted))
		}
		for i, s := range sorted {
			if s.Key != sysctlOrder[i] || s.Value != vals[i] {
				t.Errorf("%s: sysctl %d = %s=%s, want %s=%s", slug, i, s.Key, s.Value, sysctlOrder[i], vals[i])
			}
		}
		if strconv.Itoa(f.TTL) != vals[0] {
			t.Errorf("%s: TTL %d disagrees with %s", slug, f.TTL, sorted[0].Value)
		}
	}
}

func TestSortedSysctlsExtraKeys(t *testing.T) {
	f := OSFamily{Sysctls: map[string]string{"z.b": "2", "net.ipv4.tcp_sack": "0", "a.b": "1"}}
	got := f.SortedSysctls()
	want := []Sysctl{{"net.ipv4.tcp_sack", "0"}, {"a.b", "1"}, {"z.b", "2"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestOSOrLinux(t *testing.T) {
	for _, slug := range []string{"", "solaris", "Windows"} {
		if f := OSOrLinux(slug); f.Slug != "linux" || f.TTL != 64 {
			t.Errorf("OSOrLinux(%q) = %s", slug, f.Slug)
		}
	}
	if f := OSOrLinux("windows"); f.Slug != "windows" || f.TTL != 128 {
		t.Errorf("OSOrLinux(windows) = %+v", f)
	}
}

func TestHostname(t *testing.T) {
	word := `(alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|nova|oscar|prod|web|db|mail|proxy|dev|stage|backup|monitor|files)`
	tests := []struct {
		style HostnameStyle
		re    string
	}{
		{StyleGeneric, `^SRV-` + strings.ToUpper(word) + `-[1-9][0-9]$`},
		{StyleRHEL, `^` + word + `[1-9][0-9]\.localdomain$`},
		{StyleMinimal, `^` + word + `-[1-9][0-9]$`},
		{StyleRolling, `^` + word + `-` + word + `$`},
		{"unknown", `^SRV-` + strings.ToUpper(word) + `-[1-9][0-9]$`},
	}
	for _, tt := range tests {
		t.Run(string(tt.style), func(t *testing.T) {
			re := regexp.MustCompile(tt.re)
			rng := rand.New(rand.NewPCG(1, 2))
			seen := map[string]bool{}
			for range 500 {
				h := Hostname(tt.style, rng)
				if !re.MatchString(h) {
					t.Fatalf("%q does not match %s", h, tt.re)
				}
				seen[h] = true
			}
			if len(seen) < 100 {
				t.Errorf("only %d distinct names in 500 draws", len(seen))
			}
		})
	}
}

func TestHostnameDeterministic(t *testing.T) {
	draw := func(seed uint64) []string {
		rng := rand.New(rand.NewPCG(seed, seed))
		var out []string
		for _, s := range []HostnameStyle{StyleGeneric, StyleRHEL, StyleMinimal, StyleRolling} {
			out = append(out, Hostname(s, rng), Hostname(s, rng))
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different names: %v vs %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("different seeds, same names: %v", a)
	}
}
