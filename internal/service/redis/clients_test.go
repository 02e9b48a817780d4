package redis

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

func TestGoRedisClient(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(map[int]string{2: "RESP2", 3: "RESP3"}[proto], func(t *testing.T) {
			addr, rec := start(t, "127.77.0.20:0", map[string]string{"password": "secret"})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			bad := goredis.NewClient(&goredis.Options{Addr: addr, Password: "wrong", Protocol: proto, MaxRetries: -1})
			defer bad.Close()
			if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
				t.Errorf("wrong password: %v", err)
			}

			c := goredis.NewClient(&goredis.Options{Addr: addr, Password: "secret", Protocol: proto})
			defer c.Close()
			if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
				t.Fatalf("PING: %q %v", got, err)
			}
			if got, err := c.Get(ctx, "config:db_password").Result(); err != nil || got != "Pr0dDB!2024#Secure" {
				t.Errorf("GET: %q %v", got, err)
			}
			if _, err := c.Get(ctx, "nosuchkey").Result(); !errors.Is(err, goredis.Nil) {
				t.Errorf("GET missing: %v", err)
			}
			if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if ttl, err := c.TTL(ctx, "k").Result(); err != nil || ttl != time.Minute {
				t.Errorf("TTL: %v %v", ttl, err)
			}
			user, err := c.HGetAll(ctx, "user:admin").Result()
			if err != nil || user["role"] != "admin" || !strings.HasPrefix(user["password"], "$2b$12$") {
				t.Errorf("HGETALL: %v %v", user, err)
			}
			if l, err := c.LRange(ctx, "queue:password_reset", 0, -1).Result(); err != nil || len(l) != 2 {
				t.Errorf("LRANGE: %v %v", l, err)
			}
			var all []string
			iter := c.Scan(ctx, 0, "*", 3).Iterator()
			for iter.Next(ctx) {
				all = append(all, iter.Val())
			}
			if iter.Err() != nil || len(all) != 12 {
				t.Errorf("SCAN: %d keys, %v", len(all), iter.Err())
			}
			if keys, err := c.Keys(ctx, "config:*").Result(); err != nil || len(keys) != 3 {
				t.Errorf("KEYS: %v %v", keys, err)
			}
			info, err := c.Info(ctx, "server").Result()
			if err != nil || !strings.Contains(info, "redis_version:7.0.15") {
				t.Errorf("INFO: %v", err)
			}
			if cfg, err := c.ConfigGet(ctx, "dir").Result(); err != nil || cfg["dir"] != "/var/lib/redis" {
				t.Errorf("CONFIG GET: %v %v", cfg, err)
			}
			if err := c.Do(ctx, "NOSUCH", "x").Err(); err == nil || err.Error() != "ERR unknown command 'NOSUCH', with args beginning with: 'x' " {
				t.Errorf("unknown command: %v", err)
			}
			if err := c.Do(ctx, "CLIENT", "SETNAME", "app").Err(); err != nil {
				t.Error(err)
			}
			if got := len(rec.OfType(event.TypeAuth)); got < 2 {
				t.Errorf("auth events: %d", got)
			}
		})
	}
}

// cli runs redis-cli against addr with args and returns its output. (Like
// the real server, an error reply is printed with a blank line after it.)
func cli(t *testing.T, bin, addr string, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestRedisCLI(t *testing.T) {
	bin := testutil.RequireTool(t, "redis-cli")
	t.Run("password", func(t *testing.T) {
		addr, rec := start(t, "127.77.0.21:0", map[string]string{"password": "secret"})
		if out := cli(t, bin, addr, "PING"); out != "NOAUTH Authentication required.\n\n" {
			t.Errorf("PING: %q", out)
		}
		if out := cli(t, bin, addr, "--no-auth-warning", "-a", "wrong", "PING"); !strings.Contains(out, "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.") {
			t.Errorf("wrong password: %q", out)
		}
		if out := cli(t, bin, addr, "AUTH", "secret"); out != "OK\n" {
			t.Errorf("AUTH: %q", out)
		}
		if out := cli(t, bin, addr, "--no-auth-warning", "-a", "secret", "KEYS", "*"); len(strings.Split(strings.TrimSpace(out), "\n")) != 11 || !strings.Contains(out, "jwt:secret\n") {
			t.Errorf("KEYS: %q", out)
		}
		out := cli(t, bin, addr, "--no-auth-warning", "-a", "secret", "INFO")
		for _, want := range []string{"# Server\r\nredis_version:7.0.15\r\n", "os:Linux 6.1.0-28-amd64 x86_64\r\n", "# Keyspace\r\ndb0:keys=11,expires=3,"} {
			if !strings.Contains(out, want) {
				t.Errorf("INFO lacks %q", want)
			}
		}
		var wrong, right bool
		for _, e := range rec.OfType(event.TypeAuth) {
			wrong = wrong || (e.Fields["password"] == "wrong" && e.Fields["success"] == "false")
			right = right || (e.Fields["password"] == "secret" && e.Fields["success"] == "true")
		}
		if !wrong || !right {
			t.Error("auth events missing")
		}
	})
	t.Run("open", func(t *testing.T) {
		addr, rec := start(t, "127.77.0.22:0", nil)
		out := cli(t, bin, addr, "--user", "alice", "--pass", "secret", "--no-auth-warning", "PING")
		if !strings.Contains(out, "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.") || !strings.HasSuffix(out, "PONG\n") {
			t.Errorf("--user alice: %q", out)
		}
		found := false
		for _, e := range rec.OfType(event.TypeAuth) {
			found = found || (e.Fields["username"] == "alice" && e.Fields["password"] == "secret" && e.Fields["success"] == "false")
		}
		if !found {
			t.Error("no auth event for alice")
		}
		if out := cli(t, bin, addr, "GET", "config:db_password"); out != "Pr0dDB!2024#Secure\n" {
			t.Errorf("GET: %q", out)
		}
		if out := cli(t, bin, addr, "FOO", "bar"); out != "ERR unknown command 'FOO', with args beginning with: 'bar' \n\n" {
			t.Errorf("FOO: %q", out)
		}
	})
}
