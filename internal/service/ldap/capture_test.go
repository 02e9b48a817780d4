package ldap

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"decnet/internal/testutil"
)

// TestCaptureSeeds remakes the fuzz corpora from real clients' traffic:
// ldap-utils (simple, StartTLS, CRAM-MD5, NTLM, DIGEST-MD5, SCRAM binds,
// searches with every filter choice, password modify, compare, delete,
// modrdn, modify) and ldap3's NTLM bind, each sent through a recording
// proxy to the personas. Each client message becomes a FuzzMessage seed,
// each connection's whole stream a FuzzSession seed. Run it with
// LDAP_CAPTURE_SEEDS=1; it is skipped otherwise.
func TestCaptureSeeds(t *testing.T) {
	if os.Getenv("LDAP_CAPTURE_SEEDS") == "" {
		t.Skip("LDAP_CAPTURE_SEEDS is not set")
	}
	_, ol, _, _ := startServer(t, hostLinux, &Persona{StartTLS: false, Domain: "kestrel.com"}, addrClients)
	_, ad, _, _ := startServer(t, hostWindows, &Persona{Domain: "corp.local"}, addrClients)
	proxyOL := testutil.StartProxy(t, addrClients, ol)
	proxyAD := testutil.StartProxy(t, addrClients, ad)
	pol, pad := proxyOL.Addr, proxyAD.Addr
	run := func(name string, args ...string) { out, _ := ldapTool(t, name, args...); t.Log(out) }
	runSh := func(c string) { out, _ := exec.Command("sh", "-c", c).CombinedOutput(); t.Log(string(out)) }
	run("ldapwhoami", "-x", "-H", "ldap://"+pol, "-D", "cn=admin,dc=kestrel,dc=com", "-w", "secret")
	run("ldapsearch", "-x", "-H", "ldap://"+pol, "-s", "base", "-b", "", "+", "*")
	run("ldapsearch", "-x", "-H", "ldap://"+pol, "-b", "dc=kestrel,dc=com", "-z", "5", "(&(objectClass=posixAccount)(|(uid=l*)(cn=*a*b*c))(!(uidNumber>=20000))(mail~=x)(gidNumber<=5)(cn:caseExactMatch:=X)(:dn:2.5.13.5:=y))", "uid", "mail")
	run("ldapsearch", "-x", "-H", "ldap://"+pol, "-ZZ", "-b", "dc=kestrel,dc=com")
	run("ldapwhoami", "-H", "ldap://"+pol, "-Y", "CRAM-MD5", "-U", "alice", "-w", "secret")
	run("ldapwhoami", "-H", "ldap://"+pol, "-Y", "NTLM", "-U", "alice", "-w", "secret")
	run("ldapwhoami", "-H", "ldap://"+pol, "-Y", "DIGEST-MD5", "-U", "alice", "-w", "secret")
	run("ldapwhoami", "-H", "ldap://"+pol, "-Y", "SCRAM-SHA-1", "-U", "alice", "-w", "secret")
	run("ldappasswd", "-x", "-H", "ldap://"+pol, "-a", "old", "-s", "new", "uid=x,dc=kestrel,dc=com")
	run("ldapcompare", "-x", "-H", "ldap://"+pol, "dc=kestrel,dc=com", "o:Kestrel")
	run("ldapdelete", "-x", "-H", "ldap://"+pol, "uid=x,dc=kestrel,dc=com")
	run("ldapmodrdn", "-x", "-H", "ldap://"+pol, "uid=x,dc=kestrel,dc=com", "uid=y")
	cmd := "printf 'dn: uid=x,dc=kestrel,dc=com\\nchangetype: modify\\nreplace: mail\\nmail: a@b\\n-\\nadd: cn\\ncn: z\\n' | ldapmodify -x -H ldap://" + pol
	runSh(cmd)
	run("ldapsearch", "-x", "-H", "ldap://"+pad, "-s", "base", "-b", "", "(objectClass=*)")
	run("ldapwhoami", "-x", "-H", "ldap://"+pad, "-D", `CORP\Administrator`, "-w", "Winter2025")
	py := "/usr/bin/python3"
	host, port, _ := net.SplitHostPort(pad)
	conf := filepath.Join(t.TempDir(), "o.cnf")
	if err := os.WriteFile(conf, []byte(opensslLegacy), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, ldap3
s = ldap3.Server(sys.argv[1], port=int(sys.argv[2]), get_info=ldap3.ALL)
c = ldap3.Connection(s, user="CORP\\administrator", password="Passw0rd!", authentication=ldap3.NTLM)
print(c.bind())
`
	runSh("OPENSSL_CONF=" + conf + " " + py + " -c '" + script + "' " + host + " " + port)
	flows := append(proxyOL.Flows(), proxyAD.Flows()...)
	n := 0
	for i, f := range flows {
		testutil.WriteSeed(t, "FuzzSession", fmt.Sprintf("flow-%03d", i+1), f)
		r := bufio.NewReader(bytes.NewReader(f))
		for {
			fr, err := readFrame(r, 1<<20)
			if err != nil || fr[0] != tagSequence {
				break
			}
			n++
			testutil.WriteSeed(t, "FuzzMessage", fmt.Sprintf("client-%03d", n), fr)
		}
	}
	t.Logf("%d message seeds from %d connections", n, len(flows))
}
