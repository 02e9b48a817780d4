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

	"decnet/internal/fleet"
	"decnet/internal/mutate"
	"decnet/internal/pipeline"
	"decnet/internal/runtime/local"
)

type upOptions struct {
	config     string
	deckies    int
	services   []string
	archetype  string
	distros    []string
	ipBase     string
	portOffset int
	shiftPorts bool
	seed       int64
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
			return runUp(cmd.Context(), cmd.OutOrStdout(), o, cmd.Flags().Changed("deckies"))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "", "fleet INI file")
	f.IntVarP(&o.deckies, "deckies", "n", 3, "number of deckies when building from flags")
	f.StringSliceVar(&o.services, "services", nil, "services of every decky, comma-separated (see decnet services)")
	f.StringVarP(&o.archetype, "archetype", "a", "", "archetype of every decky (see decnet archetypes)")
	f.StringSliceVar(&o.distros, "distro", nil, "distros cycled across the deckies (see decnet distros)")
	f.StringVar(&o.ipBase, "ip-base", fleet.DefaultIPBase.String(), "first decky address; the next deckies take the following ones")
	f.IntVar(&o.portOffset, "port-offset", 10000, "added to ports below 1024 when they cannot be bound")
	f.BoolVar(&o.shiftPorts, "shift-ports", false, "serve ports below 1024 at --port-offset even when they could be bound (e.g. when the host's own sshd holds port 22)")
	o.daemonOptions.addFlags(f)
	f.Int64Var(&o.seed, "seed", 0, "seed for hostnames and random choices (0: random)")
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

func buildFleet(o upOptions, fromFlags bool) (fleet.Fleet, error) {
	base, err := netip.ParseAddr(o.ipBase)
	if err != nil {
		return fleet.Fleet{}, fmt.Errorf("--ip-base %q: %w", o.ipBase, err)
	}
	alloc, err := fleet.LocalAllocator(base)
	if err != nil {
		return fleet.Fleet{}, err
	}
	seed := o.seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	switch {
	case o.config != "":
		fh, err := os.Open(o.config)
		if err != nil {
			return fleet.Fleet{}, err
		}
		defer fh.Close()
		fl, err := fleet.LoadINI(fh, o.config, seed)
		if err != nil {
			return fleet.Fleet{}, err
		}
		if err := fleet.AssignIPs(&fl, alloc); err != nil {
			return fleet.Fleet{}, err
		}
		return fl, nil
	case fromFlags || len(o.services) > 0 || o.archetype != "" || len(o.distros) > 0:
		return fleet.Build(fleet.Options{Deckies: o.deckies, Services: o.services, Archetype: o.archetype,
			Distros: o.distros, Seed: seed, Alloc: alloc})
	default:
		return fleet.DefaultFleet(alloc, seed)
	}
}

func runUp(ctx context.Context, out io.Writer, o upOptions, fromFlags bool) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fl, err := buildFleet(o, fromFlags)
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
	})
	engine, err := mutate.New(ctx, running, mutate.Options{Emit: emitter, State: d.repo, Log: log})
	if err != nil {
		return err
	}
	d.goWorker("mutator", false, engine.Run, nil)

	return d.serve(ctx, out, &localFleet{fleet: running, engine: engine}, func(url string, admin adminSeed) {
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
