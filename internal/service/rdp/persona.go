package rdp

import (
	"fmt"
	"strconv"
	"strings"

	"decnet/internal/ntlmssp"
)

// The products a persona can imitate.
const (
	// Windows is the Remote Desktop service of Windows Server 2019 with
	// its defaults: Network Level Authentication required.
	Windows = "windows"
	// XRDP is xrdp 0.9.21 as Debian 12 ships it (security_layer=negotiate,
	// no CredSSP).
	XRDP = "xrdp"
)

// Persona is what a decky's RDP server claims to be.
type Persona struct {
	// Product is windows or xrdp. Empty means windows on a decky whose OS
	// family is windows and xrdp on any other.
	Product string `ini:"product"`
	// Domain is the Active Directory DNS domain the Windows machine is a
	// member of (e.g. corp.example.com), which its NTLM challenge and
	// certificate name. Empty means a workgroup server.
	Domain string `ini:"domain"`
	// Version is the Windows build the NTLM challenge reports,
	// major.minor.build: 10.0.17763 (Server 2019, the default), 10.0.14393
	// (2016), 10.0.20348 (2022), 6.3.9600 (2012 R2).
	Version string `ini:"version"`
	// NLA, true by default, requires Network Level Authentication as
	// Windows Server 2019 does. False imitates a machine where it is
	// unchecked: clients offering only TLS or standard RDP security get
	// them instead of HYBRID_REQUIRED_BY_SERVER; TLS clients give their
	// password in the Client Info PDU. Windows only.
	NLA bool `ini:"nla"`
}

func defaultPersona() any { return &Persona{NLA: true} }

// Validate checks the product, domain and version.
func (p *Persona) Validate() error {
	switch p.Product {
	case "", Windows, XRDP:
	default:
		return fmt.Errorf("product %q: want %s or %s", p.Product, Windows, XRDP)
	}
	if p.Product == XRDP && (p.Domain != "" || p.Version != "") {
		return fmt.Errorf("domain and version describe a Windows machine, not %s", XRDP)
	}
	if _, err := parseWindowsVersion(p.Version); err != nil {
		return err
	}
	if len(p.Domain) > 200 || strings.ContainsFunc(p.Domain, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\\' || r == '/' || r == ':'
	}) {
		return fmt.Errorf("domain %q: want a DNS domain name", p.Domain)
	}
	return nil
}

// product resolves the persona's product for a decky of OS family os.
func (p *Persona) product(os string) string {
	switch {
	case p.Product != "":
		return p.Product
	case os == "windows":
		return Windows
	}
	return XRDP
}

// parseWindowsVersion reads major.minor.build; empty is the zero Version,
// which ntlmssp reads as Windows Server 2019.
func parseWindowsVersion(s string) (ntlmssp.Version, error) {
	if s == "" {
		return ntlmssp.Version{}, nil
	}
	parts := strings.Split(s, ".")
	bad := fmt.Errorf("version %q: want major.minor.build, e.g. 10.0.17763", s)
	if len(parts) != 3 {
		return ntlmssp.Version{}, bad
	}
	major, err1 := strconv.ParseUint(parts[0], 10, 8)
	minor, err2 := strconv.ParseUint(parts[1], 10, 8)
	build, err3 := strconv.ParseUint(parts[2], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil {
		return ntlmssp.Version{}, bad
	}
	return ntlmssp.NewVersion(uint8(major), uint8(minor), uint16(build)), nil
}
