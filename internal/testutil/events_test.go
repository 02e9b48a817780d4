package testutil

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"decnet/internal/event"
)

func TestEventsConcurrentEmit(t *testing.T) {
	var evs Events
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				typ := event.TypeConnect
				if i%2 == 1 {
					typ = event.TypeDisconnect
				}
				evs.Emit(event.Event{Type: typ, Fields: map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i)}})
				evs.OfType(typ) // readers race with writers under -race
			}
		}()
	}
	wg.Wait()
	if got := len(evs.All()); got != writers*each {
		t.Fatalf("All: %d events, want %d", got, writers*each)
	}
	for _, typ := range []string{event.TypeConnect, event.TypeDisconnect} {
		got := evs.OfType(typ)
		if len(got) != writers*each/2 {
			t.Errorf("OfType(%s): %d events, want %d", typ, len(got), writers*each/2)
		}
		for _, e := range got {
			if e.Type != typ {
				t.Errorf("OfType(%s) returned a %s event", typ, e.Type)
			}
		}
	}
}

func TestEventsOrderAndCopy(t *testing.T) {
	var evs Events
	if len(evs.All()) != 0 || len(evs.OfType(event.TypeAuth)) != 0 {
		t.Fatal("zero value is not empty")
	}
	for i, typ := range []string{event.TypeAuth, event.TypeCommand, event.TypeAuth} {
		evs.Emit(event.Event{Type: typ, Service: fmt.Sprint(i)})
	}
	auths := evs.OfType(event.TypeAuth)
	if len(auths) != 2 || auths[0].Service != "0" || auths[1].Service != "2" {
		t.Fatalf("OfType(auth) = %+v", auths)
	}
	all := evs.All()
	all[0].Service = "changed"
	if evs.All()[0].Service != "0" {
		t.Error("All returned the recorder's own slice")
	}
}

func TestEventsWith(t *testing.T) {
	var evs Events
	for _, e := range []event.Event{
		{Type: event.TypeCommand, Fields: map[string]string{"action": "run", "n": "1"}},
		{Type: event.TypeCommand, Fields: map[string]string{"action": "pull", "n": "2"}},
		{Type: event.TypeAuth, Fields: map[string]string{"action": "run", "n": "3"}},
		{Type: event.TypeCommand, Fields: map[string]string{"action": "run", "n": "4"}},
		{Type: event.TypeCommand},
	} {
		evs.Emit(e)
	}
	tests := []struct {
		typ, key, value string
		want            []string // the n fields
	}{
		{event.TypeCommand, "action", "run", []string{"1", "4"}},
		{event.TypeAuth, "action", "run", []string{"3"}},
		{event.TypeCommand, "action", "kill", nil},
		{event.TypeCommand, "action", "", []string{""}},
	}
	for _, tc := range tests {
		var got []string
		for _, e := range evs.With(tc.typ, tc.key, tc.value) {
			got = append(got, e.Fields["n"])
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("With(%s, %s, %q) = events %v, want %v", tc.typ, tc.key, tc.value, got, tc.want)
		}
	}
}

// fatalTB records Fatalf instead of stopping the goroutine.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestEventually(t *testing.T) {
	t.Run("holds after a few polls", func(t *testing.T) {
		var n atomic.Int32
		Eventually(t, "third poll", func() bool { return n.Add(1) >= 3 })
		if got := n.Load(); got != 3 {
			t.Errorf("cond called %d times, want 3", got)
		}
	})
	t.Run("times out", func(t *testing.T) {
		t.Parallel()
		ftb := &fatalTB{}
		Eventually(ftb, "the impossible", func() bool { return false })
		if !strings.Contains(ftb.msg, "the impossible") {
			t.Errorf("failure message %q does not name what was awaited", ftb.msg)
		}
	})
}
