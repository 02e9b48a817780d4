package ldap

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/testutil"
)

// ldapTool runs an ldap-utils program and returns its combined output.
// The client trusts any certificate (LDAPTLS_REQCERT=never), as an
// attacker's does, and reads no ldap.conf of this machine. LDIF's folded
// lines come back unfolded.
func ldapTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	path := testutil.RequireTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-o", "nettimeout=5"}, args...)...)
	cmd.Env = append(os.Environ(), "LDAPTLS_REQCERT=never", "LDAPCONF=/dev/null")
	out, err := cmd.CombinedOutput()
	// Unfold LDIF's continuation lines.
	return strings.ReplaceAll(string(out), "\n ", ""), err
}

// TestLdapUtilsOpenLDAP drives ldapsearch and ldapwhoami against the
// OpenLDAP persona: simple binds in the clear, over StartTLS and over
// LDAPS are captured with their passwords, the root DSE and the seeded
// tree answer anonymous searches, and the size limit applies.
func TestLdapUtilsOpenLDAP(t *testing.T) {
	_, addr, addrs, ev := startServer(t, hostLinux, &Persona{StartTLS: true, Domain: "kestrel.com"}, addrClients)
	plain, tls := url("ldap", addr), url("ldaps", addrs)
	tests := []struct {
		name     string
		tool     string
		args     []string
		wantOut  []string
		wantAuth map[string]string
	}{
		{"simple bind", "ldapwhoami", []string{"-x", "-H", plain, "-D", "cn=admin,dc=kestrel,dc=com", "-w", "Pa55w0rd"},
			[]string{"ldap_bind: Invalid credentials (49)"},
			map[string]string{event.FieldUsername: "cn=admin,dc=kestrel,dc=com", event.FieldPassword: "Pa55w0rd", event.FieldMethod: "simple", "result": "49"}},
		{"starttls bind", "ldapwhoami", []string{"-x", "-ZZ", "-H", plain, "-D", "uid=lwhitfield,ou=people,dc=kestrel,dc=com", "-w", "tls-secret"},
			[]string{"ldap_bind: Invalid credentials (49)"},
			map[string]string{event.FieldPassword: "tls-secret", "tls": "true"}},
		{"ldaps bind", "ldapwhoami", []string{"-x", "-H", tls, "-D", "cn=admin,dc=kestrel,dc=com", "-w", "ldaps-secret"},
			[]string{"ldap_bind: Invalid credentials (49)"},
			map[string]string{event.FieldPassword: "ldaps-secret", "tls": "true"}},
		{"unauthenticated bind", "ldapwhoami", []string{"-x", "-H", plain, "-D", "cn=admin,dc=kestrel,dc=com"},
			[]string{"Server is unwilling to perform (53)", "unauthenticated bind (DN with no password) disallowed"},
			map[string]string{event.FieldUsername: "cn=admin,dc=kestrel,dc=com", "result": "53"}},
		{"bad DN", "ldapwhoami", []string{"-x", "-H", plain, "-D", "admin", "-w", "x1"},
			[]string{"Invalid DN syntax (34)", "additional info: invalid DN"},
			map[string]string{event.FieldUsername: "admin", event.FieldPassword: "x1", "result": "34"}},
		{"anonymous whoami", "ldapwhoami", []string{"-x", "-H", plain}, []string{"anonymous"},
			map[string]string{"anonymous": "true", event.FieldSuccess: "true"}},
		{"root DSE", "ldapsearch", []string{"-x", "-H", plain, "-s", "base", "-b", "", "+", "*"},
			[]string{"objectClass: OpenLDAProotDSE", "namingContexts: dc=kestrel,dc=com", "supportedExtension: 1.3.6.1.4.1.1466.20037",
				"supportedSASLMechanisms: NTLM", "subschemaSubentry: cn=Subschema", "result: 0 Success"}, nil},
		{"tree", "ldapsearch", []string{"-x", "-H", plain, "-b", "dc=kestrel,dc=com", "(&(objectClass=posixAccount)(uid=l*))", "uid", "mail"},
			[]string{"dn: uid=lwhitfield,ou=people,dc=kestrel,dc=com", "mail: lwhitfield@kestrel.com", "# numEntries: 1"}, nil},
		{"size limit", "ldapsearch", []string{"-x", "-H", plain, "-b", "ou=people,dc=kestrel,dc=com", "-z", "2", "(uid=*)", "1.1"},
			[]string{"result: 4 Size limit exceeded", "# numEntries: 2"}, nil},
		{"no such object", "ldapsearch", []string{"-x", "-H", plain, "-b", "ou=missing,dc=kestrel,dc=com"},
			[]string{"result: 32 No such object", "matchedDN: dc=kestrel,dc=com"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ev.OfType(event.TypeAuth))
			out, _ := ldapTool(t, tc.tool, tc.args...)
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.wantAuth == nil {
				return
			}
			auths := ev.OfType(event.TypeAuth)
			if len(auths) <= before {
				t.Fatalf("no auth event")
			}
			f := auths[len(auths)-1].Fields
			for k, v := range tc.wantAuth {
				if f[k] != v {
					t.Errorf("auth %s = %q, want %q (%v)", k, f[k], v, f)
				}
			}
		})
	}
	f := waitEvent(t, ev, event.TypeRequest, "base", "dc=kestrel,dc=com")
	if f["filter"] != "(&(objectClass=posixAccount)(uid=l*))" || f["scope"] != "sub" || f["attributes"] != `["uid","mail"]` {
		t.Errorf("search event %v", f)
	}
}

// TestLdapUtilsAD drives ldap-utils against the AD persona: the root DSE
// names the domain, anonymous searches are refused with AD's text, a
// wrong password gets AD's 52e diagnostic, and a persona user's bind
// opens the seeded tree.
func TestLdapUtilsAD(t *testing.T) {
	_, addr, addrs, ev := startServer(t, hostWindows, &Persona{StartTLS: true, Domain: "corp.example.net",
		Users: []string{"lwhitfield:Summer2024!"}}, addrClients)
	plain := url("ldap", addr)
	base := "DC=corp,DC=example,DC=net"
	tests := []struct {
		name    string
		tool    string
		args    []string
		wantOut []string
	}{
		{"root DSE", "ldapsearch", []string{"-x", "-H", plain, "-s", "base", "-b", "", "(objectClass=*)"},
			[]string{"defaultNamingContext: " + base, "dnsHostName: dc01.corp.example.net",
				"dsServiceName: CN=NTDS Settings,CN=DC01,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration," + base,
				"supportedSASLMechanisms: GSS-SPNEGO", "supportedCapabilities: 1.2.840.113556.1.4.800",
				"domainFunctionality: 7", "currentTime: 20261126070000.0Z"}},
		{"anonymous search", "ldapsearch", []string{"-x", "-H", plain, "-b", base, "(objectClass=user)"},
			[]string{"result: 1 Operations error", "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563"}},
		{"wrong password", "ldapwhoami", []string{"-x", "-H", plain, "-D", "CORP\\Administrator", "-w", "Winter2025"},
			[]string{"ldap_bind: Invalid credentials (49)", "additional info: 80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563"}},
		{"ldaps wrong password", "ldapwhoami", []string{"-x", "-H", url("ldaps", addrs), "-D", "administrator@corp.example.net", "-w", "x"},
			[]string{"ldap_bind: Invalid credentials (49)"}},
		{"bound search", "ldapsearch", []string{"-x", "-ZZ", "-H", plain, "-D", "lwhitfield@corp.example.net", "-w", "Summer2024!",
			"-b", base, "(&(objectCategory=person)(servicePrincipalName=*))", "sAMAccountName", "servicePrincipalName"},
			[]string{"sAMAccountName: svc_sql", "servicePrincipalName: MSSQLSvc/sql01.corp.example.net:1433", "# numEntries: 1"}},
		{"whoami", "ldapwhoami", []string{"-x", "-H", plain, "-D", "CN=Laura Whitfield,CN=Users," + base, "-w", "Summer2024!"},
			[]string{`u:CORP\lwhitfield`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := ldapTool(t, tc.tool, tc.args...)
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	f := waitEvent(t, ev, event.TypeAuth, event.FieldPassword, "Winter2025")
	if f[event.FieldUsername] != `CORP\Administrator` || f["domain"] != "CORP" || f[event.FieldSuccess] != "false" {
		t.Errorf("auth event %v", f)
	}
	f = waitEvent(t, ev, event.TypeRequest, "filter", "(&(objectCategory=person)(servicePrincipalName=*))")
	if f["bound_dn"] != "CN=Laura Whitfield,CN=Users,"+base || f["tls"] != "true" || f["entries"] != "1" {
		t.Errorf("search event %v", f)
	}
}

// TestSASLClients drives Cyrus SASL's CRAM-MD5, NTLM and DIGEST-MD5
// clients (ldapwhoami -Y) at the OpenLDAP persona: CRAM-MD5 and NTLM
// (NTLMv1, hashcat 5500) leave lines that crack with the password typed.
func TestSASLClients(t *testing.T) {
	_, addr, _, ev := startServer(t, hostLinux, &Persona{StartTLS: true}, addrClients)
	plain := url("ldap", addr)
	for _, mech := range []string{"CRAM-MD5", "NTLM", "DIGEST-MD5"} {
		t.Run(mech, func(t *testing.T) {
			out, _ := ldapTool(t, "ldapwhoami", "-H", plain, "-Y", mech, "-U", "alice", "-w", "S3cret-"+mech)
			if !strings.Contains(out, "Invalid credentials (49)") || !strings.Contains(out, saslNoSecret) {
				t.Errorf("output:\n%s", out)
			}
			f := waitEvent(t, ev, event.TypeAuth, event.FieldMethod, "sasl/"+mech)
			for _, e := range ev.With(event.TypeAuth, event.FieldMethod, "sasl/"+mech) {
				if e.Fields[event.FieldSuccess] != "" {
					f = e.Fields
				}
			}
			if f[event.FieldUsername] != "alice" || f[event.FieldSuccess] != "false" {
				t.Fatalf("final %s event %v", mech, f)
			}
			switch mech {
			case "CRAM-MD5":
				if f[event.FieldHashFormat] != formatCRAMMD5 || !cracksCRAM(t, f[event.FieldHash], "S3cret-"+mech) {
					t.Errorf("CRAM-MD5 line %q does not crack", f[event.FieldHash])
				}
			case "NTLM":
				// Cyrus's NTLM client still answers with NTLMv1.
				ok, err := ntlmssp.CracksV1(f[event.FieldHash], "S3cret-"+mech)
				if f[event.FieldHashFormat] != ntlmssp.FormatNetNTLMv1 || err != nil || !ok {
					t.Errorf("NTLM line %q (%s) does not crack: %v", f[event.FieldHash], f[event.FieldHashFormat], err)
				}
			case "DIGEST-MD5":
				if !strings.Contains(f["digest"], `username="alice"`) {
					t.Errorf("digest %q", f["digest"])
				}
			}
		})
	}
}

// TestLdap3NTLM binds with python3-ldap3's NTLM (AD's Sicily exchange, as
// impacket and ldap3-based tools do) to the AD persona: the NetNTLMv2
// line cracks with the password used, and a persona user's hash logs in.
func TestLdap3NTLM(t *testing.T) {
	py := testutil.RequireImpacket(t)
	_, addr, _, ev := startServer(t, hostWindows, &Persona{Domain: "corp.local", Users: []string{"kmarsh:Helpdesk#1"}}, addrClients)
	host, port, _ := strings.Cut(addr, ":")
	// ldap3 hashes with hashlib's MD4, which OpenSSL 3 keeps in its
	// legacy provider.
	conf := filepath.Join(t.TempDir(), "openssl.cnf")
	if err := os.WriteFile(conf, []byte(opensslLegacy), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, ldap3
s = ldap3.Server(sys.argv[1], port=int(sys.argv[2]), get_info=ldap3.NONE)
c = ldap3.Connection(s, user=sys.argv[3], password=sys.argv[4], authentication=ldap3.NTLM)
print("BIND", c.bind(), c.result.get("description"), c.result.get("message"))
`
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{{`CORP\administrator`, "Passw0rd!", false}, {`CORP\kmarsh`, "Helpdesk#1", true}} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, py, "-c", script, host, port, tc.user, tc.pw)
		cmd.Env = append(os.Environ(), "OPENSSL_CONF="+conf)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("ldap3: %v\n%s", err, out)
		}
		want := "BIND False invalidCredentials"
		if tc.ok {
			want = "BIND True success"
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("%s: ldap3 said %s", tc.user, out)
		}
		_, name, _ := strings.Cut(tc.user, `\`)
		f := waitEvent(t, ev, event.TypeAuth, event.FieldUsername, name)
		ok, err := ntlmssp.CracksV2(f[event.FieldHash], tc.pw)
		if err != nil || !ok || f[event.FieldHashFormat] != ntlmssp.FormatNetNTLMv2 || f[event.FieldMethod] != "sicily" {
			t.Errorf("%s: %v does not crack: %v", tc.user, f, err)
		}
		if f[event.FieldSuccess] != map[bool]string{true: "true", false: "false"}[tc.ok] {
			t.Errorf("%s: success %q", tc.user, f[event.FieldSuccess])
		}
	}
}

// opensslLegacy is an OpenSSL 3 configuration with the legacy provider on.
const opensslLegacy = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`
