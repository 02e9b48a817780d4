// Package instance builds one service of one decky and opens its sockets:
// the code every runtime shares, so a service behaves the same in-process
// (local runtime) and alone in its container (`decnet honeypot`, docker
// runtime).
package instance

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// Build decodes the persona keys of service svc, creates host.DataDir and
// host.SharedDir and builds the server for that decky. Its events are stamped with the
// decky's name and the service's slug, and the time when unset.
func Build(svc service.Service, host service.Host, keys map[string]string, emit event.Emitter, log *slog.Logger) (service.Server, error) {
	info := svc.Info()
	persona, err := service.NewPersona(info, keys)
	if err != nil {
		return nil, fmt.Errorf("decky %s: %w", host.Name, err)
	}
	for _, dir := range []string{host.DataDir, host.SharedDir} {
		if dir == "" {
			continue
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("decky %s: service %s data dir: %w", host.Name, info.Slug, err)
		}
	}
	srv, err := svc.New(service.Config{
		Host: host, Persona: persona,
		Emit: Stamp(emit, host.Name, info.Slug),
		Log:  log.With("decky", host.Name, "service", info.Slug),
	})
	if err != nil {
		return nil, fmt.Errorf("decky %s: service %s: %w", host.Name, info.Slug, err)
	}
	return srv, nil
}

// Stamp fills in what the runtime knows of every event of one service.
func Stamp(next event.Emitter, decky, slug string) event.Emitter {
	return event.EmitterFunc(func(e event.Event) {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		e.Decky, e.Service = decky, slug
		next.Emit(e)
	})
}

// BindError is a port that could not be opened.
type BindError struct {
	Port service.Port
	// Bound is the port number tried (the declared one unless shifted).
	Bound int
	Addr  string
	Err   error
}

func (e *BindError) Error() string {
	return fmt.Sprintf("cannot bind %s/%s (declared port %d): %v", e.Addr, e.Port.Proto, e.Port.Number, e.Err)
}

func (e *BindError) Unwrap() error { return e.Err }

// listenConfig turns TCP keepalive off: Go's default 15 s probes are a tell
// (sshd leaves the kernel default of two hours).
var listenConfig = net.ListenConfig{KeepAlive: -1}

// Listen opens every port of ports on ip, at the port number portFor
// returns for it (nil: the declared one). On failure it closes what it
// opened and returns a *BindError.
func Listen(ports []service.Port, ip string, portFor func(service.Port) int) (service.Listeners, error) {
	ls := service.Listeners{TCP: map[int]net.Listener{}, UDP: map[int]net.PacketConn{}}
	for _, p := range ports {
		port := p.Number
		if portFor != nil {
			port = portFor(p)
		}
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		var err error
		switch p.Proto {
		case service.UDP:
			var pc net.PacketConn
			if pc, err = listenConfig.ListenPacket(context.Background(), "udp", addr); err == nil {
				ls.UDP[p.Number] = pc
			}
		default:
			var ln net.Listener
			if ln, err = listenConfig.Listen(context.Background(), "tcp", addr); err == nil {
				ls.TCP[p.Number] = ln
			}
		}
		if err != nil {
			Close(ls)
			return service.Listeners{}, &BindError{Port: p, Bound: port, Addr: addr, Err: err}
		}
	}
	return ls, nil
}

// Close closes every listener of ls.
func Close(ls service.Listeners) {
	for _, l := range ls.TCP {
		l.Close()
	}
	for _, c := range ls.UDP {
		c.Close()
	}
}
