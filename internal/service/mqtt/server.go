package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/tlscert"
	"decnet/internal/tlsstack"
)

// Server is one decky's broker.
type Server struct {
	cfg   service.Config
	p     *Persona
	users map[string]string // nil: any login
	tls   *tls.Config       // nil when 8883 is off
	proc  *process
	stats *counters
	// started is when the imitated broker started: a while before this
	// process, by an amount that differs per decky.
	started time.Time
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, p: p, users: p.users(), stats: &counters{},
		proc: newProcess(cfg.Host.Name, p.Persona, p.CustomTopics, p.PublishInterval)}
	h := fnv.New32a()
	h.Write([]byte(cfg.Host.Name))
	s.started = time.Now().Add(-time.Duration(2*86400+h.Sum32()%(40*86400)) * time.Second)
	if p.tlsOn() {
		// An administrator who turns TLS on points mosquitto at the
		// host's snakeoil.
		cert, err := tlscert.HostSnakeoil(cfg.Host.Shared(), cfg.Host.Hostname)
		if err != nil {
			return nil, fmt.Errorf("mqtt: certificate: %w", err)
		}
		s.tls = tlsstack.OpenSSL3()
		s.tls.Certificates = []tls.Certificate{cert}
	}
	return s, nil
}

// admit says whether a CONNECT's login gets in: a client without a
// username when anonymous clients are allowed, any login when the
// persona lists no users, else a listed one.
func (s *Server) admit(hasUser bool, user, pass string) bool {
	if !hasUser {
		return s.p.AllowAnonymous
	}
	if s.users == nil {
		return true
	}
	want, ok := s.users[user]
	return ok && want == pass
}

// capabilities are mochi's settings closest to mosquitto 2.0.11's
// defaults, with the bounds a honeypot needs.
func capabilities() *mochi.Capabilities {
	c := mochi.NewDefaultServerCapabilities()
	c.ReceiveMaximum = receiveMaximum
	c.TopicAliasMaximum = topicAliasMaximum
	c.MaximumSessionExpiryInterval = 3600
	c.MaximumPacketSize = 1 << 20
	c.MaximumClientWritesPending = 256
	c.MaximumInflight = 1024
	c.MaximumMessageExpiryInterval = 0
	c.Compatibilities.NoInheritedPropertiesOnAck = true
	return c
}

// noSysResend keeps mochi from republishing its own $SYS tree: the
// interval is about fifty years.
const noSysResend = 50 * 365 * 24 * 3600

// Serve runs the broker on 1883 and, when the persona has TLS, 8883 until
// ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if _, ok := ls.TCP[PortMQTT]; !ok {
		return fmt.Errorf("mqtt: no listener for port %d", PortMQTT)
	}
	b := mochi.New(&mochi.Options{
		Capabilities:           capabilities(),
		Logger:                 slog.New(slog.DiscardHandler),
		SysTopicResendInterval: noSysResend,
	})
	hk := &hook{s: s, broker: b, ledger: newRetained()}
	if err := b.AddHook(hk, nil); err != nil {
		return fmt.Errorf("mqtt: hook: %w", err)
	}
	ready := make(chan struct{})
	for port, ln := range ls.TCP {
		var tlsCfg *tls.Config
		switch port {
		case PortMQTT:
		case PortMQTTS:
			if s.tls == nil {
				ln.Close()
				continue
			}
			tlsCfg = s.tls
		default:
			continue
		}
		wl := service.Listen(ln, s.cfg.Emit, service.DefaultLimits)
		id := "mqtt-" + strconv.Itoa(port)
		crashed := func(c *conn, r any) { s.crashed(b, hk, c, r) }
		if err := b.AddListener(newListener(id, wl, tlsCfg, s.cfg.Emit, ready, s.stats, crashed)); err != nil {
			return fmt.Errorf("mqtt: listener %d: %w", port, err)
		}
	}
	if err := b.Serve(); err != nil {
		return fmt.Errorf("mqtt: serve: %w", err)
	}
	// mochi published its own $SYS tree once, before any client could
	// connect; replace it with mosquitto's.
	for topic := range b.Topics.Retained.GetAll() {
		if strings.HasPrefix(topic, "$SYS/") {
			b.Topics.Retained.Delete(topic)
		}
	}
	pub := &publisher{broker: b, client: b.NewClient(nil, mochi.LocalListener, "", true), stats: s.stats}
	sys := newSysTree(b, s.stats, s.started)
	pub.publish(sys.refresh(time.Now()))
	pub.publish(s.proc.all())
	pub.started = true
	close(ready)

	var wg sync.WaitGroup
	wg.Go(func() { s.tick(ctx, sysInterval, func() { pub.publish(sys.refresh(time.Now())) }) })
	if s.p.PublishInterval > 0 {
		wg.Go(func() {
			s.tick(ctx, time.Duration(s.p.PublishInterval)*time.Second, func() { pub.publish(s.proc.tick()) })
		})
	}
	<-ctx.Done()
	wg.Wait()
	b.Close()
	return nil
}

// crashed records a session that made mochi panic and removes what the
// panic left: the client's entry and subscriptions, the hook's lock.
func (s *Server) crashed(b *mochi.Server, hk *hook, c *conn, r any) {
	s.cfg.Log.Error("mqtt: broker panic on a client's packet", "panic", r, "stack", string(debug.Stack()))
	f := copyFields(c.fields)
	f["error"] = event.Clip(fmt.Sprint(r), 256)
	s.cfg.Emit.Emit(event.Event{Type: TypeProtocolError, Severity: event.Warning, Fields: f,
		Msg: "malformed packet made the broker's decoder fail"})
	hk.release(c)
	for id, cl := range b.Clients.GetAll() {
		if cl.Net.Conn == net.Conn(c) {
			b.UnsubscribeClient(cl)
			b.Clients.Delete(id)
			cl.Stop(nil)
		}
	}
	c.Close()
}

// tick runs f every d until ctx is done.
func (s *Server) tick(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// transient are $SYS topics mosquitto publishes without the retain flag.
var transient = map[string]bool{"$SYS/broker/clients/expired": true, "$SYS/broker/clients/maximum": true}

// publisher publishes the broker's own messages as mosquitto does: kept
// retained, and delivered to the subscribers of the moment.
type publisher struct {
	broker *mochi.Server
	client *mochi.Client
	stats  *counters
	// started is set once clients may connect: from then on a topic's
	// retained message is replaced in the store directly, not through
	// mochi's retain path, which races with subscriptions (see hook).
	started bool
}

func (p *publisher) publish(kvs [][2]string) {
	for _, kv := range kvs {
		retain := !transient[kv[0]]
		pk := packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: retain && !p.started},
			TopicName:   kv[0],
			Payload:     []byte(kv[1]),
		}
		p.stats.injected.Add(1)
		if err := p.broker.InjectPacket(p.client, pk); err != nil {
			return
		}
		if retain && p.started {
			if _, ok := p.broker.Topics.Retained.Get(kv[0]); ok {
				pk.FixedHeader.Retain = true
				pk.Created = time.Now().Unix()
				p.broker.Topics.Retained.Add(kv[0], pk)
			}
		}
	}
}
