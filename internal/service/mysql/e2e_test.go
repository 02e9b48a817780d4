package mysql

import (
	"net"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestMariadbClientLogin drives the real client through refused and
// accepted logins, with and without TLS, against both products, and
// checks the answers it prints and the credentials recorded.
func TestMariadbClientLogin(t *testing.T) {
	tests := []struct {
		name     string
		keys     map[string]string
		user     string
		password string
		tls      bool
		wantOut  string // in the client's output
		wantRC   int
		check    func(t *testing.T, f map[string]string)
	}{
		{name: "mariadb wrong password", keys: map[string]string{"remote_users": "dbadmin"}, user: "dbadmin", password: "Winter2024!",
			wantOut: "ERROR 1045 (28000): Access denied for user 'dbadmin'@'HOST' (using password: YES)", wantRC: 1,
			check: func(t *testing.T, f map[string]string) {
				if f[event.FieldHashFormat] != HashFormatNative || !cracks(t, f[event.FieldHash], "Winter2024!") {
					t.Errorf("hash %q (%s) does not crack with the password used", f[event.FieldHash], f[event.FieldHashFormat])
				}
				if cracks(t, f[event.FieldHash], "Winter2024?") {
					t.Error("hash cracks with another password")
				}
			}},
		{name: "mariadb no password", keys: map[string]string{"remote_users": "dbadmin"}, user: "dbadmin",
			wantOut: "ERROR 1045 (28000): Access denied for user 'dbadmin'@'HOST' (using password: NO)", wantRC: 1,
			check: func(t *testing.T, f map[string]string) {
				if pw, ok := f[event.FieldPassword]; f["password_used"] != "false" || f[event.FieldHash] != "" || !ok || pw != "" {
					t.Errorf("password_used %q hash %q password %q, want false, no hash and the empty password", f["password_used"], f[event.FieldHash], pw)
				}
			}},
		// root@localhost logs in through unix_socket on Debian.
		{name: "mariadb root from localhost", user: "root", password: "x",
			wantOut: "ERROR 1698 (28000): Access denied for user 'root'@'HOST'\n", wantRC: 1},
		{name: "mariadb tls", keys: map[string]string{"ssl": "true", "remote_users": "dbadmin"}, user: "dbadmin", password: "toor", tls: true,
			wantOut: "(using password: YES)", wantRC: 1,
			check: func(t *testing.T, f map[string]string) {
				if !strings.HasPrefix(f["tls"], "TLS 1.") || !cracks(t, f[event.FieldHash], "toor") {
					t.Errorf("tls %q hash %q: want TLS and a hash of toor", f["tls"], f[event.FieldHash])
				}
			}},
		{name: "mariadb accepted", keys: map[string]string{"users": "admin:admin123"}, user: "admin", password: "admin123",
			wantOut: "10.11.19-MariaDB-0+deb12u1", check: func(t *testing.T, f map[string]string) {
				if f[event.FieldSuccess] != "true" || f["database"] != "production" {
					t.Errorf("success %q database %q", f[event.FieldSuccess], f["database"])
				}
			}},
		{name: "mysql8 plain rsa", keys: map[string]string{"product": "mysql", "ssl": "false"}, user: "root", password: "hunter2",
			wantOut: "ERROR 1045 (28000): Access denied for user 'root'@'HOST' (using password: YES)", wantRC: 1,
			check: func(t *testing.T, f map[string]string) {
				if f[event.FieldPassword] != "hunter2" || f[event.FieldMethod] != sha2Plugin {
					t.Errorf("password %q method %q, want the clear password from caching_sha2_password", f[event.FieldPassword], f[event.FieldMethod])
				}
			}},
		{name: "mysql8 tls", keys: map[string]string{"product": "mysql"}, user: "sa", password: "P@ssw0rd", tls: true,
			wantOut: "ERROR 1045 (28000): Access denied for user 'sa'@'HOST' (using password: YES)", wantRC: 1,
			check: func(t *testing.T, f map[string]string) {
				if f[event.FieldPassword] != "P@ssw0rd" || f["tls"] == "" {
					t.Errorf("password %q tls %q", f[event.FieldPassword], f["tls"])
				}
			}},
		{name: "mysql8 accepted", keys: map[string]string{"product": "mysql", "users": "app:app"}, user: "app", password: "app",
			wantOut: "8.0.44"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, ev := startServer(t, testIP(10+i), tc.keys)
			host, port, _ := net.SplitHostPort(addr)
			args := []string{"-h", host, "-P", port, "-u", tc.user, "--connect-timeout=10"}
			if tc.password != "" {
				args = append(args, "-p"+tc.password)
			}
			if tc.tls {
				args = append(args, "--ssl", "--ssl-verify-server-cert=0")
			} else {
				args = append(args, "--skip-ssl")
			}
			if tc.wantRC == 0 {
				args = append(args, "-D", "production", "-e", "select @@version; show databases; select user()")
			} else {
				args = append(args, "-e", "select 1")
			}
			out, rc := run(t, "mariadb", args...)
			f := authEvents(t, ev, 1)[0].Fields
			// The client cannot choose its source, so it comes from 127.0.0.1,
			// which the server names localhost.
			want := strings.ReplaceAll(tc.wantOut, "HOST", "localhost")
			if f[event.FieldSrcIP] != "127.0.0.1" {
				t.Fatalf("client came from %s", f[event.FieldSrcIP])
			}
			if rc != tc.wantRC || !strings.Contains(out, want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d and %q", rc, out, tc.wantRC, want)
			}
			if f[event.FieldUsername] != tc.user || !strings.Contains(f["client_attrs"], `"_client_name":"libmariadb"`) || f["program"] != "mysql" {
				t.Errorf("auth event %v: want user %q and the client's attributes", f, tc.user)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
			if tc.wantRC == 0 {
				for _, want := range []string{"wordpress", tc.user + "@"} {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
				var cmds []string
				for _, e := range ev.OfType(event.TypeCommand) {
					cmds = append(cmds, e.Fields[event.FieldCommand])
				}
				if !strings.Contains(strings.Join(cmds, "\n"), "show databases") {
					t.Errorf("commands recorded: %q", cmds)
				}
			}
		})
	}
}

// TestNmapVersion checks that a version scan names the product and
// version of the persona.
func TestNmapVersion(t *testing.T) {
	tests := []struct {
		keys map[string]string
		want string
	}{
		{nil, "mysql   MySQL 5.5.5-10.11.19-MariaDB-0+deb12u1"},
		{map[string]string{"product": "mysql"}, "mysql   MySQL 8.0.44"},
	}
	for i, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			addr, _ := startServer(t, testIP(40+i), tc.keys)
			host, port, _ := net.SplitHostPort(addr)
			out := testutil.Nmap(t, "-sV", "-Pn", "-n", "-p", port, host)
			if !strings.Contains(out, "open  "+tc.want) {
				t.Errorf("nmap does not say %q:\n%s", tc.want, out)
			}
		})
	}
}
