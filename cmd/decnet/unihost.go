package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"decnet/internal/fleet"
	"decnet/internal/mutate"
	"decnet/internal/pipeline"
	"decnet/internal/pipeline/collector"
	"decnet/internal/runtime/docker"
	"decnet/internal/runtime/docker/lan"
)

// envProject names the docker deployment on the engine, for a second
// deployment beside the default one (tests do so).
const envProject = "DECNET_DOCKER_PROJECT"

// The runtimes `up` and `deploy` choose with --mode (the seed's names).
const (
	modeLocal   = "local"
	modeUnihost = "unihost"
)

// lanFlags describe the LAN of a docker deployment, as the seed's deploy
// took them.
type lanFlags struct {
	iface   string
	subnet  string
	gateway string
	ipStart string
	hostIP  string
	ipvlan  bool
	noCache bool
}

func (o *lanFlags) addFlags(f *pflag.FlagSet) {
	f.StringVarP(&o.iface, "interface", "i", "", "unihost: host interface the deckies' LAN is on (default: the INI's [general] interface)")
	f.StringVar(&o.subnet, "subnet", "", "unihost: the LAN's subnet, e.g. 192.168.1.0/24 (default: the INI's, else the interface's)")
	f.StringVar(&o.gateway, "gateway", "", "unihost: the LAN's gateway (default: the INI's, else the interface's default route)")
	f.StringVar(&o.ipStart, "ip-start", "", "unihost: first decky address (default: the subnet's first free one)")
	f.StringVar(&o.hostIP, "host-ip", "", "unihost: this host's address on the LAN, for the hairpin interface (default: the interface's)")
	f.BoolVar(&o.ipvlan, "ipvlan", false, "unihost: ipvlan L2 instead of macvlan (Wi-Fi parents, which refuse extra MACs)")
	f.BoolVar(&o.noCache, "no-cache", false, "unihost: rebuild the image even when it holds this binary already")
}

// resolveLAN settles the LAN of a deployment: flags first, then the INI's
// [general] section, then what the interface itself says.
func resolveLAN(o lanFlags, g fleet.General) (lan.Config, error) {
	c := lan.Config{IPVLAN: o.ipvlan, Parent: o.iface, Subnet: g.Net, Gateway: g.Gateway}
	c.Name, c.Hairpin = docker.LANNames(os.Getenv(envProject), o.ipvlan)
	if c.Parent == "" {
		c.Parent = g.Interface
	}
	if c.Parent == "" {
		return c, errors.New("the docker runtime needs the host interface the deckies' LAN is on: pass --interface (or interface= in the INI's [general])")
	}
	var err error
	if o.subnet != "" {
		if c.Subnet, err = netip.ParsePrefix(o.subnet); err != nil {
			return c, fmt.Errorf("--subnet %q: %w", o.subnet, err)
		}
		c.Subnet = c.Subnet.Masked()
	}
	if o.gateway != "" {
		if c.Gateway, err = netip.ParseAddr(o.gateway); err != nil {
			return c, fmt.Errorf("--gateway %q: %w", o.gateway, err)
		}
	}
	if o.hostIP != "" {
		if c.HostIP, err = netip.ParseAddr(o.hostIP); err != nil {
			return c, fmt.Errorf("--host-ip %q: %w", o.hostIP, err)
		}
	}
	if !c.Subnet.IsValid() || !c.Gateway.IsValid() || !c.HostIP.IsValid() {
		subnet, gw, host, derr := lan.Detect(nil, c.Parent)
		if derr != nil && !c.Subnet.IsValid() {
			return c, derr
		}
		if !c.Subnet.IsValid() {
			c.Subnet = subnet
		}
		if !c.Gateway.IsValid() && derr == nil && subnet == c.Subnet {
			c.Gateway = gw
		}
		if !c.HostIP.IsValid() && derr == nil && c.Subnet.Contains(host) {
			c.HostIP = host
		}
	}
	if !c.Gateway.IsValid() {
		return c, fmt.Errorf("no gateway known for %s: pass --gateway", c.Subnet)
	}
	if !c.HostIP.IsValid() {
		return c, fmt.Errorf("%s has no address in %s, and the hairpin interface that lets this host reach the deckies needs one: pass --host-ip with a free address of the LAN", c.Parent, c.Subnet)
	}
	return c, nil
}

// buildDockerFleet builds the fleet, its LAN and the rest of what a docker
// deployment needs from the flags.
func buildDockerFleet(ff fleetFlags, lf lanFlags) (fleet.Fleet, docker.DeployOptions, error) {
	o := docker.DeployOptions{NoCache: lf.noCache}
	fl, err := buildFleet(ff, func(g fleet.General) (*fleet.Allocator, error) {
		var err error
		if o.Network, err = resolveLAN(lf, g); err != nil {
			return nil, err
		}
		if lf.ipStart != "" {
			if o.IPStart, err = netip.ParseAddr(lf.ipStart); err != nil {
				return nil, fmt.Errorf("--ip-start %q: %w", lf.ipStart, err)
			}
		}
		return fleet.NewAllocator(o.Network.Subnet, o.IPStart, o.Network.Gateway, o.Network.HostIP)
	})
	if err != nil {
		return fleet.Fleet{}, o, err
	}
	fl.General.Net, fl.General.Gateway, fl.General.Interface = o.Network.Subnet, o.Network.Gateway, o.Network.Parent
	if !ff.intervalSet && ff.config == "" {
		fl.General.MutateInterval = defaultDockerInterval
	}
	return fl, o, nil
}

// defaultDockerInterval is the seed's deploy default: deckies change their
// services every 30 minutes unless told otherwise.
const defaultDockerInterval = 30

// newDockerRuntime connects to the engine and returns the runtime of the
// data directory.
func newDockerRuntime(ctx context.Context, dataDir string, out io.Writer, log *slog.Logger) (*docker.Runtime, *client.Client, error) {
	cli, err := docker.NewClient()
	if err != nil {
		return nil, nil, err
	}
	rt, err := docker.New(ctx, cli, docker.Options{DataDir: dataDir, Project: os.Getenv(envProject), Version: versionString(), Out: out, Log: log})
	if err != nil {
		cli.Close()
		return nil, nil, err
	}
	return rt, cli, nil
}

type deployOptions struct {
	fleetFlags
	lanFlags
	mode    string
	dataDir string
	dryRun  bool
}

func deployCmd() *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy a fleet as docker containers on the LAN (unihost mode)",
		Long: `Deploy a fleet on this host's Docker engine: every decky gets its own address
(and MAC) on the LAN through a macvlan (or --ipvlan) network on --interface,
its OS family's TCP/IP settings, and one container per service, all running
one FROM-scratch image of this binary (built here; nothing is pulled).

The fleet comes from --config, from --deckies with --services, --archetype or
--randomize-services, or the default catalogue. The LAN's subnet, gateway and
this host's address come from the flags, the INI's [general] section or the
interface. A "hairpin" interface lets this host reach the deckies.

deploy returns once the containers run; the events they record wait in the
containers' logs until "decnet up --mode unihost" (or "decnet collect")
collects them. --dry-run writes the compose file and stops. Needs root.`,
		Example: `  decnet deploy --mode unihost --interface eth0 --deckies 5 --archetype linux-server
  decnet deploy -m unihost -i br0 --subnet 10.0.0.0/24 --gateway 10.0.0.1 --config fleet.ini
  decnet deploy -m unihost -i eth0 --services ssh,redis --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.parsed(cmd.Flags())
			return runDeploy(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	o.fleetFlags.addFlags(f)
	o.lanFlags.addFlags(f)
	f.StringVarP(&o.mode, "mode", "m", modeUnihost, "unihost (docker containers on the LAN); swarm is not implemented")
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "where the deployment record, the compose file and captures are kept")
	f.BoolVar(&o.dryRun, "dry-run", false, "write the compose file and stop")
	return cmd
}

func runDeploy(ctx context.Context, out io.Writer, o deployOptions) error {
	if o.mode != modeUnihost {
		return fmt.Errorf("--mode %q: deploy supports %s (the local runtime runs in the foreground: decnet up)", o.mode, modeUnihost)
	}
	fl, do, err := buildDockerFleet(o.fleetFlags, o.lanFlags)
	if err != nil {
		return err
	}
	if o.dryRun {
		docker.GiveMACs(&fl, do.Network.IPVLAN)
		project := cmp.Or(os.Getenv(envProject), docker.DefaultProject)
		b, err := docker.Render(fl, project, do.Network, docker.ImageRef(versionString()), o.dataDir)
		if err != nil {
			return err
		}
		path := filepath.Join(o.dataDir, "compose.dry-run.yml")
		if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(out, "dry run: compose file written to %s (%d deckies); nothing deployed\n", path, len(fl.Deckies))
		return nil
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, cli, err := newDockerRuntime(ctx, o.dataDir, out, log)
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := rt.Deploy(ctx, fl, do); err != nil {
		return err
	}
	fmt.Fprintln(out)
	return printStatus(ctx, out, o.dataDir, rt)
}

// runUnihost is `up --mode unihost`: deploy, then collect, store, profile,
// mutate and serve the API in the foreground. The deckies outlive it: on
// Ctrl-C the workers stop and the containers keep recording into their
// logs, which the next start collects from where this one stopped.
func runUnihost(ctx context.Context, out io.Writer, o upOptions) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Without a fleet on the command line, up resumes the recorded
	// deployment (after a reboot, say) instead of replacing it with the
	// default fleet.
	dep, recErr := fleet.LoadDeployment(o.dataDir)
	resume := recErr == nil && dep.Mode == fleet.ModeDocker && !o.fromFlags && o.config == ""
	var fl fleet.Fleet
	var do docker.DeployOptions
	if !resume {
		var err error
		if fl, do, err = buildDockerFleet(o.fleetFlags, o.lanFlags); err != nil {
			return err
		}
	}
	d, err := newDaemon(ctx, o.daemonOptions, log)
	if err != nil {
		return err
	}
	defer d.close()
	rt, cli, err := newDockerRuntime(ctx, o.dataDir, out, log)
	if err != nil {
		return err
	}
	defer cli.Close()
	if resume {
		fmt.Fprintf(out, "resuming the deployment recorded in %s (--config or fleet flags replace it)\n", o.dataDir)
		err = rt.Redeploy(ctx)
	} else {
		err = rt.Deploy(ctx, fl, do)
	}
	if err != nil {
		return err
	}
	emitter, err := pipeline.NewFileEmitter(o.ingestPath(), log)
	if err != nil {
		return err
	}
	d.beforeWorkers = append(d.beforeWorkers, func() { emitter.Close() })
	if err := d.startWorkers(emitter.Notify()); err != nil {
		return err
	}
	col, err := newCollector(cli, rt, o.dataDir, emitter, log)
	if err != nil {
		return err
	}
	d.goWorker("collector", true, col.Run, col.Check)
	// No State: the deployment record keeps the intervals, whoever sets
	// them (API, CLI), so there is no second copy to replay over it.
	engine, err := mutate.New(ctx, rt, mutate.Options{Emit: emitter, Log: log})
	if err != nil {
		return err
	}
	d.goWorker("mutator", false, engine.Run, nil)
	control := &fleetControl{rt: rt, engine: engine, active: dockerActive(rt), deploy: func(ctx context.Context, ini string) error {
		return deployINI(ctx, rt, ini)
	}}
	return d.serve(ctx, out, control, func(url string, admin adminSeed) {
		fmt.Fprintln(out)
		if err := printStatus(ctx, out, o.dataDir, rt); err != nil {
			log.Warn("status", "err", err)
		}
		printAccess(out, o.daemonOptions, url, admin)
		fmt.Fprintln(out, "The deckies keep running after Ctrl-C; decnet teardown --all removes them.")
	})
}

// newCollector returns the collector of the deployment's containers, its
// rate limit from the environment and its position kept in the data
// directory.
func newCollector(cli *client.Client, rt *docker.Runtime, dataDir string, emitter *pipeline.FileEmitter, log *slog.Logger) (*collector.Collector, error) {
	limit, err := pipeline.RateLimitFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	return collector.New(cli, collector.Options{Project: rt.Project(), Sink: emitter.Append, Limit: limit,
		Checkpoint: filepath.Join(dataDir, "collector.json"), Log: log}), nil
}
