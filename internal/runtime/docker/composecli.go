package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// ErrNoCompose is returned when neither `docker compose` (v2) nor
// `docker-compose` is installed.
var ErrNoCompose = errors.New("neither `docker compose` nor `docker-compose` is installed (Debian: apt-get install docker-compose)")

// composeCLI runs the compose tool on the deployment's compose file.
type composeCLI struct {
	argv    []string // "docker compose" or "docker-compose"
	file    string
	project string
	// out receives the tool's progress output as it runs (nil: discarded).
	out io.Writer
	// attempts and backoff bound the retries of transient failures.
	attempts int
	backoff  time.Duration
}

// findCompose returns the compose tool: `docker compose` v2 when the
// docker CLI has it, else `docker-compose`.
func findCompose(ctx context.Context) ([]string, error) {
	if err := exec.CommandContext(ctx, "docker", "compose", "version").Run(); err == nil {
		return []string{"docker", "compose"}, nil
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, ErrNoCompose
}

// permanentMarks are engine and compose messages that no retry mends: the
// error is reported at once, with the engine's words.
var permanentMarks = []string{
	"manifest unknown", "pull access denied", "repository does not exist", "not found",
	"no such", "invalid", "is not valid", "unsupported", "additional property", "conflict",
	"already in use", "already allocated", "permission denied", "address already in use",
	"unknown", "must be", "cannot", "not allowed",
}

// ComposeError is a failed run of the compose tool, with what it printed.
type ComposeError struct {
	Args   []string
	Output string // the tool's standard error, trimmed
	Err    error
	// Permanent is set when the message shows that retrying cannot help.
	Permanent bool
}

func (e *ComposeError) Error() string {
	msg := e.Output
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("%s: %s", strings.Join(e.Args, " "), msg)
}

func (e *ComposeError) Unwrap() error { return e.Err }

// transientMarks name failures that pass: they are retried even when the
// message also holds a permanent mark ("Cannot connect to the Docker
// daemon").
var transientMarks = []string{
	"cannot connect to the docker daemon", "connection refused", "connection reset", "timeout",
	"timed out", "tls handshake", "temporarily", "toomanyrequests", "too many requests",
	"internal server error", "service unavailable", "bad gateway", "unexpected eof",
}

// permanent reports whether the tool's message names a failure that a
// retry cannot mend; failures it does not recognise are retried.
func permanent(output string) bool {
	low := strings.ToLower(output)
	for _, m := range transientMarks {
		if strings.Contains(low, m) {
			return false
		}
	}
	for _, m := range permanentMarks {
		if strings.Contains(low, m) {
			return true
		}
	}
	return false
}

// run runs the tool with args, retrying transient failures (the engine
// restarting, a timeout) with a doubling backoff; a permanent failure is
// returned at once.
func (c composeCLI) run(ctx context.Context, args ...string) error {
	attempts, wait := max(c.attempts, 1), c.backoff
	var err error
	for i := range attempts {
		if err = c.once(ctx, args...); err == nil {
			return nil
		}
		var ce *ComposeError
		if !errors.As(err, &ce) || ce.Permanent || i == attempts-1 {
			return err
		}
		if c.out != nil {
			fmt.Fprintf(c.out, "  retrying in %s: %v\n", wait, err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
	return err
}

func (c composeCLI) once(ctx context.Context, args ...string) error {
	full := append(append([]string{}, c.argv[1:]...), "-p", c.project, "-f", c.file)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, c.argv[0], full...)
	var stderr bytes.Buffer
	var w io.Writer = &stderr
	if c.out != nil {
		// Compose reports progress on standard error.
		w = io.MultiWriter(&stderr, indent{c.out})
		cmd.Stdout = indent{c.out}
	}
	cmd.Stderr = w
	if err := cmd.Run(); err != nil {
		out := strings.TrimSpace(stderr.String())
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		return &ComposeError{Args: append(c.argv[:len(c.argv):len(c.argv)], args...), Output: lastLines(out, 8), Err: err, Permanent: permanent(out)}
	}
	return nil
}

// lastLines keeps the end of a long message, where compose puts the cause.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// indent prefixes the tool's output so it reads as part of a step.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	s := strings.TrimRight(string(p), "\n")
	if s == "" {
		return len(p), nil
	}
	_, err := io.WriteString(i.w, "  "+strings.ReplaceAll(s, "\n", "\n  ")+"\n")
	return len(p), err
}
