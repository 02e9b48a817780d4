package collector

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"decnet/internal/compose"
	"decnet/internal/event"
	"decnet/internal/pipeline"
	"decnet/internal/testutil"
)

// printer is the container's program: it prints the event line in TMPL
// every EVERY, with @RUN@ replaced by a value new at each start, @SEQ@ by
// a counter, and @PAD@ by 20 KB every 25th line (longer than the engine's
// 16 KiB log buffer), until SIGTERM.
const printer = `package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	every, err := time.ParseDuration(os.Getenv("EVERY"))
	if err != nil {
		panic(err)
	}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	tmpl := strings.ReplaceAll(os.Getenv("TMPL"), "@RUN@", run)
	fmt.Fprintln(os.Stderr, "starting run", run)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(every)
	for seq := 0; ; seq++ {
		pad := ""
		if seq%25 == 0 {
			pad = strings.Repeat("x", 20000)
		}
		fmt.Println(strings.NewReplacer("@SEQ@", strconv.Itoa(seq), "@PAD@", pad).Replace(tmpl))
		select {
		case <-stop:
			fmt.Fprintln(os.Stderr, "stopping")
			return
		case <-tick.C:
		}
	}
}
`

func randomHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// buildPrinterImage builds a FROM scratch image holding the printer,
// removed when the test ends.
func buildPrinterImage(t *testing.T, cli *client.Client) string {
	t.Helper()
	goBin := testutil.RequireTool(t, "go")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(printer), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", "printer", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build printer: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "printer"))
	if err != nil {
		t.Fatal(err)
	}
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{
		{"Dockerfile", 0o644, []byte("FROM scratch\nCOPY printer /printer\nENTRYPOINT [\"/printer\"]\n")},
		{"printer", 0o755, bin},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}

	tag := "collectortest:" + randomHex(t)
	ctx := context.Background()
	res, err := cli.ImageBuild(ctx, &ctxTar, client.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatalf("image build: %v", err)
	}
	t.Cleanup(func() {
		if _, err := cli.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("remove image %s: %v", tag, err)
		}
	})
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("image build output: %v", err)
		}
		if m.Error != "" {
			t.Fatalf("image build: %s", m.Error)
		}
	}
	return tag
}

type realEngine struct {
	t     *testing.T
	cli   *client.Client
	image string
	names map[string]string // container id -> decky
}

// create makes a container printing as decky/svc, removed when the test ends.
func (r *realEngine) create(decky, svc string, labels map[string]string) string {
	r.t.Helper()
	tmpl := event.Format(event.Event{Time: time.Now(), Decky: decky, Service: svc, Type: "auth",
		Fields: map[string]string{"src_ip": "10.9.9.9", "run": "@RUN@", "seq": "@SEQ@"}, Msg: "pad@PAD@"})
	ctx := context.Background()
	res, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:  "collectortest-" + randomHex(r.t) + "-" + decky,
		Image: r.image,
		Config: &container.Config{
			Env:    []string{"TMPL=" + tmpl, "EVERY=20ms"},
			Labels: labels,
		},
		HostConfig: &container.HostConfig{NetworkMode: "none", LogConfig: container.LogConfig{Type: "json-file"}},
	})
	if err != nil {
		r.t.Fatalf("create container: %v", err)
	}
	r.t.Cleanup(func() {
		if _, err := r.cli.ContainerRemove(context.Background(), res.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			r.t.Errorf("remove container: %v", err)
		}
	})
	r.names[res.ID] = decky
	return res.ID
}

func (r *realEngine) start(id string) {
	r.t.Helper()
	if _, err := r.cli.ContainerStart(context.Background(), id, client.ContainerStartOptions{}); err != nil {
		r.t.Fatalf("start container: %v", err)
	}
}

// stdoutLines returns the stdout lines the engine holds for a container.
func (r *realEngine) stdoutLines(id string) []string {
	r.t.Helper()
	rc, err := r.cli.ContainerLogs(context.Background(), id, client.ContainerLogsOptions{ShowStdout: true})
	if err != nil {
		r.t.Fatalf("logs: %v", err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, io.Discard, rc); err != nil {
		r.t.Fatalf("logs: %v", err)
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

func (s *sink) linesOf(decky string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.recs {
		if r.Decky == decky {
			out = append(out, r.RawLine)
		}
	}
	return out
}

func (s *sink) runsOf(decky string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	runs := map[string]int{}
	for _, r := range s.recs {
		if r.Decky == decky {
			runs[r.Fields["run"]]++
		}
	}
	return runs
}

func TestRealEngine(t *testing.T) {
	cli := testutil.DockerEngine(t)
	eng := &realEngine{t: t, cli: cli, image: buildPrinterImage(t, cli), names: map[string]string{}}
	project := "collectortest-" + randomHex(t)
	s1 := eng.create("d1", "ssh", labels(project, compose.RoleService, "d1", "ssh"))
	s2 := eng.create("d2", "http", labels(project, compose.RoleService, "d2", "http"))
	base := eng.create("base", "", labels(project, compose.RoleDecky, "d1", ""))
	plain := eng.create("plain", "ssh", nil)
	for _, id := range []string{s1, s2, base, plain} {
		eng.start(id)
	}

	snk := &sink{}
	logs := &testutil.Logs{}
	opts := Options{Project: project, Sink: snk.Append, Limit: pipeline.DefaultRateLimit(),
		Checkpoint: filepath.Join(t.TempDir(), "collector.json"), Log: logs.Logger()}
	stop := runCollector(t, New(cli, opts))
	testutil.Eventually(t, "lines of both service containers", func() bool {
		return len(snk.linesOf("d1")) >= 10 && len(snk.linesOf("d2")) >= 10
	})

	// Restart one: no line of either run is lost or doubled (checked at
	// the end against the engine's own record).
	to := 2
	if _, err := cli.ContainerRestart(context.Background(), s1, client.ContainerRestartOptions{Timeout: &to}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "lines of the restarted container's second run", func() bool {
		runs := snk.runsOf("d1")
		return len(runs) == 2
	})

	// Stop the collector while the containers print; the next one resumes
	// from the checkpoint.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	stop = runCollector(t, New(cli, opts))

	// Started after Run began.
	s3 := eng.create("d3", "ftp", labels(project, compose.RoleService, "d3", "ftp"))
	eng.start(s3)
	testutil.Eventually(t, "lines of the container started later", func() bool { return len(snk.linesOf("d3")) >= 10 })

	for _, id := range []string{s1, s2, s3} {
		if _, err := cli.ContainerStop(context.Background(), id, client.ContainerStopOptions{Timeout: &to}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{s1, s2, s3} {
		decky := eng.names[id]
		want := eng.stdoutLines(id)
		testutil.Eventually(t, "every line of "+decky, func() bool { return len(snk.linesOf(decky)) >= len(want) })
		got := snk.linesOf(decky)
		t.Logf("%s: %d lines, runs %v", decky, len(got), snk.runsOf(decky))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the sink holds %d lines, the engine %d; they differ", decky, len(got), len(want))
		}
		long := 0
		for _, l := range got {
			if len(l) > 16<<10 {
				long++
			}
		}
		if long == 0 {
			t.Errorf("%s: no line longer than the engine's 16 KiB buffer came through", decky)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, decky := range []string{"base", "plain"} {
		if n := len(snk.linesOf(decky)); n != 0 {
			t.Errorf("%d lines of the %s container, which is not a service of the project", n, decky)
		}
	}
	if n := len(logs.Records(t, "container stderr")); n < 4 {
		t.Errorf("%d stderr lines logged, want the start and stop lines of every run", n)
	}
	if runs := snk.runsOf("d1"); len(runs) != 2 {
		t.Errorf("d1 ran %d times, want 2", len(runs))
	}
}
