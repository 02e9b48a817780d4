// Package archetype holds the catalogue a fleet is built from: archetypes
// (what kind of machine a decky pretends to be), distros (its base image,
// hostname style and kernel), OS families (the kernel settings that shape its TCP/IP
// fingerprint) and hostname generation. It is pure data plus small functions
// and depends on no other decnet package, so it lists every service an
// archetype names whether or not that service is implemented yet.
package archetype

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknown is wrapped by every lookup of a slug that is not in the catalogue.
var ErrUnknown = errors.New("unknown")

// Archetype is a kind of machine: a default service set, the distros that
// suit it and the OS family its network stack imitates.
type Archetype struct {
	Slug        string `json:"slug"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
	// Services are service slugs, in the order the original listed them.
	Services []string `json:"services"`
	// PreferredDistros are distro slugs, cycled across a group of deckies.
	PreferredDistros []string `json:"preferred_distros"`
	// OS is the OS family slug (see OSFamily).
	OS string `json:"os"`
}

// archetypes keeps the original's fifteen, in its order, which is also the
// order of All and of the default fleet's preference.
var archetypes = []Archetype{
	{"windows-workstation", "Windows Workstation", "A domain-joined Windows desktop exposing file sharing and remote desktop.",
		[]string{"smb", "rdp"}, []string{"debian", "ubuntu22"}, OSWindows},
	{"windows-server", "Windows Server", "A Windows member server with file sharing, remote desktop and directory lookups.",
		[]string{"smb", "rdp", "ldap"}, []string{"debian", "ubuntu22"}, OSWindows},
	{"domain-controller", "Domain Controller", "An Active Directory domain controller: LDAP, SMB, RDP and LLMNR chatter.",
		[]string{"ldap", "smb", "rdp", "llmnr"}, []string{"debian", "ubuntu22"}, OSWindows},
	{"linux-server", "Linux Server", "A general-purpose Linux box with SSH and a web server.",
		[]string{"ssh", "http"}, []string{"debian", "ubuntu22", "rocky9", "fedora"}, OSLinux},
	{"web-server", "Web Server", "A web host that still offers FTP for content uploads.",
		[]string{"http", "ftp"}, []string{"debian", "ubuntu22", "ubuntu20"}, OSLinux},
	{"database-server", "Database Server", "A database host running MySQL, PostgreSQL and Redis.",
		[]string{"mysql", "postgres", "redis"}, []string{"debian", "ubuntu22"}, OSLinux},
	{"mail-server", "Mail Server", "A mail host speaking SMTP, POP3 and IMAP.",
		[]string{"smtp", "pop3", "imap"}, []string{"debian", "ubuntu22"}, OSLinux},
	{"file-server", "File Server", "A file server reachable over SMB, FTP and SSH.",
		[]string{"smb", "ftp", "ssh"}, []string{"debian", "ubuntu22", "rocky9"}, OSLinux},
	{"printer", "Network Printer", "A network printer with SNMP management and FTP job upload.",
		[]string{"snmp", "ftp"}, []string{"alpine", "debian"}, OSEmbedded},
	{"iot-device", "IoT Device", "An embedded IoT device with an MQTT broker, SNMP and telnet.",
		[]string{"mqtt", "snmp", "telnet"}, []string{"alpine"}, OSEmbedded},
	// The original also listed snmp here, which would clash with conpot's
	// own SNMP agent (the PLC's vendor MIB) on 161/udp.
	{"industrial-control", "Industrial Control System", "A PLC/ICS controller speaking industrial protocols and SNMP.",
		[]string{"conpot"}, []string{"debian"}, OSEmbedded},
	{"voip-server", "VoIP Server", "A SIP server for an office phone system.",
		[]string{"sip"}, []string{"debian", "ubuntu22"}, OSLinux},
	{"monitoring-node", "Monitoring Node", "A monitoring host polling the network over SNMP, administered over SSH.",
		[]string{"snmp", "ssh"}, []string{"debian", "rocky9"}, OSLinux},
	{"devops-host", "DevOps Host", "A build/deploy host with an exposed Docker API and a Kubernetes API server.",
		[]string{"docker_api", "ssh", "k8s"}, []string{"ubuntu22", "debian"}, OSLinux},
	{"deaddeck", "Deaddeck (Entry Point)", "A lone SSH host meant as the attacker's first foothold.",
		[]string{"ssh"}, []string{"debian", "ubuntu22"}, OSLinux},
}

// All returns every archetype, in catalogue order. The slices are copies.
func All() []Archetype {
	out := make([]Archetype, len(archetypes))
	for i, a := range archetypes {
		out[i] = a.clone()
	}
	return out
}

// Lookup returns the archetype with that slug; the error lists the valid ones.
func Lookup(slug string) (Archetype, error) {
	for _, a := range archetypes {
		if a.Slug == slug {
			return a.clone(), nil
		}
	}
	slugs := make([]string, len(archetypes))
	for i, a := range archetypes {
		slugs[i] = a.Slug
	}
	return Archetype{}, unknown("archetype", slug, slugs)
}

// clone keeps callers from editing the catalogue through shared slices.
func (a Archetype) clone() Archetype {
	a.Services = append([]string(nil), a.Services...)
	a.PreferredDistros = append([]string(nil), a.PreferredDistros...)
	return a
}

func unknown(kind, slug string, valid []string) error {
	return fmt.Errorf("%w %s %q; valid: %s", ErrUnknown, kind, slug, strings.Join(valid, ", "))
}
