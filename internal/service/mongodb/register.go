// Package mongodb is a MongoDB honeypot: a mongod speaking the wire protocol
// (legacy OP_QUERY handshakes and OP_MSG) that answers drivers, shells and
// scanners as the persona's version does, runs SCRAM logins far enough to
// capture the user name and the client proof, and, left without access
// control as so many ransomed servers are, lists and serves bait databases.
package mongodb

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "mongodb"

// Port is mongod's port.
const Port = 27017

func init() { service.Register(Service{}) }

// Interface guards.
var (
	_ service.Service = Service{}
	_ service.Server  = (*Server)(nil)
)

// Persona is what a decky's mongod claims to be.
type Persona struct {
	// Version is the server version (buildInfo, serverStatus); it also
	// sets maxWireVersion and whether legacy OP_QUERY commands are still
	// served (before 5.1).
	Version string `ini:"version"`
	// GitVersion is buildInfo's gitVersion. Empty derives a stable
	// 40-hex value from the version (not the release's real commit).
	GitVersion string `ini:"git_version"`
	// Auth turns access control on (security.authorization: enabled):
	// every command but the handshake and login ones needs a login, which
	// always fails. Off by default: an open mongod is what ransom crews
	// look for, and it serves the bait databases to anyone.
	Auth bool `ini:"auth"`
	// Distmod is buildInfo's buildEnvironment.distmod; empty picks the
	// package that fits the decky's distro.
	Distmod string `ini:"distmod"`
}

var versionRE = regexp.MustCompile(`^([3-8])\.(\d{1,2})\.(\d{1,2})$`)

// wireVersions is maxWireVersion by major.minor release.
var wireVersions = map[string]int32{
	"3.6": 6, "4.0": 7, "4.2": 8, "4.4": 9, "5.0": 13, "5.1": 14, "5.2": 15, "5.3": 16,
	"6.0": 17, "6.1": 18, "6.2": 19, "6.3": 20, "7.0": 21, "7.1": 22, "7.2": 23, "7.3": 24, "8.0": 25,
}

// Validate checks that the version is one whose wire version is known.
func (p *Persona) Validate() error {
	m := versionRE.FindStringSubmatch(p.Version)
	if m == nil {
		return fmt.Errorf("version %q: want major.minor.patch", p.Version)
	}
	if _, ok := wireVersions[m[1]+"."+m[2]]; !ok {
		return fmt.Errorf("version %q: unknown release series %s.%s", p.Version, m[1], m[2])
	}
	if p.GitVersion != "" {
		if b, err := hex.DecodeString(p.GitVersion); err != nil || len(b) != 20 {
			return fmt.Errorf("git_version %q: want 40 hex digits", p.GitVersion)
		}
	}
	return nil
}

// versionFacts is what follows from the version string.
type versionFacts struct {
	array         [4]int32 // versionArray
	wire          int32    // maxWireVersion
	opQueryLimits bool     // 5.1+: OP_QUERY serves only the handshake and login
	commandWord   string   // "command" in the Unauthorized text; 7.0 capitalised it
}

func factsOf(v string) versionFacts {
	m := versionRE.FindStringSubmatch(v)
	var f versionFacts
	for i := range 3 {
		n, _ := strconv.Atoi(m[i+1])
		f.array[i] = int32(n)
	}
	f.wire = wireVersions[m[1]+"."+m[2]]
	f.opQueryLimits = f.wire >= 14
	f.commandWord = "command"
	if f.array[0] >= 7 {
		f.commandWord = "Command"
	}
	return f
}

func (p *Persona) gitVersion() string {
	if p.GitVersion != "" {
		return strings.ToLower(p.GitVersion)
	}
	h := sha1.Sum([]byte("r" + p.Version))
	return hex.EncodeToString(h[:])
}

// distmodFor is the MongoDB package build that runs on a distro.
func distmodFor(distro string) string {
	switch distro {
	case "ubuntu20":
		return "ubuntu2004"
	case "rocky9", "fedora":
		return "rhel90"
	case "debian":
		// 6.0 has no Debian 12 build; the Debian 11 one is what runs there.
		return "debian11"
	}
	return "ubuntu2204"
}

func defaultPersona() any { return &Persona{Version: "6.0.19"} }

// Service is the mongodb honeypot kind.
type Service struct{}

// Info declares the slug, port and persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "MongoDB 6.0 server (mongod) with bait databases",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's mongod.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p), nil
}
