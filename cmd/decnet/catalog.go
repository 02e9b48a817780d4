package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"decnet/internal/archetype"
	"decnet/internal/service"
)

func table(w io.Writer, header string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// portList is the PORTS column; a fleet singleton listens on no decky
// port and says so.
func portList(info service.Info) string {
	if info.FleetSingleton {
		return "- (one per fleet)"
	}
	var out []string
	for _, p := range info.Ports {
		s := fmt.Sprintf("%d/%s", p.Number, p.Proto)
		if p.TLS {
			s += "+tls"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func servicesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "services",
		Short: "List the honeypot services this build implements",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows [][]string
			for _, s := range service.All() {
				info := s.Info()
				keys := "-"
				if info.Persona != nil {
					keys = strings.Join(service.PersonaKeys(info.Persona()), ",")
				}
				rows = append(rows, []string{info.Slug, portList(info), keys, info.Description})
			}
			return table(cmd.OutOrStdout(), "SERVICE\tPORTS\tPERSONA KEYS\tDESCRIPTION", rows)
		},
	}
}

func archetypesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "archetypes",
		Short: "List the archetypes: kinds of machine a decky can pose as",
		Long: `List the archetypes. An archetype names a kind of machine and the services it
runs; STATUS says whether every one of those services is implemented in this
build ("ready") or which are still missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows [][]string
			for _, a := range archetype.All() {
				status := "ready"
				if missing := missingServices(a.Services); len(missing) > 0 {
					status = "needs " + strings.Join(missing, ",")
				}
				rows = append(rows, []string{a.Slug, a.DisplayName, strings.Join(a.Services, ","), a.OS, status, a.Description})
			}
			return table(cmd.OutOrStdout(), "ARCHETYPE\tNAME\tSERVICES\tOS\tSTATUS\tDESCRIPTION", rows)
		},
	}
}

func missingServices(slugs []string) []string {
	var missing []string
	for _, s := range slugs {
		if _, err := service.Lookup(s); err != nil {
			missing = append(missing, s)
		}
	}
	return missing
}

func distrosCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "distros",
		Short: "List the distros a decky can pose as",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rows [][]string
			for _, d := range archetype.AllDistros() {
				rows = append(rows, []string{d.Slug, d.DisplayName, string(d.HostnameStyle), d.Image})
			}
			return table(cmd.OutOrStdout(), "DISTRO\tNAME\tHOSTNAME STYLE\tIMAGE", rows)
		},
	}
}
