package postgres

import (
	"strings"
	"testing"

	"decnet/internal/service"
)

func TestParseStartup(t *testing.T) {
	long := strings.Repeat("a", 80)
	for _, tc := range []struct {
		name     string
		pkt      []byte
		user, db string
		code     string
	}{
		{"psql", startupMsg(protoV3, "user", "alice", "database", "sales", "application_name", "psql"), "alice", "sales", ""},
		{"database defaults to user", startupMsg(protoV3, "user", "bob"), "bob", "bob", ""},
		{"names truncated to 63", startupMsg(protoV3, "user", long, "database", long), long[:63], long[:63], ""},
		{"replication database", startupMsg(protoV3, "user", "r", "replication", "database"), "r", "r", ""},
		{"replication prefix", startupMsg(protoV3, "user", "r", "replication", "Tr"), "r", "r", ""},
		{"replication junk", startupMsg(protoV3, "user", "r", "replication", "o"), "", "", "22023"},
		{"no user", startupMsg(protoV3, "database", "x"), "", "", "28000"},
		{"empty user", startupMsg(protoV3, "user", ""), "", "", "28000"},
		{"protocol 4", startupMsg(4<<16, "user", "x"), "", "", "0A000"},
		{"missing value", append(startupMsg(protoV3, "user", "x")[:4:4], []byte("\x00\x03\x00\x00user\x00x\x00db\x00")...), "", "", "08P01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, perr := parseStartup(tc.pkt[4:])
			switch {
			case tc.code != "":
				if perr == nil || perr.code != tc.code {
					t.Fatalf("got %+v %+v, want error %s", st, perr, tc.code)
				}
			case perr != nil:
				t.Fatalf("error %+v", perr)
			case st.User != tc.user || st.Database != tc.db:
				t.Fatalf("user %q db %q", st.User, st.Database)
			}
		})
	}
}

func TestPersona(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(p *Persona)
		wantErr bool
	}{
		{"default", func(*Persona) {}, false},
		{"release 15.3", func(p *Persona) { p.Version = "15.3" }, false},
		{"release 16", func(p *Persona) { p.Version = "16.4" }, true},
		{"auth trust", func(p *Persona) { p.Auth = "trust" }, true},
		{"login without colon", func(p *Persona) { p.Logins = []string{"root"} }, true},
		{"empty database", func(p *Persona) { p.Databases = []string{""} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := defaultPersona().(*Persona)
			tc.edit(p)
			if err := p.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
	for _, tc := range []struct{ distro, version string }{
		{"debian", "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit"},
		{"ubuntu22", "PostgreSQL 15.20 (Ubuntu 15.20-1.pgdg22.04+1) on x86_64-pc-linux-gnu, compiled by gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, 64-bit"},
		{"rocky9", "PostgreSQL 15.20 on x86_64-pc-linux-gnu, compiled by gcc (GCC) 11.4.1 20231218 (Red Hat 11.4.1-3), 64-bit"},
	} {
		if got := defaultPersona().(*Persona).resolve(service.Host{Distro: tc.distro}).versionString(); got != tc.version {
			t.Errorf("%s: version() = %q", tc.distro, got)
		}
	}
}

// TestErrorLines checks the release-dependent line numbers nmap reads.
func TestErrorLines(t *testing.T) {
	e := errf(siteUnsupportedProto, "0A000", "unsupported frontend protocol 65363.19778: server supports 3.0 to 3.0")
	for minor, want := range map[int]string{18: "L2222\x00", 20: "L2220\x00"} {
		if got := string(e.encode(minor)); !strings.Contains(got, want) {
			t.Errorf("15.%d: %q lacks %q", minor, got, want)
		}
	}
	// The capture in real-products.md §7 (15.20), byte for byte.
	want := "E\x00\x00\x00\x8bSFATAL\x00VFATAL\x00C0A000\x00Munsupported frontend protocol 65363.19778: server supports 3.0 to 3.0\x00Fpostmaster.c\x00L2220\x00RProcessStartupPacket\x00\x00"
	if got := string(e.encode(20)); got != want {
		t.Errorf("got %q", got)
	}
}
