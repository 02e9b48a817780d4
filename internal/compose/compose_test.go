package compose

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"decnet/internal/archetype"
	"decnet/internal/fleet"
	"decnet/internal/service"
	_ "decnet/internal/service/http"
	_ "decnet/internal/service/redis"
	_ "decnet/internal/service/ssh"
	_ "decnet/internal/service/telnet"
	"decnet/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yml")

const (
	testNet     = "decnet_lan"
	testProject = "decnet"
	testDataDir = "/var/lib/decnet/data"
)

func testOptions(ipvlan bool) Options {
	return Options{Project: testProject, Image: "decnet:v1.0.0", Network: testNet, IPVLAN: ipvlan, DataDir: testDataDir}
}

// archetypeFleet has one decky per archetype, running the archetype's
// registered services (ssh when none is), with a MAC each.
func archetypeFleet(t *testing.T) fleet.Fleet {
	t.Helper()
	var fl fleet.Fleet
	for i, a := range archetype.All() {
		var svcs []string
		for _, s := range a.Services {
			if _, err := service.Lookup(s); err == nil {
				svcs = append(svcs, s)
			}
		}
		if len(svcs) == 0 {
			svcs = []string{"ssh"}
		}
		fl.Deckies = append(fl.Deckies, fleet.Decky{
			Name:      fmt.Sprintf("decky-%02d", i+1),
			IP:        netip.AddrFrom4([4]byte{192, 168, 77, byte(10 + i)}),
			Hostname:  fmt.Sprintf("host-%02d", i+1),
			Distro:    a.PreferredDistros[0],
			Archetype: a.Slug,
			OS:        a.OS,
			Services:  svcs,
			MAC:       fmt.Sprintf("02:42:c0:a8:4d:%02x", 10+i),
		})
	}
	return fl
}

// load parses a compose file the way compose v2 does, with validation.
func load(t testing.TB, yml []byte) *types.Project {
	t.Helper()
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  t.TempDir(),
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yml", Content: yml}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName(testProject, true) })
	if err != nil {
		t.Fatalf("compose-go rejects the file: %v\n%s", err, yml)
	}
	return p
}

func hostOf(d fleet.Decky) service.Host {
	return service.Host{Name: d.Name, Hostname: d.Hostname, Distro: d.Distro, OS: d.OS, Archetype: d.Archetype, IP: d.IP.String(),
		DataDir: service.ContainerDataDir, SharedDir: service.ContainerSharedDir}
}

func TestRenderEveryArchetype(t *testing.T) {
	fl := archetypeFleet(t)
	for _, ipvlan := range []bool{false, true} {
		yml, err := Render(fl, testOptions(ipvlan))
		if err != nil {
			t.Fatal(err)
		}
		p := load(t, yml)
		nw, ok := p.Networks[testNet]
		if !ok || !bool(nw.External) || nw.Name != testNet {
			t.Errorf("network %s: %+v, want external", testNet, nw)
		}
		for i, a := range archetype.All() {
			d := fl.Deckies[i]
			t.Run(fmt.Sprintf("%s/ipvlan=%v", a.Slug, ipvlan), func(t *testing.T) {
				checkBase(t, p, d, ipvlan)
				for _, slug := range d.Services {
					checkService(t, p, d, slug)
				}
			})
		}
		if want := len(fl.Deckies) + countServices(fl); len(p.Services) != want {
			t.Errorf("%d services, want %d", len(p.Services), want)
		}
	}
}

func countServices(fl fleet.Fleet) int {
	n := 0
	for _, d := range fl.Deckies {
		n += len(d.Services)
	}
	return n
}

func checkBase(t *testing.T, p *types.Project, d fleet.Decky, ipvlan bool) {
	t.Helper()
	b, ok := p.Services[d.Name]
	if !ok {
		t.Fatalf("no base service %q", d.Name)
	}
	osf, err := archetype.LookupOS(d.OS)
	if err != nil {
		t.Fatal(err)
	}
	if b.ContainerName != d.Name || b.Hostname != d.Hostname || b.Image != "decnet:v1.0.0" {
		t.Errorf("base name/hostname/image = %q/%q/%q", b.ContainerName, b.Hostname, b.Image)
	}
	if !slices.Equal(b.Command, types.ShellCommand{"idle"}) {
		t.Errorf("base command %q", b.Command)
	}
	if n := b.Networks[testNet]; n == nil || n.Ipv4Address != d.IP.String() || len(b.Networks) != 1 {
		t.Errorf("base networks %+v, want %s on %s", b.Networks, d.IP, testNet)
	}
	if b.NetworkMode != "" {
		t.Errorf("base network_mode %q", b.NetworkMode)
	}
	if len(b.Sysctls) != len(osf.Sysctls) {
		t.Errorf("base sysctls %v, want %v", b.Sysctls, osf.Sysctls)
	}
	for k, v := range osf.Sysctls {
		if b.Sysctls[k] != v {
			t.Errorf("sysctl %s = %q, want %q", k, b.Sysctls[k], v)
		}
	}
	if ttl := b.Sysctls["net.ipv4.ip_default_ttl"]; ttl != fmt.Sprint(osf.TTL) || (d.OS == archetype.OSWindows && ttl != "128") {
		t.Errorf("TTL %q for OS %s", ttl, d.OS)
	}
	wantMAC := strings.ToLower(d.MAC)
	if ipvlan {
		wantMAC = ""
	}
	if b.MacAddress != wantMAC {
		t.Errorf("mac_address %q, want %q", b.MacAddress, wantMAC)
	}
	if len(b.CapAdd) != 0 || len(b.Volumes) != 0 || len(b.DependsOn) != 0 {
		t.Errorf("base has cap_add %v, volumes %v, depends_on %v", b.CapAdd, b.Volumes, b.DependsOn)
	}
	if b.MemLimit == 0 || b.PidsLimit <= 0 {
		t.Errorf("base limits mem %d pids %d", b.MemLimit, b.PidsLimit)
	}
	checkHardened(t, b, true)
	checkCommon(t, b, map[string]string{LabelProject: testProject, LabelRole: RoleDecky, LabelDecky: d.Name})
}

func checkService(t *testing.T, p *types.Project, d fleet.Decky, slug string) {
	t.Helper()
	name := ContainerName(d.Name, slug)
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("no service %q", name)
	}
	svc, err := service.Lookup(slug)
	if err != nil {
		t.Fatal(err)
	}
	frag := service.FragmentOf(svc, hostOf(d), d.ServiceConfig[slug])
	if s.ContainerName != name || s.Image != "decnet:v1.0.0" {
		t.Errorf("%s: container_name %q image %q", name, s.ContainerName, s.Image)
	}
	if !slices.Equal(s.Command, types.ShellCommand(frag.Command)) {
		t.Errorf("%s: command %q, want %q", name, s.Command, frag.Command)
	}
	if s.NetworkMode != "service:"+d.Name {
		t.Errorf("%s: network_mode %q", name, s.NetworkMode)
	}
	if _, ok := s.DependsOn[d.Name]; !ok || len(s.DependsOn) != 1 {
		t.Errorf("%s: depends_on %v", name, s.DependsOn)
	}
	if s.Hostname != "" || len(s.Networks) != 0 || len(s.Ports) != 0 || s.MacAddress != "" || len(s.Sysctls) != 0 {
		t.Errorf("%s: has hostname %q networks %v ports %v mac %q sysctls %v", name, s.Hostname, s.Networks, s.Ports, s.MacAddress, s.Sysctls)
	}
	if !slices.Equal(s.CapAdd, []string{"NET_BIND_SERVICE"}) {
		t.Errorf("%s: cap_add %v", name, s.CapAdd)
	}
	wantMem := types.UnitBytes(positiveOr(frag.MemoryMB, service.DefaultMemoryMB)) << 20
	if s.MemLimit != wantMem || s.PidsLimit != int64(positiveOr(frag.Pids, service.DefaultPids)) {
		t.Errorf("%s: mem_limit %d pids_limit %d, want %d %d", name, s.MemLimit, s.PidsLimit, wantMem, frag.Pids)
	}
	if len(s.Environment) != len(frag.Environment) {
		t.Errorf("%s: environment %v, want %v", name, s.Environment, frag.Environment)
	}
	for k, v := range frag.Environment {
		if got := s.Environment[k]; got == nil || *got != v {
			t.Errorf("%s: environment %s = %v, want %q", name, k, got, v)
		}
	}
	var want []string // source:target, writable
	if frag.Data {
		want = append(want, filepath.Join(testDataDir, d.Name, slug)+":"+service.ContainerDataDir)
	}
	if frag.Shared {
		want = append(want, filepath.Join(testDataDir, d.Name, service.SharedDirName)+":"+service.ContainerSharedDir)
	}
	var got []string
	for _, v := range s.Volumes {
		if v.ReadOnly {
			t.Errorf("%s: volume %+v is read-only", name, v)
		}
		got = append(got, v.Source+":"+v.Target)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: volumes %q, want %q", name, got, want)
	}
	checkHardened(t, s, true)
	checkCommon(t, s, map[string]string{LabelProject: testProject, LabelRole: RoleService, LabelDecky: d.Name, LabelService: slug})
}

// checkHardened checks what decnet's own containers get beyond common.
func checkHardened(t *testing.T, s types.ServiceConfig, own bool) {
	t.Helper()
	if own != (s.User == DefaultUser) || own != s.ReadOnly {
		t.Errorf("%s: user %q read_only %v", s.Name, s.User, s.ReadOnly)
	}
}

// checkCommon checks what every container gets.
func checkCommon(t *testing.T, s types.ServiceConfig, labels map[string]string) {
	t.Helper()
	if !slices.Equal(s.CapDrop, []string{"ALL"}) || !slices.Equal(s.SecurityOpt, []string{"no-new-privileges:true"}) {
		t.Errorf("%s: cap_drop %v security_opt %v", s.Name, s.CapDrop, s.SecurityOpt)
	}
	if s.Restart != "unless-stopped" {
		t.Errorf("%s: restart %q", s.Name, s.Restart)
	}
	if s.Logging == nil || s.Logging.Driver != "json-file" || s.Logging.Options["max-size"] != "10m" || s.Logging.Options["max-file"] != "5" {
		t.Errorf("%s: logging %+v", s.Name, s.Logging)
	}
	if len(s.Labels) != len(labels) {
		t.Errorf("%s: labels %v, want %v", s.Name, s.Labels, labels)
	}
	for k, v := range labels {
		if s.Labels[k] != v {
			t.Errorf("%s: label %s = %q, want %q", s.Name, k, s.Labels[k], v)
		}
	}
}

// goldenFleet is a fixed two-decky fleet with persona keys (one holding
// characters compose and YAML treat specially) and a custom service.
func goldenFleet() fleet.Fleet {
	return fleet.Fleet{
		General: fleet.General{Net: netip.MustParsePrefix("192.168.1.0/24"), Gateway: netip.MustParseAddr("192.168.1.1")},
		Deckies: []fleet.Decky{
			{
				Name: "web-01", IP: netip.MustParseAddr("192.168.1.110"), Hostname: "SRV-WEB-42", Distro: "debian",
				Archetype: "linux-server", OS: "linux", Services: []string{"http", "ssh", "telnet", "myapp"},
				ServiceConfig: map[string]map[string]string{
					"http": {"server_header": "nginx/1.18.0"},
					"ssh":  {"password": "Summer$2024: on #1"},
				},
				MAC: "02:42:C0:A8:01:6E",
			},
			{
				Name: "ws-01", IP: netip.MustParseAddr("192.168.1.111"), Hostname: "SRV-ALPHA-17", Distro: "ubuntu22",
				Archetype: "windows-workstation", OS: "windows", Services: []string{"redis"},
				ServiceConfig: map[string]map[string]string{"redis": {"version": "7.0.15"}},
			},
		},
		Customs: []fleet.Custom{{Name: "myapp", Binary: "registry.local/my-image:1.2", Exec: "/usr/bin/myapp -p 9999", Ports: []int{9999}}},
	}
}

// trickyFleet has names and values that a YAML 1.1 reader (docker-compose)
// takes for numbers or booleans when they are written unquoted.
func trickyFleet() fleet.Fleet {
	fl := fleet.Fleet{}
	for i, name := range []string{"on", "1_000", "0b101", "1.5", "0x1F", "12e3", "Null"} {
		fl.Deckies = append(fl.Deckies, fleet.Decky{
			Name: name, IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(2 + i)}), Hostname: []string{"12:34", "yes", "~", "0755"}[i%4],
			Distro: "debian", OS: "linux", Services: []string{"ssh"}, MAC: fmt.Sprintf("12:34:56:12:34:%02d", 10+i),
			ServiceConfig: map[string]map[string]string{"ssh": {"password": "two\n lines $x ${y} #z"}},
		})
	}
	return fl
}

func TestRenderYAMLPitfalls(t *testing.T) {
	fl := trickyFleet()
	o := testOptions(false)
	o.User = "1000:20"
	yml, err := Render(fl, o)
	if err != nil {
		t.Fatal(err)
	}
	p := load(t, yml)
	for _, d := range fl.Deckies {
		b, s := p.Services[d.Name], p.Services[ContainerName(d.Name, "ssh")]
		if b.ContainerName != d.Name || b.Hostname != d.Hostname || b.MacAddress != d.MAC || b.User != o.User {
			t.Errorf("base %q: name %q hostname %q mac %q user %q", d.Name, b.ContainerName, b.Hostname, b.MacAddress, b.User)
		}
		if s.NetworkMode != "service:"+d.Name || s.Labels[LabelDecky] != d.Name ||
			!slices.Contains(s.Command, "password="+d.ServiceConfig["ssh"]["password"]) {
			t.Errorf("service of %q: network_mode %q labels %v command %q", d.Name, s.NetworkMode, s.Labels, s.Command)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	fl := goldenFleet()
	yml, err := Render(fl, testOptions(false))
	if err != nil {
		t.Fatal(err)
	}
	again, err := Render(fl, testOptions(false))
	if err != nil || string(again) != string(yml) {
		t.Fatalf("second render differs (err %v)", err)
	}
	const golden = "testdata/fleet.golden.yml"
	if *update {
		if err := os.WriteFile(golden, yml, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(yml) != string(want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", golden, yml)
	}

	p := load(t, yml)
	checkBase(t, p, fl.Deckies[0], false)
	checkBase(t, p, fl.Deckies[1], false)
	checkService(t, p, fl.Deckies[0], "http")
	checkService(t, p, fl.Deckies[0], "ssh")
	checkService(t, p, fl.Deckies[0], "telnet")
	checkService(t, p, fl.Deckies[1], "redis")
	if got := p.Services["web-01"].MacAddress; got != "02:42:c0:a8:01:6e" {
		t.Errorf("MAC %q, want it normalised", got)
	}
	ssh := p.Services["web-01-ssh"]
	if !slices.Contains(ssh.Command, "password=Summer$2024: on #1") {
		t.Errorf("ssh command %q lost the persona key", ssh.Command)
	}
	// ssh and telnet are two ways into one machine: one filesystem, one
	// set of passwords, in one host directory both containers mount.
	shared := func(name string) (src string) {
		for _, v := range p.Services[name].Volumes {
			if v.Target == service.ContainerSharedDir && !v.ReadOnly {
				src = v.Source
			}
		}
		return src
	}
	if a, b := shared("web-01-ssh"), shared("web-01-telnet"); a == "" || a != b ||
		!slices.Contains(p.Services["web-01-telnet"].Command, "--"+service.FlagSharedDir) {
		t.Errorf("shared directory of ssh %q, of telnet %q, telnet command %q: want one", a, b, p.Services["web-01-telnet"].Command)
	}
	if s := shared("web-01-http"); s != "" {
		t.Errorf("http mounts the shared directory %s", s)
	}
	c := p.Services["web-01-myapp"]
	if c.Image != "registry.local/my-image:1.2" || !slices.Equal(c.Command, types.ShellCommand{"/usr/bin/myapp", "-p", "9999"}) ||
		c.NetworkMode != "service:web-01" || !slices.Equal(c.CapAdd, []string{"NET_BIND_SERVICE"}) || c.MemLimit != 0 {
		t.Errorf("custom service: %+v", c)
	}
	checkHardened(t, c, false)
	checkCommon(t, c, map[string]string{LabelProject: testProject, LabelRole: RoleService, LabelDecky: "web-01", LabelService: "myapp"})
}

// TestDockerComposeAccepts checks the files against the docker-compose
// (or compose v2) the runtime drives, which is stricter than compose-go in
// places (docker-compose 1.29 reads YAML 1.1 and an older schema).
func TestDockerComposeAccepts(t *testing.T) {
	cmd := composeCommand()
	if cmd == nil {
		testutil.Skip(t, "neither docker-compose nor docker compose is installed")
	}
	files := map[string]fleet.Fleet{"archetypes": archetypeFleet(t), "golden": goldenFleet(), "tricky": trickyFleet()}
	for name, fl := range files {
		for _, ipvlan := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ipvlan=%v", name, ipvlan), func(t *testing.T) {
				yml, err := Render(fl, testOptions(ipvlan))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(t.TempDir(), "compose.yml")
				if err := os.WriteFile(path, yml, 0o600); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				args := append(cmd[1:len(cmd):len(cmd)], "-p", testProject, "-f", path, "config", "-q")
				out, err := exec.CommandContext(ctx, cmd[0], args...).CombinedOutput()
				if err != nil {
					t.Fatalf("%s rejects the file: %v\n%s\n%s", strings.Join(cmd, " "), err, out, yml)
				}
			})
		}
	}
}

// composeCommand is compose v2 when present, else docker-compose, as the
// runtime chooses; nil when neither exists.
func composeCommand() []string {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	return nil
}

func TestRenderErrors(t *testing.T) {
	ok := func() fleet.Fleet { return goldenFleet() }
	tests := []struct {
		name string
		fl   func() fleet.Fleet
		opts func(*Options)
		want string // in the error
		// data is set when only services storing data need the option:
		// which services do is their plugins' business.
		data bool
	}{
		{"invalid fleet", func() fleet.Fleet { f := ok(); f.Deckies[1].Hostname = ""; return f }, nil, `invalid fleet: decky "ws-01": no hostname`, false},
		{"empty fleet", func() fleet.Fleet { return fleet.Fleet{} }, nil, "no deckies", false},
		{"no IP", func() fleet.Fleet { f := ok(); f.Deckies[1].IP = netip.Addr{}; return f }, nil, `decky "ws-01": no IP address`, false},
		{"IPv6", func() fleet.Fleet { f := ok(); f.Deckies[1].IP = netip.MustParseAddr("fd00::1"); return f }, nil, `decky "ws-01": IP address fd00::1 is not IPv4`, false},
		{"unknown service", func() fleet.Fleet { f := ok(); f.Deckies[1].Services = []string{"nosuch"}; return f }, nil, `decky "ws-01": unknown service "nosuch"`, false},
		{"bad MAC", func() fleet.Fleet { f := ok(); f.Deckies[0].MAC = "02:42:c0:a8:01"; return f }, nil, `decky "web-01": MAC address`, false},
		{"long MAC", func() fleet.Fleet {
			f := ok()
			f.Deckies[0].MAC = "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"
			return f
		}, nil, "not a 48-bit MAC", false},
		{"name clash", func() fleet.Fleet {
			f := ok()
			f.Deckies[1].Name = "web-01-ssh"
			return f
		}, nil, `container name "web-01-ssh" of decky "web-01-ssh" is also used by service "ssh" of decky "web-01"`, false},
		{"name clash by case", func() fleet.Fleet {
			f := ok()
			f.Deckies[1].Name = "WEB-01-redis"
			f.Deckies[0].Services = append(f.Deckies[0].Services, "redis")
			return f
		}, nil, `container name "WEB-01-redis" of decky "WEB-01-redis" is also used by service "redis" of decky "web-01"`, false},
		{"NUL in persona", func() fleet.Fleet { f := ok(); f.Deckies[0].ServiceConfig["ssh"]["password"] = "a\x00b"; return f }, nil, `decky "web-01": service "ssh": command argument`, false},
		{"non-UTF-8 hostname", func() fleet.Fleet { f := ok(); f.Deckies[0].Hostname = "h\xff"; return f }, nil, `decky "web-01": hostname`, false},
		{"bad custom image", func() fleet.Fleet { f := ok(); f.Customs[0].Binary = "img:${X}"; return f }, nil, `service "myapp": image`, false},
		{"data without data dir", ok, func(o *Options) { o.DataDir = "" }, "data directory", true},
		{"relative data dir", ok, func(o *Options) { o.DataDir = "data" }, "data directory", true},
		{"colon in data dir", ok, func(o *Options) { o.DataDir = "/a:b" }, "data directory", true},
		{"empty project", ok, func(o *Options) { o.Project = "" }, `project name ""`, false},
		{"upper-case project", ok, func(o *Options) { o.Project = "DecNet" }, `project name "DecNet"`, false},
		{"empty image", ok, func(o *Options) { o.Image = "" }, `image ""`, false},
		{"image with space", ok, func(o *Options) { o.Image = "a b" }, `image "a b"`, false},
		{"empty network", ok, func(o *Options) { o.Network = "" }, `network name ""`, false},
		{"bad user", ok, func(o *Options) { o.User = "1000:1000 --privileged" }, "user", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(false)
			if tt.opts != nil {
				tt.opts(&o)
			}
			_, err := Render(tt.fl(), o)
			if tt.data && !needsData(tt.fl()) {
				if err != nil {
					t.Fatalf("err = %v, want none: no service stores data", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func needsData(fl fleet.Fleet) bool {
	for _, d := range fl.Deckies {
		for _, slug := range d.Services {
			if svc, err := service.Lookup(slug); err == nil {
				if f := service.FragmentOf(svc, hostOf(d), d.ServiceConfig[slug]); f.Data || f.Shared {
					return true
				}
			}
		}
	}
	return false
}

func TestRenderUser(t *testing.T) {
	o := testOptions(true)
	o.User = "1000:1000"
	yml, err := Render(goldenFleet(), o)
	if err != nil {
		t.Fatal(err)
	}
	p := load(t, yml)
	for _, name := range []string{"web-01", "web-01-ssh", "ws-01-redis"} {
		if u := p.Services[name].User; u != "1000:1000" {
			t.Errorf("%s: user %q", name, u)
		}
	}
	if u := p.Services["web-01-myapp"].User; u != "" {
		t.Errorf("custom service runs as %q, want its image's user", u)
	}
}

func TestRenderKeepsFleet(t *testing.T) {
	// Render must not edit the caller's fleet (the runtime keeps it).
	fl := goldenFleet()
	before := fmt.Sprintf("%+v", fl)
	if _, err := Render(fl, testOptions(false)); err != nil {
		t.Fatal(err)
	}
	if after := fmt.Sprintf("%+v", fl); after != before {
		t.Errorf("Render changed the fleet:\n%s\n%s", before, after)
	}
}

// FuzzRenderPersona checks that any persona value reaches the service's
// command unchanged through compose's YAML and interpolation, or is
// refused: a value must never become YAML structure or a variable.
func FuzzRenderPersona(f *testing.F) {
	for _, s := range []string{"Summer2024!", "${HOME}", "$$", "on", "1:20", "- a\nb: c", `"'\`, "0755", "~", "a #b"} {
		f.Add(s, "h")
	}
	f.Fuzz(func(t *testing.T, password, hostname string) {
		fl := goldenFleet()
		fl.Deckies[0].ServiceConfig["ssh"]["password"] = password
		fl.Deckies[0].Hostname = "SRV-" + hostname
		yml, err := Render(fl, testOptions(false))
		if err != nil {
			if errors.Is(err, service.ErrPersonaKey) || strings.Contains(err.Error(), "UTF-8") || strings.Contains(err.Error(), "NUL") {
				return
			}
			t.Fatal(err)
		}
		p := load(t, yml)
		d := fl.Deckies[0]
		svc, err := service.Lookup("ssh")
		if err != nil {
			t.Fatal(err)
		}
		want := service.FragmentOf(svc, hostOf(d), d.ServiceConfig["ssh"]).Command
		if got := p.Services["web-01-ssh"].Command; !slices.Equal(got, types.ShellCommand(want)) {
			t.Fatalf("command %q, want %q", got, want)
		}
		if got := p.Services["web-01"].Hostname; got != d.Hostname {
			t.Fatalf("hostname %q, want %q", got, d.Hostname)
		}
	})
}
