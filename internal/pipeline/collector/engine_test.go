package collector

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// fakeEngine serves the part of the Docker Engine API the collector uses,
// the way Engine 20.10 does: label filters, logs multiplexed with stdcopy
// frames of one message each, timestamps, an inclusive since, follow
// streams that end when the container stops, and an event stream.
type fakeEngine struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	containers map[string]*fakeContainer
	clock      time.Time
	down       bool                   // every API call fails with 500
	subs       map[chan struct{}]bool // open event streams; closing one ends it
	published  []events.Message
	logCalls   map[string][]string // container id -> since of each logs call
	// inspectHold, when set, is called by inspect after it read the
	// container's state and before it answers.
	inspectHold func(id string)
}

type fakeContainer struct {
	id      string
	labels  map[string]string
	running bool
	msgs    []fakeMsg
}

type fakeMsg struct {
	ts      time.Time
	stream  byte
	content string
}

func newFakeEngine(t *testing.T) *fakeEngine {
	e := &fakeEngine{
		t:          t,
		changed:    make(chan struct{}),
		containers: map[string]*fakeContainer{},
		clock:      time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC),
		subs:       map[chan struct{}]bool{},
		logCalls:   map[string][]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Ostype", "linux")
		w.Write([]byte("OK"))
	})
	mux.HandleFunc("GET /{v}/containers/json", e.list)
	mux.HandleFunc("GET /{v}/containers/{id}/json", e.inspect)
	mux.HandleFunc("GET /{v}/containers/{id}/logs", e.logs)
	mux.HandleFunc("GET /{v}/events", e.events)
	e.srv = httptest.NewServer(e.guard(mux))
	t.Cleanup(func() {
		e.breakEvents()
		e.stopAll()
		e.srv.Close()
	})
	return e
}

func (e *fakeEngine) client(t *testing.T) *client.Client {
	cli, err := client.New(client.WithHost("tcp://" + e.srv.Listener.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func (e *fakeEngine) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		down := e.down
		e.mu.Unlock()
		if down && r.URL.Path != "/_ping" {
			http.Error(w, `{"message":"engine restarting"}`, http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// notifyLocked wakes every waiting stream.
func (e *fakeEngine) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *fakeEngine) add(id string, labels map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.containers[id] = &fakeContainer{id: id, labels: labels}
}

func (e *fakeEngine) start(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.containers[id]
	c.running = true
	attrs := map[string]string{"name": id, "image": "img"}
	for k, v := range c.labels {
		attrs[k] = v
	}
	e.published = append(e.published, events.Message{Type: events.ContainerEventType, Action: events.ActionStart,
		Actor: events.Actor{ID: id, Attributes: attrs}, Time: e.clock.Unix(), TimeNano: e.clock.UnixNano()})
	e.notifyLocked()
}

func (e *fakeEngine) stop(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.containers[id].running = false
	e.notifyLocked()
}

func (e *fakeEngine) remove(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.containers[id]
	delete(e.containers, id)
	attrs := map[string]string{"name": id}
	for k, v := range c.labels {
		attrs[k] = v
	}
	e.published = append(e.published, events.Message{Type: events.ContainerEventType, Action: events.ActionDestroy,
		Actor: events.Actor{ID: id, Attributes: attrs}})
	e.notifyLocked()
}

func (e *fakeEngine) holdInspect(hold func(id string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inspectHold = hold
}

func (e *fakeEngine) stopAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.containers {
		c.running = false
	}
	e.notifyLocked()
}

func (e *fakeEngine) setDown(down bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.down = down
}

// breakEvents ends every open event stream, as an engine restart does.
func (e *fakeEngine) breakEvents() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.subs {
		close(ch)
		delete(e.subs, ch)
	}
}

// tick returns the next message time: a microsecond later each call.
func (e *fakeEngine) tick() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock = e.clock.Add(time.Microsecond)
	return e.clock
}

// write logs one message; content ends with "\n" unless it is part of a
// longer line.
func (e *fakeEngine) write(id string, stream byte, content string) {
	e.writeAt(id, stream, content, e.tick())
}

func (e *fakeEngine) writeAt(id string, stream byte, content string, ts time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.containers[id]
	c.msgs = append(c.msgs, fakeMsg{ts: ts, stream: stream, content: content})
	e.notifyLocked()
}

// writeLine logs a line as the json-file driver does: in messages of at
// most 16 KiB, each with its own timestamp.
func (e *fakeEngine) writeLine(id string, stream byte, line string) {
	const chunk = 16 << 10
	for len(line) > chunk {
		e.write(id, stream, line[:chunk])
		line = line[chunk:]
	}
	e.write(id, stream, line+"\n")
}

func (e *fakeEngine) logsCalls(id string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.logCalls[id]...)
}

func matchLabels(f client.Filters, labels map[string]string) bool {
	for kv := range f["label"] {
		k, v, hasV := strings.Cut(kv, "=")
		got, ok := labels[k]
		if !ok || hasV && got != v {
			return false
		}
	}
	return true
}

func filtersOf(t *testing.T, r *http.Request) client.Filters {
	f := client.Filters{}
	if s := r.URL.Query().Get("filters"); s != "" {
		if err := json.Unmarshal([]byte(s), &f); err != nil {
			t.Errorf("bad filters %q: %v", s, err)
		}
	}
	return f
}

func (e *fakeEngine) list(w http.ResponseWriter, r *http.Request) {
	f := filtersOf(e.t, r)
	all := r.URL.Query().Get("all") == "1"
	e.mu.Lock()
	var out []container.Summary
	for _, c := range e.containers {
		if (all || c.running) && matchLabels(f, c.labels) {
			state := container.StateExited
			if c.running {
				state = container.StateRunning
			}
			out = append(out, container.Summary{ID: c.id, Names: []string{"/" + c.id}, Labels: c.labels, State: state})
		}
	}
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (e *fakeEngine) inspect(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	c := e.containers[r.PathValue("id")]
	var resp container.InspectResponse
	if c != nil {
		resp = container.InspectResponse{ID: c.id, State: &container.State{Running: c.running},
			Config: &container.Config{Labels: c.labels}}
	}
	hold := e.inspectHold
	e.mu.Unlock()
	if hold != nil {
		hold(r.PathValue("id"))
	}
	w.Header().Set("Content-Type", "application/json")
	if c == nil {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"No such container"}`))
		return
	}
	json.NewEncoder(w).Encode(resp)
}

func parseSince(t *testing.T, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	sec, nsec, _ := strings.Cut(s, ".")
	a, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		t.Errorf("bad since %q", s)
	}
	b, _ := strconv.ParseInt(nsec, 10, 64)
	return time.Unix(a, b)
}

func (e *fakeEngine) logs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	if q.Get("timestamps") != "1" || q.Get("stdout") != "1" || q.Get("stderr") != "1" {
		e.t.Errorf("logs call without timestamps, stdout and stderr: %s", r.URL.RawQuery)
	}
	since := parseSince(e.t, q.Get("since"))
	follow := q.Get("follow") == "1"
	e.mu.Lock()
	e.logCalls[id] = append(e.logCalls[id], q.Get("since"))
	c := e.containers[id]
	e.mu.Unlock()
	if c == nil {
		http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	next := 0
	for {
		e.mu.Lock()
		msgs := c.msgs[next:]
		next = len(c.msgs)
		running, changed := c.running, e.changed
		e.mu.Unlock()
		for _, m := range msgs {
			if m.ts.Before(since) {
				continue
			}
			payload := m.ts.Format("2006-01-02T15:04:05.000000000Z07:00") + " " + m.content
			hdr := [8]byte{m.stream}
			binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
			if _, err := w.Write(append(hdr[:], payload...)); err != nil {
				return
			}
		}
		fl.Flush()
		if !follow || !running {
			return
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

func (e *fakeEngine) events(w http.ResponseWriter, r *http.Request) {
	f := filtersOf(e.t, r)
	broken := make(chan struct{})
	e.mu.Lock()
	e.subs[broken] = true
	next := len(e.published)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	enc := json.NewEncoder(w)
	for {
		e.mu.Lock()
		msgs := e.published[next:]
		next = len(e.published)
		changed := e.changed
		e.mu.Unlock()
		for _, m := range msgs {
			if f["type"] != nil && !f["type"][string(m.Type)] || f["event"] != nil && !f["event"][string(m.Action)] ||
				!matchLabels(f, m.Actor.Attributes) {
				continue
			}
			if err := enc.Encode(m); err != nil {
				return
			}
		}
		fl.Flush()
		select {
		case <-changed:
		case <-broken:
			return
		case <-r.Context().Done():
			return
		}
	}
}
