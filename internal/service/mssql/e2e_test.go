package mssql

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// run runs a client with a timeout and returns its combined output; the
// clients exit non-zero on the failed login, which is the point.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// wantFields fails the test unless e has every field of want.
func wantFields(t *testing.T, e event.Event, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if e.Fields[k] != v {
			t.Errorf("%s event: %s = %q, want %q (fields %v)", e.Type, k, e.Fields[k], v, e.Fields)
		}
	}
}

// lastAuth waits for the server's auth event of the connection and
// returns it.
func lastAuth(t *testing.T, ev *testutil.Events) event.Event {
	t.Helper()
	testutil.Eventually(t, "an auth event", func() bool { return len(ev.OfType(event.TypeAuth)) > 0 })
	a := ev.OfType(event.TypeAuth)
	return a[len(a)-1]
}

// FreeTDS's tsql logs in with SQL authentication: with its default
// encryption (request: ENCRYPT_OFF, so only LOGIN7 goes over TLS inside
// PRELOGIN packets), with encryption off (ENCRYPT_NOT_SUP: all in the
// clear), and against a server that forces encryption. Each time the
// password is recorded in clear and tsql prints SQL Server's 18456.
func TestTsqlLogin(t *testing.T) {
	tsql := testutil.RequireTool(t, "tsql")
	hostname, _ := os.Hostname()
	for _, tc := range []struct {
		name, encryption string
		force            bool
		want             map[string]string
	}{
		{"default", "", false, map[string]string{"encryption": "login", "tls_version": "TLS 1.2"}},
		{"off", "off", false, map[string]string{"encryption": "none", "tls_version": ""}},
		{"require", "require", false, map[string]string{"encryption": "all", "tls_version": "TLS 1.2"}},
		{"forced", "", true, map[string]string{"encryption": "all", "tls_version": "TLS 1.2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := newTestServer(t, &Persona{ForceEncryption: tc.force})
			host, port, _ := net.SplitHostPort(serve(t, s, testAddr))
			conf := filepath.Join(t.TempDir(), "freetds.conf")
			text := "[global]\n"
			if tc.encryption != "" {
				text += "\tencryption = " + tc.encryption + "\n"
			}
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			out := run(t, []string{"FREETDSCONF=" + conf}, tsql, "-H", host, "-p", port, "-U", "sa", "-P", "S3cret!pw", "-D", "payroll")
			if !strings.Contains(out, "Msg 18456 (severity 14, state 1) from SQL-PROD-01 Line 1:") ||
				!strings.Contains(out, `"Login failed for user 'sa'."`) {
				t.Errorf("tsql output:\n%s\nwant SQL Server's login failure", out)
			}
			want := map[string]string{
				event.FieldUsername: "sa", event.FieldPassword: "S3cret!pw", event.FieldMethod: methodSQL,
				event.FieldSuccess: "false", "app_name": "TSQL", "library": "TDS-Library",
				"hostname": hostname, "database": "payroll", "language": "us_english", "tds": "7.4",
				"features": `["UTF8_SUPPORT"]`,
			}
			for k, v := range tc.want {
				want[k] = v
			}
			wantFields(t, lastAuth(t, ev), want)
		})
	}
}

// impacket's mssqlclient.py logs in with SQL authentication and with
// Windows authentication: the first leaves its password, the second a
// NetNTLMv2 line that cracks with the password used.
func TestImpacketLogin(t *testing.T) {
	py := testutil.RequireImpacket(t)
	client := testutil.ImpacketExamples + "mssqlclient.py"
	for _, tc := range []struct {
		name  string
		force bool
		args  []string
		out   string
		want  map[string]string
	}{
		{"sql", false, []string{"sa:S3cret!pw@"}, "ERROR(SQL-PROD-01): Line 1: Login failed for user 'sa'.",
			map[string]string{event.FieldUsername: "sa", event.FieldPassword: "S3cret!pw", event.FieldMethod: methodSQL,
				"tds": "7.1", "encryption": "login"}},
		// impacket 0.10 cannot read a TLS-encrypted answer (it joins str
		// and bytes), but it sends its login over TLS when told REQ.
		{"forced", true, []string{"sa:S3cret!pw@"}, "Encryption required, switching to TLS",
			map[string]string{event.FieldUsername: "sa", event.FieldPassword: "S3cret!pw", "encryption": "all"}},
		{"windows", false, []string{"CORP/alice:Winter2024!@", "-windows-auth"},
			"ERROR(SQL-PROD-01): Line 1: " + msgUntrustedLogin,
			map[string]string{event.FieldUsername: "alice", "domain": "CORP", event.FieldMethod: methodNTLM,
				event.FieldHashFormat: ntlmssp.FormatNetNTLMv2, "tds": "7.1", "encryption": "login"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := newTestServer(t, &Persona{ForceEncryption: tc.force})
			host, port, _ := net.SplitHostPort(serve(t, s, testAddr))
			args := append([]string{client}, tc.args...)
			args[1] += host
			out := run(t, nil, py, append(args, "-port", port)...)
			if !strings.Contains(out, tc.out) {
				t.Errorf("mssqlclient.py output:\n%s\nwant %q", out, tc.out)
			}
			a := lastAuth(t, ev)
			wantFields(t, a, tc.want)
			if tc.name != "windows" {
				return
			}
			ok, err := ntlmssp.CracksV2(a.Fields[event.FieldHash], "Winter2024!")
			if err != nil || !ok {
				t.Errorf("hash %q does not crack with the password: %v", a.Fields[event.FieldHash], err)
			}
			if len(ev.OfType(typeNTLMNegotiate)) != 1 {
				t.Errorf("want one ntlm_negotiate event")
			}
		})
	}
}

// hydra's mssql module sends a TDS 4.2 login without PRELOGIN, which SQL
// Server 2005 and later drop: hydra sees its connection closed, and the
// password is recorded.
func TestHydraLogin(t *testing.T) {
	hydra := testutil.RequireTool(t, "hydra")
	s, ev := newTestServer(t, &Persona{})
	host, port, _ := net.SplitHostPort(serve(t, s, testAddr))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hydra, "-l", "sa", "-p", "S3cret!pw", "-t", "1", "-W", "1", "-s", port, host, "mssql")
	cmd.Dir = t.TempDir() // hydra writes hydra.restore there
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "0 valid password found") {
		t.Errorf("hydra output:\n%s\nwant no valid password", out)
	}
	wantFields(t, lastAuth(t, ev), map[string]string{event.FieldUsername: "sa", event.FieldPassword: "S3cret!pw",
		event.FieldMethod: methodSQL, "tds": "4.2", "encryption": "none"})
}

// nmap -sV names the product and build from the PRELOGIN answer. nmap
// 7.93 knows builds up to SQL Server 2019; a 2022 build gets the generic
// softmatch, as a real 2022 server does. The ms-sql-s probe is sent to
// port 1433 first, so the server listens there (no root needed).
func TestNmapVersionScan(t *testing.T) {
	for _, tc := range []struct {
		version, addr string
		want          *regexp.Regexp
	}{
		{"", "127.0.103.2", regexp.MustCompile(`1433/tcp open  ms-sql-s +Microsoft SQL Server 2019 15\.00\.4355\n`)},
		{"2017", "127.0.103.3", regexp.MustCompile(`1433/tcp open  ms-sql-s +Microsoft SQL Server 2017 14\.00\.3456\n`)},
		{"2022", "127.0.103.4", regexp.MustCompile(`1433/tcp open  ms-sql-s +Microsoft SQL Server\n`)},
	} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			s, ev := newTestServer(t, &Persona{Version: tc.version})
			servicetest.ServeRealPorts(t, s, tc.addr, Service{}.Info().Ports...)
			// A connect scan: a SYN scan on loopback sometimes misses the
			// SYN-ACK and calls the port filtered.
			out := testutil.Nmap(t, "-sT", "-sV", "-Pn", "-n", "-p", "1433", tc.addr)
			testutil.MatchAll(t, out, tc.want)
			if len(ev.OfType(typePrelogin)) == 0 {
				t.Error("no prelogin event for nmap's probe")
			}
		})
	}
}
