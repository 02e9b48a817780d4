package postgres

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// psql runs the real client against addr and returns its combined output.
func psql(t *testing.T, addr, user, password, db, sslmode, sql string) (string, error) {
	t.Helper()
	bin := testutil.RequireTool(t, "psql")
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "host="+host+" port="+port+" user="+user+" dbname="+db+" sslmode="+sslmode+" connect_timeout=10",
		"-X", "-At", "-c", sql)
	cmd.Env = []string{"PGPASSWORD=" + password, "PATH=/usr/bin:/bin", "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPsqlCapture(t *testing.T) {
	for i, tc := range []struct {
		name, auth, sslmode string
		ssl                 bool
		check               func(t *testing.T, f map[string]string)
	}{
		{"scram", AuthSCRAM, "disable", false, func(t *testing.T, f map[string]string) {
			if f[event.FieldHashFormat] != FormatSCRAM || !cracksSCRAM(f[event.FieldHash], "hunter2") || cracksSCRAM(f[event.FieldHash], "hunter3") {
				t.Errorf("SCRAM line %q does not crack with hunter2 alone", f[event.FieldHash])
			}
		}},
		{"scram-plus over TLS", AuthSCRAM, "require", true, func(t *testing.T, f map[string]string) {
			if f["mechanism"] != mechSCRAMPlus || !cracksSCRAM(f[event.FieldHash], "hunter2") {
				t.Errorf("mechanism %q, line %q does not crack", f["mechanism"], f[event.FieldHash])
			}
		}},
		{"scram-prefer", AuthSCRAM, "prefer", false, func(t *testing.T, f map[string]string) {
			if !cracksSCRAM(f[event.FieldHash], "hunter2") {
				t.Errorf("SCRAM line %q does not crack", f[event.FieldHash])
			}
		}},
		{"md5", AuthMD5, "disable", false, func(t *testing.T, f map[string]string) {
			if f[event.FieldHashFormat] != FormatMD5 || !cracksMD5(f[event.FieldHash], "hunter2") || cracksMD5(f[event.FieldHash], "hunter3") {
				t.Errorf("MD5 line %q does not crack with hunter2 alone", f[event.FieldHash])
			}
		}},
		{"password", AuthPassword, "prefer", false, func(t *testing.T, f map[string]string) {
			if f[event.FieldPassword] != "hunter2" {
				t.Errorf("password = %q", f[event.FieldPassword])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, ev := startServer(t, 10+i, func(p *Persona) { p.Auth = tc.auth; p.SSL = tc.ssl })
			out, err := psql(t, addr, "alice", "hunter2", "sales", tc.sslmode, "select 1")
			if err == nil || !strings.Contains(out, `FATAL:  password authentication failed for user "alice"`) {
				t.Fatalf("psql: %v\n%s", err, out)
			}
			if n := strings.Count(out, "FATAL"); n != 1 {
				t.Errorf("psql printed %d FATAL lines, want 1 (no retry):\n%s", n, out)
			}
			testutil.Eventually(t, "auth event", func() bool { return len(ev.OfType(event.TypeAuth)) == 1 })
			f := ev.OfType(event.TypeAuth)[0].Fields
			if f[event.FieldUsername] != "alice" || f["database"] != "sales" || f[event.FieldSuccess] != "false" || f[event.FieldMethod] != tc.auth {
				t.Errorf("auth fields %v", f)
			}
			tc.check(t, f)
			st := ev.OfType("startup")[0].Fields
			if st["application_name"] != "psql" || !strings.Contains(st["params"], `["application_name","psql"]`) {
				t.Errorf("startup fields %v", st)
			}
			if tc.sslmode != "disable" && len(ev.OfType(event.TypeRequest)) != 1 {
				t.Errorf("want the SSLRequest recorded, got %v", ev.OfType(event.TypeRequest))
			}
		})
	}
}

func TestPsqlWeakLogin(t *testing.T) {
	for i, tc := range []struct {
		auth string
		ssl  bool
	}{{AuthSCRAM, false}, {AuthSCRAM, true}, {AuthMD5, false}, {AuthPassword, true}} {
		t.Run(tc.auth+map[bool]string{true: "-ssl"}[tc.ssl], func(t *testing.T) {
			addr, ev := startServer(t, 20+i, func(p *Persona) {
				p.Auth = tc.auth
				p.SSL = tc.ssl
				p.Logins = []string{"postgres:postgres"}
				p.Databases = []string{"sales"}
			})
			out, err := psql(t, addr, "postgres", "postgres", "sales", "prefer", "select version(); select current_user")
			want := "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit\npostgres\n"
			if err != nil || out != want {
				t.Fatalf("psql: %v\n%q", err, out)
			}
			out, err = psql(t, addr, "postgres", "postgres", "nosuchdb", "disable", "select 1")
			if err == nil || !strings.Contains(out, `FATAL:  database "nosuchdb" does not exist`) {
				t.Fatalf("psql: %v\n%s", err, out)
			}
			testutil.Eventually(t, "command event", func() bool { return len(ev.OfType(event.TypeCommand)) == 1 })
			if c := ev.OfType(event.TypeCommand)[0].Fields[event.FieldCommand]; c != "select version(); select current_user" {
				t.Errorf("command = %q", c)
			}
			if a := ev.OfType(event.TypeAuth); len(a) != 2 || a[0].Fields[event.FieldSuccess] != "true" {
				t.Errorf("auth events %v", a)
			}
		})
	}
}

func TestPsqlNoHBA(t *testing.T) {
	addr, ev := startServer(t, 30, func(p *Persona) { p.Auth = AuthReject })
	out, err := psql(t, addr, "mallory", "x", "postgres", "disable", "select 1")
	if err == nil || !strings.Contains(out, `FATAL:  no pg_hba.conf entry for host "127.0.0.1", user "mallory", database "postgres", no encryption`) {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	testutil.Eventually(t, "startup event", func() bool { return len(ev.OfType("startup")) == 1 })
}
