package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"decnet/internal/fleet"
	"decnet/internal/mutate"
	"decnet/internal/pipeline"
	"decnet/internal/runtime/docker"
	"decnet/internal/runtime/docker/image"
)

// dataDirFlag registers --data-dir for commands that read the deployment
// record only.
func dataDirFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "data-dir", defaultDataDir(), "the data directory of the deployment")
}

func statusCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the deployed deckies, their containers and the workers",
		Long: `Show what the data directory's deployment record holds: every decky with its
address and the state of each service (for docker, the state of each
container, found by label), and whether a decnet process runs the workers
(ingester, profiler, collector, mutator, API) for it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rt *docker.Runtime
			if dep, err := fleet.LoadDeployment(dataDir); err == nil && dep.Mode == fleet.ModeDocker {
				r, cli, err := newDockerRuntime(cmd.Context(), dataDir, io.Discard, slog.Default())
				if err != nil {
					return err
				}
				defer cli.Close()
				rt = r
			}
			return printStatus(cmd.Context(), cmd.OutOrStdout(), dataDir, rt)
		},
	}
	dataDirFlag(cmd, &dataDir)
	return cmd
}

// printStatus prints the deployment of dataDir: deckies, the state of
// their services, and the workers. rt is nil unless it is a docker one.
func printStatus(ctx context.Context, w io.Writer, dataDir string, rt *docker.Runtime) error {
	dep, err := fleet.LoadDeployment(dataDir)
	if err != nil {
		if errors.Is(err, fleet.ErrNoDeployment) {
			fmt.Fprintf(w, "Nothing is deployed from %s.\n", dataDir)
			printWorkers(w, dataDir)
			return nil
		}
		return err
	}
	states := map[string]string{}
	switch {
	case rt != nil:
		cs, err := rt.Containers(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			states[c.Name] = c.State
		}
		net, err := rt.Network()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Deployment: docker, network %s (%s on %s, %s), hairpin %s\n", net.Name, net.Driver(),
			net.Parent, net.Subnet, net.Hairpin)
	default:
		alive := dep.PID > 0 && syscall.Kill(dep.PID, 0) == nil
		fmt.Fprintf(w, "Deployment: local, served by process %d (%s)\n", dep.PID, map[bool]string{false: "not running: stale record", true: "running"}[alive])
		for _, d := range dep.Deckies {
			for _, s := range d.Services {
				states[d.Name+"-"+s] = map[bool]string{false: "stopped", true: "running"}[alive]
			}
			states[d.Name] = states[d.Name+"-"+firstOr(d.Services)]
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DECKY\tIP\tMAC\tHOSTNAME\tOS\tSERVICES\tSTATUS")
	for _, d := range dep.Deckies {
		var svcs []string
		up := states[d.Name] == "running"
		for _, s := range d.Services {
			st := states[d.Name+"-"+s]
			if st == "" {
				st = "missing"
			}
			up = up && st == "running"
			svcs = append(svcs, s+":"+st)
		}
		health := "up"
		if !up {
			health = "degraded"
		}
		mac := d.MAC
		if mac == "" {
			mac = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.IP, mac, d.Hostname, d.OS, strings.Join(svcs, " "), health)
	}
	tw.Flush()
	printWorkers(w, dataDir)
	return nil
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// printWorkers tells whether a decnet process runs the workers of dataDir.
func printWorkers(w io.Writer, dataDir string) {
	rec, running, err := readDaemonRecord(dataDir)
	switch {
	case err != nil:
		fmt.Fprintf(w, "\nWorkers: unknown (%v)\n", err)
	case !running:
		fmt.Fprintln(w, "\nWorkers: DOWN (no decnet up or decnet api runs on this data directory)")
	default:
		fmt.Fprintf(w, "\nWorkers: UP in %q (pid %d, since %s), API %s\n", rec.Command, rec.PID, rec.Started.Local().Format(time.DateTime), rec.URL)
		for _, name := range rec.Workers {
			fmt.Fprintf(w, "  %s\n", name)
		}
	}
}

func teardownCmd() *cobra.Command {
	var dataDir, id string
	var all bool
	cmd := &cobra.Command{
		Use:   "teardown (--all | --id <decky>)",
		Short: "Remove the deployed deckies",
		Long: `Remove one decky (--id) or the whole deployment (--all): its containers, and
with --all also the docker network, the host's hairpin interface and its
route, and the deployment record. Captured files and service keys stay in
the data directory. A local fleet (decnet up) is stopped with --all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == (id != "") {
				return errors.New("give either --all or --id <decky>")
			}
			dep, err := fleet.LoadDeployment(dataDir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if dep.Mode == fleet.ModeLocal {
				return stopLocal(cmd.Context(), out, dataDir, dep, all)
			}
			rt, cli, err := newDockerRuntime(cmd.Context(), dataDir, out, slog.Default())
			if err != nil {
				return err
			}
			defer cli.Close()
			if err := rt.Teardown(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintln(out, "done")
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove everything the deployment made")
	cmd.Flags().StringVar(&id, "id", "", "remove this decky only")
	dataDirFlag(cmd, &dataDir)
	return cmd
}

// stopLocal stops the process serving a local fleet: its deckies live in
// it, so one decky cannot go alone.
func stopLocal(ctx context.Context, out io.Writer, dataDir string, dep fleet.Deployment, all bool) error {
	if !all {
		return errors.New("a local fleet runs in its decnet up process: stop it whole with --all (or Ctrl-C)")
	}
	if dep.PID <= 0 || syscall.Kill(dep.PID, 0) != nil {
		fmt.Fprintln(out, "the local fleet's process is gone; removing its record")
		return fleet.RemoveDeployment(ctx, dataDir)
	}
	if err := syscall.Kill(dep.PID, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop process %d: %w", dep.PID, err)
	}
	for range 100 {
		if syscall.Kill(dep.PID, 0) != nil {
			fmt.Fprintf(out, "stopped process %d\n", dep.PID)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("process %d did not stop within 10 s", dep.PID)
}

func redeployCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "redeploy",
		Short: "Bring a docker deployment back to its record (after a reboot, or a removed container)",
		Long: `Bring the engine and this host back to the recorded docker deployment: the
image, the network, the hairpin interface and route (which a reboot loses)
and every container, without changing which deckies are deployed. The
workers are not daemons here: run decnet up --mode unihost (or decnet api)
to collect and serve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			rt, cli, err := newDockerRuntime(cmd.Context(), dataDir, out, slog.Default())
			if err != nil {
				return err
			}
			defer cli.Close()
			if err := rt.Redeploy(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(out)
			return printStatus(cmd.Context(), out, dataDir, rt)
		},
	}
	dataDirFlag(cmd, &dataDir)
	return cmd
}

func mutateCmd() *cobra.Command {
	var dataDir, decky, ingest, interval string
	var all, watch bool
	cmd := &cobra.Command{
		Use:   "mutate (--decky <name> | --all | --watch | [--decky <name>] --interval <when>)",
		Short: "Give deckies new services: one, all, or those due, on a schedule",
		Long: `Change the service set of deckies of the docker deployment within their
archetype: --decky one now, --all every one now, --watch those whose interval
has passed, every 10 s until Ctrl-C. Without a flag, the due ones once. Each
mutation rewrites the compose file, applies it, updates the deployment record
and records a mutation event in the ingest file. A local fleet is mutated by
its own process (the API or the dashboard).

--interval sets how often instead of mutating: with --decky that decky's own
interval, else the fleet's default. It takes minutes ("45"), a duration
("30m", "6h", "1d", "1M"), "never", or (with --decky) "default" for the
fleet's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			dep, err := fleet.LoadDeployment(dataDir)
			if err != nil {
				return err
			}
			if dep.Mode != fleet.ModeDocker {
				return errors.New("a local fleet is mutated by its own decnet up process: use the API (POST /deckies/{name}/mutate) or the dashboard")
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			w, err := openDockerWorker(ctx, dataDir, ingest, out, log)
			if err != nil {
				return err
			}
			defer w.close()
			rt := w.rt
			engine, err := mutate.New(ctx, rt, mutate.Options{Emit: w.emitter, Log: log})
			if err != nil {
				return err
			}
			if interval != "" {
				return setInterval(ctx, out, engine, decky, interval)
			}
			var names []string
			switch {
			case watch:
				return engine.Run(ctx)
			case decky != "":
				names = []string{decky}
			case all:
				for _, d := range rt.Deckies() {
					names = append(names, d.Name)
				}
			default:
				names = engine.Due(time.Now())
			}
			var errs []error
			for _, name := range names {
				if err := engine.Mutate(ctx, name); err != nil {
					errs = append(errs, err)
					continue
				}
				i := slices.IndexFunc(rt.Deckies(), func(d fleet.Deployed) bool { return d.Name == name })
				if i >= 0 {
					fmt.Fprintf(out, "%s now runs %s\n", name, strings.Join(rt.Deckies()[i].Services, ", "))
				}
			}
			if len(names) == 0 {
				fmt.Fprintln(out, "no decky is due")
			}
			return errors.Join(errs...)
		},
	}
	f := cmd.Flags()
	f.StringVar(&decky, "decky", "", "mutate this decky now")
	f.BoolVar(&all, "all", false, "mutate every decky now")
	f.BoolVarP(&watch, "watch", "w", false, "mutate due deckies every 10 s until stopped")
	f.StringVar(&ingest, "ingest-file", "", "where mutation events go (default <data-dir>/events.json)")
	f.StringVar(&interval, "interval", "", `set the interval instead of mutating: minutes, a duration (30m, 6h, 1d), "never" or "default"`)
	dataDirFlag(cmd, &dataDir)
	cmd.MarkFlagsMutuallyExclusive("decky", "all", "watch")
	cmd.MarkFlagsMutuallyExclusive("interval", "all", "watch")
	return cmd
}

// setInterval sets a decky's interval, or the fleet's default without one.
func setInterval(ctx context.Context, out io.Writer, engine *mutate.Engine, decky, when string) error {
	var minutes *int // the engine's nil is never, its 0 the fleet default
	switch when {
	case "never":
	case "default":
		if decky == "" {
			return errors.New(`--interval default needs --decky: the fleet's default has no default`)
		}
		minutes = new(0)
	default:
		n, err := strconv.Atoi(when)
		if err != nil {
			if n, err = fleet.ParseInterval(when); err != nil {
				return fmt.Errorf("--interval %q: %w", when, err)
			}
		}
		minutes = &n
	}
	if decky == "" {
		global := 0
		if minutes != nil {
			global = *minutes
		}
		if err := engine.SetGlobalInterval(ctx, global); err != nil {
			return err
		}
		fmt.Fprintf(out, "fleet default interval: %s\n", describeInterval(global))
		return nil
	}
	if err := engine.SetInterval(ctx, decky, minutes); err != nil {
		return err
	}
	switch {
	case minutes == nil:
		fmt.Fprintf(out, "%s: never mutated on schedule\n", decky)
	case *minutes == 0:
		fmt.Fprintf(out, "%s: the fleet default interval (%s)\n", decky, describeInterval(engine.GlobalInterval()))
	default:
		fmt.Fprintf(out, "%s: every %s\n", decky, describeInterval(*minutes))
	}
	return nil
}

func describeInterval(minutes int) string {
	if minutes == 0 {
		return "never"
	}
	return fleet.FormatInterval(minutes)
}

func imageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Build the container image of the docker runtime"}
	var noCache bool
	var binary string
	build := &cobra.Command{
		Use:   "build",
		Short: "Build the FROM-scratch image holding this binary",
		Long: `Build the one image every container of a docker deployment runs: FROM
scratch, holding only a static build of this decnet binary, tagged with the
version. Nothing is pulled. When this binary is not static (built with cgo)
and the source is at hand, a static one is compiled first. Deploy builds the
image itself when it is missing or holds another binary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			cli, err := docker.NewClient()
			if err != nil {
				return err
			}
			defer cli.Close()
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			res, err := image.Build(cmd.Context(), cli, image.Options{Repo: docker.ImageRepo, Version: docker.ImageTag(versionString()),
				Binary: binary, NoCache: noCache, Log: log, Progress: func(msg string) { fmt.Fprintln(out, "  "+msg) }})
			if err != nil {
				return err
			}
			verb := "built"
			if !res.Built {
				verb = "up to date"
			}
			fmt.Fprintf(out, "%s: %s, %.1f MiB (%s)\n", res.Ref, verb, float64(res.Size)/(1<<20), res.ID)
			return nil
		},
	}
	build.Flags().BoolVar(&noCache, "no-cache", false, "rebuild even when the image holds this binary already")
	build.Flags().StringVar(&binary, "binary", "", "static decnet binary to put in (default: this one, or one compiled from the source)")
	cmd.AddCommand(build)
	return cmd
}

func collectCmd() *cobra.Command {
	var dataDir, ingest string
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Collect the docker deckies' events into the ingest file, until stopped",
		Long: `Follow the logs of the docker deployment's service containers (found by label,
including those started later) and append their events to the ingest file,
where decnet api (or up) stores them. decnet up --mode unihost runs this
itself; run it alone when the API runs elsewhere or as another process.
It resumes where the last collector of this data directory stopped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			w, err := openDockerWorker(ctx, dataDir, ingest, io.Discard, log)
			if err != nil {
				return err
			}
			defer w.close()
			col, err := newCollector(w.cli, w.rt, dataDir, w.emitter, log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "collecting the events of project %s into %s; Ctrl-C stops\n", w.rt.Project(), w.ingest)
			return col.Run(ctx)
		},
	}
	cmd.Flags().StringVar(&ingest, "ingest-file", "", "where events go (default <data-dir>/events.json)")
	dataDirFlag(cmd, &dataDir)
	return cmd
}

// dockerWorker is what a worker command run alone (mutate, collect) needs:
// the docker runtime of the data directory and the ingest file its events
// go to.
type dockerWorker struct {
	rt      *docker.Runtime
	cli     *client.Client
	emitter *pipeline.FileEmitter
	ingest  string
}

// openDockerWorker opens them; ingest "" is the data directory's file.
func openDockerWorker(ctx context.Context, dataDir, ingest string, out io.Writer, log *slog.Logger) (*dockerWorker, error) {
	rt, cli, err := newDockerRuntime(ctx, dataDir, out, log)
	if err != nil {
		return nil, err
	}
	if ingest == "" {
		ingest = daemonOptions{storeOptions: storeOptions{dataDir: dataDir}}.ingestPath()
	}
	emitter, err := pipeline.NewFileEmitter(ingest, log)
	if err != nil {
		cli.Close()
		return nil, err
	}
	return &dockerWorker{rt: rt, cli: cli, emitter: emitter, ingest: ingest}, nil
}

func (w *dockerWorker) close() {
	w.emitter.Close()
	w.cli.Close()
}
