package redis

import (
	_ "embed"
	"path"
	"strconv"
	"strings"
	"sync"
)

// configTSV is the parameter table of Redis 7.0.15 in the order CONFIG GET *
// listed it, captured from the real server with Debian's stock values
// (name, value, kind). The kind says how CONFIG SET validates a value: it
// was found by setting each parameter to its own value and to "x".
//
//go:embed config.tsv
var configTSV string

type configParam struct {
	name  string
	kind  string   // immutable, protected, bool, int, memory, percent, save, string, enum
	enum  []string // allowed values of an enum
	value string   // the stock value
}

var configTable = sync.OnceValue(func() []configParam {
	var out []configParam
	for _, line := range strings.Split(strings.TrimSpace(configTSV), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			panic("redis: bad config.tsv line " + strconv.Quote(line))
		}
		p := configParam{name: f[0], value: f[1], kind: f[2]}
		if rest, ok := strings.CutPrefix(p.kind, "enum:"); ok {
			p.kind, p.enum = "enum", strings.Split(rest, ",")
		}
		out = append(out, p)
	}
	return out
})

// config is one decky's live configuration: CONFIG SET changes it for every
// connection, and the settings that matter (requirepass, protected-mode,
// dir, dbfilename) drive the server's behaviour.
type config struct {
	mu     sync.Mutex
	values map[string]string // by lower-case name
}

func newConfig(overrides map[string]string) *config {
	c := &config{values: map[string]string{}}
	for _, p := range configTable() {
		c.values[p.name] = p.value
	}
	for k, v := range overrides {
		c.values[k] = v
	}
	return c
}

func (c *config) get(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[name]
}

func findParam(name string) (configParam, bool) {
	name = strings.ToLower(name)
	for _, p := range configTable() {
		if p.name == name {
			return p, true
		}
	}
	return configParam{}, false
}

// getPatterns answers CONFIG GET: an exact name is echoed as typed, a glob
// matches case-insensitively; each parameter is listed once.
func (c *config) getPatterns(patterns []string) value {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var kv []value
	for _, pat := range patterns {
		if !strings.ContainsAny(pat, "[*?") {
			if p, ok := findParam(pat); ok && !seen[p.name] {
				seen[p.name] = true
				kv = append(kv, bulk(pat), bulk(c.values[p.name]))
			}
			continue
		}
		for _, p := range configTable() {
			if !seen[p.name] && globMatch(pat, p.name, true) {
				seen[p.name] = true
				kv = append(kv, bulk(p.name), bulk(c.values[p.name]))
			}
		}
	}
	return mapOf(kv...)
}

// set applies CONFIG SET name value pairs, all or none, as Redis 7.0 does.
// local tells whether the client is on the loopback interface, which
// enable-protected-configs "local" allows. It returns the error reply, or
// the changes made (lower-case name to new value).
func (c *config) set(pairs []string, local bool) (map[string]string, *value) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fail := func(name, why string) (map[string]string, *value) {
		e := errReply("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + why)
		return nil, &e
	}
	changes := map[string]string{}
	var params []configParam
	for i := 0; i < len(pairs); i += 2 {
		p, ok := findParam(pairs[i])
		if !ok {
			e := errReply("ERR Unknown option or number of arguments for CONFIG SET - '" + pairs[i] + "'")
			return nil, &e
		}
		switch {
		case p.kind == "immutable":
			return fail(pairs[i], "can't set immutable config")
		case p.kind == "protected" && !protectedAllowed(c.values["enable-protected-configs"], local):
			return fail(pairs[i], "can't set protected config")
		}
		if _, dup := changes[p.name]; dup {
			return fail(pairs[i], "duplicate parameter")
		}
		changes[p.name] = pairs[i+1]
		params = append(params, p)
	}
	for i, p := range params {
		v, why := p.normalize(pairs[2*i+1], c.values["dir"])
		if why != "" {
			return fail(pairs[2*i], why)
		}
		changes[p.name] = v
	}
	for k, v := range changes {
		c.values[k] = v
	}
	return changes, nil
}

func protectedAllowed(setting string, local bool) bool {
	return setting == "yes" || (setting == "local" && local)
}

// normalize validates v for the parameter and returns the value CONFIG GET
// will show, or the reason Redis gives for refusing it.
func (p configParam) normalize(v, cwd string) (string, string) {
	switch p.kind {
	case "bool":
		if l := strings.ToLower(v); l == "yes" || l == "no" {
			return l, ""
		}
		return "", "argument must be 'yes' or 'no'"
	case "int":
		if n, ok := string2ll([]byte(v)); ok {
			return strconv.FormatInt(n, 10), ""
		}
		return "", "argument couldn't be parsed into an integer"
	case "memory":
		if n, ok := memToBytes(v); ok {
			return strconv.FormatUint(n, 10), ""
		}
		return "", "argument must be a memory value"
	case "percent":
		if pc, ok := strings.CutSuffix(v, "%"); ok {
			if _, err := strconv.ParseUint(pc, 10, 32); err == nil {
				return v, ""
			}
		} else if n, ok := memToBytes(v); ok {
			return strconv.FormatUint(n, 10), ""
		}
		return "", "argument must be a memory or percent value"
	case "enum":
		for _, e := range p.enum {
			if strings.EqualFold(e, v) {
				return e, ""
			}
		}
		return "", "argument(s) must be one of the following: " + strings.Join(p.enum, ", ")
	case "save":
		f := strings.Fields(v)
		if len(f)%2 != 0 {
			return "", "Invalid save parameters"
		}
		for _, n := range f {
			if _, ok := string2ll([]byte(n)); !ok {
				return "", "Invalid save parameters"
			}
		}
		return strings.Join(f, " "), ""
	case "protected":
		if p.name == "dbfilename" {
			if strings.Contains(v, "/") {
				return "", "dbfilename can't be a path, just a filename"
			}
			return v, ""
		}
		dir := v
		if !path.IsAbs(dir) {
			dir = path.Join(cwd, dir)
		}
		if !dirExists(path.Clean(dir)) {
			return "", "No such file or directory"
		}
		return path.Clean(dir), ""
	}
	return v, ""
}

// memToBytes is Redis's memtoull: digits with an optional b, k, kb, m, mb,
// g or gb unit (k = 1000, kb = 1024).
func memToBytes(s string) (uint64, bool) {
	units := []struct {
		suffix string
		mul    uint64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"b", 1}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}}
	l, mul := strings.ToLower(s), uint64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(l, u.suffix); ok {
			l, mul = num, u.mul
			break
		}
	}
	if l == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(l, 10, 64)
	if err != nil || (mul > 1 && n > (1<<64-1)/mul) {
		return 0, false
	}
	return n * mul, true
}

// knownDirs are the directories the fake host has: the stock ones of a
// Debian system plus the ones attackers write to through CONFIG SET dir
// (cron spools, root's .ssh, web roots), so their attack goes on.
var knownDirs = []string{
	"/var/lib/redis", "/var/log/redis", "/run/redis", "/etc/redis",
	"/var/spool/cron/crontabs", "/etc/cron.d", "/etc/cron.daily", "/etc/cron.hourly",
	"/root/.ssh", "/home", "/var/www/html", "/tmp", "/var/tmp", "/dev/shm",
	"/usr/local/bin", "/usr/bin", "/usr/lib", "/usr/share", "/opt", "/srv", "/mnt", "/boot", "/etc/ssh",
}

// dirExists reports whether dir is a known directory or one of their parents.
func dirExists(dir string) bool {
	if dir == "/" {
		return true
	}
	for _, k := range knownDirs {
		if k == dir || strings.HasPrefix(k, dir+"/") {
			return true
		}
	}
	return false
}
