package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"decnet/internal/store"
)

// Environment variables that choose the store when the flags do not.
const (
	envDBType = "DECNET_DB_TYPE"
	envDBURL  = "DECNET_DB_URL"
)

// storeOptions say where the data lives. Every command that opens the store
// takes them through addFlags and opens it with open, so that `up`, `api`,
// `user` and `db` always agree on which database they mean.
type storeOptions struct {
	dataDir string
	dbType  string
	dbURL   string
}

// addFlags registers --data-dir, --db-type and --db-url. The environment is
// read when the command runs, not shown as a flag default: a database URL
// may hold a password, and --help must not print it.
func (o *storeOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "where the database, keys and captures are kept")
	f.StringVar(&o.dbType, "db-type", "", "database: sqlite, mysql (or mariadb) or postgres (default $"+envDBType+", else sqlite)")
	f.StringVar(&o.dbURL, "db-url", "", "database URL (default $"+envDBURL+"); for sqlite the file, by default <data-dir>/decnet.db")
}

// resolved returns the database type and URL in force: the flag, else the
// environment, else SQLite in the data directory.
func (o storeOptions) resolved() (dbType, url string) {
	dbType, url = o.dbType, o.dbURL
	if dbType == "" {
		dbType = os.Getenv(envDBType)
	}
	if dbType == "" {
		dbType = store.TypeSQLite
	}
	dbType = strings.ToLower(dbType)
	if url == "" {
		url = os.Getenv(envDBURL)
	}
	if url == "" && dbType == store.TypeSQLite {
		url = filepath.Join(o.dataDir, "decnet.db")
	}
	return dbType, url
}

// describe names the database for banners, without the URL of a server
// database (it may hold a password).
func (o storeOptions) describe() string {
	dbType, url := o.resolved()
	if dbType == store.TypeSQLite {
		return dbType + " " + url
	}
	return dbType
}

// open opens the store and brings its schema up to date.
func (o storeOptions) open(ctx context.Context) (store.Repository, error) {
	dbType, url, err := o.prepare()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, dbType, url)
}

// prepare resolves the database and creates the data directory when a
// SQLite file is kept there.
func (o storeOptions) prepare() (dbType, url string, err error) {
	dbType, url = o.resolved()
	if dbType == store.TypeSQLite && url != "" {
		if err := os.MkdirAll(filepath.Dir(url), 0o700); err != nil {
			return "", "", fmt.Errorf("database directory: %w", err)
		}
	}
	return dbType, url, nil
}

func dbCmd() *cobra.Command {
	var so storeOptions
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the database schema",
		Long: `Show or apply the schema migrations of the store --db-type / --db-url (or
DECNET_DB_TYPE / DECNET_DB_URL) select. Every command that opens the store
also migrates it; "db migrate" does it alone, e.g. before starting several
API processes on one database server.`,
		Args: cobra.NoArgs,
	}
	so.addFlags(cmd.PersistentFlags())
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the pending schema migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dbType, url, err := so.prepare()
			if err != nil {
				return err
			}
			from, to, err := store.Migrate(cmd.Context(), dbType, url)
			if err != nil {
				return err
			}
			if from == to {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: schema version %d, up to date\n", so.describe(), to)
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: schema migrated from version %d to %d\n", so.describe(), from, to)
			}
			return err
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the schema version, changing nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dbType, url := so.resolved()
			current, latest, err := store.SchemaVersion(cmd.Context(), dbType, url)
			if err != nil {
				return err
			}
			state := "up to date"
			switch {
			case current < latest:
				state = fmt.Sprintf("%d migration(s) pending (decnet db migrate)", latest-current)
			case current > latest:
				state = "newer than this program"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: schema version %d of %d, %s\n", so.describe(), current, latest, state)
			return err
		},
	}
	cmd.AddCommand(migrate, status)
	return cmd
}
