// Package docker is the docker runtime (the seed's unihost mode): each
// decky is a base container holding its own address (and MAC) on a
// macvlan or ipvlan network and its OS family's kernel settings, plus one
// hardened container per service joined to the base's network namespace,
// every one of them running the same FROM-scratch image of the decnet
// binary. A compose file, rendered from the fleet, is applied with the
// compose tool; the deployment record (fleet.Deployment) is the one state
// the CLI, the API and the mutator read and change.
package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"decnet/internal/archetype"
	"decnet/internal/atomicfile"
	"decnet/internal/compose"
	"decnet/internal/fleet"
	"decnet/internal/runtime/docker/image"
	"decnet/internal/runtime/docker/lan"
	"decnet/internal/service"
)

// Defaults of a deployment.
const (
	// DefaultProject is the compose project, and the value of every
	// container's compose.LabelProject, unless Options.Project says
	// otherwise.
	DefaultProject = "decnet"
	// ImageRepo is the repository of the one image.
	ImageRepo = "decnet"
	// ComposeFile is the compose file's name in the data directory.
	ComposeFile = "compose.yml"
)

// serviceUID and serviceGID own the service data directories: the user
// compose.DefaultUser runs the containers as.
const serviceUID, serviceGID = 65534, 65534

// state is what the docker runtime keeps in fleet.Deployment.Runtime.
type state struct {
	Project     string     `json:"project"`
	Image       string     `json:"image"`
	ComposeFile string     `json:"compose_file"`
	Network     lan.Config `json:"network"`
	// IPStart is where addresses of deckies added later are drawn from.
	IPStart netip.Addr `json:"ip_start,omitzero"`
}

// NewClient connects to the engine named by the environment (DOCKER_HOST,
// else the local socket), speaking the highest API version both sides know.
func NewClient() (*client.Client, error) {
	// The client negotiates the API version with the engine on first use.
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return cli, nil
}

// Options configure a Runtime.
type Options struct {
	// Project names the deployment on the engine (DefaultProject when
	// empty): its compose project, container labels, network and hairpin.
	// Two deployments on one engine need two projects. A data directory
	// that records a deployment keeps the project it was made with.
	Project string
	// DataDir holds the deployment record, the compose file and, under
	// deckies/<decky>/<service>, what service containers keep.
	DataDir string
	// Version tags the image.
	Version string
	// Out receives the progress of long operations (nil: discarded).
	Out io.Writer
	Log *slog.Logger
	// Retries and Backoff bound the retries of transient compose failures
	// (defaults 3 and 5 s, doubling, as in the original).
	Retries int
	Backoff time.Duration
}

// Runtime deploys, changes and removes a fleet on a Docker engine. It
// keeps no state of its own beyond the deployment record of DataDir, so
// several processes (the CLI, `decnet up`) may use one deployment. It is
// safe for concurrent use.
type Runtime struct {
	opts    Options
	cli     *client.Client
	compose composeCLI
}

// New returns a runtime over the engine cli; it fails when the engine does
// not answer or no compose tool is installed.
func New(ctx context.Context, cli *client.Client, o Options) (*Runtime, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Second
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return nil, fmt.Errorf("the Docker engine does not answer (is dockerd running, and may this user use it?): %w", err)
	}
	argv, err := findCompose(ctx)
	if err != nil {
		return nil, err
	}
	if o.Project == "" {
		o.Project = DefaultProject
	}
	r := &Runtime{opts: o, cli: cli}
	if _, st, err := r.load(); err == nil && st.Project != "" {
		r.opts.Project = st.Project
	}
	r.compose = composeCLI{argv: argv, file: r.composePath(), project: r.opts.Project, out: o.Out, attempts: o.Retries, backoff: o.Backoff}
	return r, nil
}

// Project is the deployment's project on the engine.
func (r *Runtime) Project() string { return r.opts.Project }

// LANNames are the docker network and hairpin interface names of project:
// the original's for DefaultProject, names derived from the project
// otherwise (an interface name holds at most 15 bytes).
func LANNames(project string, ipvlan bool) (network, hairpin string) {
	if project == "" || project == DefaultProject {
		if ipvlan {
			return lan.NetworkName, lan.HairpinIPVLAN
		}
		return lan.NetworkName, lan.HairpinMacvlan
	}
	suffix := "_mv0"
	if ipvlan {
		suffix = "_iv0"
	}
	return project + "_lan", project[:min(len(project), 15-len(suffix))] + suffix
}

func (r *Runtime) composePath() string { return filepath.Join(r.opts.DataDir, ComposeFile) }

// deckiesDir is where service containers keep their data, one directory
// per decky and service, as in the local runtime.
func deckiesDir(dataDir string) string { return filepath.Join(dataDir, "deckies") }

func (r *Runtime) step(format string, args ...any) {
	fmt.Fprintf(r.opts.Out, "==> "+format+"\n", args...)
}

// DeployOptions are the settings of one deployment besides its fleet.
type DeployOptions struct {
	// Network is the LAN; IPRange is computed from the deckies.
	Network lan.Config
	// NoCache rebuilds the image even when it holds this binary already.
	NoCache bool
	// Binary is the static binary to put in the image ("" finds one).
	Binary string
	// IPStart is the first address of deckies (the subnet's first free
	// one when zero), kept for deckies added later; zero keeps the
	// recorded one.
	IPStart netip.Addr
}

// Render returns the compose file of fl for project on network, with
// image ref: what a dry run writes, and what Deploy applies.
func Render(fl fleet.Fleet, project string, network lan.Config, ref, dataDir string) ([]byte, error) {
	return compose.Render(fl, compose.Options{Project: project, Image: ref, Network: network.Name,
		IPVLAN: network.IPVLAN, DataDir: deckiesDir(dataDir)})
}

// ImageRef is the reference the image of version gets.
func ImageRef(version string) string { return ImageRepo + ":" + ImageTag(version) }

// ImageTag turns a version into a valid image tag: characters a tag may
// not hold (a pseudo-version's "+dirty") become "-".
func ImageTag(version string) string {
	if version == "" {
		version = "dev"
	}
	b := []byte(version)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' && i > 0 || c == '-' && i > 0
		if !ok {
			b[i] = '-'
		}
	}
	if b[0] == '-' {
		b[0] = '_'
	}
	return string(b[:min(len(b), 128)])
}

// GiveMACs gives every decky of fl without a MAC one of its OS family's
// vendors (none on ipvlan, where deckies share the parent's), unique in
// the fleet.
func GiveMACs(fl *fleet.Fleet, ipvlan bool) {
	used := map[string]bool{}
	for i := range fl.Deckies {
		d := &fl.Deckies[i]
		if ipvlan {
			d.MAC = ""
			continue
		}
		for n := 0; d.MAC == "" || used[d.MAC]; n++ {
			d.MAC = archetype.MAC(d.OS, d.Name+strings.Repeat("'", n))
		}
		used[d.MAC] = true
	}
}

// Deploy makes the engine run fl: the image, the network and the host's
// hairpin, the deployment record, the compose file, then the containers,
// waiting until they all run. Deckies already deployed and not in fl are
// removed (fl is the whole fleet). On a failure after the record was
// written, the record stays, so that `teardown` knows what to remove.
func (r *Runtime) Deploy(ctx context.Context, fl fleet.Fleet, o DeployOptions) error {
	if err := fl.Validate(); err != nil {
		return err
	}
	var ips []netip.Addr
	for _, d := range fl.Deckies {
		if !o.Network.Subnet.Contains(d.IP) {
			return fmt.Errorf("decky %s: address %s is outside the LAN %s", d.Name, d.IP, o.Network.Subnet)
		}
		ips = append(ips, d.IP)
	}
	rng, err := lan.Covering(ips)
	if err != nil {
		return err
	}
	// The hairpin routes the range of today's deckies. The docker network
	// keeps the range it was made with: addresses given to containers may
	// lie outside it, and changing it would mean removing the network from
	// under the running deckies.
	hairpin := o.Network
	hairpin.IPRange = rng
	o.Network.IPRange = rng
	if _, st, err := r.load(); err == nil && sameLAN(st.Network, o.Network) {
		o.Network.IPRange = st.Network.IPRange
		if !o.IPStart.IsValid() {
			o.IPStart = st.IPStart
		}
	}
	if o.Network.Labels == nil {
		o.Network.Labels = map[string]string{compose.LabelProject: r.opts.Project}
	}
	if err := errors.Join(o.Network.Validate(), hairpin.Validate()); err != nil {
		return err
	}
	if err := lan.CheckParent(nil, o.Network); err != nil {
		return err
	}
	GiveMACs(&fl, o.Network.IPVLAN)

	r.step("image")
	built, err := r.buildImage(ctx, o.NoCache, o.Binary)
	if err != nil {
		return err
	}
	r.step("network %s (%s on %s, subnet %s, gateway %s, deckies in %s)", o.Network.Name, o.Network.Driver(),
		o.Network.Parent, o.Network.Subnet, o.Network.Gateway, o.Network.IPRange)
	if err := lan.EnsureNetwork(ctx, r.cli, o.Network); err != nil {
		return err
	}
	r.step("hairpin %s: %s/32, route %s, so this host reaches the deckies", hairpin.Hairpin, hairpin.HostIP, hairpin.IPRange)
	if err := lan.EnsureHairpin(nil, hairpin); err != nil {
		return err
	}
	st := state{Project: r.opts.Project, Image: built, ComposeFile: r.composePath(), Network: o.Network, IPStart: o.IPStart}
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	err = fleet.UpdateDeployment(ctx, r.opts.DataDir, func(dep *fleet.Deployment, exists bool) error {
		if exists && dep.Mode != fleet.ModeDocker {
			return fmt.Errorf("%s records a %s deployment: stop it first", r.opts.DataDir, dep.Mode)
		}
		old := map[string]fleet.Deployed{}
		for _, d := range dep.Deckies {
			old[d.Name] = d
		}
		next := fleet.Deployment{Mode: fleet.ModeDocker, General: fl.General, Customs: fl.Customs, Runtime: raw}
		for _, d := range fl.Deckies {
			dd := fleet.Deployed{Decky: d, Bindings: fleet.DeclaredBindings(d, fl.Customs)}
			dd.LastMutated = now
			if prev, ok := old[d.Name]; ok {
				dd.MutateOff = prev.MutateOff
			}
			next.Deckies = append(next.Deckies, dd)
		}
		*dep = next
		return nil
	})
	if err != nil {
		return err
	}
	// The record is written before the containers start, so that teardown
	// knows the network and hairpin to remove even when they fail to. The
	// containers are then brought to the record under its lock, as a
	// mutation does, so that neither applies a fleet the other replaced.
	return fleet.UpdateDeployment(ctx, r.opts.DataDir, func(dep *fleet.Deployment, exists bool) error {
		if !exists {
			return fmt.Errorf("the deployment record of %s vanished during deploy", r.opts.DataDir)
		}
		return r.apply(ctx, dep.Fleet(), st)
	})
}

// sameLAN reports whether a and b describe the same docker network but
// for its range.
func sameLAN(a, b lan.Config) bool {
	return a.Name == b.Name && a.IPVLAN == b.IPVLAN && a.Parent == b.Parent && a.Subnet == b.Subnet && a.Gateway == b.Gateway
}

// buildImage makes sure the image holds this binary and returns its
// reference.
func (r *Runtime) buildImage(ctx context.Context, noCache bool, binary string) (string, error) {
	res, err := image.Build(ctx, r.cli, image.Options{Repo: ImageRepo, Version: ImageTag(r.opts.Version), Binary: binary,
		NoCache: noCache, Log: r.opts.Log, Progress: func(msg string) { fmt.Fprintln(r.opts.Out, "  "+msg) }})
	if err != nil {
		return "", err
	}
	verb := "reused"
	if res.Built {
		verb = "built"
	}
	fmt.Fprintf(r.opts.Out, "  %s %s (%s)\n", verb, res.Ref, humanBytes(res.Size))
	return res.Ref, nil
}

func humanBytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// apply writes the compose file of fl with the image and network of st,
// prepares the service data directories and brings the containers to it.
func (r *Runtime) apply(ctx context.Context, fl fleet.Fleet, st state) error {
	b, err := Render(fl, r.opts.Project, st.Network, st.Image, r.opts.DataDir)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(r.composePath(), b, 0o600); err != nil {
		return err
	}
	if err := prepareDataDirs(r.opts.DataDir, fl); err != nil {
		return err
	}
	r.step("containers (%s)", strings.Join(r.compose.argv, " "))
	if err := r.compose.run(ctx, "up", "-d", "--remove-orphans"); err != nil {
		return err
	}
	return r.waitRunning(ctx, fl)
}

// prepareDataDirs creates the data directory of every service of fl and
// the shared directory of every decky with a service that asks for it,
// taking in what its services kept on their own before (see
// service.AdoptShared), all owned by the containers' user: the engine
// would create a missing one owned by root, which the service could not
// write.
func prepareDataDirs(dataDir string, fl fleet.Fleet) error {
	for _, d := range fl.Deckies {
		deckyDir := filepath.Join(deckiesDir(dataDir), d.Name)
		shared := false
		for _, slug := range d.Services {
			svc, err := service.Lookup(slug)
			if err != nil {
				continue // a custom service: its image brings its own storage
			}
			frag := service.FragmentOf(svc, service.Host{Name: d.Name}, nil)
			shared = shared || frag.Shared
			if !frag.Data {
				continue
			}
			dir := filepath.Join(deckyDir, slug)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("decky %s: service %s data: %w", d.Name, slug, err)
			}
			if err := chownTree(dir, serviceUID, serviceGID); err != nil {
				return fmt.Errorf("decky %s: service %s data: %w (the docker runtime runs as root)", d.Name, slug, err)
			}
		}
		if !shared {
			continue
		}
		dir := filepath.Join(deckyDir, service.SharedDirName)
		if err := service.AdoptShared(dir, func(slug string) string { return filepath.Join(deckyDir, slug) }); err != nil {
			return fmt.Errorf("decky %s: %w", d.Name, err)
		}
		if err := chownTree(dir, serviceUID, serviceGID); err != nil {
			return fmt.Errorf("decky %s: shared data: %w (the docker runtime runs as root)", d.Name, err)
		}
	}
	return nil
}

// chownTree gives dir and everything in it to uid:gid, so data written by
// an earlier runtime (the local one runs as root) stays usable.
func chownTree(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// load reads the deployment record and the runtime's part of it.
func (r *Runtime) load() (fleet.Deployment, state, error) {
	dep, err := fleet.LoadDeployment(r.opts.DataDir)
	if err != nil {
		return dep, state{}, err
	}
	if dep.Mode != fleet.ModeDocker {
		return dep, state{}, fmt.Errorf("%s records a %s deployment, not a docker one", r.opts.DataDir, dep.Mode)
	}
	var st state
	if err := json.Unmarshal(dep.Runtime, &st); err != nil {
		return dep, st, fmt.Errorf("deployment record: docker state: %w", err)
	}
	return dep, st, nil
}

// Container is one container of the deployment as the engine reports it.
type Container struct {
	Name    string
	Decky   string
	Service string // "" for the base container
	State   string // running, restarting, exited, ...
	Status  string // the engine's human text, e.g. "Up 3 minutes"
}

// Containers lists the deployment's containers, found by label.
func (r *Runtime) Containers(ctx context.Context) ([]Container, error) {
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", compose.LabelProject+"="+r.opts.Project)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []Container
	for _, c := range res.Items {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Container{Name: name, Decky: c.Labels[compose.LabelDecky], Service: c.Labels[compose.LabelService],
			State: string(c.State), Status: c.Status})
	}
	slices.SortFunc(out, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// waitTimeout bounds the wait for containers to run after compose returns.
const waitTimeout = 90 * time.Second

// waitRunning waits until every container of fl runs and every service
// listens (see listens), showing how many do; a container that stopped is
// reported with its last output. Listening is read from the kernel's
// socket tables of the container's network namespace, not by connecting,
// which the honeypot would record.
func (r *Runtime) waitRunning(ctx context.Context, fl fleet.Fleet) error {
	want := map[string][]service.Port{}
	for _, d := range fl.Deckies {
		want[d.Name] = nil
		for _, s := range d.Services {
			want[compose.ContainerName(d.Name, s)] = fleet.PortsOf(s, fl.Customs)
		}
	}
	deadline := time.Now().Add(waitTimeout)
	last := -1
	for {
		cs, err := r.Containers(ctx)
		if err != nil {
			return err
		}
		ready := 0
		var stopped []string
		for _, c := range cs {
			ports, ok := want[c.Name]
			if !ok {
				continue
			}
			switch c.State {
			case "running":
				if r.serves(ctx, c.Name, ports) {
					ready++
				}
			case "exited", "dead":
				stopped = append(stopped, c.Name)
			}
		}
		if ready != last {
			fmt.Fprintf(r.opts.Out, "  ready %d/%d\n", ready, len(want))
			last = ready
		}
		if ready == len(want) {
			return nil
		}
		if len(stopped) > 0 {
			return fmt.Errorf("containers stopped: %s (last output: %s)", strings.Join(stopped, ", "), r.tail(ctx, stopped[0]))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d containers run and listen after %s; see `decnet status`", ready, len(want), waitTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// serves reports whether the running container name listens on ports.
func (r *Runtime) serves(ctx context.Context, name string, ports []service.Port) bool {
	if len(ports) == 0 {
		return true
	}
	res, err := r.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil || res.Container.State.Pid == 0 {
		return false
	}
	ok, err := listens(res.Container.State.Pid, ports)
	return err == nil && ok
}

// tail returns the last lines a container printed, for error messages.
func (r *Runtime) tail(ctx context.Context, name string) string {
	res, err := r.cli.ContainerLogs(ctx, name, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "5"})
	if err != nil {
		return err.Error()
	}
	defer res.Close()
	b, _ := io.ReadAll(io.LimitReader(res, 4096))
	// Strip the multiplexing headers roughly: only printable text matters
	// in an error message.
	return strings.TrimSpace(strings.Map(func(c rune) rune {
		if c == '\n' || c >= ' ' && c != 0x7f {
			return c
		}
		return -1
	}, string(b)))
}

// ErrNotDeployed is wrapped when a command needs a deployment and the data
// directory records none.
var ErrNotDeployed = fleet.ErrNoDeployment

// Teardown removes decky name's containers and drops it from the
// deployment, or, for name "", removes everything the deployment made:
// containers, the network, the hairpin and the record. Service data
// (captured files, host keys) stays in the data directory.
func (r *Runtime) Teardown(ctx context.Context, name string) error {
	dep, st, err := r.load()
	if err != nil {
		return err
	}
	if name != "" && len(dep.Deckies) > 1 {
		return r.teardownDecky(ctx, name)
	}
	if name != "" {
		if _, err := dep.Decky(name); err != nil {
			return err
		}
	}
	var errs []error
	r.step("containers")
	if _, err := os.Stat(st.ComposeFile); err == nil {
		if err := r.compose.run(ctx, "down", "--remove-orphans", "--timeout", "5"); err != nil {
			errs = append(errs, err)
		}
	}
	// Whatever compose missed (a file edited by hand, a failed deploy):
	// every container with the project's label goes.
	errs = append(errs, r.removeContainers(ctx, "")...)
	r.step("network %s", st.Network.Name)
	if err := lan.RemoveNetwork(ctx, r.cli, st.Network.Name); err != nil {
		errs = append(errs, err)
	}
	r.step("hairpin %s", st.Network.Hairpin)
	if err := lan.RemoveHairpin(nil, st.Network.Hairpin); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("teardown incomplete (the record is kept, run it again): %w", err)
	}
	if err := os.Remove(st.ComposeFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return fleet.RemoveDeployment(ctx, r.opts.DataDir)
}

func (r *Runtime) teardownDecky(ctx context.Context, name string) error {
	return fleet.UpdateDeployment(ctx, r.opts.DataDir, func(dep *fleet.Deployment, _ bool) error {
		if _, err := dep.Decky(name); err != nil {
			return err
		}
		dep.Deckies = slices.DeleteFunc(dep.Deckies, func(d fleet.Deployed) bool { return d.Name == name })
		_, st, err := r.load()
		if err != nil {
			return err
		}
		b, err := Render(dep.Fleet(), r.opts.Project, st.Network, st.Image, r.opts.DataDir)
		if err != nil {
			return err
		}
		r.step("containers of %s", name)
		if err := errors.Join(r.removeContainers(ctx, name)...); err != nil {
			return err
		}
		return atomicfile.Write(r.composePath(), b, 0o600)
	})
}

// removeContainers force-removes the deployment's containers, of decky
// name only when name is set.
func (r *Runtime) removeContainers(ctx context.Context, name string) []error {
	f := make(client.Filters).Add("label", compose.LabelProject+"="+r.opts.Project)
	if name != "" {
		f.Add("label", compose.LabelDecky+"="+name)
	}
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return []error{fmt.Errorf("list containers: %w", err)}
	}
	// Service containers first: the base holds their network namespace.
	slices.SortFunc(res.Items, func(a, b container.Summary) int {
		return strings.Compare(roleOrder(b.Labels[compose.LabelRole]), roleOrder(a.Labels[compose.LabelRole]))
	})
	var errs []error
	for _, c := range res.Items {
		if _, err := r.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", strings.Join(c.Names, ","), err))
		}
	}
	return errs
}

func roleOrder(role string) string {
	if role == compose.RoleService {
		return "1"
	}
	return "0"
}
