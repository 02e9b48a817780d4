package mssql

import (
	"fmt"
	"strconv"
	"strings"

	"decnet/internal/ntlmssp"
)

// Persona is what a decky's SQL Server claims to be.
type Persona struct {
	// Version is the release, 2017, 2019 (the default) or 2022, which
	// stands for a late cumulative update of it, or an exact build
	// major.minor.build[.revision] such as 15.0.4355.3.
	Version string `ini:"version"`
	// Instance is the instance name; empty is the default instance,
	// MSSQLSERVER. A named instance appears in error messages as
	// HOST\INSTANCE.
	Instance string `ini:"instance"`
	// Domain is the Active Directory DNS domain the Windows host is a
	// member of, which its NTLM challenge names. Empty means a workgroup
	// server.
	Domain string `ini:"domain"`
	// ForceEncryption imitates the Force Encryption setting: a client
	// that asked for no encryption gets TLS for the whole session, and one
	// that cannot encrypt is turned away.
	ForceEncryption bool `ini:"force_encryption"`
}

func defaultPersona() any { return &Persona{} }

// Version is a SQL Server build.
type Version struct {
	Major, Minor, Build, Revision int
}

// releases are the builds the release names stand for: late cumulative
// updates (2017 CU31, its last; 2019 CU25; 2022 CU14), and the Windows
// Server build each typically runs on, which the NTLM challenge reports.
var releases = map[string]struct {
	v       Version
	windows ntlmssp.Version
}{
	"2017": {Version{14, 0, 3456, 2}, ntlmssp.NewVersion(10, 0, 14393)},
	"2019": {Version{15, 0, 4355, 3}, ntlmssp.NewVersion(10, 0, 17763)},
	"2022": {Version{16, 0, 4135, 4}, ntlmssp.NewVersion(10, 0, 20348)},
}

// releaseYears name the majors.
var releaseYears = map[int]string{10: "2008", 11: "2012", 12: "2014", 13: "2016", 14: "2017", 15: "2019", 16: "2022"}

// String is the build as SQL Server prints it (SERVERPROPERTY).
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d.%d", v.Major, v.Minor, v.Build, v.Revision)
}

// build resolves the persona's version and the Windows build under it.
func (p *Persona) build() (Version, ntlmssp.Version, error) {
	name := p.Version
	if name == "" {
		name = "2019"
	}
	if r, ok := releases[name]; ok {
		return r.v, r.windows, nil
	}
	parts := strings.Split(name, ".")
	if len(parts) < 3 || len(parts) > 4 {
		return Version{}, ntlmssp.Version{}, fmt.Errorf("version %q: want 2017, 2019, 2022 or major.minor.build[.revision]", p.Version)
	}
	var n [4]int
	for i, s := range parts {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > 65535 || (i < 2 && v > 255) {
			return Version{}, ntlmssp.Version{}, fmt.Errorf("version %q: part %q is not a number in range", p.Version, s)
		}
		n[i] = v
	}
	v := Version{n[0], n[1], n[2], n[3]}
	year, ok := releaseYears[v.Major]
	if !ok {
		return Version{}, ntlmssp.Version{}, fmt.Errorf("version %q: major %d is no SQL Server release from 2008 to 2022", p.Version, v.Major)
	}
	win := releases["2019"].windows
	if r, ok := releases[year]; ok {
		win = r.windows
	}
	return v, win, nil
}

// Validate checks the version, instance and domain.
func (p *Persona) Validate() error {
	if _, _, err := p.build(); err != nil {
		return err
	}
	// SQL Server instance names: up to 16 characters, a letter, number,
	// underscore, $ or # each; MSSQLSERVER is the default instance.
	if len(p.Instance) > 16 || strings.ContainsFunc(p.Instance, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '$' || r == '#')
	}) {
		return fmt.Errorf("instance %q: want up to 16 letters, digits, _, $ or #", p.Instance)
	}
	if len(p.Domain) > 200 || strings.ContainsFunc(p.Domain, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.')
	}) {
		return fmt.Errorf("domain %q: want a DNS domain name", p.Domain)
	}
	return nil
}

// defaultInstance is the default instance's name.
const defaultInstance = "MSSQLSERVER"

// instance is the instance name a client may give in PRELOGIN.
func (p *Persona) instance() string {
	if p.Instance == "" {
		return defaultInstance
	}
	return p.Instance
}
