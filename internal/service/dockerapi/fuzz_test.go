package dockerapi

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"decnet/internal/service"
)

// FuzzRequests serves a byte stream of HTTP requests (seeds: the docker
// CLI's connections, captured by TestCaptureSeeds, and curl-style
// oddities) to one daemon: routing, version prefixes, query parameters
// and JSON bodies must never panic or hang.
func FuzzRequests(f *testing.F) {
	f.Add([]byte("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"))
	s, err := NewServer(service.Config{Host: testHost}, defaultPersona().(*Persona))
	if err != nil {
		f.Fatal(err)
	}
	h := &handler{s: s, ctx: context.Background(), streams: &sync.WaitGroup{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for range 8 {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r.WithContext(ctx))
			cancel()
			if w.Code < 200 || w.Code > 599 {
				t.Fatalf("status %d", w.Code)
			}
		}
	})
}
