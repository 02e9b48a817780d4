package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"decnet/internal/fleet"
	"decnet/internal/mutate"
	"decnet/internal/pipeline"
	"decnet/internal/runtime/local"
)

// fleetFlags choose the fleet of `up` and `deploy`: an INI file, flags, or
// the default catalogue.
type fleetFlags struct {
	config            string
	deckies           int
	services          []string
	archetype         string
	distros           []string
	randomizeServices bool
	randomizeDistros  bool
	mutateInterval    int
	seed              int64
	// fromFlags is set when a flag that builds a fleet was given.
	fromFlags bool
	// intervalSet is set when --mutate-interval was given.
	intervalSet bool
}

func (o *fleetFlags) addFlags(f *pflag.FlagSet) {
	f.StringVarP(&o.config, "config", "c", "", "fleet INI file")
	f.IntVarP(&o.deckies, "deckies", "n", 3, "number of deckies when building from flags")
	f.StringSliceVar(&o.services, "services", nil, "services of every decky, comma-separated (see decnet services)")
	f.StringVarP(&o.archetype, "archetype", "a", "", "archetype of every decky (see decnet archetypes)")
	f.StringSliceVar(&o.distros, "distro", nil, "distros cycled across the deckies (see decnet distros)")
	f.BoolVar(&o.randomizeServices, "randomize-services", false, "give each decky 1-3 random services (without --services and --archetype)")
	f.BoolVar(&o.randomizeDistros, "randomize-distros", false, "give each decky a random distro (without --distro)")
	f.IntVar(&o.mutateInterval, "mutate-interval", 0, "minutes between mutations of a decky's services, the fleet default (0: never; an INI's [general] mutate_interval otherwise)")
	f.Int64Var(&o.seed, "seed", 0, "seed for hostnames and random choices (0: random)")
}

// parsed records which flags were given; call it from RunE.
func (o *fleetFlags) parsed(f *pflag.FlagSet) {
	for _, name := range []string{"deckies", "services", "archetype", "distro", "randomize-services", "randomize-distros"} {
		o.fromFlags = o.fromFlags || f.Changed(name)
	}
	o.intervalSet = f.Changed("mutate-interval")
}

type upOptions struct {
	fleetFlags
	mode       string
	ipBase     string
	portOffset int
	shiftPorts bool
	lanFlags
	daemonOptions
}

func upCmd() *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a local fleet, the event pipeline and the API in one process",
		Long: `Run a fleet of deckies on loopback addresses, the pipeline that stores every
event they record, and the REST API, in one process, until Ctrl-C.

With no flags it runs a small fleet of different kinds of machine. --config
takes a fleet INI file; --deckies, --services, --archetype and --distro build
a fleet from flags instead. Each decky binds its own address from --ip-base
upwards. Ports below 1024 are used as they are when this process may bind
them (root or CAP_NET_BIND_SERVICE) and are otherwise shifted by
--port-offset; the fleet table shows where each service listens.

The first start creates the admin user and prints its password once
(set DECNET_ADMIN_USER / DECNET_ADMIN_PASSWORD to choose them).`,
		Example: `  decnet up
  decnet up --deckies 3 --archetype linux-server
  decnet up --services ssh,redis --deckies 2 --ip-base 127.88.0.10
  decnet up --config fleet.ini --listen 127.0.0.1:9000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.parsed(cmd.Flags())
			switch o.mode {
			case modeLocal:
				return runUp(cmd.Context(), cmd.OutOrStdout(), o)
			case modeUnihost:
				return runUnihost(cmd.Context(), cmd.OutOrStdout(), o)
			}
			return fmt.Errorf("--mode %q: want %s or %s", o.mode, modeLocal, modeUnihost)
		},
	}
	f := cmd.Flags()
	o.fleetFlags.addFlags(f)
	f.StringVarP(&o.mode, "mode", "m", modeLocal, "where deckies run: local (loopback addresses, this process) or unihost (docker containers on the LAN)")
	f.StringVar(&o.ipBase, "ip-base", fleet.DefaultIPBase.String(), "local: first decky address; the next deckies take the following ones")
	f.IntVar(&o.portOffset, "port-offset", 10000, "local: added to ports below 1024 when they cannot be bound")
	f.BoolVar(&o.shiftPorts, "shift-ports", false, "local: serve ports below 1024 at --port-offset even when they could be bound (e.g. when the host's own sshd holds port 22)")
	o.lanFlags.addFlags(f)
	o.daemonOptions.addFlags(f)
	return cmd
}

// defaultDataDir is /var/lib/decnet for root, else the XDG data directory.
func defaultDataDir() string {
	if d := os.Getenv("DECNET_DATA_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/decnet"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "decnet")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "decnet")
	}
	return "decnet-data"
}

// buildFleet builds the fleet the flags describe. alloc returns the
// allocator of its addresses, given the INI's [general] section (empty
// without an INI), since the LAN of an INI may be in that section.
func buildFleet(o fleetFlags, alloc func(fleet.General) (*fleet.Allocator, error)) (fleet.Fleet, error) {
	seed := o.seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	var fl fleet.Fleet
	switch {
	case o.config != "":
		fh, err := os.Open(o.config)
		if err != nil {
			return fleet.Fleet{}, err
		}
		defer fh.Close()
		if fl, err = fleet.LoadINI(fh, o.config, seed); err != nil {
			return fleet.Fleet{}, err
		}
		a, err := alloc(fl.General)
		if err != nil {
			return fleet.Fleet{}, err
		}
		if err := fleet.AssignIPs(&fl, a); err != nil {
			return fleet.Fleet{}, err
		}
	case o.fromFlags:
		a, err := alloc(fleet.General{})
		if err != nil {
			return fleet.Fleet{}, err
		}
		if fl, err = fleet.Build(fleet.Options{Deckies: o.deckies, Services: o.services, Archetype: o.archetype,
			Distros: o.distros, RandomizeServices: o.randomizeServices, RandomizeDistros: o.randomizeDistros,
			Seed: seed, Alloc: a}); err != nil {
			return fleet.Fleet{}, err
		}
	default:
		a, err := alloc(fleet.General{})
		if err != nil {
			return fleet.Fleet{}, err
		}
		if fl, err = fleet.DefaultFleet(a, seed); err != nil {
			return fleet.Fleet{}, err
		}
	}
	if o.intervalSet {
		if o.mutateInterval < 0 || o.mutateInterval > fleet.MaxInterval {
			return fleet.Fleet{}, fmt.Errorf("--mutate-interval %d: want 0 to %d minutes", o.mutateInterval, fleet.MaxInterval)
		}
		fl.General.MutateInterval = o.mutateInterval
	}
	return fl, nil
}

func runUp(ctx context.Context, out io.Writer, o upOptions) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	base, err := netip.ParseAddr(o.ipBase)
	if err != nil {
		return fmt.Errorf("--ip-base %q: %w", o.ipBase, err)
	}
	fl, err := buildFleet(o.fleetFlags, func(fleet.General) (*fleet.Allocator, error) { return fleet.LocalAllocator(base) })
	if err != nil {
		return err
	}
	d, err := newDaemon(ctx, o.daemonOptions, log)
	if err != nil {
		return err
	}
	defer d.close()

	emitter, err := pipeline.NewFileEmitter(o.ingestPath(), log)
	if err != nil {
		return err
	}
	if err := d.startWorkers(emitter.Notify()); err != nil {
		emitter.Close()
		return err
	}
	running, err := local.Start(ctx, fl, local.Options{PortOffset: o.portOffset, ForceOffset: o.shiftPorts,
		DataDir: o.deckiesDir(), Emit: emitter, Log: log})
	if err != nil {
		emitter.Close()
		return err
	}
	// Services stop before the workers, so their last events (disconnects)
	// reach the ingest file and the ingester stores them before it returns.
	d.beforeWorkers = append(d.beforeWorkers, func() {
		running.Stop()
		emitter.Close()
		if err := fleet.RemoveDeployment(context.WithoutCancel(ctx), o.dataDir); err != nil {
			log.Warn("removing the deployment record", "err", err)
		}
	})
	rt := &publishing{Runtime: running, dataDir: o.dataDir, log: log}
	if err := rt.publish(); err != nil {
		return err
	}
	engine, err := mutate.New(ctx, rt, mutate.Options{Emit: emitter, State: d.repo, Log: log})
	if err != nil {
		return err
	}
	d.goWorker("mutator", false, engine.Run, nil)

	return d.serve(ctx, out, &fleetControl{rt: rt, engine: engine}, func(url string, admin adminSeed) {
		printFleet(out, running.Deckies())
		printAccess(out, o.daemonOptions, url, admin)
	})
}

// printFleet prints the fleet table: where each decky is and where each
// of its services listens.
func printFleet(w io.Writer, ds []fleet.Deployed) {
	noun := "deckies"
	if len(ds) == 1 {
		noun = "decky"
	}
	fmt.Fprintf(w, "decnet %s: %d %s\n\n", versionString(), len(ds), noun)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DECKY\tIP\tHOSTNAME\tARCHETYPE/DISTRO\tSERVICES (port -> where it listens)")
	for _, d := range ds {
		var svcs []string
		for _, b := range d.Bindings {
			s := fmt.Sprintf("%s %d/%s", b.Service, b.Port.Number, b.Port.Proto)
			if b.Shifted() {
				_, p, _ := net.SplitHostPort(b.Addr)
				s += " -> " + p
			}
			svcs = append(svcs, s)
		}
		kind := d.Archetype
		if kind == "" {
			kind = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s/%s\t%s\n", d.Name, d.IP, d.Hostname, kind, d.Distro, strings.Join(svcs, ", "))
	}
	tw.Flush()
}

// publishing is a local fleet that copies its state into the deployment
// record after every change, so that `decnet status` and `teardown`, run
// from another shell, see what this process serves. The running fleet
// stays the truth; the record is its published copy, removed on stop.
type publishing struct {
	mutate.Runtime
	dataDir string
	log     *slog.Logger
}

// publish writes the record; it refuses a data directory that records a
// docker deployment, which this process would otherwise hide.
func (p *publishing) publish() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return fleet.UpdateDeployment(ctx, p.dataDir, func(dep *fleet.Deployment, exists bool) error {
		if exists && dep.Mode != fleet.ModeLocal {
			return fmt.Errorf("%s records a %s deployment: remove it first (decnet teardown --all) or use another --data-dir", p.dataDir, dep.Mode)
		}
		*dep = fleet.Deployment{Mode: fleet.ModeLocal, PID: os.Getpid(), Deckies: p.Runtime.Deckies(),
			General: fleet.General{MutateInterval: p.Runtime.GlobalMutateInterval()}}
		return nil
	})
}

// after publishes the fleet after a change; a failure to is logged, since
// the change itself happened.
func (p *publishing) after(err error) error {
	if perr := p.publish(); perr != nil {
		p.log.Warn("publishing the local fleet to its deployment record", "err", perr)
	}
	return err
}

// Replace implements mutate.Runtime.
func (p *publishing) Replace(ctx context.Context, name string, services []string) error {
	return p.after(p.Runtime.Replace(ctx, name, services))
}

// SetMutateInterval implements mutate.Runtime.
func (p *publishing) SetMutateInterval(name string, minutes int) error {
	return p.after(p.Runtime.SetMutateInterval(name, minutes))
}

// SetGlobalMutateInterval implements mutate.Runtime.
func (p *publishing) SetGlobalMutateInterval(minutes int) error {
	return p.after(p.Runtime.SetGlobalMutateInterval(minutes))
}
