package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"decnet/internal/api"
	"decnet/internal/pipeline"
	"decnet/internal/profile"
	"decnet/internal/store"
	"decnet/internal/web"
)

// daemonOptions are what `up` and `api` share: where the data is, where
// the API listens, and the file events are ingested from.
type daemonOptions struct {
	storeOptions
	listen     string
	ingestFile string
	developer  bool
}

func (o *daemonOptions) addFlags(f *pflag.FlagSet) {
	o.storeOptions.addFlags(f)
	f.StringVar(&o.listen, "listen", "127.0.0.1:8000", "address of the API")
	f.BoolVar(&o.developer, "developer", false, "enable the API's development-only routes (DELETE /config/reinit)")
}

// ingestPath is the ingest file: --ingest-file when given, else
// <data-dir>/events.json.
func (o daemonOptions) ingestPath() string {
	if o.ingestFile != "" {
		return o.ingestFile
	}
	return filepath.Join(o.dataDir, "events.json")
}

// deckiesDir is where the local runtime keeps per-decky state, the ssh
// captures among it.
func (o daemonOptions) deckiesDir() string { return filepath.Join(o.dataDir, "deckies") }

// daemon is a running decnet process without its fleet: the store, the
// workers behind the API and the API itself. `up` adds a fleet to it,
// `api` runs it alone.
type daemon struct {
	opts   daemonOptions
	log    *slog.Logger
	ln     net.Listener
	repo   store.Repository
	secret []byte

	workers     context.Context
	stopWorkers context.CancelFunc
	wg          sync.WaitGroup
	checks      []api.Check
	// beforeWorkers run first when the daemon stops, in order: a fleet
	// stops there, so its last events reach the ingest file before the
	// ingester drains it.
	beforeWorkers []func()
	// srv is the API once built; the ingester, started before it, wakes
	// its live streams through it after each commit.
	srv atomic.Pointer[api.Server]
}

// newDaemon claims the API address (a taken port fails before anything
// else starts), opens the store and loads the JWT secret. The caller adds
// workers and then calls serve, or close if it gives up before.
func newDaemon(ctx context.Context, o daemonOptions, log *slog.Logger) (*daemon, error) {
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fmt.Errorf("API address %s: %w (choose another with --listen)", o.listen, err)
	}
	d := &daemon{opts: o, log: log, ln: ln}
	d.workers, d.stopWorkers = context.WithCancel(context.WithoutCancel(ctx))
	if d.repo, err = o.open(ctx); err != nil {
		d.close()
		return nil, err
	}
	if d.secret, err = api.LoadOrCreateJWTSecret(o.dataDir); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// goWorker runs a background worker until the daemon stops, and reports
// it in /health under name: through probe when the worker has its own,
// else as running or stopped.
func (d *daemon) goWorker(name string, critical bool, run, probe func(context.Context) error) {
	if probe == nil {
		h, fn := new(api.WorkerHealth), run
		run, probe = func(ctx context.Context) error { return h.Run(ctx, fn) }, h.Check
	}
	d.wg.Go(func() {
		if err := run(d.workers); err != nil {
			d.log.Error("worker stopped", "worker", name, "err", err)
		}
	})
	d.checks = append(d.checks, api.Check{Name: name, Critical: critical, Probe: probe})
}

// startWorkers starts the workers every daemon runs: the ingester of the
// ingest file (woken by notify when the emitter is in this process) and
// the attacker profiler.
func (d *daemon) startWorkers(notify <-chan struct{}) error {
	opts := []pipeline.Option{pipeline.WithLogger(d.log), pipeline.WithCommitted(func() {
		if srv := d.srv.Load(); srv != nil {
			srv.Notify()
		}
	})}
	if notify != nil {
		opts = append(opts, pipeline.WithNotify(notify))
	}
	ingester, err := pipeline.NewIngester(d.opts.ingestPath(), d.repo, opts...)
	if err != nil {
		return err
	}
	d.goWorker("ingester", true, ingester.Run, nil)
	// The profiler's own probe also fails when its last pass did, which
	// liveness alone would not show.
	profiler := profile.New(d.repo, profile.Options{Logger: d.log})
	d.goWorker("profiler", false, profiler.Run, profiler.Check)
	return nil
}

// artifactDirs are the directories where the services of a decky keep
// the files attackers upload: <data-dir>/deckies/<decky>/<service>/artifacts
// (ftp, tftp, ...), or .../shell/artifacts for the fake shell (ssh, telnet).
func (d *daemon) artifactDirs(decky string) []string {
	// The name comes from a stored log row; it must stay one path element.
	if decky == "" || decky == "." || decky == ".." || filepath.Base(decky) != decky {
		return nil
	}
	root := filepath.Join(d.opts.deckiesDir(), decky)
	services, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, s := range services {
		if !s.IsDir() {
			continue
		}
		for _, dir := range []string{filepath.Join(root, s.Name(), "artifacts"), filepath.Join(root, s.Name(), "shell", "artifacts")} {
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

// adminSeed is what the first start tells about the admin account.
type adminSeed struct {
	created  bool
	password string // empty when it came from DECNET_ADMIN_PASSWORD
}

// serve builds the API over the daemon's store and workers, seeds the
// first admin, serves until ctx ends or the server fails, and stops
// everything. ready is called once the API answers, with its URL.
func (d *daemon) serve(ctx context.Context, out io.Writer, fleet api.FleetControl, ready func(url string, admin adminSeed)) error {
	srv, err := api.New(api.Config{
		Repo: d.repo, Logger: d.log, JWTSecret: d.secret,
		Fleet:        fleet,
		ArtifactDirs: d.artifactDirs,
		Developer:    d.opts.developer,
		Checks:       d.checks,
		Version:      versionString(),
	})
	if err != nil {
		return err
	}
	d.srv.Store(srv)
	dash, err := web.New(web.Config{API: srv.Handler(), Secret: d.secret, Logger: d.log})
	if err != nil {
		return err
	}
	// Seeded last, once nothing else can fail the start: the first admin's
	// password is printed only with the banner, and a start that failed
	// after creating the account would have lost it.
	var admin adminSeed
	if admin.created, admin.password, err = api.SeedAdmin(ctx, d.repo, d.log); err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           dash.Handler(), // the API under /api/, the dashboard at /
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for requests without cancelling them; live streams
	// would hold it until their write deadline.
	hs.RegisterOnShutdown(srv.CloseStreams)
	apiErr := make(chan error, 1)
	go func() { apiErr <- hs.Serve(d.ln) }()
	url := "http://" + d.ln.Addr().String()
	workers := []string{"api"}
	for _, c := range d.checks {
		workers = append(workers, c.Name)
	}
	unregister, rerr := registerDaemon(d.opts.dataDir, url, workers)
	if rerr != nil {
		d.log.Warn("status will not show this process", "err", rerr)
		unregister = func() {}
	}
	defer unregister()
	ready(url, admin)

	select {
	case <-ctx.Done():
	case err = <-apiErr:
		err = fmt.Errorf("API server: %w", err)
	}
	fmt.Fprintln(out, "\nstopping...")
	d.stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// stop stops the fleet (if any) and then the workers, waiting for them.
// It may be called more than once.
func (d *daemon) stop() {
	for _, f := range d.beforeWorkers {
		f()
	}
	d.beforeWorkers = nil
	d.stopWorkers()
	d.wg.Wait()
}

// close stops everything and releases the store and the API address.
func (d *daemon) close() {
	d.stop()
	if d.repo != nil {
		if err := d.repo.Close(); err != nil {
			d.log.Warn("closing the store", "err", err)
		}
	}
	d.ln.Close()
}

// printAccess prints the part of the banner `up` and `api` share: where
// the API is, the admin account, and where the data is.
func printAccess(w io.Writer, o daemonOptions, url string, admin adminSeed) {
	fmt.Fprintf(w, "\nDashboard: %s/\n", url)
	fmt.Fprintf(w, "API:       %s%s (docs: %s%s/docs)\n", url, api.Prefix, url, api.Prefix)
	switch {
	case admin.created && admin.password != "":
		fmt.Fprintf(w, "Admin:     user %q, password %s\n           (shown only now; you must change it at first login)\n", adminUser(), admin.password)
	case admin.created:
		fmt.Fprintf(w, "Admin:     user %q with the password from %s\n", adminUser(), api.EnvAdminPassword)
	default:
		fmt.Fprintln(w, "Admin:     existing users kept (the admin password was printed at the first start)")
	}
	fmt.Fprintf(w, "Data:      %s\n", o.dataDir)
	fmt.Fprintf(w, "Database:  %s\n", o.describe())
	fmt.Fprintf(w, "Ingest:    %s\n", o.ingestPath())
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

func adminUser() string {
	if u := os.Getenv(api.EnvAdminUser); u != "" {
		return u
	}
	return api.DefaultAdminUser
}
