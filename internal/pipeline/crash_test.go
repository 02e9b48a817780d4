package pipeline

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

const crashChildEnv = "PIPELINE_CRASH_CHILD"

// TestCrashChild is the ingester process of TestCrashNoLossNoDup; run
// alone it does nothing.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		return // only runs as the child of TestCrashNoLossNoDup
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // in case the parent dies
	defer cancel()
	repo := openStore(t, os.Getenv("PIPELINE_CRASH_DB"))
	g, err := NewIngester(os.Getenv("PIPELINE_CRASH_FILE"), repo, WithLogger(quietLog()),
		WithPollInterval(2*time.Millisecond), WithBatchRows(1+rand.IntN(300)))
	if err != nil {
		t.Fatal(err)
	}
	g.Run(ctx)
}

// TestCrashNoLossNoDup kills the ingester process with SIGKILL at random
// moments while events stream into the file, restarts it, and checks
// that every event is stored exactly once.
func TestCrashNoLossNoDup(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	path, db := filepath.Join(dir, "ingest.json"), filepath.Join(dir, "store.db")
	em, err := NewFileEmitter(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	const total = 30000
	written := make(chan struct{})
	go func() {
		defer close(written)
		for i := range total {
			em.Emit(testEvent(i))
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"=1", "PIPELINE_CRASH_DB="+db, "PIPELINE_CRASH_FILE="+path)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 0
	for done := false; !done || kills < 6; kills++ {
		cmd := start()
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		select {
		case <-written:
			done = true
		default:
		}
	}
	cmd := start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	repo := openStore(t, db)
	waitRows(t, repo, total)
	got := seqs(t, repo)
	sort.Ints(got)
	for i, s := range got {
		if s != i {
			t.Fatalf("after %d kills: seq %d at position %d: lost or duplicated", kills, s, i)
		}
	}
	t.Logf("%d events, %d kills: each stored once", total, kills)
}
