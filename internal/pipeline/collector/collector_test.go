package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/compose"
	"decnet/internal/event"
	"decnet/internal/pipeline"
	"decnet/internal/testutil"
)

const testProject = "p1"

func labels(project, role, decky, svc string) map[string]string {
	l := map[string]string{compose.LabelProject: project, compose.LabelRole: role, compose.LabelDecky: decky}
	if svc != "" {
		l[compose.LabelService] = svc
	}
	return l
}

func svcLabels(decky, svc string) map[string]string {
	return labels(testProject, compose.RoleService, decky, svc)
}

// evline makes an event line as a service prints it.
func evline(decky, svc, typ, ip string, seq int) string {
	return event.Format(event.Event{
		Time: time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC), Decky: decky, Service: svc, Type: typ,
		Fields: map[string]string{"seq": strconv.Itoa(seq), "src_ip": ip},
	})
}

type sink struct {
	mu    sync.Mutex
	recs  []event.Record
	fails int // the next calls that fail
	calls int
}

func (s *sink) Append(r event.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fails > 0 {
		s.fails--
		return errors.New("disk full")
	}
	s.recs = append(s.recs, r)
	return nil
}

func (s *sink) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.recs))
	for i, r := range s.recs {
		out[i] = r.RawLine
	}
	return out
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

type harness struct {
	eng  *fakeEngine
	sink *sink
	logs *testutil.Logs
}

func newHarness(t *testing.T) *harness {
	return &harness{eng: newFakeEngine(t), sink: &sink{}, logs: &testutil.Logs{}}
}

func (h *harness) options() Options {
	return Options{Project: testProject, Sink: h.sink.Append, Log: h.logs.Logger()}
}

// run starts a collector on the fake engine.
func (h *harness) run(t *testing.T, o Options) (*Collector, func() error) {
	t.Helper()
	c := New(h.eng.client(t), o)
	return c, runCollector(t, c)
}

// runCollector runs c until the returned stop, which returns Run's error.
func runCollector(t *testing.T, c *Collector) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestFollowsOnlyTheProjectsServiceContainers(t *testing.T) {
	h := newHarness(t)
	e := h.eng
	e.add("a", svcLabels("d1", "ssh"))
	e.add("other", labels("p2", compose.RoleService, "d1", "ssh"))
	e.add("base", labels(testProject, compose.RoleDecky, "d1", ""))
	e.add("plain", nil)
	e.add("stopped", svcLabels("d2", "http"))
	for _, id := range []string{"a", "other", "base", "plain"} {
		e.start(id)
	}
	for i, id := range []string{"a", "other", "base", "plain", "stopped"} {
		e.writeLine(id, 1, evline(id, "svc", "auth", "10.0.0.1", i))
	}
	_, stop := h.run(t, h.options())
	want := []string{evline("a", "svc", "auth", "10.0.0.1", 0), evline("stopped", "svc", "auth", "10.0.0.1", 4)}
	testutil.Eventually(t, "both containers' lines", func() bool { return h.sink.count() >= 2 })
	e.write("other", 1, evline("other", "svc", "auth", "10.0.0.1", 9)+"\n")
	time.Sleep(50 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := h.sink.lines()
	slices.Sort(got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sink got\n%q\nwant\n%q", got, want)
	}
	for _, id := range []string{"other", "base", "plain"} {
		if calls := e.logsCalls(id); len(calls) != 0 {
			t.Errorf("logs of %s read: %q", id, calls)
		}
	}
	// The stopped container was read once, to its end, and left alone.
	if calls := e.logsCalls("stopped"); len(calls) != 1 {
		t.Errorf("stopped container read %d times", len(calls))
	}
}

func TestStdoutEventsStderrLogs(t *testing.T) {
	h := newHarness(t)
	e := h.eng
	e.add("a", svcLabels("d1", "ssh"))
	e.start("a")
	l1 := evline("d1", "ssh", "auth", "10.0.0.1", 1)
	l2 := evline("d1", "ssh", "command", "10.0.0.1", 2)
	e.writeLine("a", 1, l1)
	e.writeLine("a", 2, `time=2026-05-07T10:00:00Z level=INFO msg="listening" port=22`)
	e.writeLine("a", 1, "")
	e.writeLine("a", 1, "panic: not an event")
	e.writeLine("a", 2, `level=WARN msg="slow client"`)
	e.writeLine("a", 1, l2+"\r")
	_, stop := h.run(t, h.options())
	testutil.Eventually(t, "two events", func() bool { return h.sink.count() == 2 })
	stop()
	if got := h.sink.lines(); !reflect.DeepEqual(got, []string{l1, l2}) {
		t.Fatalf("sink got %q", got)
	}
	recs := h.sink.recs
	if recs[0].Decky != "d1" || recs[0].Service != "ssh" || recs[0].EventType != "auth" || recs[0].AttackerIP != "10.0.0.1" {
		t.Errorf("record %+v", recs[0])
	}
	stderrLogs := h.logs.Records(t, "container stderr")
	if len(stderrLogs) != 2 {
		t.Fatalf("%d stderr lines logged, want 2", len(stderrLogs))
	}
	for _, m := range stderrLogs {
		if m["container"] != "a" || m["decky"] != "d1" || m["service"] != "ssh" {
			t.Errorf("stderr log lacks the container: %v", m)
		}
	}
	if stderrLogs[1]["line"] != `level=WARN msg="slow client"` {
		t.Errorf("stderr line logged as %q", stderrLogs[1]["line"])
	}
	bad := h.logs.Records(t, "container stdout line is not an event")
	if len(bad) != 1 || bad[0]["line"] != "panic: not an event" || bad[0]["decky"] != "d1" || bad[0]["err"] == nil {
		t.Fatalf("unparseable line logged as %v", bad)
	}
}

func TestLinesSplitAcrossMessages(t *testing.T) {
	h := newHarness(t)
	e := h.eng
	e.add("a", svcLabels("d1", "http"))
	e.start("a")
	long := event.Format(event.Event{Time: time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC), Decky: "d1", Service: "http",
		Type: "request", Fields: map[string]string{"src_ip": "10.0.0.2"}, Msg: strings.Repeat("x", 40<<10)})
	huge := event.Format(event.Event{Time: time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC), Decky: "d1", Service: "http",
		Type: "request", Fields: map[string]string{"src_ip": "10.0.0.3"}, Msg: strings.Repeat("y", 70<<10)})
	short := evline("d1", "http", "request", "10.0.0.4", 1)
	// A short line in three messages, with a stderr line in between.
	e.write("a", 1, short[:10])
	e.write("a", 2, "stderr between\n")
	e.write("a", 1, short[10:20])
	e.write("a", 1, short[20:]+"\n")
	e.writeLine("a", 1, long)
	e.writeLine("a", 1, huge)
	_, stop := h.run(t, h.options())
	testutil.Eventually(t, "three events", func() bool { return h.sink.count() == 3 })
	stop()
	got := h.sink.lines()
	if got[0] != short || got[1] != long {
		t.Fatalf("lines not rebuilt: %d and %d bytes", len(got[0]), len(got[1]))
	}
	if got[2] != huge[:MaxLineBytes] {
		t.Fatalf("over-long line: got %d bytes, want its first %d", len(got[2]), MaxLineBytes)
	}
	cut := h.logs.Records(t, "container log line too long; cut")
	if len(cut) != 1 || cut[0]["bytes"] != float64(len(huge)) || cut[0]["kept"] != float64(MaxLineBytes) || cut[0]["decky"] != "d1" {
		t.Fatalf("cut logged as %v", cut)
	}
	if n := len(h.logs.Records(t, "container stderr")); n != 1 {
		t.Fatalf("%d stderr lines, want 1", n)
	}
}

func TestRateLimit(t *testing.T) {
	var lines []string
	for i, ip := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.1"} {
		lines = append(lines, evline("d1", "ssh", "connect", ip, i))
	}
	lines = append(lines, evline("d1", "ssh", "auth", "10.0.0.1", 10), evline("d1", "ssh", "auth", "10.0.0.1", 11))
	tests := []struct {
		name  string
		limit pipeline.RateLimit
		want  []int // indexes into lines
	}{
		{name: "default", limit: pipeline.DefaultRateLimit(), want: []int{0, 2, 4, 5}},
		{name: "disabled", limit: pipeline.RateLimit{}, want: []int{0, 1, 2, 3, 4, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.eng.add("a", svcLabels("d1", "ssh"))
			h.eng.start("a")
			for _, l := range lines {
				h.eng.writeLine("a", 1, l)
			}
			o := h.options()
			o.Limit = tc.limit
			_, stop := h.run(t, o)
			testutil.Eventually(t, "events", func() bool { return h.sink.count() == len(tc.want) })
			time.Sleep(20 * time.Millisecond)
			stop()
			var want []string
			for _, i := range tc.want {
				want = append(want, lines[i])
			}
			if got := h.sink.lines(); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %q\nwant %q", got, want)
			}
		})
	}
}

func TestFollowsContainersStartedLaterAndRestarted(t *testing.T) {
	h := newHarness(t)
	e := h.eng
	e.add("a", svcLabels("d1", "ssh"))
	e.start("a")
	e.writeLine("a", 1, evline("d1", "ssh", "auth", "1.1.1.1", 0))
	ckpt := filepath.Join(t.TempDir(), "ckpt.json")
	o := h.options()
	o.Checkpoint = ckpt
	c, stop := h.run(t, o)
	testutil.Eventually(t, "first line", func() bool { return h.sink.count() == 1 })

	// Started after Run began: followed; a foreign one is not.
	e.add("b", svcLabels("d2", "http"))
	e.add("foreign", labels("p2", compose.RoleService, "d3", "ssh"))
	e.start("foreign")
	e.writeLine("foreign", 1, evline("d3", "ssh", "auth", "9.9.9.9", 0))
	e.start("b")
	e.writeLine("b", 1, evline("d2", "http", "auth", "2.2.2.2", 0))
	testutil.Eventually(t, "the later container", func() bool { return h.sink.count() == 2 })

	// Restarted: the old stream ends, the start event brings a new one
	// from where the old one stopped. The last line before the stop has
	// no newline: it is complete when the stream ends, and not merged
	// with the first line of the next run.
	e.write("a", 1, evline("d1", "ssh", "auth", "1.1.1.1", 1))
	e.stop("a")
	testutil.Eventually(t, "the last line before the stop", func() bool { return h.sink.count() == 3 })
	e.start("a")
	e.writeLine("a", 1, evline("d1", "ssh", "auth", "1.1.1.1", 2))
	testutil.Eventually(t, "the line after the restart", func() bool { return h.sink.count() == 4 })

	// A restart the follower learns of while it decides the container
	// stopped: the engine said "stopped", but the start event came before
	// the follower gave up, so it reads again.
	wakes := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.followers["a"].wakes
	}
	before := wakes()
	held := make(chan struct{})
	release := make(chan struct{})
	var once, released sync.Once
	free := func() { released.Do(func() { close(release) }) }
	t.Cleanup(free) // a failing test must not leave the engine's handler blocked
	e.holdInspect(func(id string) {
		if id == "a" {
			once.Do(func() { close(held); <-release })
		}
	})
	e.writeLine("a", 1, evline("d1", "ssh", "auth", "1.1.1.1", 3))
	e.stop("a")
	<-held
	e.start("a")
	e.writeLine("a", 1, evline("d1", "ssh", "auth", "1.1.1.1", 4))
	testutil.Eventually(t, "the start event", func() bool { return wakes() > before })
	free()
	testutil.Eventually(t, "the lines around a quick restart", func() bool { return h.sink.count() == 6 })

	// Removed: forgotten, in memory and in the checkpoint.
	e.stop("b")
	e.remove("b")
	time.Sleep(50 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		evline("d1", "ssh", "auth", "1.1.1.1", 0), evline("d2", "http", "auth", "2.2.2.2", 0),
		evline("d1", "ssh", "auth", "1.1.1.1", 1), evline("d1", "ssh", "auth", "1.1.1.1", 2),
		evline("d1", "ssh", "auth", "1.1.1.1", 3), evline("d1", "ssh", "auth", "1.1.1.1", 4),
	}
	if got := h.sink.lines(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if calls := e.logsCalls("foreign"); len(calls) != 0 {
		t.Errorf("foreign container read")
	}
	cp := readCheckpoint(t, ckpt)
	if _, ok := cp.Containers["b"]; ok {
		t.Errorf("removed container still in the checkpoint: %+v", cp)
	}
	if _, ok := cp.Containers["a"]; !ok {
		t.Errorf("container a missing from the checkpoint: %+v", cp)
	}
}

func readCheckpoint(t *testing.T, path string) checkpointFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cp checkpointFile
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestResumeFromCheckpoint(t *testing.T) {
	h := newHarness(t)
	e := h.eng
	e.add("a", svcLabels("d1", "ssh"))
	e.start("a")
	ckpt := filepath.Join(t.TempDir(), "ckpt.json")
	l := func(i int) string { return evline("d1", "ssh", "auth", "1.1.1.1", i) }
	e.writeLine("a", 1, l(0))
	same := e.tick() // three messages at one instant
	e.writeAt("a", 1, l(1)+"\n", same)
	e.writeAt("a", 2, "stderr at the same instant\n", same)
	e.writeAt("a", 1, l(2)+"\n", same)
	o := h.options()
	o.Checkpoint = ckpt
	_, stop := h.run(t, o)
	testutil.Eventually(t, "three lines", func() bool { return h.sink.count() == 3 })
	// The start of a line whose end comes while no collector runs.
	e.write("a", 1, l(3)[:15])
	time.Sleep(50 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.lines(); !reflect.DeepEqual(got, []string{l(0), l(1), l(2)}) {
		t.Fatalf("first run got %q", got)
	}
	cp := readCheckpoint(t, ckpt)
	if got := cp.Containers["a"]; !got.Time.Equal(same) || got.N != 3 {
		t.Fatalf("checkpoint %+v, want %v and 3 messages", got, same)
	}

	e.write("a", 1, l(3)[15:]+"\n")
	e.writeLine("a", 1, l(4))
	e.writeLine("a", 2, "stderr after")
	h.sink, h.logs = &sink{}, &testutil.Logs{}
	o = h.options()
	o.Checkpoint = ckpt
	_, stop = h.run(t, o)
	testutil.Eventually(t, "the lines written meanwhile", func() bool { return h.sink.count() == 2 })
	time.Sleep(50 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := h.sink.lines(); !reflect.DeepEqual(got, []string{l(3), l(4)}) {
		t.Fatalf("resumed run got %q", got)
	}
	if n := len(h.logs.Records(t, "container stderr")); n != 1 {
		t.Fatalf("resumed run logged %d stderr lines, want only the new one", n)
	}
	calls := e.logsCalls("a")
	if want := fmt.Sprintf("%d.%09d", same.Unix(), same.Nanosecond()); calls[len(calls)-1] != want {
		t.Fatalf("resumed with since=%q, want the checkpoint's instant %s", calls[len(calls)-1], want)
	}
}

func TestReconnectsWhenTheEngineGoesAway(t *testing.T) {
	h := newHarness(t)
	e := h.eng
	e.add("a", svcLabels("d1", "ssh"))
	e.start("a")
	e.writeLine("a", 1, evline("d1", "ssh", "auth", "1.1.1.1", 0))
	c, stop := h.run(t, h.options())
	testutil.Eventually(t, "first line", func() bool { return h.sink.count() == 1 })
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check while healthy: %v", err)
	}

	// The engine restarts: its API fails for a while and the event stream
	// breaks. A container started meanwhile is found by the next listing.
	e.setDown(true)
	e.breakEvents()
	testutil.Eventually(t, "Check to report the broken stream", func() bool { return c.Check(context.Background()) != nil })
	e.add("b", svcLabels("d2", "http"))
	e.start("b")
	e.writeLine("b", 1, evline("d2", "http", "auth", "2.2.2.2", 0))
	e.setDown(false)
	testutil.Eventually(t, "the container started during the outage", func() bool { return h.sink.count() == 2 })
	testutil.Eventually(t, "Check to recover", func() bool { return c.Check(context.Background()) == nil })

	// And the new event stream works.
	e.add("c", svcLabels("d3", "ftp"))
	e.start("c")
	e.writeLine("c", 1, evline("d3", "ftp", "auth", "3.3.3.3", 0))
	testutil.Eventually(t, "the container started after the outage", func() bool { return h.sink.count() == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(h.logs.Records(t, "docker engine stream broke; reconnecting")); n == 0 {
		t.Error("the broken stream was not logged")
	}
	got := h.sink.lines()
	slices.Sort(got)
	if len(slices.Compact(got)) != 3 || len(got) != 3 {
		t.Fatalf("lines doubled: %q", got)
	}
}

func TestCheckEngineUnreachable(t *testing.T) {
	h := newHarness(t)
	c := New(h.eng.client(t), h.options())
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	h.eng.srv.Close()
	if err := c.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Check with the engine gone = %v", err)
	}
}

func TestSinkFailureRetried(t *testing.T) {
	h := newHarness(t)
	h.sink.fails = 2
	h.eng.add("a", svcLabels("d1", "ssh"))
	h.eng.start("a")
	l := evline("d1", "ssh", "auth", "1.1.1.1", 0)
	h.eng.writeLine("a", 1, l)
	c, stop := h.run(t, h.options())
	testutil.Eventually(t, "the sink error in Check", func() bool {
		err := c.Check(context.Background())
		return err != nil && strings.Contains(err.Error(), "disk full")
	})
	testutil.Eventually(t, "the line", func() bool { return h.sink.count() == 1 })
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check after the sink recovered: %v", err)
	}
	stop()
	if got := h.sink.lines(); !reflect.DeepEqual(got, []string{l}) || h.sink.calls != 3 {
		t.Fatalf("got %q after %d calls", got, h.sink.calls)
	}
	if n := len(h.logs.Records(t, "event not handed over; retrying")); n != 2 {
		t.Fatalf("%d failures logged, want 2", n)
	}
}

func TestFileEmitterSink(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "ingest.json")
	em, err := pipeline.NewFileEmitter(path, h.logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	h.eng.add("a", svcLabels("d1", "ssh"))
	h.eng.start("a")
	want := []string{evline("d1", "ssh", "auth", "1.1.1.1", 0), evline("d1", "ssh", "command", "1.1.1.1", 1)}
	for _, l := range want {
		h.eng.writeLine("a", 1, l)
	}
	o := h.options()
	o.Sink = em.Append
	_, stop := h.run(t, o)
	testutil.Eventually(t, "two lines in the file", func() bool {
		b, _ := os.ReadFile(path)
		return bytes.Count(b, []byte("\n")) == 2
	})
	stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for l := range strings.Lines(string(b)) {
		var r event.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.RawLine)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("file holds %q", got)
	}
	select {
	case <-em.Notify():
	default:
		t.Error("Append did not notify")
	}
}

func TestRunRefuses(t *testing.T) {
	h := newHarness(t)
	corrupt := filepath.Join(t.TempDir(), "ckpt.json")
	if err := os.WriteFile(corrupt, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{name: "no project", edit: func(o *Options) { o.Project = "" }, want: "no project"},
		{name: "no sink", edit: func(o *Options) { o.Sink = nil }, want: "no sink"},
		{name: "corrupt checkpoint", edit: func(o *Options) { o.Checkpoint = corrupt }, want: "corrupt"},
		{name: "unreadable checkpoint", edit: func(o *Options) { o.Checkpoint = t.TempDir() }, want: "checkpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := h.options()
			tc.edit(&o)
			err := New(h.eng.client(t), o).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want an error about %q", err, tc.want)
			}
		})
	}
}
