// Package custom serves a bring-your-own service ([custom-<name>] in the
// fleet INI) in runtimes that cannot run its program or image: each
// declared TCP port accepts connections and records what the peer sends,
// without answering, like a filtered-but-open port in front of a service
// that waits for its client to speak first. The docker runtime runs the
// real image instead.
package custom

import (
	"context"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"

	"decnet/internal/event"
	"decnet/internal/service"
)

// Limits of what one connection may make us keep.
const (
	chunkBytes = 4 << 10  // one data event holds at most this much
	totalBytes = 64 << 10 // per connection; the rest is counted, not kept
)

// limits keep idle peers from holding sockets: a silent port is worth
// little after a minute.
var limits = service.Limits{MaxConns: 128, MaxPerSource: 16, Idle: time.Minute, Lifetime: 10 * time.Minute}

// Service is one custom service.
type Service struct {
	name  string
	ports []int
}

// New returns the custom service with that name and TCP ports.
func New(name string, ports []int) *Service { return &Service{name: name, ports: ports} }

// Info implements service.Service.
func (s *Service) Info() service.Info {
	info := service.Info{Slug: s.name, Description: "custom service: records what clients send"}
	for _, p := range s.ports {
		info.Ports = append(info.Ports, service.Port{Number: p, Proto: service.TCP})
	}
	return info
}

// New implements service.Service.
func (s *Service) New(cfg service.Config) (service.Server, error) {
	return &server{emit: cfg.Emit}, nil
}

type server struct{ emit event.Emitter }

// Serve implements service.Server.
func (s *server) Serve(ctx context.Context, ls service.Listeners) error {
	service.ServeTCPPorts(ctx, ls, s.emit, limits, func(ctx context.Context, _ int, c *service.Conn) { s.handle(ctx, c) })
	return nil
}

func (s *server) handle(ctx context.Context, c *service.Conn) {
	buf := make([]byte, chunkBytes)
	kept := 0
	for ctx.Err() == nil {
		n, err := c.Read(buf)
		if n > 0 && kept < totalBytes {
			chunk := buf[:min(n, totalBytes-kept)]
			kept += len(chunk)
			f := c.Fields()
			f["size"] = strconv.Itoa(n)
			if utf8.Valid(chunk) {
				f["data"] = string(chunk)
			} else {
				f["data"], f["data_encoding"] = hex.EncodeToString(chunk), "hex"
			}
			s.emit.Emit(event.Event{Type: "data", Severity: event.Info, Fields: f})
		}
		if err != nil {
			return
		}
	}
}

var (
	_ service.Service = (*Service)(nil)
	_ service.Server  = (*server)(nil)
)
