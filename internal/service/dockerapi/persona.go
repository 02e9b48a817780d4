package dockerapi

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Persona is what a decky's Docker daemon claims to be. The defaults are
// the Docker CE 24.0.5 packages (docker-ce, containerd.io 1.6.22, runc
// 1.1.8) on Ubuntu 22.04, the release the original claimed.
type Persona struct {
	// Version is the engine version (Server header, /version, /info).
	Version string `ini:"version"`
	// APIVersion is the highest API version served (Api-Version header);
	// requests for a newer /v1.xx prefix get the engine's 400.
	APIVersion string `ini:"api_version"`
	// MinAPIVersion is the lowest API version served.
	MinAPIVersion string `ini:"min_api_version"`
	// GoVersion is the toolchain /version reports, as the real one does.
	GoVersion string `ini:"go_version"`
	// GitCommit is the engine's short commit in /version.
	GitCommit string `ini:"git_commit"`
	// BuildTime is the engine's build time in /version.
	BuildTime string `ini:"build_time"`
	// Containerd and Runc are "version commit" pairs of the components
	// /version and /info list.
	Containerd string `ini:"containerd"`
	Runc       string `ini:"runc"`
	// OperatingSystem, OSVersion and KernelVersion describe the host in
	// /info and /version; empty picks what fits the decky's distro.
	OperatingSystem string `ini:"operating_system"`
	OSVersion       string `ini:"os_version"`
	KernelVersion   string `ini:"kernel_version"`
	// NCPU and MemTotalMB are the host's CPUs and memory in /info.
	NCPU       int `ini:"ncpu"`
	MemTotalMB int `ini:"mem_total_mb"`
	// Containers are the bait containers, running since the daemon
	// started: a comma list of name=image pairs.
	Containers []string `ini:"containers"`
	// TLSVerify is dockerd's --tlsverify on 2376: a client must present a
	// certificate (it is recorded, then refused as not signed by the
	// daemon's CA). Off, the daemon asks for one but takes clients without,
	// so an attacker's certificate is recorded and the session goes on.
	TLSVerify bool `ini:"tls_verify"`
}

func defaultPersona() any {
	return &Persona{
		Version:       "24.0.5",
		APIVersion:    "1.43",
		MinAPIVersion: "1.12",
		GoVersion:     "go1.20.6",
		GitCommit:     "a61e2b4",
		BuildTime:     "2023-07-21T20:35:33.000000000+00:00",
		Containerd:    "1.6.22 8165feabfdfe38c65b599c4993d227328c231fca",
		Runc:          "1.1.8 v1.1.8-0-g82f18fe",
		NCPU:          4,
		MemTotalMB:    7937,
		Containers:    []string{"webapp=nginx:latest", "db=postgres:15", "cache=redis:7-alpine"},
	}
}

var (
	apiVersionRE = regexp.MustCompile(`^1\.[0-9]{1,2}$`)
	nameRE       = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
)

// Validate checks the versions and the bait list.
func (p *Persona) Validate() error {
	if p.Version == "" {
		return errors.New("version is empty")
	}
	for k, v := range map[string]string{"api_version": p.APIVersion, "min_api_version": p.MinAPIVersion} {
		if !apiVersionRE.MatchString(v) {
			return fmt.Errorf("%s %q: want 1.NN", k, v)
		}
	}
	if versionLess(p.APIVersion, p.MinAPIVersion) {
		return errors.New("api_version is below min_api_version")
	}
	if p.NCPU < 1 || p.MemTotalMB < 64 {
		return errors.New("ncpu must be at least 1 and mem_total_mb at least 64")
	}
	for _, c := range p.Containers {
		name, image, ok := strings.Cut(c, "=")
		if !ok || !nameRE.MatchString(name) || image == "" {
			return fmt.Errorf("containers entry %q: want name=image", c)
		}
	}
	return nil
}

// hostOS is what /info says of the host's distribution.
type hostOS struct {
	name, version, kernel string
	cgroupV1              bool
}

// distroOS is the host of each distro slug (package archetype), with the
// kernel its cloud images ran when Docker 24.0 was current.
var distroOS = map[string]hostOS{
	"ubuntu22": {"Ubuntu 22.04.2 LTS", "22.04", "5.15.0-76-generic", false},
	"ubuntu20": {"Ubuntu 20.04.6 LTS", "20.04", "5.4.0-153-generic", true},
	"debian":   {"Debian GNU/Linux 12 (bookworm)", "12", "6.1.0-10-amd64", false},
	"rocky9":   {"Rocky Linux 9.2 (Blue Onyx)", "9.2", "5.14.0-284.18.1.el9_2.x86_64", false},
	"centos7":  {"CentOS Linux 7 (Core)", "7", "3.10.0-1160.92.1.el7.x86_64", true},
	"fedora":   {"Fedora Linux 39 (Server Edition)", "39", "6.5.6-300.fc39.x86_64", false},
	"alpine":   {"Alpine Linux v3.19", "3.19", "6.6.7-0-lts", false},
	"kali":     {"Kali GNU/Linux Rolling", "2023.3", "6.3.0-kali1-amd64", false},
	"arch":     {"Arch Linux", "", "6.4.10-arch1-1", false},
}

// resolveOS fills the host facts the persona left empty from the distro.
func (p *Persona) resolveOS(distro string) hostOS {
	h, ok := distroOS[distro]
	if !ok {
		h = distroOS["ubuntu22"]
	}
	if p.OperatingSystem != "" {
		h.name = p.OperatingSystem
	}
	if p.OSVersion != "" {
		h.version = p.OSVersion
	}
	if p.KernelVersion != "" {
		h.kernel = p.KernelVersion
	}
	return h
}

// versionLess compares two "1.NN" API versions.
func versionLess(a, b string) bool {
	ma, na := splitVersion(a)
	mb, nb := splitVersion(b)
	if ma != mb {
		return ma < mb
	}
	return na < nb
}

func splitVersion(v string) (major, minor int) {
	maj, mnr, _ := strings.Cut(v, ".")
	return atoiPrefix(maj), atoiPrefix(mnr)
}

// atoiPrefix reads the leading decimal digits of s, saturating, as the
// engine's version comparison does for each dotted part.
func atoiPrefix(s string) int {
	n := 0
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = min(n*10+int(s[i]-'0'), 1<<20)
	}
	return n
}
