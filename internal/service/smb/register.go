// Package smb is the SMB honeypot on ports 445 and 139 (NetBIOS session
// service). It answers as Windows Server 2019 or as Debian's Samba 4.17
// does: the SMB1 negotiate that upgrades to SMB2, SMB2 NEGOTIATE up to
// 3.1.1 with its negotiate contexts, and SESSION_SETUP with SPNEGO and
// NTLMSSP, whose AUTHENTICATE becomes a crackable NetNTLMv2 line (hashcat
// 5600). Logons fail as on a machine where the attacker has no account;
// null sessions and guest logons are accepted when the persona allows, and
// then IPC$ and the srvsvc pipe list the persona's shares over DCE/RPC, so
// that `smbclient -L` shows bait shares. Every other share is refused.
package smb

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "smb"

// The ports: SMB over TCP, and SMB over the NetBIOS session service.
const (
	PortDirect  = 445
	PortNetBIOS = 139
)

// Service is the smb honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares ports 445 and 139 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "SMB file server (Windows Server or Samba persona) capturing NetNTLMv2 and listing bait shares",
		Ports: []service.Port{
			{Number: PortDirect, Proto: service.TCP},
			{Number: PortNetBIOS, Proto: service.TCP},
		},
		Persona: func() any { return &Persona{} },
	}
}

// New builds one decky's SMB server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

// Interface guards.
var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
