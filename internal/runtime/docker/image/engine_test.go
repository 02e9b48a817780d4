package image

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"decnet/internal/testutil"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// TestBuildOnEngine builds, reuses and rebuilds an image of a tiny static
// program on the real engine and runs it.
func TestBuildOnEngine(t *testing.T) {
	cli := testutil.DockerEngine(t)
	ctx := t.Context()
	bin := goBuild(t, echoProgram, false)
	o := Options{Repo: fmt.Sprintf("decnet-imagetest-%d", time.Now().UnixNano()), Version: "t1", Binary: bin}
	made := map[string]bool{}
	t.Cleanup(func() {
		for id := range made {
			_, _ = cli.ImageRemove(context.Background(), id, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		}
	})
	build := func(noCache, wantBuilt bool) Result {
		t.Helper()
		o.NoCache = noCache
		var progress []string
		o.Progress = func(s string) { progress = append(progress, s) }
		res, err := Build(ctx, cli, o)
		if err != nil {
			t.Fatal(err)
		}
		made[res.ID] = true
		if res.Built != wantBuilt || res.Ref != o.Repo+":t1" {
			t.Fatalf("Build = %+v, want built %v, ref %s:t1", res, wantBuilt, o.Repo)
		}
		if wantBuilt && len(progress) == 0 {
			t.Error("no build progress reported")
		}
		return res
	}
	exists := func(id string) bool {
		t.Helper()
		_, err := cli.ImageInspect(ctx, id)
		if err != nil && !cerrdefs.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	first := build(false, true)
	img, err := cli.ImageInspect(ctx, first.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != first.ID || img.Size != first.Size || first.Size <= 0 || !slices.Contains(img.RepoTags, first.Ref) {
		t.Errorf("image %s: id %s size %d tags %v; Build said %+v", first.Ref, img.ID, img.Size, img.RepoTags, first)
	}
	cfg := img.Config
	if cfg.Labels[LabelVersion] != "t1" || len(cfg.Labels[LabelBinaryDigest]) != 64 ||
		cfg.User != User || !slices.Equal(cfg.Entrypoint, []string{Entrypoint}) {
		t.Errorf("image config: labels %v user %q entrypoint %q", cfg.Labels, cfg.User, cfg.Entrypoint)
	}
	t.Logf("image of a %s binary: %d bytes", bin, first.Size)

	if again := build(false, false); again.ID != first.ID {
		t.Errorf("reused image %s, want %s", again.ID, first.ID)
	}

	ctr, out := run(t, cli, first.Ref, "hello", "world")
	if want := "65534 hello world\n"; out != want {
		t.Errorf("container printed %q, want %q", out, want)
	}

	// The first image is still used by a container: the rebuild keeps it.
	second := build(true, true)
	if second.ID == first.ID || !exists(first.ID) {
		t.Errorf("rebuild: id %s (first %s), first still there: %v", second.ID, first.ID, exists(first.ID))
	}
	if _, err := cli.ContainerRemove(ctx, ctr, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	// Nothing uses the second image: the next rebuild removes it.
	third := build(true, true)
	if third.ID == second.ID || exists(second.ID) {
		t.Errorf("rebuild: id %s (second %s), second still there: %v", third.ID, second.ID, exists(second.ID))
	}
}

// run runs the image with args, without a network, and returns the
// container (left for the caller to remove; removed at cleanup) and its
// stdout.
func run(t *testing.T, cli *client.Client, ref string, args ...string) (id, stdout string) {
	t.Helper()
	ctx := t.Context()
	c, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: ref, Cmd: args},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cli.ContainerRemove(context.Background(), c.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	wait := cli.ContainerWait(ctx, c.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-wait.Result:
		if r.StatusCode != 0 {
			t.Errorf("container exited with %d", r.StatusCode)
		}
	case err := <-wait.Error:
		t.Fatal(err)
	}
	logs, err := cli.ContainerLogs(ctx, c.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, logs); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() > 0 {
		t.Errorf("container stderr: %s", errOut.String())
	}
	return c.ID, out.String()
}
