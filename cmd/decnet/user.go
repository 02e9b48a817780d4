package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"decnet/internal/api"
	"decnet/internal/store"
)

// roles are the roles a user may hold, least privileged first.
var roles = []string{store.RoleViewer, store.RoleAnalyst, store.RoleAdmin}

func userCmd() *cobra.Command {
	var so storeOptions
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Manage the API's users",
		Long: `Add, list and remove the API's users, set their passwords and roles, in the
store --db-type / --db-url (or DECNET_DB_TYPE / DECNET_DB_URL) select.

Roles: viewer reads everything but artifact bytes; analyst also downloads
artifacts and steers mutation; admin does everything. The last admin can be
neither removed nor demoted.`,
		Args: cobra.NoArgs,
	}
	so.addFlags(cmd.PersistentFlags())
	withStore := func(cmd *cobra.Command, fn func(context.Context, store.Repository) error) error {
		repo, err := so.open(cmd.Context())
		if err != nil {
			return err
		}
		return errors.Join(fn(cmd.Context(), repo), repo.Close())
	}

	var role string
	var stdinPW, noChange bool
	passwordFlags := func(c *cobra.Command) {
		c.Flags().BoolVar(&stdinPW, "password-stdin", false, "read the password from the first line of standard input (else a random one is printed)")
		c.Flags().BoolVar(&noChange, "no-change", false, "do not make the user change the password at the next login")
	}
	add := &cobra.Command{
		Use:   "add <name>",
		Short: "Add a user",
		Long: `Add a user. Without --password-stdin a random password is generated and
printed once. The user must change the password at first login unless
--no-change is given.`,
		Example: `  decnet user add alice --role analyst
  printf '%s\n' "$PASSWORD" | decnet user add ci-bot --password-stdin --no-change`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := api.CheckUsername(name); err != nil {
				return err
			}
			if err := checkRole(role); err != nil {
				return err
			}
			pw, hash, err := newPassword(cmd.InOrStdin(), stdinPW)
			if err != nil {
				return err
			}
			return withStore(cmd, func(ctx context.Context, repo store.Repository) error {
				err := repo.CreateUser(ctx, store.User{Username: name, PasswordHash: hash, Role: role, MustChangePassword: !noChange})
				if errors.Is(err, store.ErrConflict) {
					return fmt.Errorf("user %q already exists", name)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %q added with role %s\n", name, role)
				printPassword(cmd.OutOrStdout(), pw, !noChange)
				return nil
			})
		},
	}
	add.Flags().StringVar(&role, "role", store.RoleViewer, "role: "+strings.Join(roles, ", "))
	passwordFlags(add)

	list := &cobra.Command{
		Use:   "list",
		Short: "List the users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, func(ctx context.Context, repo store.Repository) error {
				users, err := repo.ListUsers(ctx)
				if err != nil {
					return err
				}
				rows := make([][]string, len(users))
				for i, u := range users {
					rows[i] = []string{u.UUID, u.Username, u.Role, strconv.FormatBool(u.MustChangePassword)}
				}
				return table(cmd.OutOrStdout(), "UUID\tUSERNAME\tROLE\tMUST_CHANGE_PASSWORD", rows)
			})
		},
	}

	passwd := &cobra.Command{
		Use:   "passwd <name>",
		Short: "Set a user's password",
		Long: `Set a user's password, which ends the user's sessions. Without
--password-stdin a random password is generated and printed once. The user
must change it at the next login unless --no-change is given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, hash, err := newPassword(cmd.InOrStdin(), stdinPW)
			if err != nil {
				return err
			}
			return withStore(cmd, func(ctx context.Context, repo store.Repository) error {
				u, err := userByName(ctx, repo, args[0])
				if err != nil {
					return err
				}
				if err := repo.SetPassword(ctx, u.UUID, hash, !noChange); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "password of user %q set\n", u.Username)
				printPassword(cmd.OutOrStdout(), pw, !noChange)
				return nil
			})
		},
	}
	passwordFlags(passwd)

	setRole := &cobra.Command{
		Use:   "role <name> <role>",
		Short: "Set a user's role",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRole(args[1]); err != nil {
				return err
			}
			return withStore(cmd, func(ctx context.Context, repo store.Repository) error {
				u, err := userByName(ctx, repo, args[0])
				if err != nil {
					return err
				}
				if err := lastAdmin(repo.SetRole(ctx, u.UUID, args[1]), "demote", u); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %q is now %s\n", u.Username, args[1])
				return nil
			})
		},
	}

	rm := &cobra.Command{
		Use:   "rm <name>",
		Short: "Remove a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, func(ctx context.Context, repo store.Repository) error {
				u, err := userByName(ctx, repo, args[0])
				if err != nil {
					return err
				}
				if err := lastAdmin(repo.DeleteUser(ctx, u.UUID), "remove", u); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "user %q removed\n", u.Username)
				return nil
			})
		},
	}
	cmd.AddCommand(add, list, passwd, setRole, rm)
	return cmd
}

func checkRole(role string) error {
	for _, r := range roles {
		if role == r {
			return nil
		}
	}
	return fmt.Errorf("unknown role %q: want one of %s", role, strings.Join(roles, ", "))
}

func userByName(ctx context.Context, repo store.Repository, name string) (store.User, error) {
	u, err := repo.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user %q", name)
	}
	return u, err
}

// lastAdmin words the store's refusal to take the admin role from the
// last admin (nobody could manage users through the API then).
func lastAdmin(err error, verb string, u store.User) error {
	if errors.Is(err, store.ErrLastAdmin) {
		return fmt.Errorf("cannot %s %q: it is the last admin", verb, u.Username)
	}
	return err
}

// newPassword reads a password from the first line of in, or generates
// one (returned so it can be printed), and hashes it.
func newPassword(in io.Reader, fromStdin bool) (generated, hash string, err error) {
	var pw string
	if fromStdin {
		line, err := bufio.NewReaderSize(io.LimitReader(in, 4096), 4096).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", "", fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	} else {
		pw = rand.Text()
		generated = pw
	}
	h, err := api.HashPassword(pw)
	if err != nil {
		return "", "", err
	}
	return generated, h, nil
}

func printPassword(w io.Writer, generated string, mustChange bool) {
	if generated == "" {
		return
	}
	fmt.Fprintf(w, "password: %s\n", generated)
	if mustChange {
		fmt.Fprintln(w, "(shown only now; it must be changed at first login)")
	} else {
		fmt.Fprintln(w, "(shown only now)")
	}
}
