package docker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPermanent(t *testing.T) {
	tests := []struct {
		msg  string
		want bool
	}{
		{"ERROR: pull access denied for foo, repository does not exist", true},
		{"manifest unknown", true},
		{"ERROR: for web  Cannot start service web: Address already in use", true},
		{"Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", false},
		{"read: connection reset by peer", false},
		{"net/http: TLS handshake timeout", false},
		{"something odd happened", false},
		{"The Compose file './x.yml' is invalid because: Additional property foo is not allowed", true},
	}
	for _, tt := range tests {
		if got := permanent(tt.msg); got != tt.want {
			t.Errorf("permanent(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// fakeTool writes a compose stand-in that fails with msg until the file
// count holds n attempts, then succeeds.
func fakeTool(t *testing.T, msg string, failures int) (argv []string, count string) {
	dir := t.TempDir()
	count = filepath.Join(dir, "count")
	script := filepath.Join(dir, "compose")
	body := `#!/bin/sh
n=$(cat "` + count + `" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "` + count + `"
if [ $n -le ` + string(rune('0'+failures)) + ` ]; then echo "` + msg + `" >&2; exit 1; fi
echo "Creating decky-01 ... done" >&2
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{script}, count
}

func TestComposeRetries(t *testing.T) {
	tests := []struct {
		name      string
		msg       string
		failures  int
		wantRuns  string
		wantError string
	}{
		{"transient then ok", "Cannot connect to the Docker daemon", 2, "3", ""},
		{"permanent at once", "pull access denied for x, repository does not exist", 5, "1", "pull access denied"},
		{"transient until out of attempts", "i/o timeout", 5, "3", "i/o timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, count := fakeTool(t, tt.msg, tt.failures)
			var out strings.Builder
			c := composeCLI{argv: argv, file: "x.yml", project: "p", out: &out, attempts: 3, backoff: time.Millisecond}
			err := c.run(context.Background(), "up", "-d")
			runs, _ := os.ReadFile(count)
			if strings.TrimSpace(string(runs)) != tt.wantRuns {
				t.Fatalf("ran %s times, want %s", runs, tt.wantRuns)
			}
			if tt.wantError == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(out.String(), "  Creating decky-01 ... done") {
					t.Fatalf("progress not shown: %q", out.String())
				}
				return
			}
			var ce *ComposeError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.wantError) {
				t.Fatalf("error %v, want a ComposeError with %q", err, tt.wantError)
			}
		})
	}
}
