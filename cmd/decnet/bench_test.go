package main

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"decnet/internal/store"
)

// BenchmarkAttackToAPI measures how long an attacker's command takes to
// become visible through GET /api/v1/logs: a Redis command is sent to a
// decky of a running `decnet up`, then the API is polled every millisecond
// until the event is there. It reports the median and p99 latency.
func BenchmarkAttackToAPI(b *testing.B) {
	dir := b.TempDir()
	const ip = "127.77.202.10"
	n := startNode(b, filepath.Join(dir, "data"), freePort(b), "--services", "redis", "--deckies", "1", "--ip-base", ip)
	defer n.stop()
	token := n.token()
	c, err := net.Dial("tcp", net.JoinHostPort(ip, n.port("decky-01", "redis")))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		arg := fmt.Sprintf("lat-%d", i)
		start := time.Now()
		fmt.Fprintf(c, "*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n", len(arg), arg)
		r.ReadString('\n')
		r.ReadString('\n')
		q := "/logs?limit=1&search=" + url.QueryEscape(`service:redis command:"ECHO `+arg+`"`)
		for {
			var page store.Page[store.Log]
			n.get(token, q, &page)
			if len(page.Data) == 1 {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("event %s not visible after 10s", arg)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}
