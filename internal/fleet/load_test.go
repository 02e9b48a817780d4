package fleet

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"decnet/internal/service"
)

func load(t *testing.T, src string) Fleet {
	t.Helper()
	f, err := LoadINI(strings.NewReader(src), "fleet.ini", 1)
	if err != nil {
		t.Fatalf("LoadINI: %v", err)
	}
	return f
}

// TestLoadINIErrors holds one case per rule; want is the whole error text.
func TestLoadINIErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"typo in decky key", "[web-01]\nservices = ssh\nsevices = http\n",
			`fleet.ini:3: [web-01] key "sevices": unknown key (did you mean "services"?)`},
		{"unknown key without suggestion", "[web-01]\nservices = ssh\ncolour = blue\n",
			`fleet.ini:3: [web-01] key "colour": unknown key`},
		{"duplicate key, case-insensitive", "[web-01]\nservices = ssh\nSERVICES = http\n",
			`fleet.ini:3: [web-01] key "SERVICES": duplicate key (first set on line 2)`},
		{"duplicate through alias", "[web-01]\nservices = ssh\nnmap_os = linux\nnmap-os = bsd\n",
			`fleet.ini:4: [web-01] key "nmap-os": duplicate key (first set on line 3)`},
		{"empty value", "[web-01]\nservices =\n",
			`fleet.ini:2: [web-01] key "services": empty value`},
		{"bad decky name", "[-web]\nservices = ssh\n",
			`fleet.ini:1: [-web] invalid decky name: want 1-63 letters, digits, '.', '-' or '_', starting with a letter or digit`},
		{"decky name too long", "[" + strings.Repeat("a", 64) + "]\nservices = ssh\n",
			`fleet.ini:1: [` + strings.Repeat("a", 64) + `] invalid decky name: want 1-63 letters, digits, '.', '-' or '_', starting with a letter or digit`},
		{"expanded name too long", "[" + strings.Repeat("a", 62) + "]\nservices = ssh\namount = 2\n",
			`fleet.ini:1: [` + strings.Repeat("a", 62) + `] decky name "` + strings.Repeat("a", 62) + `-01" (from amount) is longer than 63 characters`},
		{"unknown service", "[web-01]\nservices = ssh, htp\n",
			`fleet.ini:2: [web-01] key "services": unknown service "htp" (did you mean "http"?); known services: hmi, http, redis, ssh, tftp`},
		{"fleet singleton", "[web-01]\nservices = ssh, sniffer\n",
			`fleet.ini:2: [web-01] key "services": service "sniffer" runs once for the whole fleet, not on a decky`},
		{"service listed twice", "[web-01]\nservices = ssh, SSH\n",
			`fleet.ini:2: [web-01] key "services": service "ssh" listed twice`},
		{"unknown archetype", "[web-01]\narchetype = linux-sever\n",
			`fleet.ini:2: [web-01] key "archetype": unknown archetype "linux-sever" (did you mean "linux-server"?)`},
		{"archetype not implemented", "[ws]\narchetype = windows-workstation\n",
			`fleet.ini:2: [ws] key "archetype": archetype "windows-workstation" needs services not implemented yet: rdp, smb`},
		{"unknown os", "[web-01]\nservices = ssh\nnmap_os = windos\n",
			`fleet.ini:3: [web-01] key "nmap_os": unknown OS family "windos" (did you mean "windows"?)`},
		{"unknown distro", "[web-01]\nservices = ssh\ndistro = debain\n",
			`fleet.ini:3: [web-01] key "distro": unknown distro "debain" (did you mean "debian"?)`},
		{"mutate interval zero", "[web-01]\nservices = ssh\nmutate_interval = 0\n",
			`fleet.ini:3: [web-01] key "mutate_interval": "0": want whole minutes from 1 to 5256000`},
		{"mutate interval with unit", "[web-01]\nservices = ssh\nmutate-interval = 30m\n",
			`fleet.ini:3: [web-01] key "mutate-interval": "30m": want whole minutes from 1 to 5256000`},
		{"amount too big", "[web]\nservices = ssh\namount = 101\n",
			`fleet.ini:3: [web] key "amount": "101": want a whole number from 1 to 100`},
		{"amount zero", "[web]\nservices = ssh\namount = 0\n",
			`fleet.ini:3: [web] key "amount": "0": want a whole number from 1 to 100`},
		{"amount with ip", "[web]\nservices = ssh\namount = 2\nip = 10.0.0.5\n",
			`fleet.ini:4: [web] key "ip": cannot be combined with amount = 2: a group's addresses are assigned automatically`},
		{"amount with hostname", "[web]\nservices = ssh\namount = 2\nhostname = www\n",
			`fleet.ini:4: [web] key "hostname": cannot be combined with amount = 2: each decky needs its own hostname`},
		{"bad hostname", "[web]\nservices = ssh\nhostname = -bad-\n",
			`fleet.ini:3: [web] key "hostname": "-bad-" is not a valid hostname`},
		{"ipv6", "[web]\nservices = ssh\nip = ::1\n",
			`fleet.ini:3: [web] key "ip": "::1" is not an IPv4 address`},
		{"ip outside net", "[general]\nnet = 10.0.0.0/24\n[web]\nservices = ssh\nip = 10.0.1.5\n",
			`fleet.ini:5: [web] key "ip": 10.0.1.5 is outside net 10.0.0.0/24`},
		{"ip is broadcast", "[general]\nnet = 10.0.0.0/24\n[web]\nservices = ssh\nip = 10.0.0.255\n",
			`fleet.ini:5: [web] key "ip": 10.0.0.255 is the network or broadcast address of 10.0.0.0/24`},
		{"ip is gateway", "[general]\ngw = 10.0.0.1\n[web]\nservices = ssh\nip = 10.0.0.1\n",
			`fleet.ini:5: [web] key "ip": 10.0.0.1 is the gateway`},
		{"ip used twice", "[a]\nservices = ssh\nip = 10.0.0.5\n[b]\nservices = ssh\nip = 10.0.0.5\n",
			`fleet.ini:6: [b] key "ip": 10.0.0.5 is already used by decky "a"`},
		{"net with host bits", "[general]\nnet = 10.0.0.1/24\n[a]\nservices = ssh\n",
			`fleet.ini:2: [general] key "net": 10.0.0.1/24 has host bits set (did you mean 10.0.0.0/24?)`},
		{"bad net", "[general]\nnet = 10.0.0.0\n[a]\nservices = ssh\n",
			`fleet.ini:2: [general] key "net": "10.0.0.0" is not an IPv4 subnet like 192.168.1.0/24`},
		{"gateway outside net", "[general]\nnet = 10.0.0.0/24\ngw = 10.0.1.1\n[a]\nservices = ssh\n",
			`fleet.ini:3: [general] key "gw": gateway 10.0.1.1 is outside net 10.0.0.0/24`},
		{"bad interface", "[general]\ninterface = eth0 with spaces\n[a]\nservices = ssh\n",
			`fleet.ini:2: [general] key "interface": "eth0 with spaces" is not a network interface name`},
		{"general log_target", "[General]\nlog_target = 1.2.3.4:514\n[a]\nservices = ssh\n",
			`fleet.ini:2: [General] key "log_target": unknown key`},
		{"decky defined twice by amount", "[web]\nservices = ssh\namount = 2\n[web-02]\nservices = ssh\n",
			`fleet.ini:4: [web-02] decky "web-02" is also defined by [web] on line 1`},
		{"decky names differ only in case", "[Web]\nservices = ssh\n[web]\nservices = ssh\n",
			`fleet.ini:3: [web] duplicate section (first on line 1)`},
		{"no deckies", "[general]\nnet = 10.0.0.0/24\n",
			`fleet.ini: no decky sections: nothing to deploy`},
		{"empty file", "",
			`fleet.ini: no decky sections: nothing to deploy`},
		{"orphan service section", "[web-01]\nservices = ssh\n[web-02.ssh]\npassword = x\n",
			`fleet.ini:3: [web-02.ssh] no decky or group named "web-02"`},
		{"service section for a service not run", "[web-01]\nservices = ssh\n[web-01.http]\nserver_header = x\n",
			`fleet.ini:3: [web-01.http] decky "web-01" does not run service "http" (its services: ssh)`},
		{"service section with unknown service", "[web-01]\nservices = ssh\n[web-01.htp]\nserver_header = x\n",
			`fleet.ini:3: [web-01.htp] unknown service "htp" (did you mean "http"?)`},
		{"persona key typo", "[web-01]\nservices = http\n[web-01.http]\nsever_header = nginx\n",
			`fleet.ini:4: [web-01.http] key "sever_header": unknown key for service http (did you mean "server_header"?); known keys: fake_app, methods, response_code, server_header, tls_cert, tls_key`},
		{"persona bad value", "[web-01]\nservices = http\n[web-01.http]\nserver_header = nginx\nresponse_code = forbidden\n",
			`fleet.ini:5: [web-01.http] key "response_code": service http: persona key "response_code": "forbidden" is not a whole number`},
		{"persona validate on one key", "[web-01]\nservices = http\n[web-01.http]\nresponse_code = 999\n",
			`fleet.ini:4: [web-01.http] key "response_code": service http: persona key: response_code 999 is not an HTTP status`},
		{"persona keys that go together", "[web-01]\nservices = http\n[web-01.http]\ntls_cert = /c.pem\n",
			`fleet.ini:4: [web-01.http] key "tls_cert": service http: persona key: tls_cert and tls_key go together`},
		{"persona duplicate key", "[web-01]\nservices = ssh\n[web-01.ssh]\npassword = a\nPassword = b\n",
			`fleet.ini:5: [web-01.ssh] key "Password": duplicate key (first set on line 4)`},
		{"service without persona", "[web-01]\nservices = tftp\n[web-01.tftp]\nroot = /srv\n",
			`fleet.ini:4: [web-01.tftp] key "root": service tftp takes no persona keys`},
		{"group and member keys clash", "[web]\nservices = http\namount = 2\n[web.http]\ntls_cert = /c.pem\ntls_key = /k.pem\n[web-02.http]\ntls_key =\n",
			`fleet.ini:7: [web-02.http] decky "web-02": service http: persona key: tls_cert and tls_key go together`},
		{"custom without binary", "[custom-app]\nports = 80\n[a]\nservices = ssh\n",
			`fleet.ini:1: [custom-app] no binary`},
		{"custom bad port", "[custom-app]\nbinary = x\nports = 80, http\n[a]\nservices = ssh\n",
			`fleet.ini:3: [custom-app] key "ports": "http" is not a port number`},
		{"custom port range", "[custom-app]\nbinary = x\nports = 70000\n[a]\nservices = ssh\n",
			`fleet.ini:1: [custom-app] port 70000 out of range 1-65535`},
		{"custom shadows builtin", "[custom-ssh]\nbinary = x\nports = 22\n[a]\nservices = ssh\n",
			`fleet.ini:1: [custom-ssh] name taken by a built-in service`},
		{"custom bad name", "[custom-My App]\nbinary = x\nports = 22\n[a]\nservices = ssh\n",
			`fleet.ini:1: [custom-My App] invalid name (want ^[a-z][a-z0-9_-]{0,31}$)`},
		{"custom takes no persona keys", "[custom-app]\nbinary = x\nports = 9\n[a]\nservices = app\n[a.app]\nk = v\n",
			`fleet.ini:7: [a.app] key "k": service app takes no persona keys`},
		{"service section of a broken decky is not reported again", "[web]\nservices = ssh\namount = 2\nip = 10.0.0.1\n[web.ssh]\npassword = x\n[web-01.ssh]\npassword = y\n",
			`fleet.ini:4: [web] key "ip": cannot be combined with amount = 2: a group's addresses are assigned automatically`},
		{"several errors", "[a]\nservices = nope\n[b]\narchetype = nope\n",
			"fleet.ini:2: [a] key \"services\": unknown service \"nope\"; known services: hmi, http, redis, ssh, tftp\n" +
				"fleet.ini:4: [b] key \"archetype\": unknown archetype \"nope\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadINI(strings.NewReader(tt.src), "fleet.ini", 1)
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			if err.Error() != tt.want {
				t.Fatalf("got  %s\nwant %s", err, tt.want)
			}
			var e *Error
			if tt.want != "" && !strings.HasPrefix(tt.want, "fleet.ini: ") && !errors.As(err, &e) {
				t.Fatalf("%T is not a *fleet.Error", err)
			}
		})
	}
}

func TestLoadINIErrorCap(t *testing.T) {
	var b strings.Builder
	for range 30 {
		b.WriteString("[x]\n")
	}
	_, err := LoadINI(strings.NewReader(b.String()), "f.ini", 1)
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || lines[maxErrors] != "f.ini: 9 more errors not shown" {
		t.Fatalf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestLoadINITooLarge(t *testing.T) {
	src := "[a]\nservices = ssh\n" + strings.Repeat("# padding\n", MaxINISize/10)
	_, err := LoadINI(strings.NewReader(src), "big.ini", 1)
	if err == nil || err.Error() != "big.ini: larger than 1048576 bytes" {
		t.Fatalf("got %v", err)
	}
}

func TestLoadINIWrapsCauses(t *testing.T) {
	_, err := LoadINI(strings.NewReader("[a]\nservices = http\n[a.http]\nresponse_code = x\n"), "f.ini", 1)
	if !errors.Is(err, service.ErrPersonaKey) {
		t.Fatalf("%v does not wrap service.ErrPersonaKey", err)
	}
	_, err = LoadINI(strings.NewReader("[a]\narchetype = mail-server\n"), "f.ini", 1)
	if !errors.Is(err, ErrNotImplemented) {
		t.Fatalf("%v does not wrap ErrNotImplemented", err)
	}
}

// exampleINI is the original's documented example (section 6.2 of the
// facts), with trailing comments that the original would have kept in the
// values.
const exampleINI = `[general]
net = 192.168.1.0/24
gw = 192.168.1.1
interface = eth0

[web-01]
ip = 192.168.1.110     # fixed address
services = http, ssh
nmap_os = linux
mutate_interval = 60

[web-01.http]
server_header = nginx/1.18.0
fake_app = wordpress

[web-01.ssh]
password = Summer2024!
hostname = prod-web-01

[corp-ws]
archetype = windows-workstation
amount = 3

[plc-01]
archetype = industrial-control

[custom-myapp]
binary = my-image:latest
exec = /usr/bin/myapp -p 9999
ports = 9999
`

func TestLoadINIExample(t *testing.T) {
	// Only ssh, http, redis and tftp exist in this test: the two archetypes
	// that need more are reported, each at its line.
	_, err := LoadINI(strings.NewReader(exampleINI), "example.ini", 1)
	want := "example.ini:21: [corp-ws] key \"archetype\": archetype \"windows-workstation\" needs services not implemented yet: rdp, smb\n" +
		"example.ini:25: [plc-01] key \"archetype\": archetype \"industrial-control\" needs services not implemented yet: conpot"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}

	src := strings.Replace(exampleINI, "windows-workstation", "linux-server", 1)
	src = strings.Replace(src, "industrial-control", "deaddeck", 1)
	f := load(t, src)
	if f.General != (General{Net: netip.MustParsePrefix("192.168.1.0/24"), Gateway: netip.MustParseAddr("192.168.1.1"), Interface: "eth0"}) {
		t.Errorf("general = %+v", f.General)
	}
	var names []string
	for _, d := range f.Deckies {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, " "); got != "web-01 corp-ws-01 corp-ws-02 corp-ws-03 plc-01" {
		t.Fatalf("deckies %s", got)
	}
	web := f.Deckies[0]
	if web.IP != netip.MustParseAddr("192.168.1.110") || web.MutateInterval != 60 || web.OS != "linux" ||
		!reflect.DeepEqual(web.Services, []string{"http", "ssh"}) {
		t.Errorf("web-01 = %+v", web)
	}
	wantCfg := map[string]map[string]string{
		"http": {"server_header": "nginx/1.18.0", "fake_app": "wordpress"},
		"ssh":  {"password": "Summer2024!", "hostname": "prod-web-01"},
	}
	if !reflect.DeepEqual(web.ServiceConfig, wantCfg) {
		t.Errorf("web-01 service config = %v", web.ServiceConfig)
	}
	if want := []Custom{{Name: "myapp", Binary: "my-image:latest", Exec: "/usr/bin/myapp -p 9999", Ports: []int{9999}}}; !reflect.DeepEqual(f.Customs, want) {
		t.Errorf("customs = %+v", f.Customs)
	}
	for _, d := range f.Deckies[1:] {
		if d.IP.IsValid() {
			t.Errorf("%s has address %s before AssignIPs", d.Name, d.IP)
		}
	}
}

func TestLoadINIGroups(t *testing.T) {
	f := load(t, `
[web]
archetype = linux-server
amount = 4
[web.http]
server_header = Apache/2.4.54 (Debian)
response_code = 404
[web-03.http]
response_code = 200
methods = GET, POST
[web-03.ssh]
password = hunter2
`)
	if len(f.Deckies) != 4 {
		t.Fatalf("%d deckies", len(f.Deckies))
	}
	wantDistros := []string{"debian", "ubuntu22", "rocky9", "fedora"} // preferred, cycled
	for i, d := range f.Deckies {
		if d.Name != []string{"web-01", "web-02", "web-03", "web-04"}[i] || d.Archetype != "linux-server" ||
			!reflect.DeepEqual(d.Services, []string{"ssh", "http"}) || d.Distro != wantDistros[i] {
			t.Errorf("decky %d = %+v", i, d)
		}
		http := d.ServiceConfig["http"]
		want := map[string]string{"server_header": "Apache/2.4.54 (Debian)", "response_code": "404"}
		if d.Name == "web-03" {
			want = map[string]string{"server_header": "Apache/2.4.54 (Debian)", "response_code": "200", "methods": "GET, POST"}
		}
		if !reflect.DeepEqual(http, want) {
			t.Errorf("%s http config %v, want %v", d.Name, http, want)
		}
		if _, has := d.ServiceConfig["ssh"]; has != (d.Name == "web-03") {
			t.Errorf("%s ssh config %v", d.Name, d.ServiceConfig["ssh"])
		}
	}
	// Group keys are copied, not shared.
	f.Deckies[0].ServiceConfig["http"]["response_code"] = "500"
	if f.Deckies[1].ServiceConfig["http"]["response_code"] != "404" {
		t.Fatal("group members share one config map")
	}
}

func TestLoadINIDeckyFields(t *testing.T) {
	tests := []struct {
		name, src                             string
		os, distro, archetype, hostname, svcs string
	}{
		{"defaults", "[a]\nservices = ssh\n", "linux", "debian", "", "", "ssh"},
		{"archetype sets os", "[a]\narchetype = deaddeck\n", "linux", "debian", "deaddeck", "", "ssh"},
		{"nmap_os beats archetype", "[a]\narchetype = deaddeck\nnmap-os = Embedded\n", "embedded", "debian", "deaddeck", "", "ssh"},
		{"services beat archetype", "[a]\narchetype = linux-server\nservices = redis\n", "linux", "debian", "linux-server", "", "redis"},
		{"explicit distro and hostname", "[a]\nservices = ssh\ndistro = Alpine\nhostname = files-01.corp.example\n", "linux", "alpine", "", "files-01.corp.example", "ssh"},
		{"services on continuation lines", "[a]\nservices = ssh,\n  http,\n  redis\n", "linux", "debian", "", "", "ssh,http,redis"},
		{"upper-case slugs", "[a]\nServices = SSH, Http\nArchetype = DEADDECK\n", "linux", "debian", "deaddeck", "", "ssh,http"},
		{"dotted decky name", "[web.corp]\nservices = ssh\n", "linux", "debian", "", "", "ssh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := load(t, tt.src).Deckies[0]
			if d.OS != tt.os || d.Distro != tt.distro || d.Archetype != tt.archetype || strings.Join(d.Services, ",") != tt.svcs {
				t.Errorf("got os=%s distro=%s archetype=%s services=%v", d.OS, d.Distro, d.Archetype, d.Services)
			}
			if tt.hostname != "" && d.Hostname != tt.hostname {
				t.Errorf("hostname %s, want %s", d.Hostname, tt.hostname)
			}
			if d.Hostname == "" {
				t.Error("no hostname")
			}
		})
	}
}

func TestLoadINIRandomServices(t *testing.T) {
	src := "[a]\n[b]\n[c]\namount = 3\n"
	f1, f2 := load(t, src), load(t, src)
	if !reflect.DeepEqual(f1, f2) {
		t.Fatal("same seed, different fleets")
	}
	f3, err := LoadINI(strings.NewReader(src), "f.ini", 2)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(f1, f3) {
		t.Fatal("different seeds, same fleet")
	}
	for _, d := range f1.Deckies {
		if n := len(d.Services); n < 1 || n > 3 {
			t.Errorf("%s has %d services", d.Name, n)
		}
	}
}

func TestLoadINIHostnamesUnique(t *testing.T) {
	f := load(t, "[a]\nservices = ssh\namount = 100\n")
	seen := map[string]bool{}
	for _, d := range f.Deckies {
		if seen[d.Hostname] {
			t.Fatalf("hostname %s drawn twice", d.Hostname)
		}
		seen[d.Hostname] = true
	}
}

func TestFleetJSONRoundTrip(t *testing.T) {
	src := strings.Replace(exampleINI, "windows-workstation", "linux-server", 1)
	src = strings.Replace(src, "industrial-control", "deaddeck", 1)
	f := load(t, src)
	a, err := NewAllocator(f.General.Net, netip.Addr{}, f.General.Gateway)
	if err != nil {
		t.Fatal(err)
	}
	if err := AssignIPs(&f, a); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back Fleet
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, back) {
		t.Fatalf("round trip changed the fleet:\n%s\n%+v", b, back)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"web-01","ip":"192.168.1.110"`, `"gw":"192.168.1.1"`, `"service_config":{"http":{`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Decky{Name: "a", Hostname: "h", Distro: "debian", OS: "linux", Services: []string{"ssh"}}
	tests := []struct {
		name string
		f    Fleet
		want string
	}{
		{"empty", Fleet{}, "the fleet has no deckies"},
		{"bad name", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Name = "a b" })}}, `decky "a b": invalid name`},
		{"dup name", Fleet{Deckies: []Decky{good, with(good, func(d *Decky) { d.Name = "A" })}}, `decky "A": name used twice`},
		{"dup ip", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.IP = netip.MustParseAddr("127.0.0.2") }),
			with(good, func(d *Decky) { d.Name, d.IP = "b", netip.MustParseAddr("127.0.0.2") })}}, `decky "b": ip 127.0.0.2 already used by "a"`},
		{"unknown distro", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Distro = "x" })}}, `decky "a": unknown distro "x"`},
		{"unknown os", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.OS = "" })}}, `decky "a": unknown OS family ""`},
		{"unknown archetype", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Archetype = "x" })}}, `decky "a": unknown archetype "x"`},
		{"no services", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Services = nil })}}, `decky "a": no services`},
		{"unknown service", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Services = []string{"smb"} })}}, `decky "a": unknown service "smb"`},
		{"port clash", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Services = []string{"ssh", "app"} })},
			Customs: []Custom{{Name: "app", Binary: "b", Ports: []int{8080, 22}}}}, `decky "a": services "ssh" and "app" both listen on 22/tcp`},
		{"tcp and udp on one number", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Services = []string{"tftp", "app"} })},
			Customs: []Custom{{Name: "app", Binary: "b", Ports: []int{69}}}}, ""},
		{"fleet singleton", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Services = []string{"ssh", "sniffer"} })}},
			`decky "a": service "sniffer" runs once for the whole fleet, not on a decky`},
		{"config kept for a service not run now", Fleet{Deckies: []Decky{with(good, func(d *Decky) {
			d.ServiceConfig = map[string]map[string]string{"http": {"server_header": "nginx"}}
		})}}, ""},
		{"bad config of a service not run now", Fleet{Deckies: []Decky{with(good, func(d *Decky) {
			d.ServiceConfig = map[string]map[string]string{"http": {"nope": "x"}}
		})}}, `decky "a": service http: persona key "nope" is unknown`},
		{"bad persona", Fleet{Deckies: []Decky{with(good, func(d *Decky) {
			d.ServiceConfig = map[string]map[string]string{"ssh": {"pasword": "x"}}
		})}}, `decky "a": service ssh: persona key "pasword" is unknown`},
		{"custom service", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Services = []string{"app"} })},
			Customs: []Custom{{Name: "app", Binary: "b", Ports: []int{1}}}}, ""},
		{"no hostname", Fleet{Deckies: []Decky{with(good, func(d *Decky) { d.Hostname = "" })}}, `decky "a": no hostname`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want prefix %s", err, tt.want)
			}
		})
	}
}

func with(d Decky, edit func(*Decky)) Decky {
	edit(&d)
	return d
}

// TestREADMEExample keeps the README's example loadable: with the services
// of this test, only the Windows archetype is refused.
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```ini\n")
	src, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no ini block in README.md")
	}
	_, err = LoadINI(strings.NewReader(src), "README.ini", 1)
	want := `README.ini:23: [corp-ws] key "archetype": archetype "windows-workstation" needs services not implemented yet: rdp, smb`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	f := load(t, strings.Replace(src, "windows-workstation", "deaddeck", 1))
	app2 := f.Deckies[len(f.Deckies)-1]
	if app2.Name != "app-02" || app2.ServiceConfig["http"]["response_code"] != "200" ||
		app2.ServiceConfig["http"]["server_header"] != "Apache/2.4.54 (Debian)" || f.General.MutateInterval != 240 {
		t.Fatalf("app-02 = %+v, general = %+v", app2, f.General)
	}
}

func TestLoadINICustomService(t *testing.T) {
	// The decky comes first and names the custom service defined below it.
	f := load(t, "[a]\nservices = ssh, myapp\n[a.myapp]\n[custom-MyApp]\nbinary = /opt/app\nexec = /opt/app --port 9999\nports = 9999, 9998\n")
	if want := []Custom{{Name: "myapp", Binary: "/opt/app", Exec: "/opt/app --port 9999", Ports: []int{9999, 9998}}}; !reflect.DeepEqual(f.Customs, want) {
		t.Fatalf("customs %+v", f.Customs)
	}
	if d := f.Deckies[0]; !reflect.DeepEqual(d.Services, []string{"ssh", "myapp"}) || d.ServiceConfig != nil {
		t.Fatalf("decky %+v", d)
	}
}
