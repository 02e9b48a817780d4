package mqtt

import "sync"

// retained bounds the retained messages attackers leave: a real broker
// keeps them all, a honeypot keeps up to maxRetainedCount topics and
// maxRetainedBytes of payload, then delivers further ones without
// keeping them.
type retained struct {
	mu    sync.Mutex
	sizes map[string]int
	bytes int
}

func newRetained() *retained { return &retained{sizes: map[string]int{}} }

// keep accounts for a retained publish of size bytes on topic (0 clears
// the topic) and says whether it may be kept.
func (r *retained) keep(topic string, size int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, had := r.sizes[topic]
	if size == 0 {
		if had {
			delete(r.sizes, topic)
			r.bytes -= old
		}
		return true
	}
	if !had && len(r.sizes) >= maxRetainedCount || r.bytes-old+size > maxRetainedBytes {
		return false
	}
	r.sizes[topic] = size
	r.bytes += size - old
	return true
}
