package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"decnet/internal/pipeline"
	rtinstance "decnet/internal/runtime/instance"
	"decnet/internal/service"
)

// honeypotCmd runs one service of one decky in the foreground: what each
// service container of the docker runtime runs. Its flags are written by
// service.HoneypotArgs.
func honeypotCmd() *cobra.Command {
	var host service.Host
	var persona []string
	cmd := &cobra.Command{
		Use:   "honeypot <service>",
		Short: "Run one honeypot service of one decky (what each docker service container runs)",
		Long: `Run one honeypot service for one decky until stopped, listening on all of
its declared ports on every address of this network namespace, and print
each event as an RFC 5424 line on standard output, where the docker
runtime's collector reads it. Operational logs go to standard error.`,
		Example: `  decnet honeypot ssh --decky web-01 --hostname web01 --distro debian --os linux --ip 192.168.1.10 --persona password=Summer2024!`,
		Args:    cobra.ExactArgs(1),
		Hidden:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := personaKeys(persona)
			if err != nil {
				return err
			}
			return runHoneypot(cmd.Context(), args[0], host, keys)
		},
	}
	f := cmd.Flags()
	f.StringVar(&host.Name, service.FlagDecky, "", "decky name (the log identity)")
	f.StringVar(&host.Hostname, service.FlagHostname, "", "hostname shown to attackers")
	f.StringVar(&host.Distro, service.FlagDistro, "debian", "distro persona")
	f.StringVar(&host.OS, service.FlagOS, "linux", "OS family")
	f.StringVar(&host.Archetype, service.FlagArchetype, "", "archetype the decky poses as (none when empty)")
	f.StringVar(&host.IP, service.FlagIP, "", "the decky's address")
	f.StringVar(&host.DataDir, service.FlagDataDir, "", "where the service keeps what outlives it (none when empty)")
	f.StringVar(&host.SharedDir, service.FlagSharedDir, "", "where the decky's services keep what they share (none when empty)")
	f.StringArrayVar(&persona, service.FlagPersona, nil, "persona key=value (repeatable)")
	cmd.MarkFlagRequired(service.FlagDecky)
	return cmd
}

func personaKeys(pairs []string) (map[string]string, error) {
	keys := map[string]string{}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want key=value", service.FlagPersona, kv)
		}
		keys[k] = v
	}
	return keys, nil
}

func runHoneypot(ctx context.Context, slug string, host service.Host, keys map[string]string) error {
	// Warnings and errors only: the collector logs every line a service
	// container writes to standard error.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := service.Lookup(slug)
	if err != nil {
		return err
	}
	srv, err := rtinstance.Build(svc, host, keys, pipeline.NewStreamEmitter(os.Stdout, log), log)
	if err != nil {
		return err
	}
	ls, err := rtinstance.Listen(svc.Info().Ports, "0.0.0.0", nil)
	if err != nil {
		return fmt.Errorf("decky %s: service %s %w", host.Name, slug, err)
	}
	defer rtinstance.Close(ls)
	return srv.Serve(ctx, ls)
}

// idleCmd holds a decky's network namespace: the base container of each
// docker decky runs it, and the service containers join its namespace.
func idleCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "idle",
		Short:  "Wait until stopped (the base container of a docker decky)",
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			<-cmd.Context().Done()
			return nil
		},
	}
}
