package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"decnet/internal/api"
	"decnet/internal/fleet"
	"decnet/internal/pipeline"
	"decnet/internal/runtime/local"
	"decnet/internal/store"
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
	listen     string
	dataDir    string
	seed       int64
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
	f.StringVar(&o.listen, "listen", "127.0.0.1:8000", "address of the API")
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "where the database, keys and captures are kept")
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
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("API address %s: %w (choose another with --listen)", o.listen, err)
	}
	defer ln.Close()

	repo, err := store.OpenSQLite(ctx, filepath.Join(o.dataDir, "decnet.db"))
	if err != nil {
		return err
	}
	defer repo.Close()
	secret, err := api.LoadOrCreateJWTSecret(o.dataDir)
	if err != nil {
		return err
	}

	ingestPath := filepath.Join(o.dataDir, "events.json")
	emitter, err := pipeline.NewFileEmitter(ingestPath, log)
	if err != nil {
		return err
	}
	defer emitter.Close()
	ingester, err := pipeline.NewIngester(ingestPath, repo, pipeline.WithNotify(emitter.Notify()), pipeline.WithLogger(log))
	if err != nil {
		return err
	}

	running, err := local.Start(ctx, fl, local.Options{PortOffset: o.portOffset, ForceOffset: o.shiftPorts,
		DataDir: filepath.Join(o.dataDir, "deckies"), Emit: emitter, Log: log})
	if err != nil {
		return err
	}

	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var ingestHealth api.WorkerHealth
	wg.Go(func() { ingestHealth.Run(workers, ingester.Run) })
	// Services first, so their last events (disconnects) reach the ingest
	// file; then the ingester, which stores what is left before it returns.
	stopFleet := func() {
		running.Stop()
		stopWorkers()
		wg.Wait()
	}

	srv, err := api.New(api.Config{
		Repo: repo, Logger: log, JWTSecret: secret,
		Fleet:  func() []api.DeckyInfo { return deckyInfos(running.Deckies()) },
		Checks: []api.Check{{Name: "ingester", Critical: true, Probe: ingestHealth.Check}},
	})
	if err != nil {
		stopFleet()
		return err
	}
	// Seeded last, once nothing else can fail the start: the first admin's
	// password is printed only with the banner, and a start that failed
	// after creating the account would have lost it.
	created, adminPassword, err := api.SeedAdmin(ctx, repo, log)
	if err != nil {
		stopFleet()
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	apiErr := make(chan error, 1)
	go func() { apiErr <- hs.Serve(ln) }()

	printBanner(out, running.Deckies(), o, "http://"+ln.Addr().String(), created, adminPassword)

	select {
	case <-ctx.Done():
	case err = <-apiErr:
		err = fmt.Errorf("API server: %w", err)
	}
	fmt.Fprintln(out, "\nstopping...")
	stopFleet()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

func deckyInfos(ds []local.Decky) []api.DeckyInfo {
	out := make([]api.DeckyInfo, len(ds))
	for i, d := range ds {
		out[i] = api.DeckyInfo{Name: d.Name, IP: d.IP.String(), Services: d.Services, Active: true}
	}
	return out
}

func printBanner(w io.Writer, ds []local.Decky, o upOptions, url string, created bool, password string) {
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
	fmt.Fprintf(w, "\nAPI:       %s/api/v1\n", url)
	switch {
	case created && password != "":
		fmt.Fprintf(w, "Admin:     user %q, password %s\n           (shown only now; you must change it at first login)\n", adminUser(), password)
	case created:
		fmt.Fprintf(w, "Admin:     user %q with the password from DECNET_ADMIN_PASSWORD\n", adminUser())
	default:
		fmt.Fprintln(w, "Admin:     existing users kept (the admin password was printed at the first start)")
	}
	fmt.Fprintf(w, "Data:      %s\n", o.dataDir)
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

func adminUser() string {
	if u := os.Getenv("DECNET_ADMIN_USER"); u != "" {
		return u
	}
	return "admin"
}
