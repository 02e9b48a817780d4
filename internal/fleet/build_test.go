package fleet

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

// summary renders what a test compares: name ip distro os archetype services.
func summary(f Fleet) string {
	var b strings.Builder
	for _, d := range f.Deckies {
		b.WriteString(strings.Join([]string{d.Name, d.IP.String(), d.Distro, d.OS, d.Archetype, strings.Join(d.Services, ",")}, " "))
		b.WriteString("\n")
	}
	return b.String()
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"services, all distros cycled", Options{Deckies: 3, Services: []string{"ssh", " HTTP "}},
			"decky-01 127.77.0.10 debian linux  ssh,http\n" +
				"decky-02 127.77.0.11 ubuntu22 linux  ssh,http\n" +
				"decky-03 127.77.0.12 ubuntu20 linux  ssh,http\n"},
		{"archetype: its services, preferred distros, os", Options{Deckies: 5, Archetype: "linux-server"},
			"decky-01 127.77.0.10 debian linux linux-server ssh,http\n" +
				"decky-02 127.77.0.11 ubuntu22 linux linux-server ssh,http\n" +
				"decky-03 127.77.0.12 rocky9 linux linux-server ssh,http\n" +
				"decky-04 127.77.0.13 fedora linux linux-server ssh,http\n" +
				"decky-05 127.77.0.14 debian linux linux-server ssh,http\n"},
		{"explicit services beat the archetype's", Options{Deckies: 1, Archetype: "deaddeck", Services: []string{"redis"}},
			"decky-01 127.77.0.10 debian linux deaddeck redis\n"},
		{"explicit distros cycled beat preferred", Options{Deckies: 3, Archetype: "deaddeck", Distros: []string{"kali", "Arch"}},
			"decky-01 127.77.0.10 kali linux deaddeck ssh\n" +
				"decky-02 127.77.0.11 arch linux deaddeck ssh\n" +
				"decky-03 127.77.0.12 kali linux deaddeck ssh\n"},
		{"explicit services with windows archetype keep its os", Options{Deckies: 1, Archetype: "windows-server", Services: []string{"http"}},
			"decky-01 127.77.0.10 debian windows windows-server http\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Build(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(f); got != tt.want {
				t.Fatalf("got\n%swant\n%s", got, tt.want)
			}
			for _, d := range f.Deckies {
				style := archetype.StyleGeneric
				if dist, _ := archetype.LookupDistro(d.Distro); dist.HostnameStyle != "" {
					style = dist.HostnameStyle
				}
				if !hostnameMatches(style, d.Hostname) {
					t.Errorf("%s: hostname %q is not in the %s style", d.Name, d.Hostname, style)
				}
			}
		})
	}
}

func hostnameMatches(style archetype.HostnameStyle, h string) bool {
	switch style {
	case archetype.StyleRHEL:
		return strings.HasSuffix(h, ".localdomain")
	case archetype.StyleRolling:
		return strings.Count(h, "-") == 1 && strings.ToLower(h) == h && !strings.ContainsAny(h, "0123456789")
	default:
		return strings.HasPrefix(h, "SRV-")
	}
}

func TestBuildRandom(t *testing.T) {
	opts := Options{Deckies: 6, RandomizeServices: true, RandomizeDistros: true, Seed: 42, MutateInterval: 30}
	a, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Build(opts)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different fleets")
	}
	opts.Seed = 43
	if c, _ := Build(opts); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same fleet")
	}
	if a.General.MutateInterval != 30 || a.MutateInterval(a.Deckies[0]) != 30 {
		t.Errorf("mutate interval %d", a.General.MutateInterval)
	}
	combos := map[string]bool{}
	distros := map[string]bool{}
	for _, d := range a.Deckies {
		if n := len(d.Services); n < 1 || n > 3 {
			t.Errorf("%s: %d services", d.Name, n)
		}
		combos[strings.Join(d.Services, ",")] = true
		distros[d.Distro] = true
	}
	// 4 registered services give 14 combinations of 1-3: six deckies
	// should not repeat one.
	if len(combos) != len(a.Deckies) {
		t.Errorf("repeated service combinations: %v", combos)
	}
	if len(distros) < 2 {
		t.Errorf("random distros all the same: %v", distros)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no deckies", Options{Services: []string{"ssh"}}, "decky count 0: want 1 to 1000"},
		{"too many", Options{Deckies: 1001, Services: []string{"ssh"}}, "decky count 1001: want 1 to 1000"},
		{"no services", Options{Deckies: 1}, "no services chosen: name services, an archetype, or ask for random services"},
		{"unknown services", Options{Deckies: 1, Services: []string{"ssh", "smb", "rdp"}},
			`unknown service "smb", "rdp"; known services: hmi, http, redis, ssh, tftp`},
		{"service twice", Options{Deckies: 1, Services: []string{"ssh", "SSH"}}, `service "ssh" listed twice`},
		{"empty list", Options{Deckies: 1, Services: []string{" ", ""}}, "empty service list"},
		{"archetype not implemented", Options{Deckies: 2, Archetype: "windows-workstation"},
			`archetype "windows-workstation" needs services not implemented yet: rdp, smb`},
		{"unknown archetype", Options{Deckies: 1, Archetype: "nas"}, `unknown archetype "nas"; valid: windows-workstation`},
		{"unknown distro", Options{Deckies: 1, Services: []string{"ssh"}, Distros: []string{"debian", "hurd"}}, `unknown distro "hurd"; valid: debian`},
		{"negative interval", Options{Deckies: 1, Services: []string{"ssh"}, MutateInterval: -1}, "mutate interval -1: want minutes >= 0"},
		{"range leaves loopback", Options{Deckies: 3, Services: []string{"ssh"}, Alloc: mustLocal(t, "127.255.255.253")},
			`decky "decky-03": no free address left in 127.0.0.0/8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want prefix %s", err, tt.want)
			}
		})
	}
	_, err := Build(Options{Deckies: 1, Services: []string{"smb"}})
	if !errors.Is(err, service.ErrUnknown) {
		t.Errorf("%v does not wrap service.ErrUnknown", err)
	}
	_, err = Build(Options{Deckies: 1, Services: []string{"ssh", "sniffer"}})
	if !errors.Is(err, service.ErrFleetSingleton) {
		t.Errorf("%v does not wrap service.ErrFleetSingleton", err)
	}
	for seed := range int64(20) {
		f, err := Build(Options{Deckies: 5, RandomizeServices: true, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Deckies {
			if slices.Contains(d.Services, "sniffer") {
				t.Fatalf("seed %d: random services gave a decky the sniffer", seed)
			}
		}
	}
	_, err = Build(Options{Deckies: 1, Archetype: "printer"})
	if !errors.Is(err, ErrNotImplemented) {
		t.Errorf("%v does not wrap ErrNotImplemented", err)
	}
}

func mustLocal(t *testing.T, base string) *Allocator {
	a, err := LocalAllocator(netip.MustParseAddr(base))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestDefaultFleet(t *testing.T) {
	// This test binary registers ssh, http, redis and tftp.
	f, err := DefaultFleet(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := "decky-01 127.77.0.10 debian linux linux-server ssh,http\n" +
		"decky-02 127.77.0.11 ubuntu22 linux  hmi,redis,tftp,ssh\n"
	if got := summary(f); got != want {
		t.Fatalf("got\n%swant\n%s", got, want)
	}
}

func TestDefaultFleetGrows(t *testing.T) {
	set := func(slugs ...string) []string { return slices.Sorted(slices.Values(slugs)) }
	var every []string
	for _, a := range archetype.All() {
		for _, s := range a.Services {
			if !slices.Contains(every, s) {
				every = append(every, s)
			}
		}
	}
	tests := []struct {
		name       string
		registered []string
		want       string // archetype or services per decky
	}{
		{"today", set("ssh", "http", "redis"), "linux-server [redis ssh]"},
		{"only ssh", set("ssh"), "deaddeck"},
		{"only redis", set("redis"), "[redis]"},
		{"windows lands", set("ssh", "http", "redis", "smb", "rdp"), "windows-workstation linux-server [redis ssh]"},
		{"databases land", set("ssh", "http", "redis", "mysql", "postgres"), "linux-server database-server"},
		{"issue 7's services, each on show", set("ssh", "telnet", "ftp", "tftp", "rdp", "vnc", "smb", "http", "https", "redis", "mysql",
			"postgres", "mssql", "mongodb", "elasticsearch", "docker_api", "k8s", "ldap"),
			"windows-workstation windows-server linux-server web-server database-server devops-host " +
				"[elasticsearch https mongodb ssh] [mssql telnet tftp ssh] [vnc ssh]"},
		{"today's services, each on show", set("ssh", "telnet", "ftp", "tftp", "rdp", "vnc", "smb", "http", "https", "redis", "mysql",
			"postgres", "mssql", "mongodb", "elasticsearch", "docker_api", "k8s", "ldap",
			"smtp", "smtp_relay", "imap", "pop3", "sip", "mqtt", "snmp", "conpot", "llmnr"),
			"windows-workstation windows-server domain-controller linux-server web-server database-server mail-server " +
				"printer iot-device industrial-control voip-server devops-host " +
				"[elasticsearch https mongodb ssh] [mssql smtp_relay tftp ssh] [vnc ssh]"},
		{"half of the mail server", set("ssh", "smtp", "imap"), "deaddeck [imap smtp ssh]"},
		{"every archetype's services", set(every...), "windows-workstation windows-server domain-controller linux-server web-server " +
			"database-server mail-server printer iot-device industrial-control voip-server devops-host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := defaultFleet(1, tt.registered)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range f.Deckies {
				if d.Archetype != "" {
					got = append(got, d.Archetype)
				} else {
					got = append(got, "["+strings.Join(d.Services, " ")+"]")
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), tt.want)
			}
		})
	}
	if _, err := defaultFleet(1, set()); err == nil || err.Error() != "no services are implemented: nothing to deploy" {
		t.Fatalf("empty registry: %v", err)
	}
}

func TestRandomServices(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	pool := []string{"a", "b", "c", "d"}
	if got := RandomServices(rng, nil); got != nil {
		t.Fatalf("empty pool gave %v", got)
	}
	if got := RandomServices(rng, []string{"only"}, []string{"only"}); !reflect.DeepEqual(got, []string{"only"}) {
		t.Fatalf("single pool gave %v", got)
	}
	for range 200 {
		if got := RandomServices(rng, []string{"hmi", "http", "ssh"}); slices.Contains(got, "hmi") && slices.Contains(got, "http") {
			t.Fatalf("picked %v: hmi and http both listen on 80", got)
		}
	}
	for range 200 {
		avoid := [][]string{{"a"}, {"b"}, {"c"}, {"d"}}
		got := RandomServices(rng, pool, avoid...)
		// A single is picked only if 20 draws all were singles: (1/3)^20.
		if len(got) < 2 || len(got) > 3 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("bad pick %v", got)
		}
	}
}
