package mongodb

import (
	"os/exec"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// pymongo runs a Python snippet with Debian's pymongo against addr; the
// snippet sees the host and port as H and P.
func pymongo(t *testing.T, addr, script string) string {
	t.Helper()
	py := testutil.RequireTool(t, "/usr/bin/python3")
	if err := exec.Command(py, "-c", "import pymongo").Run(); err != nil {
		testutil.Skip(t, "python3-pymongo is not installed (see .ci/run)")
	}
	h, p := splitAddr(t, addr)
	out, err := exec.Command(py, "-c", "import pymongo, json\nH, P = '"+h+"', "+p+"\n"+script).CombinedOutput()
	if err != nil {
		t.Fatalf("pymongo: %v\n%s", err, out)
	}
	return string(out)
}

func TestPymongoOpenServer(t *testing.T) {
	addr, rec := start(t, "127.0.104.10", nil)
	out := pymongo(t, addr, `
c = pymongo.MongoClient(H, P, serverSelectionTimeoutMS=3000)
print("VERSION", c.server_info()["version"])
print("DBS", ",".join(c.list_database_names()))
print("COLLS", ",".join(sorted(c.shop.list_collection_names())))
print("FIND", c.webapp.users.find_one({"username": "deploy"})["apiKey"])
print("COUNT", c.shop.customers.count_documents({}))
print("LOG", c.admin.command("getLog", "startupWarnings")["log"][-1])
c.shop.README.insert_one({"content": "All your data is backed up. Send 0.05 BTC"})
c.drop_database("webapp")
print("AFTER", ",".join(c.list_database_names()))
`)
	for _, want := range []string{
		"VERSION 6.0.19", "DBS admin,config,local,shop,webapp", "COLLS customers,orders",
		"FIND sk_live_", "COUNT 5", "Access control is not enabled", "AFTER admin,config,local,shop\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("pymongo output lacks %q:\n%s", want, out)
		}
	}
	testutil.Eventually(t, "the command events", func() bool {
		seen := map[string]bool{}
		for _, e := range rec.OfType(event.TypeCommand) {
			seen[e.Fields[event.FieldCommand]+"@"+e.Fields["db"]] = true
		}
		return seen["ismaster@admin"] && seen["listDatabases@admin"] && seen["find@webapp"] &&
			seen["insert@shop"] && seen["dropDatabase@webapp"] && seen["aggregate@shop"]
	})
	hellos := 0
	for _, e := range rec.OfType(event.TypeCommand) {
		if e.Fields[event.FieldCommand] == "ismaster" {
			hellos++
		}
		if e.Fields[event.FieldCommand] == "ismaster" && e.Fields["opcode"] == "OP_QUERY" && !strings.HasPrefix(e.Fields["client_driver"], "PyMongo 3.11") {
			t.Errorf("handshake event %v: want the driver named", e.Fields)
		}
		if e.Fields[event.FieldCommand] == "insert" && (e.Severity != event.Warning || !strings.Contains(e.Fields["args"], "0.05 BTC")) {
			t.Errorf("insert event %v: want a warning carrying the document", e)
		}
	}
	// Two handshakes (monitor and pool) and one streaming hello: a server
	// that answered the monitor at once would be asked again and again.
	if hellos > 4 {
		t.Errorf("%d ismaster commands: the monitor's hello was not awaited", hellos)
	}
}

func TestPymongoSCRAM(t *testing.T) {
	for _, tc := range []struct {
		name, mech, keys string
	}{
		{"sha256 open", "SCRAM-SHA-256", "false"},
		{"sha1 open", "SCRAM-SHA-1", "false"},
		{"sha256 auth", "SCRAM-SHA-256", "true"},
		{"default mechanism", "", "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, rec := start(t, "127.0.104.11", map[string]string{"auth": tc.keys})
			mech := ""
			if tc.mech != "" {
				mech = ", authMechanism='" + tc.mech + "'"
			}
			out := pymongo(t, addr, `
c = pymongo.MongoClient(H, P, username="alice", password="S3cret!pw", authSource="admin", serverSelectionTimeoutMS=3000`+mech+`)
try:
    c.admin.command("ping")
    print("NO ERROR")
except pymongo.errors.OperationFailure as e:
    print("ERR", e.code, e.details.get("errmsg"))
`)
			if !strings.Contains(out, "ERR 18 Authentication failed.") {
				t.Fatalf("pymongo: %s", out)
			}
			wantMech := tc.mech
			if wantMech == "" {
				wantMech = "SCRAM-SHA-256"
			}
			var auth event.Event
			testutil.Eventually(t, "an auth event with a proof", func() bool {
				for _, e := range rec.OfType(event.TypeAuth) {
					if e.Fields[event.FieldHash] != "" {
						auth = e
						return true
					}
				}
				return false
			})
			f := auth.Fields
			if f[event.FieldUsername] != "alice" || f[event.FieldMethod] != wantMech || f["auth_db"] != "admin" || f[event.FieldHashFormat] != hashFormat(wantMech) {
				t.Fatalf("auth event fields: %v", f)
			}
			if ok, err := verifyProofLine(f[event.FieldHash], "S3cret!pw"); !ok || err != nil {
				t.Fatalf("proof line %q does not verify with the password: %v", f[event.FieldHash], err)
			}
			if ok, _ := verifyProofLine(f[event.FieldHash], "S3cret!pX"); ok {
				t.Fatal("proof line verifies with a wrong password")
			}
		})
	}
}

func TestPymongoAuthRequired(t *testing.T) {
	addr, rec := start(t, "127.0.104.12", map[string]string{"auth": "true"})
	out := pymongo(t, addr, `
c = pymongo.MongoClient(H, P, serverSelectionTimeoutMS=3000)
print("VERSION", c.server_info()["version"])
try:
    c.list_database_names()
except pymongo.errors.OperationFailure as e:
    print("ERR", e.code, e.details.get("codeName"), e.details.get("errmsg"))
`)
	for _, want := range []string{"VERSION 6.0.19", "ERR 13 Unauthorized command listDatabases requires authentication"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	testutil.Eventually(t, "the refused listDatabases event", func() bool {
		for _, e := range rec.OfType(event.TypeCommand) {
			if e.Fields[event.FieldCommand] == "listDatabases" && e.Fields["result"] == "Unauthorized" {
				return true
			}
		}
		return false
	})
}
