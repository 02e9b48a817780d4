// Package compose renders a fleet as a compose file for the docker runtime
// (the original's composer.py): per decky a base container that owns the
// decky's network namespace (address, MAC, hostname, OS family sysctls) and
// one hardened container per service that joins that namespace. Every
// decnet container runs the same image; custom services run their own.
// The output loads with docker-compose 1.29 and compose v2 alike.
package compose

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"decnet/internal/archetype"
	"decnet/internal/fleet"
	"decnet/internal/service"
)

// Labels of every container Render writes. Runtimes, the collector and
// status find containers by these, never by container names.
const (
	LabelProject = "decnet.project" // the deployment (compose project name)
	LabelRole    = "decnet.role"    // RoleDecky (base container) or RoleService
	LabelDecky   = "decnet.decky"   // decky name
	LabelService = "decnet.service" // service slug (service containers only)
	RoleDecky    = "decky"
	RoleService  = "service"
)

// DefaultUser is the uid:gid of decnet containers when Options.User is
// empty: nobody:nogroup, which owns nothing in the image or on the host.
const DefaultUser = "65534:65534"

// Limits of a base container: it only sleeps (`idle`) and holds the
// network namespace, so it needs almost nothing. The pids limit leaves
// room for the Go runtime's threads on a many-core host.
const (
	baseMemory = "16m"
	basePids   = 64
)

// Options are the deployment-wide settings of a compose file.
type Options struct {
	// Project is the compose project name, also the LabelProject value.
	Project string
	// Image is the one image every decnet container runs.
	Image string
	// Network is the name of the external docker network the deckies join.
	Network string
	// IPVLAN is set when Network is an ipvlan network: ipvlan L2 shares the
	// parent's MAC, so no container gets a mac_address.
	IPVLAN bool
	// DataDir is the host directory holding <DataDir>/<decky>/<slug>,
	// mounted at service.ContainerDataDir for services whose Fragment has
	// Data, and <DataDir>/<decky>/<service.SharedDirName>, mounted at
	// service.ContainerSharedDir in every container of the decky whose
	// Fragment has Shared. It must be absolute when such a service is
	// deployed. Docker creates missing directories owned by root, so the
	// runtime creates them first, owned by User.
	DataDir string
	// User is the uid:gid of decnet containers; "" means DefaultUser.
	User string
}

// ContainerName is the name of the container running service slug on
// decky; the base container is named after the decky itself.
func ContainerName(decky, slug string) string { return decky + "-" + slug }

var (
	// projectRE is the compose project name rule.
	projectRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	// networkRE is docker's object name rule.
	networkRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	// imageRE admits the characters of an image reference: a typo such as
	// a space fails here, with the decky named, not in the compose CLI.
	imageRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$`)
	// userRE is user[:group], by name or number.
	userRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]*)?$`)
)

// Render returns the compose file that runs fleet fl: deterministic YAML
// in the compose-spec format, keys and services sorted. It fails, naming
// the decky, when the fleet is invalid, a decky has no IPv4 address or a
// bad MAC, a service is unknown or two containers would share a name.
func Render(fl fleet.Fleet, o Options) ([]byte, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.User == "" {
		o.User = DefaultUser
	}
	if err := fl.Validate(); err != nil {
		return nil, fmt.Errorf("invalid fleet: %w", err)
	}
	customs := make(map[string]fleet.Custom, len(fl.Customs))
	for _, c := range fl.Customs {
		customs[c.Name] = c
	}
	out := file{
		Networks: map[string]network{o.Network: {External: true, Name: o.Network}},
		Services: map[string]container{},
	}
	// owners maps a lower-cased container name to who uses it: names
	// differing only in case are refused, as fleet.Validate does for deckies.
	owners := map[string]string{}
	add := func(name, owner string, c container) error {
		if other, dup := owners[strings.ToLower(name)]; dup {
			return fmt.Errorf("container name %q of %s is also used by %s", name, owner, other)
		}
		owners[strings.ToLower(name)] = owner
		out.Services[name] = c
		return nil
	}
	for _, d := range fl.Deckies {
		base, err := o.base(d)
		if err != nil {
			return nil, fmt.Errorf("decky %q: %w", d.Name, err)
		}
		if err := add(d.Name, fmt.Sprintf("decky %q", d.Name), base); err != nil {
			return nil, err
		}
		for _, slug := range d.Services {
			var c container
			if cu, ok := customs[slug]; ok {
				c, err = o.custom(d.Name, cu)
			} else {
				c, err = o.service(d, slug)
			}
			if err != nil {
				return nil, fmt.Errorf("decky %q: service %q: %w", d.Name, slug, err)
			}
			if err := add(ContainerName(d.Name, slug), fmt.Sprintf("service %q of decky %q", slug, d.Name), c); err != nil {
				return nil, err
			}
		}
	}
	return encode(out)
}

// encode writes f as YAML that every compose reader takes literally.
func encode(f file) ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding compose file: %w", err)
	}
	literal(&doc, false)
	var buf bytes.Buffer
	buf.WriteString("# Written by the deployment on every deploy and mutation; edits are lost.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("encoding compose file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding compose file: %w", err)
	}
	return buf.Bytes(), nil
}

// literal doubles every $ in the values under n: compose interpolates
// $VAR and ${VAR} in every value, and a persona key or hostname must reach
// the container as written. key tells whether n is a mapping key, which
// compose does not interpolate. (Quoting is the encoder's: it quotes what
// YAML 1.1 readers such as docker-compose would take for a number or a
// bool, like "on", "1_000" or "12:34:56".)
func literal(n *yaml.Node, key bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && !key {
		n.Value = strings.ReplaceAll(n.Value, "$", "$$")
	}
	for i, c := range n.Content {
		literal(c, n.Kind == yaml.MappingNode && i%2 == 0)
	}
}

func (o Options) check() error {
	var errs []error
	if !projectRE.MatchString(o.Project) {
		errs = append(errs, fmt.Errorf("project name %q: want lower-case letters, digits, _ or -", o.Project))
	}
	if !imageRE.MatchString(o.Image) {
		errs = append(errs, fmt.Errorf("image %q: not an image reference", o.Image))
	}
	if !networkRE.MatchString(o.Network) {
		errs = append(errs, fmt.Errorf("network name %q: want letters, digits, _, . or -", o.Network))
	}
	if o.User != "" && !userRE.MatchString(o.User) {
		errs = append(errs, fmt.Errorf("user %q: want user[:group]", o.User))
	}
	return errors.Join(errs...)
}

// base is the container that owns decky d's network namespace.
func (o Options) base(d fleet.Decky) (container, error) {
	ip := d.IP.Unmap()
	if !ip.IsValid() {
		return container{}, errors.New("no IP address (assign addresses before rendering)")
	}
	if !ip.Is4() {
		return container{}, fmt.Errorf("IP address %s is not IPv4", ip)
	}
	if err := checkText(d.Hostname); err != nil {
		return container{}, fmt.Errorf("hostname: %w", err)
	}
	osf, err := archetype.LookupOS(d.OS)
	if err != nil {
		return container{}, err
	}
	c := o.common(d.Name, "", o.Image)
	c.Command = []string{"idle"}
	c.Hostname = d.Hostname
	c.Networks = map[string]attachment{o.Network: {IPv4Address: ip.String()}}
	c.Sysctls = osf.Sysctls
	c.User = o.User
	c.ReadOnly = true
	c.MemLimit = baseMemory
	c.PidsLimit = basePids
	if d.MAC != "" && !o.IPVLAN {
		mac, err := net.ParseMAC(d.MAC)
		if err != nil || len(mac) != 6 {
			return container{}, fmt.Errorf("MAC address %q: not a 48-bit MAC", d.MAC)
		}
		c.MacAddress = mac.String()
	}
	return c, nil
}

// service is the container of registered service slug on decky d.
func (o Options) service(d fleet.Decky, slug string) (container, error) {
	svc, err := service.Lookup(slug)
	if err != nil {
		return container{}, err
	}
	host := service.Host{Name: d.Name, Hostname: d.Hostname, Distro: d.Distro, OS: d.OS, Archetype: d.Archetype,
		IP: d.IP.Unmap().String(), DataDir: service.ContainerDataDir, SharedDir: service.ContainerSharedDir}
	frag := service.FragmentOf(svc, host, d.ServiceConfig[slug])
	if err := checkArgs("command", frag.Command); err != nil {
		return container{}, err
	}
	for k, v := range frag.Environment {
		if err := checkText(v); err != nil {
			return container{}, fmt.Errorf("environment %s: %w", k, err)
		}
	}
	c := o.sidecar(d.Name, slug, o.Image)
	c.Command = frag.Command
	c.Environment = frag.Environment
	c.User = o.User
	c.ReadOnly = true
	c.MemLimit = strconv.Itoa(positiveOr(frag.MemoryMB, service.DefaultMemoryMB)) + "m"
	c.PidsLimit = positiveOr(frag.Pids, service.DefaultPids)
	// A colon would split the short volume syntax.
	if (frag.Data || frag.Shared) && (!path.IsAbs(o.DataDir) || strings.Contains(o.DataDir, ":")) {
		return container{}, fmt.Errorf("stores data but the data directory %q is not an absolute path without ':'", o.DataDir)
	}
	if frag.Data {
		c.Volumes = append(c.Volumes, path.Join(o.DataDir, d.Name, slug)+":"+service.ContainerDataDir)
	}
	if frag.Shared {
		c.Volumes = append(c.Volumes, path.Join(o.DataDir, d.Name, service.SharedDirName)+":"+service.ContainerSharedDir)
	}
	return c, nil
}

// custom is the container of a bring-your-own image. It is foreign code
// whose user and writable paths we do not know, so it keeps its image's
// user and a writable root; it still gets no capabilities but port binding
// and cannot gain privileges.
func (o Options) custom(decky string, cu fleet.Custom) (container, error) {
	if !imageRE.MatchString(cu.Binary) {
		return container{}, fmt.Errorf("image %q: not an image reference", cu.Binary)
	}
	c := o.sidecar(decky, cu.Name, cu.Binary)
	c.Command = strings.Fields(cu.Exec)
	return c, checkArgs("exec", c.Command)
}

// sidecar is what every container in a decky's network namespace gets:
// the namespace itself, a start after the base, and the right to bind
// ports below 1024 as its only capability.
func (o Options) sidecar(decky, slug, image string) container {
	c := o.common(decky, slug, image)
	c.NetworkMode = "service:" + decky
	c.DependsOn = []string{decky}
	c.CapAdd = []string{"NET_BIND_SERVICE"}
	return c
}

// common is what every container gets: name, labels, restart policy,
// rotated logs, no capabilities and no privilege gain. slug is "" for a
// base container.
func (o Options) common(decky, slug, image string) container {
	c := container{
		CapDrop:     []string{"ALL"},
		Image:       image,
		Labels:      map[string]string{LabelProject: o.Project, LabelDecky: decky, LabelRole: RoleDecky},
		Logging:     &logging{Driver: "json-file", Options: map[string]string{"max-size": "10m", "max-file": "5"}},
		Restart:     "unless-stopped",
		SecurityOpt: []string{"no-new-privileges:true"},
	}
	c.ContainerName = decky
	if slug != "" {
		c.ContainerName = ContainerName(decky, slug)
		c.Labels[LabelRole] = RoleService
		c.Labels[LabelService] = slug
	}
	return c
}

func positiveOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

func checkArgs(what string, args []string) error {
	for _, a := range args {
		if err := checkText(a); err != nil {
			return fmt.Errorf("%s argument: %w", what, err)
		}
	}
	return nil
}

// checkText refuses what no YAML reader round-trips and no process
// argument can hold.
func checkText(s string) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%q is not UTF-8", s)
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("%q contains a NUL byte", s)
	}
	return nil
}

// file is a compose file. Fields of these structs are in key order, so
// the output's keys are sorted like its map keys.
type file struct {
	Networks map[string]network   `yaml:"networks"`
	Services map[string]container `yaml:"services"`
}

type network struct {
	External bool   `yaml:"external"`
	Name     string `yaml:"name"`
}

type container struct {
	CapAdd        []string              `yaml:"cap_add,omitempty"`
	CapDrop       []string              `yaml:"cap_drop,omitempty"`
	Command       []string              `yaml:"command,omitempty"`
	ContainerName string                `yaml:"container_name"`
	DependsOn     []string              `yaml:"depends_on,omitempty"`
	Environment   map[string]string     `yaml:"environment,omitempty"`
	Hostname      string                `yaml:"hostname,omitempty"`
	Image         string                `yaml:"image"`
	Labels        map[string]string     `yaml:"labels"`
	Logging       *logging              `yaml:"logging"`
	MacAddress    string                `yaml:"mac_address,omitempty"`
	MemLimit      string                `yaml:"mem_limit,omitempty"`
	NetworkMode   string                `yaml:"network_mode,omitempty"`
	Networks      map[string]attachment `yaml:"networks,omitempty"`
	PidsLimit     int                   `yaml:"pids_limit,omitempty"`
	ReadOnly      bool                  `yaml:"read_only,omitempty"`
	Restart       string                `yaml:"restart"`
	SecurityOpt   []string              `yaml:"security_opt"`
	Sysctls       map[string]string     `yaml:"sysctls,omitempty"`
	User          string                `yaml:"user,omitempty"`
	Volumes       []string              `yaml:"volumes,omitempty"`
}

type attachment struct {
	IPv4Address string `yaml:"ipv4_address"`
}

type logging struct {
	Driver  string            `yaml:"driver"`
	Options map[string]string `yaml:"options"`
}
