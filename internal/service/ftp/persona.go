package ftp

import (
	"errors"
	"fmt"
	"strings"
)

// Persona holds the ftp service's INI keys. The names are vsftpd.conf's
// where one exists, so an operator who knows vsftpd knows them.
type Persona struct {
	// Version is the vsFTPd version in the banner and STAT. Empty picks
	// the one the decky's distro ships (3.0.3 on Debian 12 and Ubuntu
	// 20.04, 3.0.2 on CentOS 7, 3.0.5 elsewhere). Versions before 3.0.3
	// also answer EPSV and PWD as 3.0.2 does.
	Version string `ini:"version"`
	// Banner is ftpd_banner: the text of the 220 greeting instead of
	// "(vsFTPd <version>)".
	Banner string `ini:"ftpd_banner"`
	// Users are the accepted local logins, "user:pass" each; each user
	// gets a home with bait files. Empty accepts a short list of weak
	// pairs (see defaultLogins).
	Users []string `ini:"users"`
	// AnonymousEnable lets "anonymous" and "ftp" in with any password,
	// chrooted to the distro's anonymous root (off in Debian's stock
	// vsftpd.conf, so off by default).
	AnonymousEnable bool `ini:"anonymous_enable"`
	// WriteEnable allows STOR, APPE, STOU, MKD, RMD, DELE, RNFR/RNTO and
	// SITE CHMOD. Debian's stock file leaves it off; it is on by default
	// here because uploads are what the honeypot wants to capture.
	WriteEnable bool `ini:"write_enable"`
	// AnonUploadEnable lets anonymous users STOR and STOU (with
	// write_enable), as a warez drop site would.
	AnonUploadEnable bool `ini:"anon_upload_enable"`
	// AnonMkdirWriteEnable lets anonymous users MKD.
	AnonMkdirWriteEnable bool `ini:"anon_mkdir_write_enable"`
	// AnonOtherWriteEnable lets anonymous users DELE, RMD, RNFR/RNTO and
	// APPE, and overwrite files.
	AnonOtherWriteEnable bool `ini:"anon_other_write_enable"`
	// MaxLoginFails is max_login_fails: after this many failed logins
	// the control connection is closed. Default 3.
	MaxLoginFails int `ini:"max_login_fails"`
	// IdleSessionTimeout is idle_session_timeout in seconds: a session
	// idle this long gets "421 Timeout." Default 300.
	IdleSessionTimeout int `ini:"idle_session_timeout"`
	// PasvMinPort is the lowest passive data port; each PASV or EPSV
	// picks one at random up to PasvMaxPort, as vsftpd does. Default 1024.
	PasvMinPort int `ini:"pasv_min_port"`
	// PasvMaxPort is the highest passive data port. Default 65535.
	PasvMaxPort int `ini:"pasv_max_port"`
}

// defaultLogins are accepted when the persona names none: pairs that FTP
// brute-force lists try early. root is absent because Debian's
// /etc/ftpusers refuses it whatever the password.
var defaultLogins = []string{"admin:admin", "admin:123456", "ftpuser:ftpuser", "ftpuser:password",
	"user:user", "test:test", "guest:guest"}

func defaultPersona() *Persona {
	return &Persona{WriteEnable: true, MaxLoginFails: 3, IdleSessionTimeout: 300, PasvMinPort: 1024, PasvMaxPort: 65535}
}

// Validate checks the persona's values.
func (p *Persona) Validate() error {
	for _, u := range p.Users {
		name, _, ok := strings.Cut(u, ":")
		if !ok || !validUser(name) {
			return fmt.Errorf("users: %q is not user:pass with a plain user name", u)
		}
	}
	for k, v := range map[string]string{"version": p.Version, "ftpd_banner": p.Banner} {
		if len(v) > 200 || strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("%s: want one line of at most 200 bytes", k)
		}
	}
	if p.MaxLoginFails < 1 || p.MaxLoginFails > 100 {
		return errors.New("max_login_fails: want 1 to 100")
	}
	if p.IdleSessionTimeout < 1 || p.IdleSessionTimeout > 3600 {
		return errors.New("idle_session_timeout: want 1 to 3600 seconds")
	}
	if p.PasvMinPort < 1024 || p.PasvMaxPort > 65535 || p.PasvMinPort > p.PasvMaxPort {
		return errors.New("pasv_min_port and pasv_max_port: want 1024 <= min <= max <= 65535")
	}
	return nil
}

// validUser is what a home directory can be made of: letters, digits and
// ._- (the names useradd accepts), so a user name cannot climb out of
// /home.
func validUser(name string) bool {
	if name == "" || len(name) > 32 || name[0] == '-' || name[0] == '.' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// account is one accepted local login.
type account struct {
	name      string
	passwords []string
	uid       int
}

// accounts returns the accepted local logins in the order the persona
// names them, with uids from 1000 as useradd gives.
func (p *Persona) accounts() []account {
	pairs := p.Users
	if len(pairs) == 0 {
		pairs = defaultLogins
	}
	var out []account
	idx := map[string]int{}
	for _, pair := range pairs {
		u, pw, _ := strings.Cut(pair, ":")
		i, ok := idx[u]
		if !ok {
			i = len(out)
			idx[u] = i
			out = append(out, account{name: u, uid: 1000 + i})
		}
		out[i].passwords = append(out[i].passwords, pw)
	}
	return out
}

// distroVersion is the vsftpd each distro ships.
func distroVersion(distro string) string {
	switch distro {
	case "", "debian", "ubuntu20":
		return "3.0.3"
	case "centos7":
		return "3.0.2"
	}
	return "3.0.5"
}
