package testutil

import (
	"sync"
	"testing"
	"time"

	"decnet/internal/event"
)

// Events records emitted events. Servers emit from their connection
// goroutines, so it is safe for concurrent use. Its zero value is ready.
type Events struct {
	mu  sync.Mutex
	all []event.Event
}

// Emit records ev.
func (e *Events) Emit(ev event.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// All returns a copy of the events recorded so far, in emission order, so
// the caller can read it while servers keep emitting.
func (e *Events) All() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]event.Event(nil), e.all...)
}

// OfType returns the events of one type recorded so far, in emission order.
func (e *Events) OfType(typ string) []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []event.Event
	for _, ev := range e.all {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// With returns the events of one type recorded so far whose field key
// is value, in emission order.
func (e *Events) With(typ, key, value string) []event.Event {
	var out []event.Event
	for _, ev := range e.OfType(typ) {
		if ev.Fields[key] == value {
			out = append(out, ev)
		}
	}
	return out
}

// Eventually polls cond every 10 ms until it holds, for effects of other
// goroutines (events are often emitted after the client has its answer).
// After 5 s it fails the test, naming what it waited for.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 5s waiting for %s", what)
			return // for a testing.TB whose Fatalf does not stop the goroutine
		}
	}
}

var _ event.Emitter = (*Events)(nil)
