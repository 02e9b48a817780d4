package tftp

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"decnet/internal/service"
)

func TestCiscoType7(t *testing.T) {
	// The well-known vector: "cisco" with salt 8.
	if got := ciscoType7("cisco", 8); got != "0822455D0A16" {
		t.Errorf("ciscoType7 = %s", got)
	}
}

func TestBaitSets(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	host := func(name, os, distro string) service.Host {
		return service.Host{Name: name, Hostname: "core-sw01.example.net", OS: os, Distro: distro, IP: "192.168.7.23"}
	}
	cases := []struct {
		os, distro, choice string
		files              []string
		contains           map[string]string
	}{
		{"cisco", "debian", "", []string{"core-sw01-confg", "network-confg", "running-config", "startup-config"},
			map[string]string{"running-config": "interface Vlan1\n ip address 192.168.7.23 255.255.255.0\n",
				"network-confg": "ip host core-sw01 192.168.7.23\n"}},
		{"embedded", "alpine", "", []string{"core-sw01-confg", "network-confg", "running-config", "startup-config"}, nil},
		{"linux", "debian", "", []string{"ldlinux.c32", "preseed.cfg", "pxelinux.0", "pxelinux.cfg/default"},
			map[string]string{"pxelinux.cfg/default": "preseed/url=tftp://192.168.7.23/preseed.cfg",
				"preseed.cfg": "d-i passwd/user-password password "}},
		{"linux", "rocky9", "", []string{"ks.cfg", "ldlinux.c32", "pxelinux.0", "pxelinux.cfg/default"},
			map[string]string{"ks.cfg": "rootpw --iscrypted $6$", "pxelinux.cfg/default": "inst.ks=http://192.168.7.23/ks.cfg"}},
		{"windows", "debian", "", []string{"ldlinux.c32", "preseed.cfg", "pxelinux.0", "pxelinux.cfg/default"}, nil},
		{"linux", "debian", "router", []string{"core-sw01-confg", "network-confg", "running-config", "startup-config"}, nil},
		{"cisco", "debian", "none", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.os+"-"+c.distro+"-"+c.choice, func(t *testing.T) {
			h := host("decky-7", c.os, c.distro)
			files := baitFiles(baitSet(c.choice, c.os), h, now)
			if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, c.files) {
				t.Fatalf("files %v, want %v", got, c.files)
			}
			for name, sub := range c.contains {
				if !strings.Contains(string(files[name]), sub) {
					t.Errorf("%s lacks %q:\n%s", name, sub, files[name])
				}
			}
			// The same decky gets the same bytes, later in the same boot
			// cycle too; another decky (here with the same hostname and
			// address) gets other secrets.
			again := baitFiles(baitSet(c.choice, c.os), h, now.Add(time.Hour))
			other := baitFiles(baitSet(c.choice, c.os), host("decky-8", c.os, c.distro), now)
			for name, b := range files {
				if !bytes.Equal(again[name], b) {
					t.Errorf("%s changed within a boot cycle", name)
				}
				secret := strings.HasSuffix(name, "-config") || strings.HasSuffix(name, ".cfg") && name != "pxelinux.cfg/default"
				if secret && bytes.Equal(other[name], b) {
					t.Errorf("%s is the same on another decky", name)
				}
			}
		})
	}
	r := baitFiles(baitRouter, host("decky-7", "cisco", "debian"), now)
	if bytes.Equal(r["running-config"], r["startup-config"]) || !bytes.Equal(r["startup-config"], r["core-sw01-confg"]) {
		t.Error("running-config should differ from startup-config, which <host>-confg copies")
	}
	for _, line := range []string{"service password-encryption", "enable secret 5 $1$", "snmp-server community ", "end\n"} {
		if !strings.Contains(string(r["running-config"]), line) {
			t.Errorf("running-config lacks %q", line)
		}
	}
	p := baitFiles(baitPXE, host("decky-7", "linux", "debian"), now)
	if len(p["pxelinux.0"]) != pxelinuxSize || len(p["ldlinux.c32"]) != ldlinuxSize {
		t.Error("boot loader sizes")
	}
}

func TestPersona(t *testing.T) {
	cases := []struct {
		name string
		keys map[string]string
		err  string
	}{
		{"defaults", nil, ""},
		{"all", map[string]string{"bait": "pxe", "create": "false", "max_blksize": "1468",
			"files": `{"/configs/r1.cfg":"hostname r1\n","notes.txt":"x"}`}, ""},
		{"bad bait", map[string]string{"bait": "nas"}, "bait"},
		{"blksize small", map[string]string{"max_blksize": "7"}, "max_blksize"},
		{"blksize big", map[string]string{"max_blksize": "65465"}, "max_blksize"},
		{"dot dot", map[string]string{"files": `{"../x":"y"}`}, "plain path"},
		{"empty path", map[string]string{"files": `{"/":"y"}`}, "empty path"},
		{"file and dir", map[string]string{"files": `{"a":"1","a/b":"2"}`}, "file and a directory"},
		{"too big", map[string]string{"files": `{"a":"` + strings.Repeat("x", maxPersonaFile+1) + `"}`}, "over"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := service.NewPersona(Service{}.Info(), c.keys)
			if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Errorf("err %v, want %q", err, c.err)
			}
		})
	}
	p, _ := service.NewPersona(Service{}.Info(), nil)
	if pp := p.(*Persona); !pp.Create || pp.MaxBlksize != maxBlksize || pp.Bait != "" {
		t.Errorf("defaults %+v", pp)
	}
}

// TestPersonaFiles checks that persona files are served over generated
// ones, replacing those they clash with.
func TestPersonaFiles(t *testing.T) {
	host := testHost(t)
	p := defaultPersona().(*Persona)
	p.Files = map[string]string{"pxelinux.cfg": "now a file", "/extra/notes.txt": "n"}
	s, _ := newTestServer(t, host, p)
	if b, ok := s.files.read("pxelinux.cfg"); !ok || string(b) != "now a file" {
		t.Errorf("pxelinux.cfg = %q %v", b, ok)
	}
	if _, ok := s.files.read("pxelinux.cfg/default"); ok {
		t.Error("pxelinux.cfg/default survived")
	}
	if l := s.files.resolve("extra/notes.txt"); l.kind != regular {
		t.Error("extra/notes.txt")
	}
	if _, ok := s.files.read("pxelinux.0"); !ok {
		t.Error("generated pxelinux.0 missing")
	}
}

func TestFragment(t *testing.T) {
	f := Service{}.Fragment(service.Host{Name: "d", DataDir: "/x"}, map[string]string{"create": "false"})
	if !f.Data || f.MemoryMB < 64 || !slices.Contains(f.Command, "create=false") || !slices.Contains(f.Command, service.ContainerDataDir) {
		t.Errorf("fragment %+v", f)
	}
	if _, err := (Service{}).New(service.Config{Host: service.Host{Name: "d"}}); err == nil {
		t.Error("New without a data directory")
	}
}

func TestRegistered(t *testing.T) {
	svc, err := service.Lookup(Slug)
	if err != nil {
		t.Fatal(err)
	}
	info := svc.Info()
	if len(info.Ports) != 1 || info.Ports[0] != (service.Port{Number: 69, Proto: service.UDP}) {
		t.Errorf("ports %v", info.Ports)
	}
	if keys := service.PersonaKeys(info.Persona()); !slices.Equal(keys, []string{"bait", "create", "files", "max_blksize"}) {
		t.Errorf("persona keys %v", keys)
	}
}
