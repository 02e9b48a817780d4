package ftp

import (
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"path"
	"strings"
	"time"
)

// skel holds Debian's /etc/skel files, byte for byte, so the sizes in a
// home's listing are the ones every Debian machine shows.
//
//go:embed skel
var skel embed.FS

// layout is where a distro's vsftpd package puts things.
type layout struct {
	anonRoot string      // the ftp user's home, the anonymous chroot
	conf     string      // vsftpd.conf
	ftpUsers string      // the PAM deny list, "" where the package has none
	usrMerge bool        // /bin, /lib and /sbin are links into /usr
	homeMode fs.FileMode // what adduser gives a new home
	ftpUID   int
	ftpGID   int
	mariadb  bool // the dump in the bait is mariadb-dump's, not mysqldump's
}

func layoutOf(distro string) layout {
	switch distro {
	case "rocky9", "centos7", "fedora":
		return layout{anonRoot: "/var/ftp", conf: "/etc/vsftpd/vsftpd.conf", ftpUsers: "/etc/vsftpd/ftpusers",
			usrMerge: true, homeMode: 0o700, ftpUID: 14, ftpGID: 50}
	case "alpine":
		return layout{anonRoot: "/var/lib/ftp", conf: "/etc/vsftpd/vsftpd.conf", homeMode: 0o755, ftpUID: 21, ftpGID: 21}
	case "arch":
		return layout{anonRoot: "/srv/ftp", conf: "/etc/vsftpd.conf", usrMerge: true, homeMode: 0o700, ftpUID: 14, ftpGID: 11}
	case "ubuntu22":
		return layout{anonRoot: "/srv/ftp", conf: "/etc/vsftpd.conf", ftpUsers: "/etc/ftpusers", usrMerge: true,
			homeMode: 0o750, ftpUID: 115, ftpGID: 121, mariadb: true}
	case "ubuntu20":
		return layout{anonRoot: "/srv/ftp", conf: "/etc/vsftpd.conf", ftpUsers: "/etc/ftpusers", usrMerge: true,
			homeMode: 0o755, ftpUID: 113, ftpGID: 118, mariadb: true}
	}
	return layout{anonRoot: "/srv/ftp", conf: "/etc/vsftpd.conf", ftpUsers: "/etc/ftpusers", usrMerge: true,
		homeMode: 0o700, ftpUID: 106, ftpGID: 113, mariadb: true}
}

// baitFacts are the decky's secrets, drawn from its name so they differ
// per decky and stay the same across restarts.
type baitFacts struct {
	host, domain string
	dbPass       string
	dbHost       string // the database server on the decky's LAN
	backupHost   string
	install      time.Time // when the machine was set up
	recent       time.Time // when its users last worked on it
	rng          *rand.Rand
}

func newBaitFacts(decky, hostname string, boot time.Time) baitFacts {
	h := fnv.New64a()
	h.Write([]byte(decky + "|ftp"))
	seed := h.Sum64()
	rng := rand.New(rand.NewPCG(seed, seed>>17|1))
	host, _, _ := strings.Cut(hostname, ".")
	if host == "" {
		host = "srv01"
	}
	words := []string{"Summer", "Winter", "Dragon", "Falcon", "Backup", "Orion", "Phoenix", "Maple"}
	domains := []string{"corp.local", "internal.lan", "office.local", "ad.local"}
	net3 := fmt.Sprintf("10.%d.%d.", rng.IntN(40)+10, rng.IntN(250)+1)
	return baitFacts{
		host:       host,
		domain:     domains[rng.IntN(len(domains))],
		dbPass:     fmt.Sprintf("%s%d%c", words[rng.IntN(len(words))], 2019+rng.IntN(6), "!#$@"[rng.IntN(4)]),
		dbHost:     net3 + fmt.Sprint(rng.IntN(40)+10),
		backupHost: net3 + fmt.Sprint(rng.IntN(40)+60),
		install:    boot.Add(-time.Duration(150+rng.IntN(300)) * 24 * time.Hour).Truncate(time.Minute),
		recent:     boot.Add(time.Duration(rng.IntN(36)+12) * time.Hour).Truncate(time.Minute),
		rng:        rng,
	}
}

// bcryptLike returns a string shaped like a PHP bcrypt hash.
func (b baitFacts) bcryptLike() string {
	const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := []byte("$2y$10$")
	for range 53 {
		out = append(out, alphabet[b.rng.IntN(len(alphabet))])
	}
	return string(out)
}

// seeder fills a tree; paths are absolute tree paths.
type seeder struct{ t *tree }

func (s seeder) put(p string, n *node) {
	dir, _, err := s.t.walk(s.t.root, path.Dir(p), cred{}, true)
	if err != nil || !dir.isDir() {
		panic(fmt.Sprintf("ftp bait: no directory for %s", p)) // a mistake in the seed below
	}
	if n.isDir() && n.kids == nil {
		n.kids = map[string]*node{}
	}
	dir.kids[path.Base(p)] = n
	s.t.count++
}

func (s seeder) dir(p string, mode fs.FileMode, uid, gid int, t time.Time) {
	s.put(p, &node{mode: fs.ModeDir | mode, uid: uid, gid: gid, mtime: t})
}

func (s seeder) file(p string, mode fs.FileMode, uid, gid int, t time.Time, data string) {
	s.put(p, &node{mode: mode, uid: uid, gid: gid, mtime: t, data: []byte(data)})
}

func (s seeder) link(p, target string, t time.Time) {
	s.put(p, &node{mode: fs.ModeSymlink | 0o777, mtime: t, target: target})
}

// seedTree builds the decky's tree: a Linux root with the vsftpd
// package's files, the anonymous area, and a home with bait for each
// accepted login.
func seedTree(p *Persona, distro string, accts []account, b baitFacts) *tree {
	l := layoutOf(distro)
	t := newTree(b.install)
	s := seeder{t: t}
	for _, d := range []string{"/boot", "/dev", "/etc", "/home", "/media", "/mnt", "/opt", "/run", "/srv", "/usr",
		"/usr/local", "/usr/share", "/var", "/var/backups", "/var/cache", "/var/lib", "/var/log", "/var/mail",
		"/var/opt", "/var/spool", "/var/www", "/var/www/html"} {
		s.dir(d, 0o755, 0, 0, b.install)
	}
	s.dir("/proc", 0o555, 0, 0, b.recent)
	s.dir("/sys", 0o555, 0, 0, b.recent)
	s.dir("/root", 0o700, 0, 0, b.install)
	s.dir("/tmp", fs.ModeSticky|0o777, 0, 0, b.recent)
	s.dir("/var/tmp", fs.ModeSticky|0o777, 0, 0, b.recent)
	for _, d := range []string{"bin", "lib", "sbin"} {
		s.dir("/usr/"+d, 0o755, 0, 0, b.install)
		if l.usrMerge {
			s.link("/"+d, "usr/"+d, b.install)
		} else {
			s.dir("/"+d, 0o755, 0, 0, b.install)
		}
	}
	if l.usrMerge {
		s.dir("/usr/lib64", 0o755, 0, 0, b.install)
		s.link("/lib64", "usr/lib64", b.install)
	}
	s.dir(path.Dir(l.conf), 0o755, 0, 0, b.install) // /etc or /etc/vsftpd
	s.file("/etc/hostname", 0o644, 0, 0, b.install, b.host+"\n")
	s.file(l.conf, 0o644, 0, 0, b.install.Add(40*time.Minute), vsftpdConf(p, l))
	if l.ftpUsers != "" {
		s.file(l.ftpUsers, 0o644, 0, 0, b.install,
			"# /etc/ftpusers: list of users disallowed FTP access. See ftpusers(5).\n\nroot\ndaemon\nbin\nsys\nsync\ngames\nman\nlp\nmail\nnews\nuucp\nnobody\n")
	}
	s.file("/var/www/html/index.html", 0o644, 0, 0, b.install.Add(2*time.Hour),
		"<html><head><title>"+b.host+"</title></head><body><h1>"+b.host+"</h1><p>Internal file server. Contact IT for access.</p></body></html>\n")
	seedAnon(s, p, l, b)
	for i, a := range accts {
		seedHome(s, l, a, i == 0, b)
	}
	return t
}

// seedAnon fills the anonymous area: a pub directory as a download
// server keeps it, and an incoming directory when anonymous users may
// write.
func seedAnon(s seeder, p *Persona, l layout, b baitFacts) {
	root := l.anonRoot
	for d := path.Dir(root); d != "/"; d = path.Dir(d) {
		if n, _, err := s.t.walk(s.t.root, d, cred{}, true); err != nil || n == nil {
			s.dir(d, 0o755, 0, 0, b.install)
		}
	}
	s.dir(root, 0o755, 0, l.ftpGID, b.install)
	pub := root + "/pub"
	s.dir(pub, 0o755, 0, 0, b.recent)
	s.file(pub+"/README", 0o644, 0, 0, b.install.Add(3*time.Hour), fmt.Sprintf(
		"%s file archive\n\nbackups/   nightly database exports (rotated weekly)\ndocs/      network documentation\n\nQuestions: it-support@%s\n", b.host, b.domain))
	s.dir(pub+"/backups", 0o755, 0, 0, b.recent)
	day := b.recent.Add(-24 * time.Hour).Truncate(24 * time.Hour).Add(2*time.Hour + 15*time.Minute)
	s.file(pub+"/backups/"+b.host+"-db-"+day.Format("20060102")+".sql", 0o644, 0, 0, day, dump(b, l, day))
	s.dir(pub+"/docs", 0o755, 0, 0, b.install.Add(5*24*time.Hour))
	if p.AnonUploadEnable || p.AnonMkdirWriteEnable {
		// What an admin who enables anonymous uploads makes for them.
		s.dir(root+"/incoming", 0o755, l.ftpUID, l.ftpGID, b.recent)
	}
	s.file(pub+"/docs/network-inventory.csv", 0o644, 0, 0, b.install.Add(5*24*time.Hour), inventory(b))
}

// seedHome makes a user's home with Debian's skel files, a history that
// leaks credentials and, for the main user, a database dump and client
// configuration.
func seedHome(s seeder, l layout, a account, main bool, b baitFacts) {
	home := "/home/" + a.name
	created := b.install.Add(time.Duration(len(a.name)*7) * time.Minute)
	s.dir(home, l.homeMode, a.uid, a.uid, b.recent)
	for _, f := range []string{"bash_logout", "bashrc", "profile"} {
		data, err := fs.ReadFile(skel, "skel/"+f)
		if err != nil {
			panic(err) // embedded above
		}
		s.file(home+"/."+f, 0o644, a.uid, a.uid, created, string(data))
	}
	s.file(home+"/.bash_history", 0o600, a.uid, a.uid, b.recent, history(b, a.name, main))
	if !main {
		return
	}
	day := b.recent.Add(-3 * time.Hour)
	s.file(home+"/backup.sql", 0o644, a.uid, a.uid, day, dump(b, l, day))
	s.file(home+"/.my.cnf", 0o600, a.uid, a.uid, b.install.Add(26*time.Hour),
		fmt.Sprintf("[client]\nuser=root\npassword=%s\nhost=%s\n", b.dbPass, b.dbHost))
}

func history(b baitFacts, user string, main bool) string {
	lines := []string{"ls -la", "df -h", "sudo systemctl status vsftpd", "cd /var/www/html", "ls", "cd"}
	if main {
		lines = append(lines,
			fmt.Sprintf("mysql -h %s -u root -p'%s'", b.dbHost, b.dbPass),
			fmt.Sprintf("mysqldump -h %s -u root -p'%s' --all-databases > ~/backup.sql", b.dbHost, b.dbPass),
			"ls -lh backup.sql",
			fmt.Sprintf("scp backup.sql backup@%s:/srv/backups/%s/", b.backupHost, b.host),
			"sudo nano /etc/vsftpd.conf", "sudo systemctl restart vsftpd")
	}
	lines = append(lines, fmt.Sprintf("ssh %s@%s", user, b.backupHost), "exit")
	return strings.Join(lines, "\n") + "\n"
}

// dump is a database export as mysqldump or mariadb-dump writes it, with
// an application's users table.
func dump(b baitFacts, l layout, at time.Time) string {
	head, version := "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)", "8.0.36"
	if l.mariadb {
		head, version = "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)", "10.11.6-MariaDB-0+deb12u1"
	}
	var w strings.Builder
	fmt.Fprintf(&w, "%s\n--\n-- Host: %s    Database: app\n-- ------------------------------------------------------\n", head, b.dbHost)
	fmt.Fprintf(&w, "-- Server version\t%s\n\n", version)
	w.WriteString("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!40101 SET NAMES utf8mb4 */;\n\n")
	w.WriteString("--\n-- Table structure for table `users`\n--\n\nDROP TABLE IF EXISTS `users`;\n")
	w.WriteString("CREATE TABLE `users` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `username` varchar(64) NOT NULL,\n" +
		"  `email` varchar(255) NOT NULL,\n  `password` varchar(255) NOT NULL,\n  `role` varchar(16) NOT NULL DEFAULT 'user',\n" +
		"  PRIMARY KEY (`id`),\n  UNIQUE KEY `username` (`username`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;\n\n")
	w.WriteString("LOCK TABLES `users` WRITE;\nINSERT INTO `users` VALUES ")
	for i, u := range []struct{ name, role string }{{"admin", "admin"}, {"jsmith", "user"}, {"mgarcia", "user"}, {"svc_backup", "service"}, {"twilson", "admin"}} {
		if i > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(&w, "(%d,'%s','%s@%s','%s','%s')", i+1, u.name, u.name, b.domain, b.bcryptLike(), u.role)
	}
	w.WriteString(";\nUNLOCK TABLES;\n\n")
	fmt.Fprintf(&w, "-- Dump completed on %s\n", at.UTC().Format("2006-01-02 15:04:05"))
	return w.String()
}

func inventory(b baitFacts) string {
	var w strings.Builder
	w.WriteString("hostname,ip,role,admin_user,notes\n")
	fmt.Fprintf(&w, "%s,%s,database,root,see ~/.my.cnf\n", "db01", b.dbHost)
	fmt.Fprintf(&w, "%s,%s,backup,backup,rsync target\n", "bkp01", b.backupHost)
	fmt.Fprintf(&w, "%s,,file server,admin,this host\n", b.host)
	fmt.Fprintf(&w, "fw01,%s1,firewall,admin,web ui on 8443\n", b.dbHost[:strings.LastIndexByte(b.dbHost, '.')+1])
	return w.String()
}

// vsftpdConf is the configuration file the persona amounts to, in the
// shape of the distro's stock file with the settings an admin changed.
func vsftpdConf(p *Persona, l layout) string {
	yn := func(b bool) string {
		if b {
			return "YES"
		}
		return "NO"
	}
	var w strings.Builder
	w.WriteString("# Example config file /etc/vsftpd.conf\n#\n# The default compiled in settings are fairly paranoid. This sample file\n" +
		"# loosens things up a bit, to make the ftp daemon more usable.\n# Please see vsftpd.conf.5 for all compiled in defaults.\n#\n")
	// IPv4 only, as the wire behaves (STAT shows "Connected to 10.0.0.5",
	// not the "::ffff:10.0.0.5" of the stock dual-stack listener).
	w.WriteString("listen=YES\n#listen_ipv6=YES\n")
	fmt.Fprintf(&w, "anonymous_enable=%s\nlocal_enable=YES\nwrite_enable=%s\nlocal_umask=022\n", yn(p.AnonymousEnable), yn(p.WriteEnable))
	if p.AnonUploadEnable {
		w.WriteString("anon_upload_enable=YES\n")
	}
	if p.AnonMkdirWriteEnable {
		w.WriteString("anon_mkdir_write_enable=YES\n")
	}
	if p.AnonOtherWriteEnable {
		w.WriteString("anon_other_write_enable=YES\n")
	}
	w.WriteString("dirmessage_enable=YES\nuse_localtime=YES\nxferlog_enable=YES\nconnect_from_port_20=YES\n")
	if p.Banner != "" {
		fmt.Fprintf(&w, "ftpd_banner=%s\n", p.Banner)
	}
	if p.PasvMinPort != 1024 || p.PasvMaxPort != 65535 {
		fmt.Fprintf(&w, "pasv_min_port=%d\npasv_max_port=%d\n", p.PasvMinPort, p.PasvMaxPort)
	}
	if p.IdleSessionTimeout != 300 {
		fmt.Fprintf(&w, "idle_session_timeout=%d\n", p.IdleSessionTimeout)
	}
	if p.MaxLoginFails != 3 {
		fmt.Fprintf(&w, "max_login_fails=%d\n", p.MaxLoginFails)
	}
	w.WriteString("secure_chroot_dir=/var/run/vsftpd/empty\npam_service_name=vsftpd\n" +
		"rsa_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\nrsa_private_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\nssl_enable=NO\n")
	if l.conf != "/etc/vsftpd.conf" {
		return strings.Replace(w.String(), "/etc/vsftpd.conf", l.conf, 1)
	}
	return w.String()
}
