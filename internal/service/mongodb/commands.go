package mongodb

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"decnet/internal/event"
)

// handler answers one command. db is the command's database.
type handler func(s *Server, cl *client, db string, cmd doc) doc

// cmdSpec is a command mongod knows: its handler and whether it runs
// without a login when access control is on.
type cmdSpec struct {
	h      handler
	noAuth bool
}

var commands map[string]cmdSpec

func init() {
	hello := cmdSpec{(*Server).hello, true}
	build := cmdSpec{(*Server).buildInfo, true}
	commands = map[string]cmdSpec{
		"hello": hello, "isMaster": hello, "ismaster": hello,
		"buildInfo": build, "buildinfo": build,
		"ping":            {func(*Server, *client, string, doc) doc { return okDoc() }, true},
		"whatsmyuri":      {(*Server).whatsMyURI, true},
		"saslStart":       {nil, true},
		"saslContinue":    {nil, true},
		"logout":          {func(*Server, *client, string, doc) doc { return okDoc() }, true},
		"endSessions":     {func(*Server, *client, string, doc) doc { return okDoc() }, true},
		"getLog":          {(*Server).getLog, false},
		"serverStatus":    {(*Server).serverStatus, false},
		"getCmdLineOpts":  {(*Server).getCmdLineOpts, false},
		"listDatabases":   {(*Server).listDatabases, false},
		"listCollections": {(*Server).listCollections, false},
		"listIndexes":     {(*Server).listIndexes, false},
		"find":            {(*Server).find, false},
		"count":           {(*Server).count, false},
		"aggregate":       {(*Server).aggregate, false},
		"getMore":         {(*Server).getMore, false},
		"killCursors":     {(*Server).killCursors, false},
		"insert":          {(*Server).insert, false},
		"delete":          {(*Server).delete, false},
		"update":          {(*Server).update, false},
		"drop":            {(*Server).drop, false},
		"dropDatabase":    {(*Server).dropDatabase, false},
		"create":          {(*Server).create, false},
		"connectionStatus": {func(*Server, *client, string, doc) doc {
			return doc{{"authInfo", doc{{"authenticatedUsers", []any{}}, {"authenticatedUserRoles", []any{}}}}, {"ok", 1.0}}
		}, true},
		"getParameter": {(*Server).getParameter, false},
		"authenticate": {(*Server).authenticate, true},
	}
}

// writeCommands change data: recorded as warnings, since dropping and
// rewriting databases is what ransom crews do.
var writeCommands = map[string]bool{
	"insert": true, "delete": true, "update": true, "drop": true, "dropDatabase": true, "create": true,
}

func okDoc() doc { return doc{{"ok", 1.0}} }

// command runs one command and records it.
func (s *Server) command(cl *client, req request) doc {
	name := ""
	if len(req.Body) > 0 {
		name = req.Body[0].Key
	}
	var reply doc
	var extra map[string]string
	spec, known := commands[name]
	switch {
	case req.OpCode == opMsg && req.DB == "":
		reply = errorDoc(40571, "Location40571", "OP_MSG requests require a $db argument")
	case !known:
		reply = errorDoc(59, "CommandNotFound", "no such command: '"+name+"'")
	case s.persona.Auth && !spec.noAuth:
		reply = errorDoc(13, "Unauthorized", s.facts.commandWord+" "+name+" requires authentication")
	case name == "saslStart" || name == "saslContinue":
		reply, extra = s.sasl(cl, req.DB, req.Body, name == "saslStart")
	case spec.h != nil && hasField(req.Body, "client") && (name == "hello" || name == "isMaster" || name == "ismaster"):
		extra = clientMeta(req.Body.sub("client"))
		if cl.metaSeen {
			reply = errorDoc(186, "ClientMetadataCannotBeMutated", "The client metadata document may only be sent in the first hello")
			break
		}
		cl.metaSeen = true
		reply = spec.h(s, cl, req.DB, req.Body)
	default:
		reply = spec.h(s, cl, req.DB, req.Body)
	}
	s.emitCommand(cl, req, name, reply, extra)
	return reply
}

func (s *Server) hello(cl *client, db string, cmd doc) doc {
	_, hasTV := cmd.get("topologyVersion")
	ms, hasMS := cmd.get("maxAwaitTimeMS")
	switch {
	case hasTV && !hasMS:
		return errorDoc(31368, "Location31368", "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'")
	case hasMS && !hasTV:
		return errorDoc(31368, "Location31368", "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'")
	case hasMS:
		if n, ok := number(ms); !ok || n < 0 {
			return errorDoc(31373, "Location31373", "maxAwaitTimeMS must be a non-negative integer")
		}
	}
	d := doc{}
	// Any boolean helloOk, even false, is answered with helloOk: true.
	if _, isBool := fieldValue(cmd.get("helloOk")).(bool); isBool {
		d = append(d, elem{"helloOk", true})
	}
	if cmd[0].Key == "hello" {
		d = append(d, elem{"isWritablePrimary", true})
	} else {
		d = append(d, elem{"ismaster", true})
	}
	if s.facts.wire >= 9 {
		d = append(d, elem{"topologyVersion", doc{{"processId", s.processID}, {"counter", int64(0)}}})
	}
	d = append(d,
		elem{"maxBsonObjectSize", int32(16777216)},
		elem{"maxMessageSizeBytes", int32(maxWireMessage)},
		elem{"maxWriteBatchSize", int32(100000)},
		elem{"localTime", dateTime(s.now().UnixMilli())},
		elem{"logicalSessionTimeoutMinutes", int32(30)},
		elem{"connectionId", cl.id},
		elem{"minWireVersion", int32(0)},
		elem{"maxWireVersion", s.facts.wire},
		elem{"readOnly", false},
	)
	if user := cmd.str("saslSupportedMechs"); user != "" {
		d = append(d, elem{"saslSupportedMechs", []any{"SCRAM-SHA-1", "SCRAM-SHA-256"}})
	}
	if spec := cmd.sub("speculativeAuthenticate"); spec != nil && s.facts.wire >= 9 {
		authDB := spec.str("db")
		if authDB == "" {
			authDB = db
		}
		if r, _ := s.sasl(cl, authDB, spec, true); truthy(fieldValue(r.get("ok"))) {
			d = append(d, elem{"speculativeAuthenticate", r[:len(r)-1]})
		}
	}
	return append(d, elem{"ok", 1.0})
}

// fieldValue drops the found flag of doc.get: a missing field reads as nil.
func fieldValue(v any, _ bool) any { return v }

func hasField(d doc, key string) bool {
	_, ok := d.get(key)
	return ok
}

// clientMeta lifts what a driver says of itself in its first hello (driver,
// application, OS) into event fields.
func clientMeta(c doc) map[string]string {
	join := func(d doc, keys ...string) string {
		var parts []string
		for _, k := range keys {
			if v := d.str(k); v != "" {
				parts = append(parts, v)
			}
		}
		return clipName(strings.Join(parts, " "))
	}
	f := map[string]string{
		"client_driver":   join(c.sub("driver"), "name", "version"),
		"client_os":       join(c.sub("os"), "type", "name", "architecture", "version"),
		"client_app":      join(c.sub("application"), "name"),
		"client_platform": clipName(c.str("platform")),
	}
	for k, v := range f {
		if v == "" {
			delete(f, k)
		}
	}
	return f
}

func (s *Server) whatsMyURI(cl *client, _ string, _ doc) doc {
	return doc{{"you", cl.remote}, {"ok", 1.0}}
}

func (s *Server) buildInfo(_ *client, _ string, _ doc) doc {
	distmod := s.persona.Distmod
	if distmod == "" {
		distmod = distmodFor(s.cfg.Host.Distro)
	}
	va := make([]any, 4)
	for i, n := range s.facts.array {
		va[i] = n
	}
	ssl := "OpenSSL 3.0.2 15 Mar 2022"
	switch distmod {
	case "debian11":
		ssl = "OpenSSL 1.1.1w  11 Sep 2023"
	case "ubuntu2004":
		ssl = "OpenSSL 1.1.1f  31 Mar 2020"
	case "rhel90":
		ssl = "OpenSSL 3.0.7 1 Nov 2022"
	}
	// 7.0 moved to the v4 toolchain.
	toolchain, gcc := "/opt/mongodbtoolchain/v3/bin/", "8.5.0"
	if s.facts.array[0] >= 7 {
		toolchain, gcc = "/opt/mongodbtoolchain/v4/bin/", "11.3.0"
	}
	return doc{
		{"version", s.persona.Version},
		{"gitVersion", s.persona.gitVersion()},
		{"modules", []any{}},
		{"allocator", "tcmalloc"},
		{"javascriptEngine", "mozjs"},
		{"sysInfo", "deprecated"},
		{"versionArray", va},
		{"openssl", doc{{"running", ssl}, {"compiled", ssl}}},
		{"buildEnvironment", doc{
			{"distmod", distmod},
			{"distarch", "x86_64"},
			{"cc", toolchain + "gcc: gcc (GCC) " + gcc},
			{"ccflags", "-Werror -include mongo/platform/basic.h -ffp-contract=off -fasynchronous-unwind-tables -ggdb -Wall -Wsign-compare -Wno-unknown-pragmas -Winvalid-pch -fno-omit-frame-pointer -fno-strict-aliasing -O2 -march=sandybridge -mtune=generic -mprefer-vector-width=128 -Wno-unused-local-typedefs -Wno-unused-function -Wno-deprecated-declarations -Wno-unused-const-variable -Wno-unused-but-set-variable -Wno-missing-braces -fstack-protector-strong -Wa,--nocompress-debug-sections -fno-builtin-memcmp"},
			{"cxx", toolchain + "g++: g++ (GCC) " + gcc},
			{"cxxflags", "-Woverloaded-virtual -Wno-maybe-uninitialized -fsized-deallocation -std=c++17"},
			{"linkflags", "-Wl,--fatal-warnings -pthread -Wl,-z,now -fuse-ld=gold -fstack-protector-strong -Wl,--no-threads -Wl,--build-id -Wl,--hash-style=gnu -Wl,-z,noexecstack -Wl,--warn-execstack -Wl,-z,relro -Wl,--compress-debug-sections=none -Wl,-z,origin -Wl,--enable-new-dtags"},
			{"target_arch", "x86_64"},
			{"target_os", "linux"},
			{"cppdefines", "SAFEINT_USE_INTRINSICS 0 PCRE_STATIC NDEBUG _XOPEN_SOURCE 700 _GNU_SOURCE _FORTIFY_SOURCE 2 BOOST_THREAD_VERSION 5 BOOST_THREAD_USES_DATETIME BOOST_SYSTEM_NO_DEPRECATED BOOST_MATH_NO_LONG_DOUBLE_MATH_FUNCTIONS BOOST_ENABLE_ASSERT_DEBUG_HANDLER BOOST_LOG_NO_SHORTHAND_NAMES BOOST_LOG_USE_NATIVE_SYSLOG BOOST_LOG_WITHOUT_THREAD_ATTR ABSL_FORCE_ALIGNED_ACCESS"},
		}},
		{"bits", int32(64)},
		{"debug", false},
		{"maxBsonObjectSize", int32(16777216)},
		{"storageEngines", []any{"devnull", "ephemeralForTest", "wiredTiger"}},
		{"ok", 1.0},
	}
}

// startupWarnings are the log lines getLog and the shells' banners show.
func (s *Server) startupWarnings() []any {
	ts := func(d int) string {
		return s.boot.Add(time.Duration(d) * time.Millisecond).UTC().Format("2006-01-02T15:04:05.000+00:00")
	}
	lines := []any{
		`{"t":{"$date":"` + ts(412) + `"},"s":"I",  "c":"STORAGE",  "id":22297,   "ctx":"initandlisten","msg":"Using the XFS filesystem is strongly recommended with the WiredTiger storage engine. See http://dochub.mongodb.org/core/prodnotes-filesystem","tags":["startupWarnings"]}`,
	}
	if !s.persona.Auth {
		lines = append(lines, `{"t":{"$date":"`+ts(1730)+`"},"s":"W",  "c":"CONTROL",  "id":22120,   "ctx":"initandlisten","msg":"Access control is not enabled for the database. Read and write access to data and configuration is unrestricted","tags":["startupWarnings"]}`)
	}
	return lines
}

func (s *Server) getLog(_ *client, _ string, cmd doc) doc {
	switch which := cmd.str("getLog"); which {
	case "*":
		return doc{{"names", []any{"global", "startupWarnings"}}, {"ok", 1.0}}
	case "startupWarnings", "global":
		lines := s.startupWarnings()
		return doc{{"totalLinesWritten", int32(len(lines))}, {"log", lines}, {"ok", 1.0}}
	default:
		return errorDoc(96, "OperationFailed", "No log named '"+which+"'")
	}
}

func (s *Server) getCmdLineOpts(_ *client, _ string, _ doc) doc {
	parsed := doc{
		{"config", "/etc/mongod.conf"},
		{"net", doc{{"bindIp", "0.0.0.0"}, {"port", int32(Port)}}},
		{"processManagement", doc{{"timeZoneInfo", "/usr/share/zoneinfo"}}},
	}
	if s.persona.Auth {
		parsed = append(parsed, elem{"security", doc{{"authorization", "enabled"}}})
	}
	parsed = append(parsed,
		elem{"storage", doc{{"dbPath", "/var/lib/mongodb"}}},
		elem{"systemLog", doc{{"destination", "file"}, {"logAppend", true}, {"path", "/var/log/mongodb/mongod.log"}}},
	)
	return doc{{"argv", []any{"/usr/bin/mongod", "--config", "/etc/mongod.conf"}}, {"parsed", parsed}, {"ok", 1.0}}
}

func (s *Server) serverStatus(_ *client, _ string, _ doc) doc {
	now := s.now()
	up := now.Sub(s.boot)
	cur := s.conns.Load()
	return doc{
		{"host", s.cfg.Host.Hostname},
		{"version", s.persona.Version},
		{"process", "mongod"},
		{"pid", s.pid},
		{"uptime", float64(int64(up.Seconds()))},
		{"uptimeMillis", up.Milliseconds()},
		{"uptimeEstimate", int64(up.Seconds())},
		{"localTime", dateTime(now.UnixMilli())},
		{"asserts", doc{{"regular", int32(0)}, {"warning", int32(0)}, {"msg", int32(0)}, {"user", int32(41)}, {"tripwire", int32(0)}, {"rollovers", int32(0)}}},
		{"connections", doc{
			{"current", cur}, {"available", int32(51200) - cur}, {"totalCreated", s.created.Load()},
			{"active", int32(1)}, {"threaded", cur}, {"exhaustIsMaster", int32(0)}, {"exhaustHello", int32(0)}, {"awaitingTopologyChanges", int32(0)},
		}},
		{"ok", 1.0},
	}
}

func (s *Server) getParameter(_ *client, _ string, cmd doc) doc {
	if _, ok := cmd.get("featureCompatibilityVersion"); ok {
		fcv := fmt.Sprintf("%d.%d", s.facts.array[0], s.facts.array[1])
		return doc{{"featureCompatibilityVersion", doc{{"version", fcv}}}, {"ok", 1.0}}
	}
	return errorDoc(72, "InvalidOptions", "no option found to get")
}

// sasl runs saslStart and saslContinue. A conversation goes as far as the
// client's proof, which is logged; then the login fails as it does on the
// real server for a wrong password.
func (s *Server) sasl(cl *client, db string, cmd doc, start bool) (doc, map[string]string) {
	fail := errorDoc(18, "AuthenticationFailed", "Authentication failed.")
	payload := payloadOf(cmd)
	if start {
		mech := cmd.str("mechanism")
		if mech == "PLAIN" {
			// Community builds have no PLAIN (LDAP), but clients send the
			// password in clear with it.
			f := plainCreds(payload)
			f[event.FieldMethod] = mech
			s.emitAuth(cl, db, f)
			return errorDoc(334, "MechanismUnavailable", "Received authentication for mechanism PLAIN which is not enabled"), nil
		}
		if _, ok := mechanisms[mech]; !ok {
			return errorDoc(334, "MechanismUnavailable", "Received authentication for mechanism "+mech+" which is unknown or not enabled"), nil
		}
		conv, err := startSCRAM(mech, db, payload)
		if err != nil {
			return fail, map[string]string{"error": err.Error()}
		}
		if len(cl.convs) >= 4 {
			clear(cl.convs)
		}
		cl.nextConv++
		cl.convs[cl.nextConv] = conv
		return doc{{"conversationId", cl.nextConv}, {"done", false}, {"payload", binaryVal{0, []byte(conv.serverFirst)}}, {"ok", 1.0}},
			map[string]string{"username": clipName(conv.user), "method": mech}
	}
	id, _ := number(fieldValue(cmd.get("conversationId")))
	conv := cl.convs[int32(id)]
	if conv == nil {
		return errorDoc(17, "ProtocolError", "No SASL session state found"), nil
	}
	delete(cl.convs, int32(id))
	proof, am, err := conv.finalSCRAM(payload)
	f := map[string]string{"username": clipName(conv.user), "method": conv.mech, "auth_db": clipName(conv.db)}
	if err != nil {
		f["error"] = err.Error()
		s.emitAuth(cl, conv.db, f)
		return fail, f
	}
	f["hash"] = conv.proofLine(am, proof)
	f["hash_format"] = hashFormat(conv.mech)
	s.emitAuth(cl, conv.db, f)
	return fail, map[string]string{"username": f["username"], "method": conv.mech}
}

// authenticate is the pre-SASL login command, left in 6.0 for X.509 only.
func (s *Server) authenticate(cl *client, db string, cmd doc) doc {
	mech := cmd.str("mechanism")
	s.emitAuth(cl, db, map[string]string{event.FieldUsername: clipName(cmd.str("user")), event.FieldMethod: clipName(mech)})
	return errorDoc(334, "MechanismUnavailable", "Received authentication for mechanism "+mech+" which is unknown or not enabled")
}

func payloadOf(cmd doc) []byte {
	switch p := fieldValue(cmd.get("payload")).(type) {
	case binaryVal:
		return p.Data
	case string: // the shell's legacy form: base64 text
		b, _ := base64.StdEncoding.DecodeString(p)
		return b
	}
	return nil
}

// plainCreds splits a PLAIN message: authzid NUL authcid NUL password.
func plainCreds(p []byte) map[string]string {
	parts := strings.SplitN(string(p), "\x00", 3)
	f := map[string]string{}
	if len(parts) == 3 {
		f["username"] = clipName(parts[1])
		f["password"] = clipName(parts[2])
	}
	return f
}

func (s *Server) emitAuth(cl *client, db string, f map[string]string) {
	f["success"] = "false"
	f["auth_db"] = clipName(db)
	s.emit(cl, event.TypeAuth, event.Warning, f)
}

func clipName(v string) string { return event.Clip(v, maxLogName) }
