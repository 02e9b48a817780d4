package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// DockerEngine returns a client of the local Docker engine, closed when the
// test ends. Without an engine that answers the test is skipped, except in
// CI, where it fails.
func DockerEngine(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		Skip(t, "no Docker client: "+err.Error())
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		Skip(t, "no Docker engine: "+err.Error())
	}
	return cli
}
