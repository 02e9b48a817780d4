// Package service is the contract every honeypot implements and the registry
// that holds them. A honeypot is a subpackage (service/ssh, service/http, ...)
// that registers itself in init, like a CoreDNS plugin.
package service

import (
	"context"
	"log/slog"
	"net"

	"decnet/internal/event"
)

// Proto is a transport protocol.
type Proto string

// The transports a service may listen on.
const (
	TCP Proto = "tcp"
	UDP Proto = "udp"
)

// Port is a port a service declares. TLS ports are served with TLS.
type Port struct {
	Number int
	Proto  Proto
	TLS    bool
}

// Info is what a service declares about itself.
type Info struct {
	Slug        string
	Description string
	Ports       []Port
	// Persona returns a new persona struct, holding the defaults, as a
	// pointer. Its fields carry `ini:"key"` tags and a doc comment each; see
	// DecodePersona. Nil means the service takes no persona keys.
	Persona func() any
	// FleetSingleton marks a service that runs once for the whole fleet,
	// on the host, rather than on a decky (the passive sniffer watches the
	// LAN every decky is on): it is listed, but no decky may run it.
	FleetSingleton bool
}

// Host is what a service knows of the decky it runs on.
type Host struct {
	Name     string // decky name: the log identity (RFC 5424 HOSTNAME)
	Hostname string // the hostname the decky shows attackers
	Distro   string // distro slug (see package archetype)
	OS       string // OS family slug
	// Archetype is the kind of machine the decky poses as (see package
	// archetype; empty when it has none), for services whose look depends
	// on it: the SNMP agent of a printer describes a printer.
	Archetype string
	IP        string // the decky's address
	// DataDir is a directory, created by the runtime, where this service
	// keeps what must outlive a restart for this decky (host keys,
	// captures of its own protocol).
	DataDir string
	// SharedDir is a directory, created by the runtime, that every service
	// of this decky is given: the state of the machine rather than of one
	// service, which a real host keeps once however it is reached (the
	// filesystem its shells see, the passwords its accounts took). The
	// other services may use it at the same time from other processes
	// (the docker runtime runs one container each), so whatever is kept
	// there is written under a file lock (package flock) and reread when
	// it changed on disk. Empty when the runtime gives none (a service run
	// alone); a service then keeps that state in DataDir.
	SharedDir string
}

// Shared is where a service keeps the state of the machine: SharedDir, or
// its DataDir when the runtime gives no shared directory.
func (h Host) Shared() string {
	if h.SharedDir != "" {
		return h.SharedDir
	}
	return h.DataDir
}

// Config is what a service gets to build its server for one decky.
type Config struct {
	Host Host
	// Persona is the pointer Info.Persona returned, decoded from the fleet
	// configuration and validated; nil when the service has none.
	Persona any
	// Emit takes the service's events. It stamps the time, decky and
	// service, so producers set only Type, Severity, Fields and Msg.
	Emit event.Emitter
	// Log is for our own operational logs, never for attacker events.
	Log *slog.Logger
}

// Listeners are the sockets the runtime opened for a service, keyed by the
// declared port number (the bound port may differ: see the local runtime's
// port offset).
type Listeners struct {
	TCP map[int]net.Listener
	UDP map[int]net.PacketConn
}

// Service is a honeypot kind.
type Service interface {
	Info() Info
	// New builds the server for one decky. It must not open sockets.
	New(cfg Config) (Server, error)
}

// Server is one decky's instance of a service.
type Server interface {
	// Serve serves the listeners until ctx is done, then returns nil after
	// closing what it opened. Listeners are closed by the caller.
	Serve(ctx context.Context, ls Listeners) error
}
