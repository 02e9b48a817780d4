// Command decnet runs a deception network: a fleet of decoy hosts whose
// honeypot services record every attacker interaction, with the pipeline,
// store and API that make those interactions visible.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	// The built-in honeypots register themselves.
	_ "decnet/internal/service/conpot"
	_ "decnet/internal/service/dockerapi"
	_ "decnet/internal/service/elasticsearch"
	_ "decnet/internal/service/ftp"
	_ "decnet/internal/service/http"
	_ "decnet/internal/service/https"
	_ "decnet/internal/service/imap"
	_ "decnet/internal/service/k8s"
	_ "decnet/internal/service/ldap"
	_ "decnet/internal/service/llmnr"
	_ "decnet/internal/service/mongodb"
	_ "decnet/internal/service/mqtt"
	_ "decnet/internal/service/mssql"
	_ "decnet/internal/service/mysql"
	_ "decnet/internal/service/pop3"
	_ "decnet/internal/service/postgres"
	_ "decnet/internal/service/rdp"
	_ "decnet/internal/service/redis"
	_ "decnet/internal/service/sip"
	_ "decnet/internal/service/smb"
	_ "decnet/internal/service/smtp"
	_ "decnet/internal/service/sniffer"
	_ "decnet/internal/service/snmp"
	_ "decnet/internal/service/ssh"
	_ "decnet/internal/service/telnet"
	_ "decnet/internal/service/tftp"
	_ "decnet/internal/service/vnc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := rootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "decnet:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "decnet",
		Short: "A deception network: a fleet of decoy hosts that record every attacker",
		Long: `decnet puts a fleet of decoy hosts ("deckies") on a network. Each looks like a
different real machine and runs honeypot services chosen by an archetype.
Every interaction is recorded, stored, and shown through a REST API.

Start with "decnet up": it runs a small local fleet, the event pipeline and the
API in one process, on loopback addresses, with no setup.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(upCmd(), apiCmd(), deployCmd(), teardownCmd(), statusCmd(), redeployCmd(), mutateCmd(), collectCmd(), imageCmd(), honeypotCmd(), idleCmd(), userCmd(), dbCmd(), servicesCmd(), archetypesCmd(), distrosCmd(), versionCmd())
	return root
}
