// Package shell is a fake login shell for honeypots: a bash (or ash) that
// runs an attacker's command lines against a persistent, per-decky fake
// filesystem of a given Linux distribution, with the output of the real
// GNU coreutils, procps and iproute2 of that distribution. It knows nothing
// of the protocol that carries it (ssh, telnet): callers hand it lines or a
// terminal and receive what happened through Hooks.
package shell

import (
	"strings"
	"time"

	"decnet/internal/archetype"
)

// System describes the machine a shell pretends to run on.
type System struct {
	Hostname string // may be a FQDN; the prompt shows the first label
	// Distro is a distro slug: debian, ubuntu22, ubuntu20, rocky9, centos7,
	// alpine, fedora, kali or arch. Anything else is debian.
	Distro string
	IP     string // the address ip/ifconfig show; empty picks 10.0.0.x
	// Boot is the boot time; a caller that runs other services of the same
	// decky passes archetype.Boot of the decky's name so they all agree.
	// Zero uses archetype.Boot of Hostname. Either way it is fixed at Open
	// and recomputed at the next Open, so uptime grows across sessions and
	// restarts and drops only when the decky's reboot cycle comes round.
	Boot time.Time
}

func (s System) normalize() System {
	if _, ok := distros[s.Distro]; !ok {
		s.Distro = "debian"
	}
	if s.Hostname == "" {
		s.Hostname = "localhost"
	}
	if s.IP == "" {
		s.IP = "10.0.0.23"
	}
	return s
}

func (s System) distro() *distro { return distros[s.normalize().Distro] }

// kernel comes from the archetype catalogue, not the distro table, because
// other services of the decky (redis INFO) show it too and must agree.
func (s System) kernel() archetype.Kernel { return archetype.KernelOf(s.normalize().Distro) }

// ShortHostname is the hostname up to its first dot, as bash's \h.
func (s System) ShortHostname() string {
	h, _, _ := strings.Cut(s.Hostname, ".")
	return h
}

// distro holds what differs between distributions.
type distro struct {
	osRelease  string
	issue      string
	rhel       bool   // [user@host dir]$ prompt
	ash        bool   // busybox ash instead of bash
	lineNo     bool   // bash >= 5.1 says "bash: line 1:" in -c errors
	user       string // the default non-root account
	userGroups string // its supplementary groups (comma list of names)
	sshVersion string // ssh -V
	ifconfig   bool   // net-tools installed
	lang       string
	kali       bool   // kali's two-line prompt
	selinux    bool   // ls -l shows a '.' for the SELinux context
	bash       string // $BASH_VERSION
	procps4    bool   // procps-ng 4 (wider free columns)
}

var distros = map[string]*distro{
	"debian": {
		procps4: true,
		bash:    "5.2.15(1)-release",
		osRelease: `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`,
		issue:      "Debian GNU/Linux 12 \\n \\l\n\n",
		lineNo:     true,
		user:       "admin",
		userGroups: "adm,dialout,cdrom,floppy,sudo,audio,dip,video,plugdev,netdev",
		sshVersion: "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.17 1 Jul 2025",
		lang:       "en_US.UTF-8",
	},
	"ubuntu22": {
		bash: "5.1.16(1)-release",
		osRelease: `PRETTY_NAME="Ubuntu 22.04.5 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.5 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=jammy
`,
		issue:      "Ubuntu 22.04.5 LTS \\n \\l\n\n",
		lineNo:     true,
		user:       "ubuntu",
		userGroups: "adm,dialout,cdrom,floppy,sudo,audio,dip,video,plugdev,netdev,lxd",
		sshVersion: "OpenSSH_8.9p1 Ubuntu-3ubuntu0.13, OpenSSL 3.0.2 15 Mar 2022",
		lang:       "C.UTF-8",
	},
	"ubuntu20": {
		bash: "5.0.17(1)-release",
		osRelease: `NAME="Ubuntu"
VERSION="20.04.6 LTS (Focal Fossa)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 20.04.6 LTS"
VERSION_ID="20.04"
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
VERSION_CODENAME=focal
UBUNTU_CODENAME=focal
`,
		issue:      "Ubuntu 20.04.6 LTS \\n \\l\n\n",
		user:       "ubuntu",
		userGroups: "adm,dialout,cdrom,floppy,sudo,audio,dip,video,plugdev,netdev,lxd",
		sshVersion: "OpenSSH_8.2p1 Ubuntu-4ubuntu0.13, OpenSSL 1.1.1f  31 Mar 2020",
		lang:       "C.UTF-8",
	},
	"rocky9": {
		bash:    "5.1.8(1)-release",
		selinux: true,
		osRelease: `NAME="Rocky Linux"
VERSION="9.5 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.5"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
VENDOR_NAME="RESF"
VENDOR_URL="https://resf.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.5"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.5"
`,
		issue:      "\\S\nKernel \\r on an \\m\n\n",
		rhel:       true,
		lineNo:     true,
		user:       "rocky",
		userGroups: "wheel",
		sshVersion: "OpenSSH_8.7p1, OpenSSL 3.2.2 4 Jun 2024",
		lang:       "C.UTF-8",
	},
	"centos7": {
		bash:    "4.2.46(2)-release",
		selinux: true,
		osRelease: `NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:centos:centos:7"
HOME_URL="https://www.centos.org/"
BUG_REPORT_URL="https://bugs.centos.org/"

CENTOS_MANTISBT_PROJECT="CentOS-7"
CENTOS_MANTISBT_PROJECT_VERSION="7"
REDHAT_SUPPORT_PRODUCT="centos"
REDHAT_SUPPORT_PRODUCT_VERSION="7"

`,
		issue:      "\\S\nKernel \\r on an \\m\n\n",
		rhel:       true,
		user:       "centos",
		userGroups: "wheel",
		sshVersion: "OpenSSH_7.4p1, OpenSSL 1.0.2k-fips  26 Jan 2017",
		lang:       "en_US.UTF-8",
	},
	"alpine": {
		bash: "",
		osRelease: `NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.4
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
`,
		issue:      "Welcome to Alpine Linux 3.19\nKernel \\r on an \\m (\\l)\n\n",
		ash:        true,
		user:       "alpine",
		userGroups: "wheel",
		sshVersion: "OpenSSH_9.6p1, OpenSSL 3.1.7 3 Sep 2024",
		ifconfig:   true,
	},
	"fedora": {
		procps4: true,
		bash:    "5.2.26(1)-release",
		selinux: true,
		osRelease: `NAME="Fedora Linux"
VERSION="39 (Server Edition)"
ID=fedora
VERSION_ID=39
VERSION_CODENAME=""
PLATFORM_ID="platform:f39"
PRETTY_NAME="Fedora Linux 39 (Server Edition)"
ANSI_COLOR="0;38;2;60;110;180"
LOGO=fedora-logo-icon
CPE_NAME="cpe:/o:fedoraproject:fedora:39"
HOME_URL="https://fedoraproject.org/"
DOCUMENTATION_URL="https://docs.fedoraproject.org/en-US/fedora/f39/system-administrators-guide/"
SUPPORT_URL="https://ask.fedoraproject.org/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_BUGZILLA_PRODUCT="Fedora"
REDHAT_BUGZILLA_PRODUCT_VERSION=39
REDHAT_SUPPORT_PRODUCT="Fedora"
REDHAT_SUPPORT_PRODUCT_VERSION=39
SUPPORT_END=2024-11-12
VARIANT="Server Edition"
VARIANT_ID=server
`,
		issue:      "\\S\nKernel \\r on an \\m (\\l)\n\n",
		rhel:       true,
		lineNo:     true,
		user:       "fedora",
		userGroups: "wheel",
		sshVersion: "OpenSSH_9.3p1, OpenSSL 3.1.4 24 Oct 2023",
		lang:       "C.UTF-8",
	},
	"kali": {
		procps4: true,
		bash:    "5.2.37(1)-release",
		osRelease: `PRETTY_NAME="Kali GNU/Linux Rolling"
NAME="Kali GNU/Linux"
VERSION_ID="2025.2"
VERSION="2025.2"
VERSION_CODENAME=kali-rolling
ID=kali
ID_LIKE=debian
HOME_URL="https://www.kali.org/"
SUPPORT_URL="https://forums.kali.org/"
BUG_REPORT_URL="https://bugs.kali.org/"
ANSI_COLOR="1;31"
`,
		issue:      "Kali GNU/Linux Rolling \\n \\l\n\n",
		lineNo:     true,
		user:       "kali",
		userGroups: "adm,dialout,cdrom,floppy,sudo,audio,dip,video,plugdev,users,netdev,bluetooth,scanner,wireshark,kaboxer",
		sshVersion: "OpenSSH_10.0p2 Debian-5, OpenSSL 3.5.0 8 Apr 2025",
		ifconfig:   true,
		lang:       "en_US.UTF-8",
		kali:       true,
	},
	"arch": {
		procps4: true,
		bash:    "5.2.37(1)-release",
		osRelease: `NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
ANSI_COLOR="38;2;23;147;209"
HOME_URL="https://archlinux.org/"
DOCUMENTATION_URL="https://wiki.archlinux.org/"
SUPPORT_URL="https://bbs.archlinux.org/"
BUG_REPORT_URL="https://gitlab.archlinux.org/groups/archlinux/-/issues"
PRIVACY_POLICY_URL="https://terms.archlinux.org/docs/privacy-policy/"
LOGO=archlinux-logo
`,
		issue:      "Arch Linux \\r (\\l)\n\n",
		rhel:       true,
		lineNo:     true,
		user:       "arch",
		userGroups: "wheel",
		sshVersion: "OpenSSH_10.0p2, OpenSSL 3.5.0 8 Apr 2025",
		lang:       "en_US.UTF-8",
	},
}
