package mqtt

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
)

// sysInterval is mosquitto's default sys_interval: how often the $SYS
// tree is refreshed.
const sysInterval = 10 * time.Second

// counters are the broker figures mochi does not keep the way mosquitto
// reports them.
type counters struct {
	sockets     atomic.Int64 // connections accepted
	pubIn       atomic.Int64 // PUBLISH packets from clients
	pubInBytes  atomic.Int64
	pubOut      atomic.Int64 // PUBLISH packets to clients
	pubOutBytes atomic.Int64
	injected    atomic.Int64 // the broker's own publishes, which mochi counts as received
}

func (c *counters) socket()             { c.sockets.Add(1) }
func (c *counters) publishIn(size int)  { c.pubIn.Add(1); c.pubInBytes.Add(int64(size)) }
func (c *counters) publishOut(size int) { c.pubOut.Add(1); c.pubOutBytes.Add(int64(size)) }

// loadNames are mosquitto's load averages, in its order of publishing.
var loadNames = []string{
	"messages/received", "messages/sent", "publish/dropped", "publish/received", "publish/sent",
	"bytes/received", "bytes/sent", "sockets", "connections",
}

// sysTree computes mosquitto's $SYS tree from the broker's figures.
type sysTree struct {
	broker  *mochi.Server
	stats   *counters
	started time.Time
	heapMax int64

	mu    sync.Mutex
	last  map[string]string // what was last published, per topic
	prev  map[string]int64  // the load counters at the last refresh
	loads map[string]*[3]float64
	at    time.Time
}

func newSysTree(b *mochi.Server, stats *counters, started time.Time) *sysTree {
	return &sysTree{broker: b, stats: stats, started: started, last: map[string]string{},
		prev: map[string]int64{}, loads: map[string]*[3]float64{}}
}

// refresh returns the $SYS topics whose value changed since the last
// call (all of them the first time), in mosquitto's order.
func (t *sysTree) refresh(now time.Time) [][2]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	info := t.broker.Info.Clone()
	connected := info.ClientsConnected
	total := int64(t.broker.Clients.Len())
	retainedCount := int64(t.broker.Topics.Retained.Len())
	var retainedBytes int64
	for _, pk := range t.broker.Topics.Retained.GetAll() {
		retainedBytes += int64(len(pk.Payload))
	}
	injected := t.stats.injected.Load()
	received := max(info.PacketsReceived-injected, 0)
	heap := 48000 + 1400*total + retainedBytes + 96*retainedCount
	t.heapMax = max(t.heapMax, heap+424) // freed blocks leave the peak above

	uptime := int64(now.Sub(t.started) / time.Second)
	v := func(n int64) string { return strconv.FormatInt(n, 10) }
	out := [][2]string{
		{"$SYS/broker/version", "mosquitto version 2.0.11"},
		{"$SYS/broker/uptime", v(uptime) + " seconds"},
		{"$SYS/broker/clients/total", v(total)},
		{"$SYS/broker/clients/inactive", v(total - connected)},
		{"$SYS/broker/clients/disconnected", v(total - connected)},
		{"$SYS/broker/clients/active", v(connected)},
		{"$SYS/broker/clients/connected", v(connected)},
		{"$SYS/broker/clients/expired", "0"},
		{"$SYS/broker/clients/maximum", v(max(info.ClientsMaximum, connected))},
	}
	current := map[string]int64{
		"messages/received": received, "messages/sent": info.PacketsSent,
		"publish/dropped": info.MessagesDropped, "publish/received": t.stats.pubIn.Load(),
		"publish/sent": t.stats.pubOut.Load(), "bytes/received": info.BytesReceived,
		"bytes/sent": info.BytesSent, "sockets": t.stats.sockets.Load(), "connections": t.stats.sockets.Load(),
	}
	t.updateLoads(now, current)
	for i, span := range []string{"1min", "5min", "15min"} {
		for _, name := range loadNames {
			out = append(out, [2]string{"$SYS/broker/load/" + name + "/" + span, fmt.Sprintf("%.2f", t.loads[name][i])})
		}
	}
	out = append(out, [][2]string{
		{"$SYS/broker/messages/stored", v(retainedCount)},
		{"$SYS/broker/messages/received", v(received)},
		{"$SYS/broker/messages/sent", v(info.PacketsSent)},
		{"$SYS/broker/store/messages/count", v(retainedCount)},
		{"$SYS/broker/store/messages/bytes", v(retainedBytes)},
		{"$SYS/broker/subscriptions/count", v(info.Subscriptions)},
		{"$SYS/broker/shared_subscriptions/count", "0"},
		{"$SYS/broker/retained messages/count", v(retainedCount)},
		{"$SYS/broker/heap/current", v(heap)},
		{"$SYS/broker/heap/maximum", v(t.heapMax)},
		{"$SYS/broker/publish/messages/dropped", v(info.MessagesDropped)},
		{"$SYS/broker/publish/messages/received", v(t.stats.pubIn.Load())},
		{"$SYS/broker/publish/messages/sent", v(t.stats.pubOut.Load())},
		{"$SYS/broker/publish/bytes/received", v(t.stats.pubInBytes.Load())},
		{"$SYS/broker/publish/bytes/sent", v(t.stats.pubOutBytes.Load())},
		{"$SYS/broker/bytes/received", v(info.BytesReceived)},
		{"$SYS/broker/bytes/sent", v(info.BytesSent)},
	}...)
	changed := out[:0]
	for _, kv := range out {
		if t.last[kv[0]] != kv[1] {
			t.last[kv[0]] = kv[1]
			changed = append(changed, kv)
		}
	}
	return changed
}

// updateLoads moves mosquitto's 1, 5 and 15 minute load averages: the
// per-minute rate since the last refresh, decayed exponentially.
func (t *sysTree) updateLoads(now time.Time, current map[string]int64) {
	dt := now.Sub(t.at).Seconds()
	first := t.at.IsZero()
	t.at = now
	for name, n := range current {
		l := t.loads[name]
		if l == nil {
			l = &[3]float64{}
			t.loads[name] = l
		}
		if !first && dt > 0 {
			rate := float64(n-t.prev[name]) * 60 / dt
			for i, minutes := range []float64{1, 5, 15} {
				e := math.Exp(-dt / (60 * minutes))
				l[i] = rate + e*(l[i]-rate)
			}
		}
		t.prev[name] = n
	}
}
