package elasticsearch

import (
	"fmt"
	"slices"
	"strings"

	"decnet/internal/service"
)

func init() { service.Register(Service{}) }

// Interface guards.
var (
	_ service.Service = Service{}
	_ service.Server  = (*Server)(nil)
)

// Slug is the service's registry name.
const Slug = "elasticsearch"

// Port is Elasticsearch's HTTP port.
const Port = 9200

// release is what one Elasticsearch release prints in its root document.
type release struct {
	number, hash, date, lucene, minWire, minIndex string
}

// major is the release's major version.
func (r release) major() int { return int(r.number[0] - '0') }

// minor is the release's minor version.
func (r release) minor() int {
	n := 0
	for _, c := range strings.Split(r.number, ".")[1] {
		n = n*10 + int(c-'0')
	}
	return n
}

// atLeast reports whether the release is major.minor or later.
func (r release) atLeast(major, minor int) bool {
	return r.major() > major || r.major() == major && r.minor() >= minor
}

// releases are the versions a persona may claim, with their build facts
// from the root documents of real installations.
var releases = map[string]release{
	"7.10.2": {"7.10.2", "747e1cc71def077253878a59143c1f785afa92b9", "2021-01-13T00:42:12.435326Z", "8.7.0", "6.8.0", "6.0.0-beta1"},
	"7.17.9": {"7.17.9", "ef48222227ee6b9e70e502f0f0daa52435ee634d", "2023-01-31T05:34:43.305517834Z", "8.11.1", "6.8.0", "6.0.0-beta1"},
	"8.12.2": {"8.12.2", "48a287ab9497e852de30327444b0809e55d46466", "2024-02-19T10:04:32.774273190Z", "9.9.2", "7.17.0", "7.0.0"},
}

// Persona is what a decky's Elasticsearch claims to be.
type Persona struct {
	// Version is the release: 7.10.2, 7.17.9 (the default) or 8.12.2.
	Version string `ini:"version"`
	// Security is xpack.security.enabled: every request needs credentials
	// (401 otherwise). Empty follows the release: off for 7.x, the
	// exposed cluster ransomware crews wipe, on for 8.x.
	Security string `ini:"security"`
	// ExplicitSecurityOff says xpack.security.enabled: false was set (as
	// in most docker-compose files): 7.13 to 7.17 then drop the "security
	// features are not enabled" Warning header from every response.
	ExplicitSecurityOff bool `ini:"explicit_security_off"`
	// ClusterName is cluster.name; empty gives "elasticsearch", or
	// "docker-cluster" for build_type docker.
	ClusterName string `ini:"cluster_name"`
	// NodeName is node.name; empty gives the decky's hostname.
	NodeName string `ini:"node_name"`
	// BuildType is deb, rpm, tar or docker; empty follows the decky's
	// distro (rpm on the RHEL family, docker on Alpine and Arch, where
	// Elastic ships no package, deb elsewhere).
	BuildType string `ini:"build_type"`
	// Flavor is build_flavor: default, or oss (7.10 only).
	Flavor string `ini:"build_flavor"`
	// Bait picks the indices: customers (a shop's customers and orders)
	// or logs (application and web logs with leaked tokens).
	Bait string `ini:"bait"`
	// TLS serves 9200 with TLS (xpack.security.http.ssl) under a
	// certificate signed by the decky's "Elasticsearch security
	// auto-configuration HTTP CA", as 8.x's first start makes; plain HTTP
	// on it is dropped with no answer. Empty: on for 8.x with security.
	TLS string `ini:"tls"`
	// Users are user:password pairs that log in when security is on
	// (comma list); every other login gets the 401 a wrong password gets.
	Users []string `ini:"users"`
}

// Validate checks the enumerated settings.
func (p *Persona) Validate() error {
	rel, ok := releases[p.Version]
	if !ok {
		return fmt.Errorf("version %q: want one of %s", p.Version, strings.Join(knownVersions(), ", "))
	}
	if p.Security != "" && p.Security != "true" && p.Security != "false" {
		return fmt.Errorf("security %q: want true, false or empty", p.Security)
	}
	if p.TLS != "" && p.TLS != "true" && p.TLS != "false" {
		return fmt.Errorf("tls %q: want true, false or empty", p.TLS)
	}
	if !slices.Contains([]string{"", "deb", "rpm", "tar", "docker"}, p.BuildType) {
		return fmt.Errorf("build_type %q: want deb, rpm, tar or docker", p.BuildType)
	}
	if p.Flavor != "default" && !(p.Flavor == "oss" && rel.number == "7.10.2") {
		return fmt.Errorf("build_flavor %q: want default (or oss for 7.10.2)", p.Flavor)
	}
	if _, ok := baitSets[p.Bait]; !ok {
		return fmt.Errorf("bait %q: want customers or logs", p.Bait)
	}
	for _, u := range p.Users {
		if !strings.Contains(u, ":") {
			return fmt.Errorf("users: %q is not user:password", u)
		}
	}
	return nil
}

func knownVersions() []string {
	var v []string
	for k := range releases {
		v = append(v, k)
	}
	slices.Sort(v)
	return v
}

// secured reports whether requests need credentials.
func (p *Persona) secured() bool {
	if p.Security == "" {
		return releases[p.Version].major() >= 8
	}
	return p.Security == "true"
}

// tls reports whether 9200 speaks TLS.
func (p *Persona) tls() bool {
	if p.TLS == "" {
		return releases[p.Version].major() >= 8 && p.secured()
	}
	return p.TLS == "true"
}

func defaultPersona() any {
	return &Persona{Version: "7.17.9", Flavor: "default", Bait: "customers"}
}

// buildType is the persona's build_type, or the one the distro implies.
func (p *Persona) buildType(distro string) string {
	if p.BuildType != "" {
		return p.BuildType
	}
	switch distro {
	case "rocky9", "centos7", "fedora":
		return "rpm"
	case "alpine", "arch":
		return "docker"
	}
	return "deb"
}

// Service is the elasticsearch honeypot kind.
type Service struct{}

// Info declares the slug, port and persona.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "Elasticsearch REST API (7.x open cluster or 8.x with security) over bait indices",
		Ports:       []service.Port{{Number: Port, Proto: service.TCP}},
		Persona:     defaultPersona,
	}
}

// New builds one decky's Elasticsearch.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	s := newServer(cfg, p)
	if p.tls() {
		if err := s.loadTLS(); err != nil {
			return nil, err
		}
	}
	return s, nil
}
