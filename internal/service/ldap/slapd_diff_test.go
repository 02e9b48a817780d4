package ldap

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// slapdConf is a slapd.conf for a Debian slapd serving suffix from dir,
// with the schemas the seeded tree uses and Debian's default ACL.
const slapdConf = `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
database mdb
suffix "%[2]s"
rootdn "cn=admin,%[2]s"
rootpw adminpw
directory %[1]s/db
access to attrs=userPassword,shadowLastChange by self write by anonymous auth by * none
access to * by * read
`

// startSlapd runs Debian's slapd on addr with d's entries loaded
// (slapadd) and extraConf appended to its configuration, and stops it at
// the end of the test.
func startSlapd(t *testing.T, addr string, s site, d *directory, extraConf string) {
	t.Helper()
	testutil.RequireRoot(t, "to run slapd")
	slapd := testutil.RequireTool(t, "/usr/sbin/slapd")
	slapadd := testutil.RequireTool(t, "/usr/sbin/slapadd")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(slapdConf, dir, s.base)+extraConf), 0o600); err != nil {
		t.Fatal(err)
	}
	var ldif bytes.Buffer
	for _, e := range d.entries {
		fmt.Fprintf(&ldif, "dn: %s\n", e.dn)
		for _, at := range e.attrs {
			if at.op {
				continue
			}
			for _, v := range at.vals {
				fmt.Fprintf(&ldif, "%s: %s\n", at.name, v)
			}
		}
		ldif.WriteString("\n")
	}
	add := exec.Command(slapadd, "-f", conf, "-q")
	add.Stdin = &ldif
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	cmd := exec.Command(slapd, "-d", "0", "-f", conf, "-h", "ldap://"+addr+"/")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	testutil.Eventually(t, "slapd listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// exchange sends one request on a fresh connection and returns the
// server's messages up to the first that is not a search entry.
func exchange(t *testing.T, addr string, req []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	var out []byte
	for {
		frame, err := readFrame(r, 1<<20)
		if err != nil {
			t.Fatalf("reading the answer: %v (so far %x)", err, out)
		}
		out = append(out, frame...)
		m, err := parseMessage(frame)
		if err != nil {
			t.Fatal(err)
		}
		if m.op.id != opSearchEntry {
			return out
		}
	}
}

// req builds a client request, as ldap-utils encodes it.
func req(id int64, op []byte) []byte { return encoder{}.envelope(id, op) }

func bindReq(version int64, dn string, auth []byte) []byte {
	e := encoder{}
	return e.tlv(opBindRequest, e.integer(tagInteger, version), e.str(tagOctetString, dn), auth)
}

func saslAuth(mech string, cred ...string) []byte {
	e := encoder{}
	body := [][]byte{e.str(tagOctetString, mech)}
	for _, c := range cred {
		body = append(body, e.str(tagOctetString, c))
	}
	return e.tlv(authSASL, body...)
}

func searchReq(base string, scope, size int64, filter []byte, attrs ...string) []byte {
	e := encoder{}
	var sel []byte
	for _, a := range attrs {
		sel = append(sel, e.str(tagOctetString, a)...)
	}
	return e.tlv(opSearchRequest, e.str(tagOctetString, base), e.integer(tagEnumerated, scope),
		e.integer(tagEnumerated, 0), e.integer(tagInteger, size), e.integer(tagInteger, 0),
		e.tlv(tagBoolean, []byte{0}), filter, e.tlv(tagSequence, sel))
}

func extReq(oid string, value ...[]byte) []byte {
	e := encoder{}
	body := [][]byte{e.str(classContext, oid)}
	for _, v := range value {
		body = append(body, e.tlv(classContext|1, v))
	}
	return e.tlv(opExtendedRequest, body...)
}

func present(attr string) []byte { return encoder{}.str(filterPresent, attr) }

func equality(attr, value string) []byte {
	e := encoder{}
	return e.tlv(filterEquality, e.str(tagOctetString, attr), e.str(tagOctetString, value))
}

// TestSlapdDifferential sends the same requests to Debian's own slapd
// 2.5, loaded with the persona's seeded tree, and to the OpenLDAP
// persona, and wants the same bytes back: binds of every kind and their
// refusals, SASL mechanism answers, extended operations, updates, the
// root DSE and searches of the tree (user attributes; the operational
// ones hold per-install UUIDs, CSNs and times).
func TestSlapdDifferential(t *testing.T) {
	p := &Persona{Product: OpenLDAP, Domain: "kestrel.com"} // stock slapd: no TLS
	s, ev := newTestServer(t, hostLinux, p)
	fake, _ := serve(t, s, addrSlapd)
	real := net.JoinHostPort(addrReal, "3890")
	startSlapd(t, real, s.site, s.dir, "")
	e := encoder{}
	base := s.site.base
	tests := []struct {
		name string
		req  []byte
	}{
		{"anonymous bind", req(1, bindReq(3, "", e.str(authSimple, "")))},
		{"wrong password", req(1, bindReq(3, "cn=admin,"+base, e.str(authSimple, "nope")))},
		{"unknown DN", req(1, bindReq(3, "cn=nosuch,"+base, e.str(authSimple, "nope")))},
		{"invalid DN", req(1, bindReq(3, "notadn", e.str(authSimple, "x")))},
		{"DN without password", req(1, bindReq(3, "cn=admin,"+base, e.str(authSimple, "")))},
		{"LDAPv2 (nmap's LDAPBindReq)", req(1, bindReq(2, "", e.str(authSimple, "")))},
		{"SASL PLAIN in the clear", req(1, bindReq(3, "", saslAuth("PLAIN", "\x00alice\x00secret")))},
		{"SASL EXTERNAL", req(1, bindReq(3, "", saslAuth("EXTERNAL")))},
		{"SASL unknown", req(1, bindReq(3, "", saslAuth("FOO")))},
		{"SASL GSS-SPNEGO", req(1, bindReq(3, "", saslAuth("GSS-SPNEGO")))},
		{"SASL NTLM first step", req(1, bindReq(3, "", saslAuth("NTLM")))},
		{"Sicily discovery", req(1, bindReq(3, "", e.str(authSicilyDiscovery, "")))},
		{"StartTLS unconfigured", req(1, extReq(oidStartTLS))},
		{"unknown extended op", req(1, extReq("1.2.3.4"))},
		{"WhoAmI", req(1, extReq(oidWhoAmI))},
		{"password modify", req(1, extReq(oidPasswdModify, e.tlv(tagSequence, e.str(classContext, "uid=x,"+base),
			e.str(classContext|1, "old"), e.str(classContext|2, "new"))))},
		{"add", req(2, e.tlv(opAddRequest, e.str(tagOctetString, "cn=x,"+base), e.tlv(tagSequence,
			e.tlv(tagSequence, e.str(tagOctetString, "objectClass"), e.tlv(tagSet, e.str(tagOctetString, "device"))))))},
		{"delete", req(2, e.str(opDelRequest, "uid=jcarter,ou=people,"+base))},
		{"nmap LDAPSearchReq", testutil.Hex("30 84 00 00 00 2d 02 01 07 63 84 00 00 00 24 04 00 0a 01 00 0a 01 00 02 01 00 02 01 64 01 01 00 87 0b 6f 62 6a 65 63 74 43 6c 61 73 73 30 84 00 00 00 00")},
		{"root DSE", req(2, searchReq("", scopeBase, 0, present("objectClass"), "+", "*"))},
		{"tree", req(2, searchReq(base, scopeSub, 0, present("objectClass")))},
		{"one level", req(2, searchReq("ou=people,"+base, scopeOne, 0, equality("uid", "lwhitfield"), "cn", "mail"))},
		{"size limit", req(2, searchReq(base, scopeSub, 3, present("objectClass"), "1.1"))},
		{"no such object", req(2, searchReq("ou=missing,ou=people,"+base, scopeSub, 0, present("objectClass")))},
		{"no such base", req(2, searchReq("dc=other,dc=org", scopeSub, 0, present("objectClass")))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := exchange(t, real, tc.req)
			got := exchange(t, fake, tc.req)
			t.Logf("%d bytes", len(want))
			if !bytes.Equal(got, want) {
				t.Errorf("persona answered\n%x\nslapd answered\n%x", got, want)
			}
		})
	}
	if len(ev.All()) == 0 {
		t.Error("no events")
	}
}

// TestSlapdDifferentialTLS gives Debian's slapd the persona's own
// certificate (olcTLSCertificateFile, as an admin configures it) and
// compares what changes with TLS: the root DSE, which then lists
// StartTLS, and the StartTLS answer.
func TestSlapdDifferentialTLS(t *testing.T) {
	s, _ := newTestServer(t, hostLinux, &Persona{Product: OpenLDAP, Domain: "kestrel.com", StartTLS: true})
	fake, _ := serve(t, s, addrSlapd)
	real := net.JoinHostPort(addrReal, "3891")
	// The persona's certificate and key, as plain PEM files for GnuTLS.
	cert := s.tls.Certificates[0]
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600) != nil ||
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600) != nil {
		t.Fatal("writing the certificate")
	}
	startSlapd(t, real, s.site, s.dir, "TLSCertificateFile "+certFile+"\nTLSCertificateKeyFile "+keyFile+"\n")
	for _, tc := range []struct {
		name string
		req  []byte
	}{
		{"root DSE", req(2, searchReq("", scopeBase, 0, present("objectClass"), "+", "*"))},
		{"StartTLS", req(1, extReq(oidStartTLS))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := exchange(t, real, tc.req)
			got := exchange(t, fake, tc.req)
			if !bytes.Equal(got, want) {
				t.Errorf("persona answered\n%x\nslapd answered\n%x", got, want)
			}
		})
	}
}
