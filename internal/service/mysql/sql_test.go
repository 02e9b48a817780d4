package mysql

import (
	"bytes"
	"strings"
	"testing"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// TestQueryGolden checks the answers to recon queries byte for byte
// against Debian 12's MariaDB's, captured for the mariadb client (which
// negotiates MariaDB's metadata flag and extended metadata, and EOF
// packets) logged in as root from localhost on the host "vm".
func TestQueryGolden(t *testing.T) {
	const eof = "fe00000200"
	tests := []struct {
		cmd  string // COM_QUERY text, or "\x02db" for COM_INIT_DB
		db   string
		want []string // payloads from sequence 1
	}{
		{cmd: "select 1", want: []string{"0101", "03646566000000013100000c3f0001000000038100000000", eof, "0131", eof}},
		{cmd: "select @@version", want: []string{"0101", "0364656600000009404076657273696f6e00000c21004e000000fd0000270000", eof, "1a31302e31312e31392d4d6172696144422d302b64656231327531", eof}},
		{cmd: "select version()", want: []string{"0101", "036465660000000976657273696f6e282900000c21004e000000fd0100270000", eof, "1a31302e31312e31392d4d6172696144422d302b64656231327531", eof}},
		{cmd: "select user()", want: []string{"0101", "036465660000000675736572282900000c210080040000fd0000270000", eof, "0e726f6f74406c6f63616c686f7374", eof}},
		{cmd: "select @@version_comment", want: []string{"0101", "0364656600000011404076657273696f6e5f636f6d6d656e7400000c21001b000000fd0000270000", eof, "0944656269616e203132", eof}},
		{cmd: "select database()", want: []string{"0101", "036465660000000a6461746162617365282900000c2100c0000000fd0000270000", eof, "fb", eof}},
		{cmd: "SELECT DATABASE()", db: "mysql", want: []string{"0101", "036465660000000a4441544142415345282900000c2100c0000000fd0000270000", eof, "056d7973716c", eof}},
		{cmd: "select @@hostname, current_user()", want: []string{"0201", "036465660000000a4040686f73746e616d6500000c210006000000fd0000270000",
			"036465660000000e63757272656e745f75736572282900000c210080040000fd0000270000", eof, "02766d0e726f6f74406c6f63616c686f7374", eof}},
		{cmd: "show databases", want: []string{"0101", "0364656612696e666f726d6174696f6e5f736368656d6108534348454d41544108534348454d4154410844617461626173650b534348454d415f4e414d45000c2100c0000000fd0110000000",
			"fe00002200", "12696e666f726d6174696f6e5f736368656d61", "056d7973716c", "12706572666f726d616e63655f736368656d61", "03737973", "fe00002200"}},
		{cmd: "\x02sys", want: []string{"000000024000000006010403737973"}},
		{cmd: "selec bad", want: []string{"ff2804233432303030596f75206861766520616e206572726f7220696e20796f75722053514c2073796e7461783b20636865636b20746865206d616e75616c207468617420636f72726573706f6e647320746f20796f7572204d617269614442207365727665722076657273696f6e20666f72207468652072696768742073796e74617820746f20757365206e656172202773656c65632062616427206174206c696e652031"}},
		{cmd: "select 1 from nosuchtable", want: []string{"ff16042333443030304e6f2064617461626173652073656c6563746564"}},
	}
	s, ev := newTestServer(t, map[string]string{"databases": ""})
	s.cfg.Host.Hostname = "vm"
	res, err := parseResponse(testutil.Hex(mariadbLogin))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			pkt := append([]byte{comQuery}, tc.cmd...)
			if tc.cmd[0] == comInitDB {
				pkt = []byte(tc.cmd)
			}
			c := &fakeConn{r: bytes.NewReader(appendPacket(nil, 0, pkt))}
			ss := &session{s: s, conn: c, fields: map[string]string{}, host: "localhost", res: res, user: "root", db: tc.db}
			ss.commands(t.Context())
			var want []byte
			for i, p := range tc.want {
				want = appendPacket(want, byte(i+1), testutil.Hex(p))
			}
			if got := c.w.Bytes(); !bytes.Equal(got, want) {
				t.Errorf("answer\n got %x\nwant %x", got, want)
			}
		})
	}
	cmds := ev.OfType(event.TypeCommand)
	if len(cmds) != len(tests) || cmds[0].Fields[event.FieldCommand] != "select 1" || cmds[9].Fields[event.FieldCommand] != "COM_INIT_DB sys" || cmds[10].Fields["result"] != "error 1064" {
		t.Errorf("command events %v", cmds)
	}
}

// TestQueryRefusals checks how statements the bait does not model are
// refused, per database and table.
func TestQueryRefusals(t *testing.T) {
	tests := []struct{ db, q, want string }{
		{"", "select * from production.users", "\xff\x76\x04#42000SELECT command denied to user 'app'@'localhost' for table `production`.`users`"},
		{"production", "SELECT * FROM `users` LIMIT 10;", "\xff\x76\x04#42000SELECT command denied to user 'app'@'localhost' for table `production`.`users`"},
		{"production", "select * from nope", "\xff\x7a\x04#42S02Table 'production.nope' doesn't exist"},
		{"", "SELECT id FrOm Production.Users", "\xff\x7a\x04#42S02Table 'Production.Users' doesn't exist"},
		{"", "select \xc4\xb0\xff from x.y", "\xff\x7a\x04#42S02Table 'x.y' doesn't exist"},
		{"", "drop database production", "\xff\x16\x04#3D000No database selected"},
		{"wordpress", "update wp_users set user_pass=1", "\xff\x14\x04#42000Access denied for user 'app'@'localhost' to database 'wordpress'"},
		{"", "use nosuch", "\xff\x19\x04#42000Unknown database 'nosuch'"},
		{"", "show tables", "\xff\x16\x04#3D000No database selected"},
	}
	s, _ := newTestServer(t, nil)
	res, _ := parseResponse(testutil.Hex(mariadbLogin))
	for _, tc := range tests {
		c := &fakeConn{r: bytes.NewReader(appendPacket(nil, 0, append([]byte{comQuery}, tc.q...)))}
		ss := &session{s: s, conn: c, fields: map[string]string{}, host: "localhost", res: res, user: "app", db: tc.db}
		ss.commands(t.Context())
		if got := string(c.w.Bytes()[4:]); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.q, got, tc.want)
		}
	}
}

// TestShowTables checks the bait tables of a bait database.
func TestShowTables(t *testing.T) {
	s, _ := newTestServer(t, nil)
	res, _ := parseResponse(testutil.Hex(mariadbLogin))
	c := &fakeConn{r: bytes.NewReader(appendPacket(nil, 0, []byte("\x03show tables")))}
	ss := &session{s: s, conn: c, fields: map[string]string{}, host: "localhost", res: res, user: "app", db: "wordpress"}
	ss.commands(t.Context())
	if out := c.w.String(); !strings.Contains(out, "Tables_in_wordpress") || !strings.Contains(out, "\x08wp_users") {
		t.Errorf("%q", out)
	}
}
