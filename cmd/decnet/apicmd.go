package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

func apiCmd() *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Run the API and its workers without deckies",
		Long: `Run the REST API, the ingester and the attacker profiler, without a fleet,
until Ctrl-C.

The ingester stores the events of the ingest file (--ingest-file, by default
<data-dir>/events.json) that sensors elsewhere append to; it waits for the
file when there is none yet, and stands by while another decnet process
ingests the same file. The store is chosen with --db-type and --db-url (or
DECNET_DB_TYPE / DECNET_DB_URL), as for every command.

The first start creates the admin user and prints its password once
(set DECNET_ADMIN_USER / DECNET_ADMIN_PASSWORD to choose them).`,
		Example: `  decnet api
  decnet api --listen 0.0.0.0:8000 --db-type postgres --db-url postgres://decnet@db/decnet
  decnet api --ingest-file /var/log/decnet/events.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAPI(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	f.StringVar(&o.ingestFile, "ingest-file", "", "JSON-lines file of events to store (default <data-dir>/events.json)")
	return cmd
}

func runAPI(ctx context.Context, out io.Writer, o daemonOptions) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d, err := newDaemon(ctx, o, log)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.startWorkers(nil); err != nil {
		return err
	}
	return d.serve(ctx, out, nil, func(url string, admin adminSeed) {
		fmt.Fprintf(out, "decnet %s: API without deckies\n", versionString())
		printAccess(out, o, url, admin)
	})
}
