package redis

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// handler carries out a command whose name, arity and authentication were
// already checked.
type handler func(s *Server, cl *client, args [][]byte) value

// handlers are keyed by the command table's names ("get", "config|get").
// Commands of the table without a handler get the unknown-command error.
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"auth": (*Server).cmdAuth, "hello": (*Server).cmdHello,
		"ping": cmdPing, "echo": func(_ *Server, _ *client, a [][]byte) value { return bulk(string(a[1])) },
		"select": cmdSelect, "dbsize": (*Server).cmdDBSize, "info": cmdInfo,
		"config|get": cmdConfigGet, "config|set": (*Server).cmdConfigSet,
		"config|resetstat": okCmd, "config|rewrite": okCmd,
		"keys": (*Server).cmdKeys, "scan": (*Server).cmdScan,
		"get": (*Server).cmdGet, "mget": (*Server).cmdMGet, "set": (*Server).cmdSet,
		"del": (*Server).cmdDel, "unlink": (*Server).cmdDel, "exists": (*Server).cmdExists,
		"type": (*Server).cmdType, "ttl": cmdTTL(time.Second), "pttl": cmdTTL(time.Millisecond),
		"hgetall": (*Server).cmdHGetAll, "hget": (*Server).cmdHGet, "lrange": (*Server).cmdLRange,
		"client|setname": cmdClientSetName, "client|getname": cmdClientGetName,
		"client|id":   func(_ *Server, cl *client, _ [][]byte) value { return integer(cl.id) },
		"client|info": func(s *Server, cl *client, _ [][]byte) value { return verbatim(s.clientLine(cl, cl)) },
		"client|list": (*Server).cmdClientList,
		"command":     cmdCommand, "command|count": cmdCommand, "command|docs": cmdCommand,
		"command|info": cmdCommand, "command|list": cmdCommand,
		"save": (*Server).cmdSave, "bgsave": (*Server).cmdSave, "lastsave": (*Server).cmdLastSave,
		"slaveof": (*Server).cmdReplicaOf, "replicaof": (*Server).cmdReplicaOf, "role": (*Server).cmdRole,
		"module|load": (*Server).cmdModule, "module|loadex": (*Server).cmdModule,
		"module|unload": (*Server).cmdModule, "module|list": (*Server).cmdModule,
		"eval": (*Server).cmdEval, "evalsha": (*Server).cmdEval, "script|load": (*Server).cmdScriptLoad,
		"flushall": (*Server).cmdFlush, "flushdb": (*Server).cmdFlush,
		"time": (*Server).cmdTime,
	}
}

var (
	errSyntax    = errReply("ERR syntax error")
	errNotInt    = errReply("ERR value is not an integer or out of range")
	errWrongType = errReply("WRONGTYPE Operation against a key holding the wrong kind of value")
	errReadOnly  = errReply("READONLY You can't write against a read only replica.")
	errOOM       = errReply("OOM command not allowed when used memory > 'maxmemory'.")
	errWrongPass = errReply("WRONGPASS invalid username-password pair or user is disabled.")
)

func verbatim(s string) value { return value{k: kVerbatim, s: s} }

func okCmd(*Server, *client, [][]byte) value { return ok }

func cmdPing(_ *Server, _ *client, a [][]byte) value {
	switch len(a) {
	case 1:
		return simple("PONG")
	case 2:
		return bulk(string(a[1]))
	}
	return wrongArity("ping")
}

// checkUser is the ACL check of a stock server: the only user is
// "default", with no password (any password passes) or requirepass.
func (s *Server) checkUser(user, pass string) bool {
	want := s.conf.get("requirepass")
	return user == "default" && (want == "" || pass == want)
}

func (s *Server) cmdAuth(cl *client, a [][]byte) value {
	if len(a) > 3 {
		return errSyntax
	}
	user, pass := "default", string(a[len(a)-1])
	if len(a) == 3 {
		user = string(a[1])
	}
	if len(a) == 2 && s.conf.get("requirepass") == "" {
		s.emitAuth(cl, user, pass, false)
		return errReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
	}
	good := s.checkUser(user, pass)
	s.emitAuth(cl, user, pass, good)
	if !good {
		return errWrongPass
	}
	cl.authed, cl.user = true, user
	return ok
}

func (s *Server) cmdHello(cl *client, a [][]byte) value {
	ver := int64(0)
	next := 1
	if len(a) >= 2 {
		v, good := string2ll(a[1])
		if !good {
			return errReply("ERR Protocol version is not an integer or out of range")
		}
		if v < 2 || v > 3 {
			return errReply("NOPROTO unsupported protocol version")
		}
		ver, next = v, 2
	}
	var user, pass, name []byte
	for j := next; j < len(a); j++ {
		more := len(a) - 1 - j
		switch opt := string(a[j]); {
		case strings.EqualFold(opt, "AUTH") && more >= 2:
			user, pass = a[j+1], a[j+2]
			j += 2
		case strings.EqualFold(opt, "SETNAME") && more >= 1:
			name = a[j+1]
			j++
		default:
			return errReply(sanitize("ERR Syntax error in HELLO option '" + cstr(a[j]) + "'"))
		}
	}
	if user != nil {
		good := s.checkUser(string(user), string(pass))
		s.emitAuth(cl, string(user), string(pass), good)
		if !good {
			return errWrongPass
		}
		cl.authed, cl.user = true, string(user)
	}
	if s.authRequired(cl) {
		return errReply("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
	}
	if name != nil {
		if e := setName(cl, name); e != nil {
			return *e
		}
	}
	if ver != 0 {
		cl.proto = int(ver)
	}
	role := "master"
	s.mu.Lock()
	if s.master != "" {
		role = "replica"
	}
	s.mu.Unlock()
	return mapOf(bulk("server"), bulk("redis"), bulk("version"), bulk(s.host.version),
		bulk("proto"), integer(int64(cl.proto)), bulk("id"), integer(cl.id),
		bulk("mode"), bulk("standalone"), bulk("role"), bulk(role), bulk("modules"), array())
}

func cmdSelect(_ *Server, cl *client, a [][]byte) value {
	n, good := string2ll(a[1])
	switch {
	case !good || n < math.MinInt32 || n > math.MaxInt32:
		return errNotInt
	case n < 0 || n >= numDBs:
		return errReply("ERR DB index is out of range")
	}
	cl.db = int(n)
	return ok
}

func (s *Server) cmdDBSize(cl *client, _ [][]byte) value {
	s.ks.mu.Lock()
	defer s.ks.mu.Unlock()
	return integer(int64(len(s.ks.liveKeys(cl.db))))
}

func cmdInfo(s *Server, cl *client, a [][]byte) value {
	names := make([]string, 0, len(a)-1)
	for _, x := range a[1:] {
		names = append(names, string(x))
	}
	return verbatim(s.info(cl, names))
}

func cmdConfigGet(s *Server, _ *client, a [][]byte) value {
	pats := make([]string, 0, len(a)-2)
	for _, x := range a[2:] {
		pats = append(pats, string(x))
	}
	return s.conf.getPatterns(pats)
}

func (s *Server) cmdConfigSet(cl *client, a [][]byte) value {
	if len(a)%2 != 0 {
		return errSyntax
	}
	pairs := make([]string, 0, len(a)-2)
	for _, x := range a[2:] {
		pairs = append(pairs, string(x))
	}
	if _, e := s.conf.set(pairs, cl.loopback); e != nil {
		return *e
	}
	return ok
}

// keys lists the live keys of db matching pat, in scan order.
func (s *Server) keys(db int, pat string) []string {
	all := pat == "*"
	var out []string
	cursor := uint64(0)
	for {
		var got []string
		cursor, got = s.ks.scan(db, cursor, math.MaxInt32/16, func(k string, _ *entry) bool { return all || globMatch(pat, k, false) })
		out = append(out, got...)
		if cursor == 0 {
			return out
		}
	}
}

func (s *Server) cmdKeys(cl *client, a [][]byte) value {
	return bulks(s.keys(cl.db, string(a[1]))...)
}

func (s *Server) cmdScan(cl *client, a [][]byte) value {
	cursor, err := strconv.ParseUint(string(a[1]), 10, 64)
	if err != nil {
		return errReply("ERR invalid cursor")
	}
	count, pat, typ := 10, "", ""
	for i := 2; i < len(a); i += 2 {
		if i+1 >= len(a) {
			return errSyntax
		}
		switch opt, arg := strings.ToLower(string(a[i])), string(a[i+1]); opt {
		case "count":
			n, good := string2ll(a[i+1])
			if !good {
				return errNotInt
			}
			if n < 1 {
				return errSyntax
			}
			count = int(min(n, math.MaxInt32/16))
		case "match":
			pat = arg
		case "type":
			typ = arg
		default:
			return errSyntax
		}
	}
	next, got := s.ks.scan(cl.db, cursor, count, func(k string, e *entry) bool {
		return (pat == "" || pat == "*" || globMatch(pat, k, false)) && (typ == "" || strings.EqualFold(typ, string(e.typ)))
	})
	return array(bulk(strconv.FormatUint(next, 10)), bulks(got...))
}

// read looks key up for a read command, counting a hit or a miss.
func (s *Server) read(cl *client, key []byte, fn func(e *entry) value) value {
	s.ks.mu.Lock()
	e := s.ks.lookup(cl.db, string(key))
	var v value
	if e != nil {
		v = fn(e)
	}
	s.ks.mu.Unlock()
	s.hit(e != nil)
	if e == nil {
		return fn(nil)
	}
	return v
}

func (s *Server) cmdGet(cl *client, a [][]byte) value {
	return s.read(cl, a[1], func(e *entry) value {
		switch {
		case e == nil:
			return null
		case e.typ != tString:
			return errWrongType
		}
		return bulk(e.str)
	})
}

func (s *Server) cmdMGet(cl *client, a [][]byte) value {
	out := make([]value, 0, len(a)-1)
	for _, k := range a[1:] {
		out = append(out, s.read(cl, k, func(e *entry) value {
			if e == nil || e.typ != tString {
				return null
			}
			return bulk(e.str)
		}))
	}
	return array(out...)
}

func (s *Server) readOnly() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.master != ""
}

// dirty counts a change for rdb_changes_since_last_save.
func (s *Server) dirty(n int) {
	s.mu.Lock()
	s.save.changes += int64(n)
	s.mu.Unlock()
}

func (s *Server) cmdSet(cl *client, a [][]byte) value {
	var nx, xx, get, keep bool
	var expArg []byte
	var unit time.Duration
	var abs bool
	for j := 3; j < len(a); j++ {
		opt := strings.ToUpper(string(a[j]))
		hasNext := j+1 < len(a)
		switch {
		case opt == "NX" && !xx:
			nx = true
		case opt == "XX" && !nx:
			xx = true
		case opt == "GET":
			get = true
		case opt == "KEEPTTL" && expArg == nil:
			keep = true
		case (opt == "EX" || opt == "PX" || opt == "EXAT" || opt == "PXAT") && !keep && expArg == nil && hasNext:
			unit, abs = time.Second, strings.HasSuffix(opt, "AT")
			if opt[0] == 'P' {
				unit = time.Millisecond
			}
			expArg = a[j+1]
			j++
		default:
			return errSyntax
		}
	}
	var expire time.Time
	if expArg != nil {
		n, good := string2ll(expArg)
		if !good {
			return errNotInt
		}
		if n <= 0 || (unit == time.Second && n > math.MaxInt64/1000) {
			return errReply("ERR invalid expire time in 'set' command")
		}
		if abs {
			expire = time.UnixMilli(n * int64(unit/time.Millisecond))
		} else {
			expire = s.now().Add(time.Duration(n) * unit)
		}
	}
	if s.readOnly() {
		return errReadOnly
	}
	s.ks.mu.Lock()
	defer s.ks.mu.Unlock()
	key := string(a[1])
	old := s.ks.lookup(cl.db, key)
	reply := ok
	if get {
		switch {
		case old == nil:
			reply = null
		case old.typ != tString:
			return errWrongType
		default:
			reply = bulk(old.str)
		}
	}
	if (nx && old != nil) || (xx && old == nil) {
		if get {
			return reply
		}
		return null
	}
	e := &entry{typ: tString, str: string(a[2]), expire: expire}
	if keep && old != nil {
		e.expire, e.renew = old.expire, old.renew
	}
	if !s.ks.put(cl.db, key, e) {
		return errOOM
	}
	s.dirty(1)
	return reply
}

func (s *Server) cmdDel(cl *client, a [][]byte) value {
	if s.readOnly() {
		return errReadOnly
	}
	s.ks.mu.Lock()
	defer s.ks.mu.Unlock()
	n := 0
	for _, k := range a[1:] {
		if s.ks.lookup(cl.db, string(k)) != nil && s.ks.remove(cl.db, string(k)) {
			n++
		}
	}
	s.dirty(n)
	return integer(int64(n))
}

func (s *Server) cmdExists(cl *client, a [][]byte) value {
	s.ks.mu.Lock()
	defer s.ks.mu.Unlock()
	n := 0
	for _, k := range a[1:] {
		if s.ks.lookup(cl.db, string(k)) != nil {
			n++
		}
	}
	return integer(int64(n))
}

func (s *Server) cmdType(cl *client, a [][]byte) value {
	s.ks.mu.Lock()
	defer s.ks.mu.Unlock()
	if e := s.ks.lookup(cl.db, string(a[1])); e != nil {
		return simple(string(e.typ))
	}
	return simple("none")
}

// cmdTTL answers TTL or PTTL, rounding as Redis does.
func cmdTTL(unit time.Duration) handler {
	return func(s *Server, cl *client, a [][]byte) value {
		s.ks.mu.Lock()
		defer s.ks.mu.Unlock()
		e := s.ks.lookup(cl.db, string(a[1]))
		switch {
		case e == nil:
			return integer(-2)
		case e.expire.IsZero():
			return integer(-1)
		}
		left := max(e.expire.Sub(s.now()), 0)
		return integer(int64((left + unit/2) / unit))
	}
}

func (s *Server) cmdHGetAll(cl *client, a [][]byte) value {
	return s.read(cl, a[1], func(e *entry) value {
		switch {
		case e == nil:
			return mapOf()
		case e.typ != tHash:
			return errWrongType
		}
		kv := make([]value, 0, 2*len(e.hash))
		for _, f := range e.hash {
			kv = append(kv, bulk(f.name), bulk(f.value))
		}
		return mapOf(kv...)
	})
}

func (s *Server) cmdHGet(cl *client, a [][]byte) value {
	return s.read(cl, a[1], func(e *entry) value {
		switch {
		case e == nil:
			return null
		case e.typ != tHash:
			return errWrongType
		}
		for _, f := range e.hash {
			if f.name == string(a[2]) {
				return bulk(f.value)
			}
		}
		return null
	})
}

func (s *Server) cmdLRange(cl *client, a [][]byte) value {
	start, ok1 := string2ll(a[2])
	stop, ok2 := string2ll(a[3])
	if !ok1 || !ok2 {
		return errNotInt
	}
	return s.read(cl, a[1], func(e *entry) value {
		switch {
		case e == nil:
			return array()
		case e.typ != tList:
			return errWrongType
		}
		n := int64(len(e.list))
		if start < 0 {
			start = max(n+start, 0)
		}
		if stop < 0 {
			stop += n
		}
		if start > stop || start >= n {
			return array()
		}
		return bulks(e.list[start : min(stop, n-1)+1]...)
	})
}

// setName is CLIENT SETNAME's rule: printable ASCII without spaces.
func setName(cl *client, name []byte) *value {
	for _, c := range name {
		if c < '!' || c > '~' {
			e := errReply("ERR Client names cannot contain spaces, newlines or special characters.")
			return &e
		}
	}
	cl.name = string(name)
	return nil
}

func cmdClientSetName(_ *Server, cl *client, a [][]byte) value {
	if e := setName(cl, a[2]); e != nil {
		return *e
	}
	return ok
}

func cmdClientGetName(_ *Server, cl *client, _ [][]byte) value {
	if cl.name == "" {
		return null
	}
	return bulk(cl.name)
}

// clientLine is one line of CLIENT LIST as viewer sees it.
func (s *Server) clientLine(c, viewer *client) string {
	now := s.now()
	cmd, qbuf, free, argv := c.lastCmd, 0, 0, 0
	if c == viewer {
		qbuf, free, argv = 26, 20448, 10
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=N db=%d sub=0 psub=0 ssub=0 multi=-1 qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=%d events=r cmd=%s user=%s redir=-1 resp=%d\n",
		c.id, c.addr, c.laddr, 8+c.id%64, c.name, int(now.Sub(c.created).Seconds()), int(now.Sub(c.active).Seconds()),
		c.db, qbuf, free, argv, 22400+qbuf+free, cmd, c.user, c.proto)
}

func (s *Server) cmdClientList(cl *client, _ [][]byte) value {
	s.mu.Lock()
	list := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		list = append(list, c)
	}
	s.mu.Unlock()
	var b strings.Builder
	slices.SortFunc(list, func(x, y *client) int { return cmp.Compare(x.id, y.id) })
	for _, c := range list {
		b.WriteString(s.clientLine(c, cl))
	}
	return verbatim(b.String())
}

// cmdCommand serves COMMAND and its subcommands from the captured table.
func cmdCommand(_ *Server, _ *client, a [][]byte) value {
	t := commands()
	if len(a) == 1 {
		return t.all
	}
	sub := strings.ToLower(string(a[1]))
	named := func(fn func(s *cmdSpec) []value, missing []value) []value {
		var out []value
		for _, n := range a[2:] {
			name := strings.ToLower(string(n))
			s := t.specs[name]
			if c, short, ok := strings.Cut(name, "|"); ok && t.specs[c] != nil {
				s = t.specs[c].sub[short]
			}
			if s == nil {
				out = append(out, missing...)
				continue
			}
			out = append(out, fn(s)...)
		}
		return out
	}
	switch sub {
	case "count":
		return integer(int64(len(t.names)))
	case "list":
		return bulks(t.names...)
	case "info":
		if len(a) == 2 {
			return t.all
		}
		return array(named(func(s *cmdSpec) []value { return []value{s.info} }, []value{null})...)
	}
	// docs
	if len(a) == 2 {
		kv := make([]value, 0, 2*len(t.names))
		for _, n := range t.names {
			kv = append(kv, bulk(n), t.specs[n].doc)
		}
		return mapOf(kv...)
	}
	return mapOf(named(func(s *cmdSpec) []value { return []value{bulk(s.name), s.doc} }, nil)...)
}

// saveState tracks SAVE and BGSAVE for LASTSAVE and INFO persistence.
type saveState struct {
	last        time.Time
	bgsaveUntil time.Time
	changes     int64
	saves       int64
}

func (s *Server) cmdSave(cl *client, a [][]byte) value {
	bg := strings.EqualFold(string(a[0]), "bgsave")
	if bg && len(a) == 2 && !strings.EqualFold(string(a[1]), "schedule") {
		return errSyntax
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.save.bgsaveUntil) {
		return errReply("ERR Background save already in progress")
	}
	s.save.last, s.save.changes = now, 0
	s.save.saves++
	if bg {
		s.save.bgsaveUntil = now.Add(time.Second)
		return simple("Background saving started")
	}
	return ok
}

func (s *Server) cmdLastSave(*client, [][]byte) value {
	s.mu.Lock()
	defer s.mu.Unlock()
	return integer(s.save.last.Unix())
}

// cmdReplicaOf records the master an attacker points us at; no connection
// is ever made to it.
func (s *Server) cmdReplicaOf(_ *client, a [][]byte) value {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.EqualFold(string(a[1]), "no") && strings.EqualFold(string(a[2]), "one") {
		s.master = ""
		return ok
	}
	port, good := string2ll(a[2])
	if !good || port < 0 || port > 65535 {
		return errReply("ERR Invalid master port")
	}
	m := string(a[1]) + " " + strconv.FormatInt(port, 10)
	if s.master == m {
		return simple("OK Already connected to specified master")
	}
	s.master = m
	return ok
}

func (s *Server) cmdRole(*client, [][]byte) value {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master == "" {
		return array(bulk("master"), integer(0), array())
	}
	host, port, _ := strings.Cut(s.master, " ")
	p, _ := strconv.ParseInt(port, 10, 64)
	return array(bulk("slave"), bulk(host), integer(p), bulk("connecting"), integer(-1))
}

func (s *Server) cmdModule(cl *client, a [][]byte) value {
	sub := strings.ToLower(string(a[1]))
	if sub == "list" {
		return array()
	}
	if !protectedAllowed(s.conf.get("enable-module-command"), cl.loopback) {
		return errReply(`ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`)
	}
	if sub == "unload" {
		return errReply("ERR Error unloading module: no such module with that name")
	}
	return errReply("ERR Error loading the extension. Please check the server logs.")
}

func (s *Server) cmdFlush(cl *client, a [][]byte) value {
	if len(a) > 2 || (len(a) == 2 && !strings.EqualFold(string(a[1]), "async") && !strings.EqualFold(string(a[1]), "sync")) {
		return errSyntax
	}
	if s.readOnly() {
		return errReadOnly
	}
	db := cl.db
	if strings.EqualFold(string(a[0]), "flushall") {
		db = -1
	}
	s.ks.flush(db)
	s.dirty(1)
	return ok
}

func (s *Server) cmdTime(*client, [][]byte) value {
	now := s.now()
	return bulks(strconv.FormatInt(now.Unix(), 10), strconv.Itoa(now.Nanosecond()/1000))
}

// maxScripts bounds SCRIPT LOAD's cache.
const maxScripts = 256

func scriptSHA(body string) string {
	h := sha1.Sum([]byte(body))
	return hex.EncodeToString(h[:])
}

func (s *Server) cmdScriptLoad(_ *client, a [][]byte) value {
	sha := scriptSHA(string(a[2]))
	if s.scriptCount.Load() < maxScripts {
		if _, loaded := s.scripts.LoadOrStore(sha, string(a[2])); !loaded {
			s.scriptCount.Add(1)
		}
	}
	return bulk(sha)
}

func (s *Server) cmdEval(_ *client, a [][]byte) value {
	n, good := string2ll(a[2])
	switch {
	case !good:
		return errNotInt
	case n < 0:
		return errReply("ERR Number of keys can't be negative")
	case n > int64(len(a)-3):
		return errReply("ERR Number of keys can't be greater than number of args")
	}
	body := string(a[1])
	if strings.EqualFold(string(a[0]), "evalsha") {
		v, found := s.scripts.Load(strings.ToLower(body))
		if !found {
			return errReply("NOSCRIPT No matching script. Please use EVAL.")
		}
		body = v.(string)
	}
	strs := make([]string, len(a)-3)
	for i, x := range a[3:] {
		strs[i] = string(x)
	}
	return evalScript(body, strs[:n], strs[n:])
}
