package smb

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/ntlmssp"
	"decnet/internal/service"
)

// Persona is what a decky's SMB server claims to be. Every key is optional:
// the zero Persona is Windows Server 2019 on a Windows decky and Debian's
// stock Samba elsewhere.
type Persona struct {
	// Product is the server imitated: windows (Windows Server 2019) or
	// samba (Samba 4.17 with Debian's stock smb.conf). Empty means windows
	// on a decky whose OS family is windows, samba on the others.
	Product string `ini:"product"`
	// Domain is the DNS name of the Active Directory domain the machine is
	// joined to (e.g. corp.example.com); its first label, upper-cased, is
	// the NetBIOS domain. Empty means a standalone (workgroup) server. The
	// NTLM CHALLENGE tells scanners these names.
	Domain string `ini:"domain"`
	// OSVersion is the Windows version in the NTLM CHALLENGE, as
	// major.minor.build. Empty means 10.0.17763 (Windows Server 2019) for
	// windows and 6.1.0 for samba, which is what Samba claims.
	OSVersion string `ini:"os_version"`
	// ServerString is Samba's "server string": the IPC$ share's comment is
	// "IPC Service (<server string>)". Empty means the Samba version of the
	// decky's distro, e.g. "Samba 4.17.12-Debian". Windows ignores it.
	ServerString string `ini:"server_string"`
	// Guest maps the logon of a user the server does not know to the guest
	// account (Samba's "map to guest = bad user", or Windows with the Guest
	// account enabled): the session is a guest session that may list the
	// shares. The captured hash is logged all the same. Empty means true
	// for samba (Debian's stock smb.conf) and false for windows.
	Guest optBool `ini:"guest"`
	// Anonymous lets null sessions (smbclient -N) open IPC$ pipes and list
	// the shares. Empty means true for samba and false for windows, whose
	// null sessions may connect to IPC$ but open no pipe.
	Anonymous optBool `ini:"anonymous"`
	// Users are accounts the server knows: their logons fail with
	// STATUS_LOGON_FAILURE even when Guest maps other users to the guest
	// account. Compared without regard to case.
	Users []string `ini:"users"`
	// Shares are the disk shares listed besides the product's own
	// (ADMIN$, C$ and IPC$ for windows; print$, IPC$ and the guest's home
	// share "nobody" for samba), as a
	// JSON object of share name to comment. Tree connects to them are
	// logged and refused with STATUS_ACCESS_DENIED. Unset means
	// {"Finance":""} for windows and {"backup":"Backups"} for samba; {}
	// lists only the product's own.
	Shares map[string]string `ini:"shares"`
}

// The products a persona can imitate.
const (
	Windows = "windows"
	Samba   = "samba"
)

// optBool is a persona boolean whose default depends on the product: the
// zero value is unset.
type optBool int8

const (
	unset optBool = iota
	yes
	no
)

// UnmarshalText reads true or false as strconv.ParseBool does.
func (b *optBool) UnmarshalText(text []byte) error {
	v, err := strconv.ParseBool(strings.TrimSpace(string(text)))
	if err != nil {
		return fmt.Errorf("%q is not true or false", text)
	}
	*b = no
	if v {
		*b = yes
	}
	return nil
}

// or returns the value, or def when unset.
func (b optBool) or(def bool) bool {
	if b == unset {
		return def
	}
	return b == yes
}

// Limits of what a persona may hold: share names are NetBIOS-era (80
// characters), and the NetrShareEnum answer must stay small.
const (
	maxShares       = 64
	maxShareName    = 80
	maxShareComment = 256
	maxUsers        = 256
)

// Validate checks each key.
func (p *Persona) Validate() error {
	if p.Product != "" && p.Product != Windows && p.Product != Samba {
		return fmt.Errorf("product %q: want %s or %s", p.Product, Windows, Samba)
	}
	if p.Domain != "" && !isDNSName(p.Domain) {
		return fmt.Errorf("domain %q is not a DNS name", p.Domain)
	}
	if p.OSVersion != "" {
		if _, err := parseOSVersion(p.OSVersion); err != nil {
			return err
		}
	}
	if len(p.ServerString) > 200 || !printable(p.ServerString) {
		return fmt.Errorf("server_string %q: want at most 200 printable characters", p.ServerString)
	}
	if len(p.Users) > maxUsers {
		return fmt.Errorf("users: more than %d", maxUsers)
	}
	for _, u := range p.Users {
		if len(u) > 104 || !printable(u) {
			return fmt.Errorf("users: %q is not a user name", u)
		}
	}
	if len(p.Shares) > maxShares {
		return fmt.Errorf("shares: more than %d", maxShares)
	}
	for name, comment := range p.Shares {
		if err := checkShareName(name); err != nil {
			return fmt.Errorf("shares: %w", err)
		}
		if len(comment) > maxShareComment || !printable(comment) {
			return fmt.Errorf("shares: the comment of %q is not %d printable characters or fewer", name, maxShareComment)
		}
	}
	return nil
}

// checkShareName refuses names Windows refuses (and the special shares,
// which the product lists itself).
func checkShareName(name string) error {
	switch {
	case name == "" || len(name) > maxShareName:
		return fmt.Errorf("share name %q: want 1 to %d characters", name, maxShareName)
	case !printable(name) || strings.ContainsAny(name, `\/:*?"<>|`):
		return fmt.Errorf("share name %q holds a character shares cannot have", name)
	case strings.HasSuffix(name, "$"):
		return fmt.Errorf("share name %q: hidden ($) shares are the product's own", name)
	}
	return nil
}

func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd })
}

func isDNSName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// parseOSVersion reads major.minor.build.
func parseOSVersion(s string) (ntlmssp.Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) == 3 {
		major, err1 := strconv.ParseUint(parts[0], 10, 8)
		minor, err2 := strconv.ParseUint(parts[1], 10, 8)
		build, err3 := strconv.ParseUint(parts[2], 10, 16)
		if err1 == nil && err2 == nil && err3 == nil && major > 0 {
			return ntlmssp.NewVersion(uint8(major), uint8(minor), uint16(build)), nil
		}
	}
	return ntlmssp.Version{}, fmt.Errorf("os_version %q: want major.minor.build, e.g. 10.0.17763", s)
}

// Share types of NetrShareEnum (MS-SRVS 2.2.2.4).
const (
	stypeDisk    uint32 = 0
	stypeIPC     uint32 = 3
	stypeSpecial uint32 = 0x80000000
)

// share is one share the server lists.
type share struct {
	name    string
	typ     uint32
	comment string
}

func (s share) ipc() bool { return s.typ&^stypeSpecial == stypeIPC }

// profile is a persona resolved against the decky: everything the
// protocol code reads.
type profile struct {
	samba     bool
	ntlm      ntlmssp.Persona
	guid      [16]byte
	guest     bool
	anonymous bool
	users     []string // lower case
	shares    []share  // in the order NetrShareEnum lists them
}

// sambaVersions are the Samba versions the distros ship, as "server string
// = Samba %v" shows them.
var sambaVersions = map[string]string{
	"debian":   "Samba 4.17.12-Debian",
	"ubuntu22": "Samba 4.15.13-Ubuntu",
	"ubuntu20": "Samba 4.13.17-Ubuntu",
	"kali":     "Samba 4.19.5-Debian",
	"rocky9":   "Samba 4.18.6",
	"centos7":  "Samba 4.10.16",
	"fedora":   "Samba 4.19.4",
	"alpine":   "Samba 4.18.9",
	"arch":     "Samba 4.19.5",
}

// resolve fills the persona's defaults from the decky.
func resolve(p *Persona, h service.Host) (profile, error) {
	product := p.Product
	if product == "" {
		product = Samba
		if h.OS == "windows" {
			product = Windows
		}
	}
	pr := profile{samba: product == Samba}
	hostname := h.Hostname
	if hostname == "" {
		hostname = h.Name
	}
	if hostname == "" {
		return profile{}, errors.New("the decky has no hostname")
	}
	version := ntlmssp.NewVersion(10, 0, 17763)
	if pr.samba {
		version = ntlmssp.NewVersion(6, 1, 0)
	}
	if p.OSVersion != "" {
		v, err := parseOSVersion(p.OSVersion)
		if err != nil {
			return profile{}, err
		}
		version = v
	}
	pr.ntlm = ntlmssp.NewPersona(hostname, p.Domain, version)
	if pr.samba && p.Domain == "" {
		// A standalone Samba names no DNS domain, where Windows repeats
		// its host name (real-products.md §13).
		pr.ntlm.DNSDomain = ""
	}
	if err := pr.ntlm.Validate(); err != nil {
		return profile{}, err
	}
	pr.guid = serverGUID(pr.samba, pr.ntlm.NetBIOSComputer, h.Name)
	pr.guest = p.Guest.or(pr.samba)
	pr.anonymous = p.Anonymous.or(pr.samba)
	for _, u := range p.Users {
		pr.users = append(pr.users, strings.ToLower(u))
	}
	pr.shares = shareList(pr.samba, p, h.Distro)
	return pr, nil
}

// serverGUID is the NEGOTIATE response's ServerGuid. Samba writes its
// NetBIOS name in lower case into it; Windows makes a random (version 4)
// GUID at installation, which a hash of the decky's name stands in for, so
// that it stays the same across restarts as a real server's does.
func serverGUID(samba bool, netbios, decky string) [16]byte {
	var g [16]byte
	if samba {
		copy(g[:15], strings.ToLower(netbios))
		return g
	}
	sum := sha256.Sum256([]byte("server guid\x00" + decky + "\x00" + netbios))
	copy(g[:], sum[:16])
	g[7] = g[7]&0x0f | 0x40 // version 4 (Data3, little-endian)
	g[8] = g[8]&0x3f | 0x80 // RFC 4122 variant
	return g
}

// shareList is what NetrShareEnum lists: Windows sorts its shares by name;
// Samba lists print$, then the configured shares, then IPC$ and the home
// share of stock smb.conf.
func shareList(samba bool, p *Persona, distro string) []share {
	extra := p.Shares
	if extra == nil {
		extra = map[string]string{"Finance": ""}
		if samba {
			extra = map[string]string{"backup": "Backups"}
		}
	}
	var disks []share
	for name, comment := range extra {
		if samba && strings.EqualFold(name, "nobody") {
			continue // the home share, listed below
		}
		disks = append(disks, share{name: name, typ: stypeDisk, comment: comment})
	}
	byName := func(a, b share) int { return strings.Compare(strings.ToUpper(a.name), strings.ToUpper(b.name)) }
	slices.SortFunc(disks, byName)
	if samba {
		server := p.ServerString
		if server == "" {
			server = sambaVersions[distro]
		}
		if server == "" {
			server = sambaVersions["debian"]
		}
		list := []share{{name: "print$", typ: stypeDisk, comment: "Printer Drivers"}}
		list = append(list, disks...)
		// [homes] shows up as the guest account's home, "nobody".
		return append(list, share{name: "IPC$", typ: stypeIPC | stypeSpecial, comment: "IPC Service (" + server + ")"},
			share{name: "nobody", typ: stypeDisk, comment: "Home Directories"})
	}
	list := append(disks,
		share{name: "ADMIN$", typ: stypeDisk | stypeSpecial, comment: "Remote Admin"},
		share{name: "C$", typ: stypeDisk | stypeSpecial, comment: "Default share"},
		share{name: "IPC$", typ: stypeIPC | stypeSpecial, comment: "Remote IPC"})
	slices.SortFunc(list, byName)
	return list
}

// findShare looks a share up as Windows and Samba do, without regard to case.
func (pr *profile) findShare(name string) (share, bool) {
	for _, s := range pr.shares {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return share{}, false
}

// knownUser reports whether user is one of the persona's accounts.
func (pr *profile) knownUser(user string) bool {
	return slices.Contains(pr.users, strings.ToLower(user))
}
