package shell

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// seed fills a fresh filesystem with a lived-in tree for sys: system files
// dated at install time, a history and bait files that look used.
func seed(f *FS, sys System) {
	d := sys.distro()
	install := f.boot.Add(-time.Duration(140+hashN(sys.Hostname, 200)) * 24 * time.Hour).Truncate(time.Minute)
	recent := f.boot.Add(-time.Duration(2+hashN(sys.Hostname+"r", 9)) * 24 * time.Hour).Truncate(time.Minute)
	dir := func(p string, mode fs.FileMode, uid, gid int, t time.Time) {
		f.put(p, &Node{Mode: fs.ModeDir | mode, UID: uid, GID: gid, MTime: t})
	}
	file := func(p string, mode fs.FileMode, uid, gid int, t time.Time, data string) {
		f.put(p, &Node{Mode: mode, UID: uid, GID: gid, MTime: t, Data: []byte(data)})
	}
	link := func(p, target string, t time.Time) {
		f.put(p, &Node{Mode: fs.ModeSymlink | 0o777, MTime: t, Target: target})
	}
	for _, p := range []string{"/", "/etc", "/home", "/root", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/local",
		"/usr/local/bin", "/usr/share", "/var", "/var/log", "/var/lib", "/var/cache", "/var/spool", "/var/spool/cron",
		"/opt", "/srv", "/mnt", "/media", "/boot", "/dev", "/proc", "/sys", "/run", "/etc/ssh", "/etc/cron.d",
		"/etc/ssh/sshd_config.d", "/var/www", "/var/backups", "/etc/default", "/etc/profile.d", "/etc/skel"} {
		dir(p, 0o755, 0, 0, install)
	}
	f.nodes["/root"].Mode = fs.ModeDir | 0o700
	f.nodes["/proc"].Mode = fs.ModeDir | 0o555
	f.nodes["/sys"].Mode = fs.ModeDir | 0o555
	for _, p := range bootMounts {
		f.nodes[p].MTime = f.boot
	}
	dir("/tmp", fs.ModeSticky|0o777, 0, 0, f.boot)
	dir("/var/tmp", fs.ModeSticky|0o777, 0, 0, recent)
	dir("/dev/shm", fs.ModeSticky|0o777, 0, 0, f.boot)
	if d.ash {
		for _, p := range []string{"/bin", "/sbin", "/lib"} {
			dir(p, 0o755, 0, 0, install)
		}
	} else {
		link("/bin", "usr/bin", install)
		link("/sbin", "usr/sbin", install)
		link("/lib", "usr/lib", install)
		link("/lib64", "usr/lib64", install)
		dir("/usr/lib64", 0o755, 0, 0, install)
	}
	installPrograms(f.put, d, install)
	f.programs = programsVersion

	for _, name := range procFiles {
		f.put("/proc/"+name, &Node{Mode: 0o444, MTime: f.boot})
	}

	host := sys.ShortHostname()
	users := accounts(d)
	var passwd, group, shadow strings.Builder
	for _, u := range users {
		fmt.Fprintf(&passwd, "%s:x:%d:%d:%s:%s:%s\n", u.name, u.uid, u.gid, u.gecos, u.home, u.shell)
		pw := "*"
		if u.uid == 0 || u.uid == 1000 {
			pw = "$y$j9T$" + hashStr(sys.Hostname+u.name, 22) + "$" + hashStr(u.name+sys.Hostname, 43)
		}
		fmt.Fprintf(&shadow, "%s:%s:%d:0:99999:7:::\n", u.name, pw, install.Unix()/86400)
	}
	for _, g := range groups(d) {
		fmt.Fprintf(&group, "%s:x:%d:%s\n", g.name, g.gid, g.members)
	}
	file("/etc/passwd", 0o644, 0, 0, install, passwd.String())
	file("/etc/group", 0o644, 0, 0, install, group.String())
	shadowGID := 42
	if d.rhel || d.ash {
		shadowGID = 0
	}
	file("/etc/shadow", 0o640, 0, shadowGID, recent, shadow.String())
	file("/etc/hostname", 0o644, 0, 0, install, sys.Hostname+"\n")
	file("/etc/hosts", 0o644, 0, 0, install, "127.0.0.1\tlocalhost\n127.0.1.1\t"+sys.Hostname+" "+host+"\n\n"+
		"# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n")
	file("/usr/lib/os-release", 0o644, 0, 0, install, d.osRelease)
	link("/etc/os-release", "../usr/lib/os-release", install)
	file("/etc/issue", 0o644, 0, 0, install, d.issue)
	file("/etc/resolv.conf", 0o644, 0, 0, f.boot, "nameserver "+gateway(sys.IP)+"\nsearch localdomain\n")
	file("/etc/shells", 0o644, 0, 0, install, "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/usr/bin/sh\n")
	file("/etc/crontab", 0o644, 0, 0, install, "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n"+
		"17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }\n"+
		"30 2\t* * *\troot\t/root/projects/backup.sh >> /var/log/backup.log 2>&1\n")
	file("/etc/ssh/sshd_config", 0o644, 0, 0, install, "Include /etc/ssh/sshd_config.d/*.conf\n\nPermitRootLogin yes\nPasswordAuthentication yes\n"+
		"KbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\n")
	file("/etc/motd", 0o644, 0, 0, install, "")

	rc := "# ~/.bashrc: executed by bash(1) for non-login shells.\n\nexport LS_OPTIONS='--color=auto'\nalias ll='ls $LS_OPTIONS -l'\nalias l='ls $LS_OPTIONS -lA'\n\nalias rm='rm -i'\n"
	profile := "# ~/.profile: executed by Bourne-compatible login shells.\n\nif [ \"$BASH\" ]; then\n  if [ -f ~/.bashrc ]; then\n    . ~/.bashrc\n  fi\nfi\n\nmesg n 2> /dev/null || true\n"
	file("/root/.bashrc", 0o644, 0, 0, install, rc)
	file("/root/.profile", 0o644, 0, 0, install, profile)
	dir("/root/.ssh", 0o700, 0, 0, recent)
	file("/root/.ssh/authorized_keys", 0o600, 0, 0, recent, "")
	file("/root/.bash_history", 0o600, 0, 0, recent.Add(5*time.Hour), bashHistory)
	file("/root/notes.txt", 0o644, 0, 0, recent.Add(-20*24*time.Hour), notes)
	dir("/root/projects", 0o755, 0, 0, recent)
	file("/root/projects/.env", 0o600, 0, 0, recent.Add(-3*time.Hour), "DB_HOST=10.0.0.5\nDB_USER=admin\nDB_PASS=changeme123\nDB_NAME=prod_db\n")
	file("/root/projects/app.service", 0o644, 0, 0, recent.Add(-26*time.Hour), appService)
	file("/root/projects/backup.sh", 0o755, 0, 0, recent.Add(-25*time.Hour), backupScript)

	for _, u := range users {
		if u.uid < 1000 || u.uid > 60000 {
			continue
		}
		dir(u.home, 0o750, u.uid, u.gid, recent)
		file(u.home+"/.bashrc", 0o644, u.uid, u.gid, install, rc)
		file(u.home+"/.profile", 0o644, u.uid, u.gid, install, profile)
		file(u.home+"/.bash_logout", 0o644, u.uid, u.gid, install, "# ~/.bash_logout: executed by bash(1) when login shell exits.\n\nif [ \"$SHLVL\" = 1 ]; then\n    [ -x /usr/bin/clear_console ] && /usr/bin/clear_console -q\nfi\n")
		file(u.home+"/.bash_history", 0o600, u.uid, u.gid, recent, "sudo -i\nls -la\ndf -h\nexit\n")
		dir(u.home+"/.ssh", 0o700, u.uid, u.gid, install)
	}

	logDate := f.boot.Add(-time.Hour).Format("Jan _2 15:04:05")
	authLog, sysLog := "/var/log/auth.log", "/var/log/syslog"
	if d.rhel {
		authLog, sysLog = "/var/log/secure", "/var/log/messages"
	}
	file(authLog, 0o640, 0, 4, f.boot, logDate+" "+host+" sshd[812]: Server listening on 0.0.0.0 port 22.\n"+
		logDate+" "+host+" sshd[812]: Server listening on :: port 22.\n")
	file(sysLog, 0o640, 0, 4, f.boot, logDate+" "+host+" systemd[1]: Started cron.service - Regular background program processing daemon.\n")
	file("/var/log/backup.log", 0o644, 0, 0, recent, "mysqldump: Got error: 2003: Can't connect to MySQL server on '10.0.0.5:3306' (110) when trying to connect\n")
	dir("/var/www/html", 0o755, 0, 0, install)
	if d.ash {
		dir("/etc/crontabs", 0o755, 0, 0, install)
		file("/etc/crontabs/root", 0o600, 0, 0, install, "# do daily/weekly/monthly maintenance\n# min\thour\tday\tmonth\tweekday\tcommand\n"+
			"*/15\t*\t*\t*\t*\trun-parts /etc/periodic/15min\n0\t*\t*\t*\t*\trun-parts /etc/periodic/hourly\n"+
			"0\t2\t*\t*\t*\trun-parts /etc/periodic/daily\n0\t3\t*\t*\t6\trun-parts /etc/periodic/weekly\n"+
			"0\t5\t1\t*\t*\trun-parts /etc/periodic/monthly\n\n")
	}
}

type account struct {
	name        string
	uid, gid    int
	gecos, home string
	shell       string
}

type group struct {
	name    string
	gid     int
	members string
}

func accounts(d *distro) []account {
	sh := "/bin/bash"
	nologin := "/usr/sbin/nologin"
	if d.rhel {
		nologin = "/sbin/nologin"
	}
	if d.ash {
		sh = "/bin/ash"
		nologin = "/sbin/nologin"
	}
	user := account{d.user, 1000, 1000, d.user, "/home/" + d.user, sh}
	switch {
	case d.ash:
		return []account{{"root", 0, 0, "root", "/root", sh}, {"bin", 1, 1, "bin", "/bin", nologin},
			{"daemon", 2, 2, "daemon", "/sbin", nologin}, {"lp", 4, 7, "lp", "/var/spool/lpd", nologin},
			{"sync", 5, 0, "sync", "/sbin", "/bin/sync"}, {"nobody", 65534, 65534, "nobody", "/", nologin},
			{"sshd", 22, 22, "sshd", "/dev/null", nologin}, user}
	case d.rhel:
		return []account{{"root", 0, 0, "root", "/root", sh}, {"bin", 1, 1, "bin", "/bin", nologin},
			{"daemon", 2, 2, "daemon", "/sbin", nologin}, {"adm", 3, 4, "adm", "/var/adm", nologin},
			{"lp", 4, 7, "lp", "/var/spool/lpd", nologin}, {"sync", 5, 0, "sync", "/sbin", "/bin/sync"},
			{"shutdown", 6, 0, "shutdown", "/sbin", "/sbin/shutdown"}, {"halt", 7, 0, "halt", "/sbin", "/sbin/halt"},
			{"mail", 8, 12, "mail", "/var/spool/mail", nologin}, {"operator", 11, 0, "operator", "/root", nologin},
			{"games", 12, 100, "games", "/usr/games", nologin}, {"ftp", 14, 50, "FTP User", "/var/ftp", nologin},
			{"nobody", 65534, 65534, "Kernel Overflow User", "/", nologin},
			{"systemd-network", 192, 192, "systemd Network Management", "/", nologin},
			{"dbus", 81, 81, "System message bus", "/", nologin},
			{"sshd", 74, 74, "Privilege-separated SSH", "/usr/share/empty.sshd", nologin},
			{"chrony", 998, 996, "chrony system user", "/var/lib/chrony", nologin}, user}
	}
	return []account{{"root", 0, 0, "root", "/root", sh}, {"daemon", 1, 1, "daemon", "/usr/sbin", nologin},
		{"bin", 2, 2, "bin", "/bin", nologin}, {"sys", 3, 3, "sys", "/dev", nologin}, {"sync", 4, 65534, "sync", "/bin", "/bin/sync"},
		{"games", 5, 60, "games", "/usr/games", nologin}, {"man", 6, 12, "man", "/var/cache/man", nologin},
		{"lp", 7, 7, "lp", "/var/spool/lpd", nologin}, {"mail", 8, 8, "mail", "/var/mail", nologin},
		{"news", 9, 9, "news", "/var/spool/news", nologin}, {"uucp", 10, 10, "uucp", "/var/spool/uucp", nologin},
		{"proxy", 13, 13, "proxy", "/bin", nologin}, {"www-data", 33, 33, "www-data", "/var/www", nologin},
		{"backup", 34, 34, "backup", "/var/backups", nologin}, {"list", 38, 38, "Mailing List Manager", "/var/list", nologin},
		{"irc", 39, 39, "ircd", "/run/ircd", nologin}, {"_apt", 42, 65534, "", "/nonexistent", nologin},
		{"nobody", 65534, 65534, "nobody", "/nonexistent", nologin},
		{"systemd-network", 998, 998, "systemd Network Management", "/", nologin},
		{"messagebus", 100, 107, "", "/nonexistent", nologin},
		{"sshd", 101, 65534, "", "/run/sshd", nologin}, user}
}

func groups(d *distro) []group {
	var gs []group
	if d.rhel || d.ash {
		gs = []group{{"root", 0, ""}, {"bin", 1, ""}, {"daemon", 2, ""}, {"sys", 3, ""}, {"adm", 4, ""},
			{"tty", 5, ""}, {"disk", 6, ""}, {"lp", 7, ""}, {"mail", 12, ""}, {"wheel", 10, ""},
			{"users", 100, ""}, {"nobody", 65534, ""}}
	} else {
		gs = []group{{"root", 0, ""}, {"daemon", 1, ""}, {"bin", 2, ""}, {"sys", 3, ""}, {"adm", 4, ""},
			{"tty", 5, ""}, {"disk", 6, ""}, {"lp", 7, ""}, {"mail", 8, ""}, {"dialout", 20, ""}, {"cdrom", 24, ""},
			{"floppy", 25, ""}, {"sudo", 27, ""}, {"audio", 29, ""}, {"dip", 30, ""}, {"www-data", 33, ""},
			{"backup", 34, ""}, {"video", 44, ""}, {"plugdev", 46, ""}, {"staff", 50, ""}, {"users", 100, ""},
			{"netdev", 106, ""}, {"lxd", 110, ""}, {"shadow", 42, ""}, {"nogroup", 65534, ""}}
	}
	member := map[string]bool{}
	for _, g := range strings.Split(d.userGroups, ",") {
		member[g] = true
	}
	for i := range gs {
		if member[gs[i].name] {
			gs[i].members = d.user
		}
	}
	return append(gs, group{d.user, 1000, ""})
}

// gateway guesses the router of a /24.
func gateway(ip string) string {
	if i := strings.LastIndexByte(ip, '.'); i > 0 {
		return ip[:i] + ".1"
	}
	return "10.0.0.1"
}

// binaries are the programs the shell implements, so /usr/bin, which and
// the dispatcher agree.
func binaries() []string {
	var out []string
	for name := range commands {
		out = append(out, name)
	}
	return out
}

// binarySize gives each program a stable, plausible size.
func binarySize(name string) int64 {
	return 18000 + int64(hashN(name, 140000))
}

// binaryBytes generates a program's contents: an ELF header then stable
// pseudo-random bytes, so cat and sha256sum of a binary behave.
func binaryBytes(p string, size int64) []byte {
	if size > MaxFileSize {
		size = MaxFileSize
	}
	out := make([]byte, 0, size)
	out = append(out, 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0)
	h := sha256.Sum256([]byte(p))
	for int64(len(out)) < size {
		h = sha256.Sum256(h[:])
		out = append(out, h[:]...)
	}
	return out[:size]
}

func hashN(s string, n int) int {
	h := sha256.Sum256([]byte(s))
	return int(binary.BigEndian.Uint32(h[:4]) % uint32(n))
}

func hashStr(s string, n int) string {
	const alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	h := sha256.Sum256([]byte(s))
	out := make([]byte, n)
	for i := range out {
		if i%32 == 0 && i > 0 {
			h = sha256.Sum256(h[:])
		}
		out[i] = alphabet[h[i%32]%64]
	}
	return string(out)
}

const bashHistory = `ls -la
cd projects/
cat .env
systemctl status app
journalctl -u app -n 50
vim app.service
systemctl daemon-reload
systemctl restart app
df -h
free -m
top
ss -tlnp
mysql -h 10.0.0.5 -u admin -p prod_db
crontab -l
./backup.sh
tail -f /var/log/backup.log
apt update && apt upgrade -y
reboot
`

const notes = `TODO
- rotate DB creds after the migration (prod_db @ 10.0.0.5), old pass still in projects/.env
- backup.sh fails since the firewall change, check 10.0.0.5:3306 from here
- disable password login once everyone has keys
- renew cert for the intranet portal before end of month
`

const appService = `[Unit]
Description=Internal app
After=network.target

[Service]
User=root
WorkingDirectory=/root/projects
EnvironmentFile=/root/projects/.env
ExecStart=/usr/local/bin/app --port 8080
Restart=always

[Install]
WantedBy=multi-user.target
`

const backupScript = `#!/bin/bash
set -e
. /root/projects/.env
mysqldump -h "$DB_HOST" -u "$DB_USER" -p"$DB_PASS" "$DB_NAME" | gzip > /var/backups/prod_db-$(date +%F).sql.gz
find /var/backups -name 'prod_db-*.sql.gz' -mtime +14 -delete
`
