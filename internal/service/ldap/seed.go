package ldap

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// person is one seeded employee; the same staff appear in both products'
// trees, each written the product's way.
type person struct {
	given, sur, title, dept string
	admin                   bool
}

var staff = []person{
	{"Laura", "Whitfield", "IT Manager", "IT", true},
	{"Daniel", "Okafor", "Systems Administrator", "IT", true},
	{"Priya", "Raman", "Network Engineer", "IT", false},
	{"Marcus", "Feld", "Finance Director", "Finance", false},
	{"Sofia", "Lindqvist", "Accountant", "Finance", false},
	{"Tom", "Hargreaves", "Sales Manager", "Sales", false},
	{"Aisha", "Bello", "HR Generalist", "Human Resources", false},
	{"Kevin", "Marsh", "Helpdesk Technician", "IT", false},
	{"Elena", "Popescu", "Software Developer", "Engineering", false},
	{"James", "Carter", "CEO", "Management", false},
}

func (p person) login() string { return strings.ToLower(p.given[:1] + p.sur) }

// stamp returns a deterministic time for seeded data: the directory's
// install date (from the domain, between early 2021 and late 2023) plus
// step hours, so every decky's history differs but stays the same across
// restarts.
func (s site) stamp(step int) time.Time {
	h := sha256.Sum256([]byte(s.domain))
	days := int(binary.BigEndian.Uint16(h[:2])) % 1000
	base := time.Date(2021, 2, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, days)
	return base.Add(time.Duration(step)*time.Hour + time.Duration(h[2])*time.Minute + time.Duration(h[3]%60)*time.Second)
}

func a(name string, vals ...string) attr  { return attr{name: name, vals: vals} }
func op(name string, vals ...string) attr { return attr{name: name, vals: vals, op: true} }

// hidden is a userPassword as slapd keeps it: {SSHA}, salted, never shown.
func (s site) hidden(dn string) attr {
	h := sha256.Sum256([]byte("pw/" + s.domain + "/" + dn))
	return attr{name: "userPassword", vals: []string{"{SSHA}" + base64.StdEncoding.EncodeToString(h[:24])}, secret: true}
}

// seed builds the persona's directory.
func (s site) seed() *directory {
	if s.ad {
		return s.seedAD()
	}
	return s.seedOpenLDAP()
}

// seedOpenLDAP is an organization's tree as admins build it on slapd:
// ou=people of inetOrgPerson/posixAccount users, ou=groups of posixGroups.
// userPassword is never returned: Debian's ACL lets anonymous only "auth".
func (s site) seedOpenLDAP() *directory {
	d := newDirectory()
	admin := "cn=admin," + s.base
	step := 0
	add := func(dn, structural string, attrs ...attr) {
		ts := s.stamp(step).Format("20060102150405Z")
		step += 3
		h := sha256.Sum256([]byte(s.domain + "/" + dn))
		uuid := fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
		csn := s.stamp(step).Format("20060102150405") + fmt.Sprintf(".%06dZ#000000#000#000000", binary.BigEndian.Uint32(h[16:20])%1000000)
		attrs = append(attrs,
			op("structuralObjectClass", structural), op("entryUUID", uuid), op("creatorsName", admin),
			op("createTimestamp", ts), op("entryCSN", csn), op("modifiersName", admin), op("modifyTimestamp", ts),
			op("entryDN", dn), op("subschemaSubentry", "cn=Subschema"))
		d.add(dn, attrs...)
	}
	dc := strings.Split(s.domain, ".")[0]
	add(s.base, "organization", a("objectClass", "top", "dcObject", "organization"), a("o", s.org), a("dc", dc))
	people, groups := "ou=people,"+s.base, "ou=groups,"+s.base
	add(people, "organizationalUnit", a("objectClass", "organizationalUnit"), a("ou", "people"))
	add(groups, "organizationalUnit", a("objectClass", "organizationalUnit"), a("ou", "groups"))
	var admins, devs []string
	for i, p := range staff {
		uid := p.login()
		add("uid="+uid+","+people, "inetOrgPerson",
			a("objectClass", "inetOrgPerson", "posixAccount", "shadowAccount"),
			a("uid", uid), a("cn", p.given+" "+p.sur), a("sn", p.sur), a("givenName", p.given),
			a("title", p.title), a("ou", p.dept), a("mail", uid+"@"+s.domain),
			a("uidNumber", strconv.Itoa(10001+i)), a("gidNumber", "10000"),
			a("homeDirectory", "/home/"+uid), a("loginShell", "/bin/bash"), s.hidden(uid))
		if p.admin {
			admins = append(admins, uid)
		}
		if p.dept == "Engineering" || p.dept == "IT" {
			devs = append(devs, uid)
		}
	}
	var all []string
	for _, p := range staff {
		all = append(all, p.login())
	}
	add("cn=staff,"+groups, "posixGroup", a("objectClass", "posixGroup"), a("cn", "staff"), a("gidNumber", "10000"), a("memberUid", all...))
	add("cn=admins,"+groups, "posixGroup", a("objectClass", "posixGroup"), a("cn", "admins"), a("gidNumber", "10001"), a("memberUid", admins...))
	add("cn=developers,"+groups, "posixGroup", a("objectClass", "posixGroup"), a("cn", "developers"), a("gidNumber", "10002"), a("memberUid", devs...))
	add("cn=backup,"+s.base, "organizationalRole", a("objectClass", "organizationalRole", "simpleSecurityObject"),
		a("cn", "backup"), a("description", "Service account for nightly backups (slapcat to /srv/backup)"), s.hidden("backup"))
	return d
}

// adGroup is a seeded AD group with its RID and members.
type adGroup struct {
	cn, desc string
	rid      int
	builtin  bool // under CN=Users with a well-known RID
}

// seedAD is a Windows Server 2019 domain's tree: the well-known
// containers, the built-in accounts and groups with their well-known RIDs,
// the domain controller, member computers, and the staff as users. SIDs
// and GUIDs are binary, as AD returns them.
func (s site) seedAD() *directory {
	d := newDirectory()
	sid := s.domainSID()
	usn := 4100
	step := 0
	schema := "CN=Schema,CN=Configuration," + s.base
	// common are the attributes every object has, in AD's order; an
	// object named by dc= or ou= has no cn.
	common := func(dn, name, category string, classes ...string) []attr {
		usn += 37
		step++
		created := s.stamp(step).Format("20060102150405.0Z")
		h := sha256.Sum256([]byte(s.domain + "/" + dn))
		at := []attr{a("objectClass", classes...)}
		if strings.HasPrefix(dn, "CN=") {
			at = append(at, a("cn", name))
		}
		return append(at, a("distinguishedName", dn), a("instanceType", "4"),
			a("whenCreated", created), a("whenChanged", created), a("uSNCreated", strconv.Itoa(usn)),
			a("uSNChanged", strconv.Itoa(usn+3)), a("name", name), a("objectGUID", string(h[:16])),
			a("objectCategory", "CN="+category+","+schema))
	}
	label := strings.Split(s.domain, ".")[0]
	dom := common(s.base, label, "Domain-DNS", "top", "domain", "domainDNS")
	dom = append(dom, a("objectSid", string(sid)), a("dc", label),
		a("lockoutThreshold", "0"), a("maxPwdAge", "-36288000000000"), a("minPwdLength", "7"),
		a("pwdProperties", "1"), a("ms-DS-MachineAccountQuota", "10"))
	d.add(s.base, dom...)
	users := "CN=Users," + s.base
	for _, c := range []string{"Users", "Computers"} {
		d.add("CN="+c+","+s.base, append(common("CN="+c+","+s.base, c, "Container", "top", "container"),
			a("description", "Default container for upgraded "+strings.ToLower(c)+" accounts"))...)
	}
	dcs := "OU=Domain Controllers," + s.base
	d.add(dcs, append(common(dcs, "Domain Controllers", "Organizational-Unit", "top", "organizationalUnit"), a("ou", "Domain Controllers"),
		a("description", "Default container for domain controllers"))...)
	pwdSet := filetime(s.stamp(step + 200))
	user := func(dn, cn, sam string, rid, uac int, extra ...attr) {
		at := common(dn, cn, "Person", "top", "person", "organizationalPerson", "user")
		at = append(at, extra...)
		at = append(at, a("userAccountControl", strconv.Itoa(uac)), a("badPwdCount", "0"), a("codePage", "0"),
			a("countryCode", "0"), a("badPasswordTime", "0"), a("lastLogoff", "0"), a("lastLogon", "0"),
			a("pwdLastSet", pwdSet), a("primaryGroupID", "513"), a("objectSid", s.sid(rid)),
			a("accountExpires", "9223372036854775807"), a("logonCount", "0"), a("sAMAccountName", sam),
			a("sAMAccountType", "805306368"))
		d.add(dn, at...)
	}
	user("CN=Administrator,"+users, "Administrator", "Administrator", 500, 66048,
		a("description", "Built-in account for administering the computer/domain"),
		a("memberOf", "CN=Group Policy Creator Owners,"+users, "CN=Domain Admins,"+users,
			"CN=Enterprise Admins,"+users, "CN=Schema Admins,"+users, "CN=Administrators,CN=Builtin,"+s.base))
	user("CN=Guest,"+users, "Guest", "Guest", 501, 66082,
		a("description", "Built-in account for guest access to the computer/domain"))
	user("CN=krbtgt,"+users, "krbtgt", "krbtgt", 502, 514,
		a("description", "Key Distribution Center Service Account"))
	var admins []string
	for i, p := range staff {
		cn := p.given + " " + p.sur
		dn := "CN=" + cn + "," + users
		extra := []attr{a("sn", p.sur), a("title", p.title), a("givenName", p.given), a("displayName", cn),
			a("department", p.dept), a("mail", strings.ToLower(p.given+"."+p.sur)+"@"+s.domain),
			a("userPrincipalName", p.login()+"@"+s.domain)}
		if p.admin {
			admins = append(admins, dn)
		}
		user(dn, cn, p.login(), 1103+i, 66048, extra...)
	}
	// Bait for Kerberoasting and password-in-description hunts, the first
	// things AD recon tools report.
	user("CN=svc_sql,"+users, "svc_sql", "svc_sql", 1120, 66048,
		a("description", "SQL Server service account"),
		a("servicePrincipalName", "MSSQLSvc/sql01."+s.domain+":1433", "MSSQLSvc/sql01."+s.domain),
		a("userPrincipalName", "svc_sql@"+s.domain))
	user("CN=svc_backup,"+users, "svc_backup", "svc_backup", 1121, 66048,
		a("description", "Veeam backup - temp pwd Backup@"+strconv.Itoa(s.stamp(0).Year())+", change after setup"),
		a("userPrincipalName", "svc_backup@"+s.domain))
	groups := []adGroup{
		{"Domain Admins", "Designated administrators of the domain", 512, true},
		{"Domain Users", "All domain users", 513, true},
		{"Domain Computers", "All workstations and servers joined to the domain", 515, true},
		{"Domain Controllers", "All domain controllers in the domain", 516, true},
		{"Schema Admins", "Designated administrators of the schema", 518, true},
		{"Enterprise Admins", "Designated administrators of the enterprise", 519, true},
		{"Group Policy Creator Owners", "Members in this group can modify group policy for the domain", 520, true},
		{"IT Support", "Helpdesk and desktop support", 1130, false},
		{"Finance", "Finance department share access", 1131, false},
		{"VPN Users", "Remote access via VPN", 1132, false},
	}
	for _, g := range groups {
		dn := "CN=" + g.cn + "," + users
		at := common(dn, g.cn, "Group", "top", "group")
		at = append(at, a("description", g.desc))
		switch g.cn {
		case "Domain Admins":
			at = append(at, a("member", append([]string{"CN=Administrator," + users}, admins...)...))
		case "IT Support":
			at = append(at, a("member", "CN=Kevin Marsh,"+users, "CN=Priya Raman,"+users))
		}
		gtype := "-2147483646"
		at = append(at, a("objectSid", s.sid(g.rid)),
			a("sAMAccountName", g.cn), a("sAMAccountType", "268435456"), a("groupType", gtype))
		d.add(dn, at...)
	}
	computer := func(parent, name, osName, osVer string, rid, uac int) {
		dn := "CN=" + name + "," + parent
		at := common(dn, name, "Computer", "top", "person", "organizationalPerson", "user", "computer")
		at = append(at, a("userAccountControl", strconv.Itoa(uac)), a("primaryGroupID", map[bool]string{true: "516", false: "515"}[uac == 532480]),
			a("objectSid", s.sid(rid)),
			a("sAMAccountName", name+"$"), a("sAMAccountType", "805306369"),
			a("operatingSystem", osName), a("operatingSystemVersion", osVer),
			a("dNSHostName", strings.ToLower(name)+"."+s.domain), a("pwdLastSet", pwdSet))
		d.add(dn, at...)
	}
	computer(dcs, s.host, "Windows Server 2019 Standard", "10.0 (17763)", 1000, 532480)
	comps := "CN=Computers," + s.base
	computer(comps, "SQL01", "Windows Server 2019 Standard", "10.0 (17763)", 1140, 4096)
	computer(comps, "FS01", "Windows Server 2016 Standard", "10.0 (14393)", 1141, 4096)
	for i := range 4 {
		computer(comps, fmt.Sprintf("WS%s%02d", strings.ToUpper(s.netbios[:min(3, len(s.netbios))]), i+1),
			"Windows 10 Enterprise", "10.0 (19045)", 1150+i, 4096)
	}
	return d
}

// domainSID is the domain's S-1-5-21-x-y-z, binary, drawn from its name.
func (s site) domainSID() []byte {
	h := sha256.Sum256([]byte("sid/" + s.domain))
	b := []byte{1, 4, 0, 0, 0, 0, 0, 5}
	b = append(b, le32(21)...)
	for i := range 3 {
		b = append(b, le32(int(binary.LittleEndian.Uint32(h[4*i:])&0x7fffffff))...)
	}
	return b
}

// sid is the binary SID of the domain account with that RID.
func (s site) sid(rid int) string {
	b := s.domainSID()
	b[1]++ // one more sub-authority
	return string(append(b, le32(rid)...))
}

// le32 is a little-endian sub-authority.
func le32(n int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(n)) }

// filetime is t as Windows' FILETIME in decimal, as AD writes pwdLastSet.
func filetime(t time.Time) string {
	return strconv.FormatInt((t.Unix()+11644473600)*10000000, 10)
}
