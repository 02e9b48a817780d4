package conpot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/snmp"
)

// The service's event types.
const (
	typeModbusRead  = "modbus_read"
	typeModbusWrite = "modbus_write"
	// typeModbusOther is any other Modbus function: diagnostics, UMAS,
	// unknown codes.
	typeModbusOther = "modbus_request"
	typeDeviceID    = "device_id"
	typeS7          = "s7_request"
	typeHTTP        = "http"
	typeSNMP        = "snmp"
)

// Server is one decky's PLC.
type Server struct {
	cfg   service.Config
	p     *Persona
	id    identity
	plant *plant
	agent *snmp.Agent
	boot  time.Time
	now   func() time.Time
	// shortWait is how long a segment too short for an MBAP header waits
	// for the rest before it is answered as a frame of its own.
	shortWait time.Duration
}

func newServer(cfg service.Config, p *Persona) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	name := cfg.Host.Name
	if name == "" {
		name = cfg.Host.Hostname
	}
	now := time.Now
	s := &Server{cfg: cfg, p: p, id: newIdentity(name, cfg.Host.Hostname, p), now: now, shortWait: 300 * time.Millisecond}
	s.plant = newPlant(p.Site, name, now)
	// The PLC was powered up some days ago: uptime is not the decky's.
	s.boot = now().Add(-time.Duration(3+newDraw(name).intn(60*24)) * time.Hour)
	if cfg.Emit == nil {
		return nil, errors.New("conpot: no event emitter")
	}
	acfg := cfg
	acfg.Emit = snmpEvents(cfg.Emit)
	a, err := snmp.NewAgent(acfg, nil, s.snmpDevice())
	if err != nil {
		return nil, fmt.Errorf("conpot: snmp agent: %w", err)
	}
	s.agent = a
	return s, nil
}

// Serve answers every port until ctx is done. The M340 has no S7 server:
// its 102 listener is closed, so the port refuses connections.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	if ln, ok := ls.TCP[PortS7]; ok && s.id.device != DeviceS71200 {
		ln.Close()
		ls.TCP = withoutPort(ls.TCP, PortS7)
	}
	var wg sync.WaitGroup
	for _, pc := range ls.UDP {
		wg.Go(func() {
			if err := s.serveSNMP(ctx, pc); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.cfg.Log.Warn("snmp agent stopped", "err", err)
			}
		})
	}
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, service.DefaultLimits, func(ctx context.Context, port int, c *service.Conn) {
		switch port {
		case PortS7:
			s.serveS7(ctx, c)
		case PortHTTP:
			s.serveWeb(ctx, c)
		default:
			s.serveModbus(ctx, c)
		}
	})
	wg.Wait()
	return nil
}

func withoutPort(m map[int]net.Listener, port int) map[int]net.Listener {
	out := make(map[int]net.Listener, len(m))
	for p, ln := range m {
		if p != port {
			out[p] = ln
		}
	}
	return out
}

func (s *Server) emit(typ string, sev event.Severity, fields map[string]string, msg string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: fields, Msg: msg})
}

// segments reads c in its own goroutine, handing over what each read
// returns, until c fails (the caller closes it).
func segments(c net.Conn, size int) <-chan []byte {
	ch := make(chan []byte)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, size)
			n, err := c.Read(buf)
			if n > 0 {
				ch <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// serveModbus runs one Modbus TCP connection: frames are answered in
// order; a bad MBAP length ends the connection, as on the device.
func (s *Server) serveModbus(ctx context.Context, c *service.Conn) {
	segs := segments(c, 512)
	defer func() {
		c.Close()
		for range segs { // let the reader end
		}
	}()
	var buf []byte
	for {
		var timeout <-chan time.Time
		if len(buf) > 0 && len(buf) < mbapLen {
			timeout = time.After(s.shortWait)
		}
		select {
		case <-ctx.Done():
			return
		case seg, ok := <-segs:
			if !ok {
				return
			}
			buf = append(buf, seg...)
		case <-timeout:
			f := c.Fields()
			f["data"] = hexHead(buf)
			f["exception"] = "01 illegal function"
			s.emit(typeModbusOther, event.Info, f, "short frame")
			if _, err := c.Write(shortFrameReply(buf)); err != nil {
				return
			}
			buf = nil
			continue
		}
		for {
			fr, rest, need, err := splitFrame(buf)
			if err != nil {
				f := c.Fields()
				f["data"] = hexHead(buf)
				f["error"] = err.Error()
				s.emit(typeModbusOther, event.Info, f, "malformed frame")
				return
			}
			if need > 0 {
				break
			}
			buf = rest
			if !s.modbusFrame(c, fr) {
				return
			}
		}
		buf = append([]byte(nil), buf...) // do not pin old segments
	}
}

// modbusFrame answers one frame; false when the connection failed.
func (s *Server) modbusFrame(c *service.Conn, fr mbapFrame) bool {
	if fr.pid != 0 {
		// Not Modbus: the device drops the frame unanswered.
		f := c.Fields()
		f["protocol_id"] = itoa(int(fr.pid))
		f["data"] = hexHead(fr.pdu)
		s.emit(typeModbusOther, event.Info, f, "not modbus")
		return true
	}
	resp, out := s.handlePDU(fr.unit, fr.pdu)
	f := event.With(c.Fields(), out.fields)
	f["transaction_id"] = itoa(int(fr.tid))
	s.emit(out.typ, out.sev, f, "")
	if resp == nil {
		return true
	}
	_, err := c.Write(mbapReply(fr, resp))
	return err == nil
}
