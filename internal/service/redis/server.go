// Package redis is a Redis 7.0 honeypot: a RESP2/RESP3 server with a fake,
// bounded keyspace of bait secrets, which answers with real Redis's exact
// bytes and records every command, every login and every attack step
// (CONFIG SET dir + SAVE, SLAVEOF to a rogue master, MODULE LOAD, EVAL).
package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/event"
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "redis"

// Port is the Redis port.
const Port = 6379

// Persona is what a decky's Redis claims to be.
type Persona struct {
	// Version is redis_version in INFO and HELLO. The default is the
	// version Debian 12 ships.
	Version string `ini:"version"`
	// OSString is INFO's os: line, e.g. "Linux 6.1.0-28-amd64 x86_64".
	// Empty picks a kernel that fits the decky's distro.
	OSString string `ini:"os_string"`
	// Password is requirepass. Empty, as on a stock install, means no
	// password: every client may run commands.
	Password string `ini:"password"`
	// ProtectedMode turns Redis's protected mode on: with no password,
	// clients not on the loopback get the DENIED banner and are cut off.
	// Off by default, because an open Redis is the bait.
	ProtectedMode bool `ini:"protected_mode"`
	// ProtectedConfigs is enable-protected-configs (yes, no or local).
	// Stock 7.0 says no, which refuses CONFIG SET dir and dbfilename;
	// the default yes lets the file-write attack proceed to SAVE.
	ProtectedConfigs string `ini:"enable_protected_configs"`
	// ModuleCommand is enable-module-command (yes, no or local). With no,
	// MODULE LOAD is refused as on a stock server; the default yes lets
	// it fail the way a load of a bad file does.
	ModuleCommand string `ini:"enable_module_command"`
}

// Validate checks the enumerated settings.
func (p *Persona) Validate() error {
	for k, v := range map[string]string{"enable_protected_configs": p.ProtectedConfigs, "enable_module_command": p.ModuleCommand} {
		if v != "yes" && v != "no" && v != "local" {
			return fmt.Errorf("%s %q: want yes, no or local", k, v)
		}
	}
	if p.Version == "" {
		return errors.New("version is empty")
	}
	return nil
}

func defaultPersona() any {
	return &Persona{Version: "7.0.15", ProtectedConfigs: "yes", ModuleCommand: "yes"}
}

// Service is the redis honeypot kind.
type Service struct{}

// Info declares the slug, port and persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "Redis 7.0 key-value store with bait secrets",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's Redis.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p, time.Now), nil
}

// Server is one decky's Redis: its keyspace and configuration are shared by
// all its connections, as a real server's are.
type Server struct {
	cfg         service.Config
	persona     *Persona
	now         func() time.Time
	ks          *keyspace
	conf        *config
	host        hostFacts
	nextID      atomic.Int64
	scripts     sync.Map // sha1 -> script body, from SCRIPT LOAD
	scriptCount atomic.Int64

	mu      sync.Mutex
	clients map[int64]*client
	stats   stats
	master  string // host:port after SLAVEOF; empty while a master
	save    saveState
}

func newServer(cfg service.Config, p *Persona, now func() time.Time) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, persona: p, now: now, ks: newKeyspace(now), clients: map[int64]*client{}}
	s.host = newHostFacts(cfg.Host, p, now())
	s.conf = newConfig(map[string]string{
		"requirepass":              p.Password,
		"protected-mode":           yesNo(p.ProtectedMode),
		"enable-protected-configs": p.ProtectedConfigs,
		"enable-module-command":    p.ModuleCommand,
	})
	s.nextID.Store(s.host.firstClientID)
	s.save = saveState{last: now().Add(-time.Duration(s.host.seed%3000) * time.Second)} // the last periodic save
	s.stats = newStats(s.host)
	seedBait(s.ks, s.host)
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Serve answers the Redis port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("redis: no listener for port %d", Port)
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, service.DefaultLimits, s.handle)
	return nil
}

// deniedBanner is protected mode's refusal, verbatim with its typo.
const deniedBanner = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// readChunk is what Redis reads per call (PROTO_IOBUF_LEN); the inline
// limit is checked between reads, so the same chunking gives the same
// answers to oversized lines.
const readChunk = 16 * 1024

func (s *Server) handle(ctx context.Context, conn *service.Conn) {
	cl := s.newClient(conn)
	if s.conf.get("protected-mode") == "yes" && s.conf.get("requirepass") == "" && !cl.loopback {
		conn.Write([]byte(deniedBanner))
		return
	}
	s.mu.Lock()
	s.clients[cl.id] = cl
	s.stats.connections++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, cl.id)
		s.mu.Unlock()
	}()

	var p parser
	buf := make([]byte, readChunk)
	var out []byte
	for ctx.Err() == nil {
		n, err := conn.Read(buf)
		p.feed(buf[:n])
		for {
			args, perr := p.next(s.authRequired(cl))
			if perr != nil {
				var pe protocolError
				if errors.As(perr, &pe) {
					out = errReply("ERR "+string(pe)).appendTo(out, cl.proto)
					conn.Write(out)
				}
				s.emitProtocol(cl, perr)
				return
			}
			if args == nil {
				break
			}
			switch s.exec(cl, args, &out) {
			case abort:
				return
			case closeAfterReply:
				conn.Write(out)
				return
			}
		}
		if len(out) > 0 {
			if _, werr := conn.Write(out); werr != nil {
				return
			}
			out = out[:0]
		}
		if err != nil {
			return
		}
	}
}

// client is one connection's state.
type client struct {
	id               int64
	conn             net.Conn
	fields           map[string]string
	addr, laddr      string
	loopback, authed bool
	user, name       string
	db, proto        int
	created, active  time.Time
	lastCmd          string
}

func (s *Server) newClient(conn *service.Conn) *client {
	now := s.now()
	cl := &client{
		id: s.nextID.Add(1), conn: conn, fields: service.ConnFields(conn),
		addr: conn.RemoteAddr().String(), laddr: conn.LocalAddr().String(),
		user: "default", proto: 2, created: now, active: now, lastCmd: "NULL",
	}
	if h, _, err := net.SplitHostPort(cl.addr); err == nil {
		cl.loopback = h == "127.0.0.1" || h == "::1"
	}
	return cl
}

func (s *Server) authRequired(cl *client) bool {
	return !cl.authed && s.conf.get("requirepass") != ""
}

type outcome int

const (
	proceed outcome = iota
	closeAfterReply
	abort // drop the connection and whatever replies are still unsent
)

// exec runs one request, appending its reply to out, in the order of checks
// of Redis's processCommand: QUIT, the cross-protocol guard, command lookup
// and arity, then authentication.
func (s *Server) exec(cl *client, args [][]byte, out *[]byte) outcome {
	cl.active = s.now()
	name := strings.ToLower(string(args[0]))
	switch name {
	case "quit":
		*out = ok.appendTo(*out, cl.proto)
		s.emitCommand(cl, args, nil, ok)
		return closeAfterReply
	case "post", "host:":
		s.emitCommand(cl, args, nil, value{})
		return abort
	}
	spec, rej := commands().lookup(args)
	var reply value
	switch {
	case rej != nil:
		reply = *rej
	case s.authRequired(cl) && name != "auth" && name != "hello":
		reply = errReply("NOAUTH Authentication required.")
	default:
		cl.lastCmd = spec.name
		h := handlers[spec.name]
		if h == nil {
			reply = unknownCommand(args)
		} else {
			reply = h(s, cl, args)
		}
	}
	s.count(spec, rej != nil, reply)
	*out = reply.appendTo(*out, cl.proto)
	s.emitCommand(cl, args, spec, reply)
	return proceed
}

// Event field limits: an attacker's command line is kept whole up to a
// sane size, and the args list holds the first arguments.
const (
	maxLogLine = 2048
	maxLogArgs = 16
	maxLogArg  = 512
)

// emitCommand records a command event. Attack steps are warnings.
func (s *Server) emitCommand(cl *client, args [][]byte, spec *cmdSpec, reply value) {
	f := copyMap(cl.fields)
	f[event.FieldCommand] = commandLine(args)
	f["cmd"] = strings.ToUpper(string(args[0]))
	list := make([]string, 0, min(len(args)-1, maxLogArgs))
	for _, a := range args[1:min(len(args), maxLogArgs+1)] {
		list = append(list, clip(string(a), maxLogArg))
	}
	f["args"] = jsonList(list)
	f["db"] = strconv.Itoa(cl.db)
	if reply.k == kError {
		f["error"] = clip(reply.s, 256)
	}
	sev := event.Info
	name := ""
	if spec != nil {
		name = spec.name
	}
	technique := techniques[name]
	switch strings.ToLower(string(args[0])) {
	case "post", "host:":
		f["cross_protocol"] = "true"
		technique = "cross-protocol"
	}
	if name == "config|set" && len(args) > 2 {
		switch strings.ToLower(string(args[2])) {
		case "dir", "dbfilename":
			technique = "file-write-setup"
		}
	}
	if (name == "save" || name == "bgsave") && reply.k != kError {
		dir, file := s.conf.get("dir"), s.conf.get("dbfilename")
		f["file"] = strings.TrimSuffix(dir, "/") + "/" + file
		if dir != "/var/lib/redis" || file != "dump.rdb" {
			technique = "file-write"
		}
	}
	if technique != "" {
		f["technique"] = technique
		sev = event.Warning
	}
	s.cfg.Emit.Emit(event.Event{Type: event.TypeCommand, Severity: sev, Fields: f})
}

// techniques names the step of a known Redis attack each command is:
// rogue-master replication to load a module, the CONFIG SET dir and
// dbfilename then SAVE file write (cron jobs, ssh keys, web shells), Lua
// sandbox escapes, wiping the data for a ransom note.
var techniques = map[string]string{
	"config|set": "config-change", "slaveof": "rogue-master", "replicaof": "rogue-master",
	"module|load": "module-load", "module|loadex": "module-load",
	"eval": "lua-eval", "evalsha": "lua-eval", "eval_ro": "lua-eval", "script|load": "lua-eval", "function|load": "lua-eval",
	"flushall": "data-wipe", "flushdb": "data-wipe", "sync": "replication-dump", "psync": "replication-dump",
	"debug": "debug", "shutdown": "shutdown",
}

func (s *Server) emitProtocol(cl *client, err error) {
	f := copyMap(cl.fields)
	f["error"] = err.Error()
	s.cfg.Emit.Emit(event.Event{Type: "protocol_error", Severity: event.Notice, Fields: f})
}

// emitAuth records a login attempt.
func (s *Server) emitAuth(cl *client, user, pass string, success bool) {
	f := copyMap(cl.fields)
	f[event.FieldUsername] = user
	f[event.FieldPassword] = pass
	f[event.FieldSuccess] = strconv.FormatBool(success)
	sev := event.Notice
	if success {
		sev = event.Warning
	}
	s.cfg.Emit.Emit(event.Event{Type: event.TypeAuth, Severity: sev, Fields: f})
}

// commandLine renders args as redis-cli would take them: words with spaces,
// quotes or control bytes double-quoted with escapes.
func commandLine(args [][]byte) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if b.Len() > maxLogLine {
			break
		}
		b.WriteString(quoteArg(a))
	}
	return clip(b.String(), maxLogLine)
}

func quoteArg(a []byte) string {
	plain := len(a) > 0
	for _, c := range a {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(a)
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range a {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < ' ' || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func jsonList(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(s))
	}
	b.WriteByte(']')
	return b.String()
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+8)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// hostFacts are the per-decky constants a real server would show: they
// are derived from the decky's name so they stay the same across
// connections and restarts of the honeypot.
type hostFacts struct {
	seed          uint64
	start         time.Time // when the fake redis-server started
	runID         string
	replID        string
	pid           int
	firstClientID int64
	os, gcc       string
	buildID       string
	version       string
	hostname      string
}

func newHostFacts(h service.Host, p *Persona, now time.Time) hostFacts {
	hf := fnv.New64a()
	hf.Write([]byte(h.Name + "|" + h.Hostname + "|redis"))
	seed := hf.Sum64()
	kernel, gcc := distroFacts(h.Distro)
	if p.OSString != "" {
		kernel = p.OSString
	}
	build := "ae4d7c971a948f0" // Debian's redis-server 5:7.0.15-1~deb12u*
	if p.Version != "7.0.15" || gcc != "12.2.0" {
		bh := fnv.New64a()
		bh.Write([]byte(p.Version + gcc))
		build = strconv.FormatUint(bh.Sum64(), 16)[:15]
	}
	// redis-server starts with the machine, a few seconds after the boot
	// every other service of the decky shows, so INFO's uptime never exceeds
	// the shell's and keeps growing across restarts of the honeypot.
	start := archetype.Boot(h.Name, now).Add(startDelay(seed))
	boot := fmt.Sprintf("%d|%d", seed, start.Unix())
	return hostFacts{
		seed:          seed,
		start:         start,
		runID:         hexDigest(boot + "|run"),
		replID:        hexDigest(boot + "|repl"),
		pid:           400 + int(seed>>20%1800),
		firstClientID: int64(3 + seed>>32%20),
		os:            kernel,
		gcc:           gcc,
		buildID:       build,
		version:       p.Version,
		hostname:      h.Hostname,
	}
}

// startDelay is how long after boot redis-server came up: systemd starts
// it once the network is online, 7 to 36 seconds in.
func startDelay(seed uint64) time.Duration {
	return time.Duration(7+seed>>8%30) * time.Second
}

// distroFacts returns INFO's os: line, from the kernel the decky's shell
// shows too, and the compiler that built the distro's redis-server package.
func distroFacts(distro string) (kernel, gcc string) {
	kernel = "Linux " + archetype.KernelOf(distro).Release + " x86_64"
	switch distro {
	case "ubuntu22":
		return kernel, "11.4.0"
	case "ubuntu20":
		return kernel, "9.4.0"
	case "rocky9":
		return kernel, "11.5.0"
	case "centos7":
		return kernel, "4.8.5"
	case "alpine":
		return kernel, "13.2.1"
	case "fedora":
		return kernel, "13.3.1"
	case "kali":
		return kernel, "14.2.0"
	case "arch":
		return kernel, "14.2.1"
	}
	return kernel, "12.2.0"
}

// hexDigest makes a 40-hex id, like Redis's run ids, stable for a boot.
func hexDigest(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}
