package redis

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/archetype"
	"decnet/internal/service"
	"decnet/internal/shell"
)

// infoField reads one field of INFO server as Redis would print it.
func infoField(t *testing.T, s *Server, key string) string {
	t.Helper()
	for _, line := range strings.Split(s.section(nil, "server"), "\r\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO server has no %s", key)
	return ""
}

// TestUptimeAgreesWithShell restarts a decky's ssh shell and redis on one
// data directory at several times and checks what an attacker can compare:
// redis never claims to have started before the machine booted, it started
// shortly after, and both stay put across restarts until the decky's reboot
// cycle moves them forward together. The shell gets its boot time the way
// the ssh service passes it: archetype.Boot of the decky's name.
func TestUptimeAgreesWithShell(t *testing.T) {
	base := time.Date(2026, 1, 7, 3, 14, 15, 0, time.UTC)
	restarts := []time.Duration{0, time.Minute, 5 * time.Hour, 3 * 24 * time.Hour, 20 * 24 * time.Hour,
		47 * 24 * time.Hour, 90 * 24 * time.Hour, 91 * 24 * time.Hour, 200 * 24 * time.Hour}
	for _, name := range []string{"decky-01", "decky-02", "db-prod-3", "mail", "x"} {
		t.Run(name, func(t *testing.T) {
			host := service.Host{Name: name, Hostname: "SRV-DB-17", Distro: "debian", DataDir: t.TempDir()}
			var prevBoot, prevStart time.Time
			var prevRun string
			for _, d := range restarts {
				now := base.Add(d)
				fsys, err := shell.Open(filepath.Join(host.DataDir, "ssh", "shell"),
					shell.System{Hostname: host.Hostname, Distro: host.Distro, Boot: archetype.Boot(host.Name, now)})
				if err != nil {
					t.Fatal(err)
				}
				sess := fsys.NewSession(shell.Options{User: "root"})
				var out bytes.Buffer
				sess.Exec(context.Background(), "uptime -s", &out, &out)
				sess.Close()
				boot, err := time.Parse("2006-01-02 15:04:05\n", out.String())
				if err != nil {
					t.Fatalf("uptime -s: %q", out.String())
				}
				srv := newServer(service.Config{Host: host}, defaultPersona().(*Persona), func() time.Time { return now })
				up, err := strconv.ParseInt(infoField(t, srv, "uptime_in_seconds"), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				shellUp := now.Sub(boot)
				redisUp := time.Duration(up) * time.Second
				if redisUp > shellUp || redisUp < shellUp-time.Minute || redisUp <= 0 {
					t.Errorf("+%v: redis up %v, shell up %v", d, redisUp, shellUp)
				}
				start := now.Add(-redisUp)
				run := infoField(t, srv, "run_id")
				if !prevBoot.IsZero() {
					switch {
					case boot.Equal(prevBoot):
						if !start.Equal(prevStart) || run != prevRun {
							t.Errorf("+%v: redis restarted (%v → %v) though the machine did not", d, prevStart, start)
						}
					case boot.Before(prevBoot) || !start.After(prevStart) || run == prevRun:
						t.Errorf("+%v: boot %v → %v, redis start %v → %v", d, prevBoot, boot, prevStart, start)
					}
				}
				prevBoot, prevStart, prevRun = boot, start, run
			}
		})
	}
}
