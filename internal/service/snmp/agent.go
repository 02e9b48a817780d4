package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"

	"decnet/internal/archetype"
	"decnet/internal/service"
	"decnet/internal/udplimit"
)

// Var is one MIB object. OID is numeric dotted without a leading dot.
// Type/Value follow gosnmp's SnmpPDU conventions (OctetString: string or
// []byte; Integer: int; Counter32/Gauge32/TimeTicks: uint32; Counter64:
// uint64; ObjectIdentifier: dotted string; IPAddress: dotted string).
type Var struct {
	OID   string
	Type  gosnmp.Asn1BER
	Value any
}

// Interface is one ifTable/ipAddrTable row.
type Interface struct {
	Descr string
	Type  int // IANAifType: 6 ethernetCsmacd, 24 softwareLoopback
	MTU   int
	Speed uint32 // bits per second
	MAC   net.HardwareAddr
	Addr  netip.Prefix // the zero Prefix: no ipAddrTable row
}

// Device is the machine an agent describes: the system group, the
// interfaces and the vendor subtree.
type Device struct {
	Descr, ObjectID, Contact, Name, Location string
	Services                                 int
	Boot                                     time.Time // sysUpTime counts from it
	Interfaces                               []Interface
	Extra                                    []Var // any other objects (vendor subtree), in any order
}

// Agent is an SNMP v1/v2c/v3 agent answering for one Device.
type Agent struct {
	cfg    service.Config
	p      *Persona
	mib    *mib
	eng    *engine
	lim    *udplimit.Limiter
	now    func() time.Time
	st     stats
	logins logins
}

// NewAgent builds an SNMP v1/v2c/v3 agent for dev, using the snmp persona
// p (communities, v3 users; nil = defaults) and emitting through cfg (so
// conpot's events say service "conpot"). dev's Extra objects replace the
// generated ones at the same OID. A zero dev.Boot is the decky's boot
// (archetype.Boot).
func NewAgent(cfg service.Config, p *Persona, dev Device) (*Agent, error) {
	if p == nil {
		p = defaultPersona().(*Persona)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("snmp persona: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Emit == nil {
		return nil, errors.New("snmp: no event emitter")
	}
	now := time.Now
	key := cfg.Host.Name
	if key == "" {
		key = cfg.Host.Hostname
	}
	if dev.Boot.IsZero() {
		// The decky's boot, as its other services show it.
		dev.Boot = archetype.Boot(key, now())
	}
	users, err := p.users()
	if err != nil {
		return nil, fmt.Errorf("snmp: %w", err)
	}
	a := &Agent{cfg: cfg, p: p, eng: newEngine(key, dev, users, p.engineID()), lim: udplimit.New(defaultLimits()), now: now}
	// The agent's own objects come first, so that dev.Extra may replace
	// them.
	dev.Extra = append(a.agentObjects(dev.Boot), dev.Extra...)
	if a.mib, err = buildMIB(dev, now); err != nil {
		return nil, fmt.Errorf("snmp: %w", err)
	}
	return a, nil
}

// maxDatagram is the largest datagram read; snmpd reads at most 65535
// bytes and the rest of a longer one is cut off.
const maxDatagram = 65535

// ServePacket answers on pc until ctx is done.
func (a *Agent) ServePacket(ctx context.Context, pc net.PacketConn) error {
	service.ServeUDP(ctx, pc, maxDatagram, func(peer *net.UDPAddr, b []byte) {
		if reply := a.datagram(peer, b); reply != nil {
			if _, err := pc.WriteTo(reply, peer); err != nil {
				a.cfg.Log.Debug("snmp: reply not sent", "err", err)
			}
		}
	})
	return nil
}
