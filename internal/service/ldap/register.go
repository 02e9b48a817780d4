// Package ldap is the LDAP honeypot: LDAPv3 on 389 with StartTLS and LDAPS
// on 636, answering as OpenLDAP slapd 2.5 on Debian or as Active Directory
// on a Windows Server 2019 domain controller. It records every operation,
// captures simple-bind DNs and passwords, SASL PLAIN credentials, and the
// crackable material of NTLM (Sicily, GSS-SPNEGO and SASL NTLM, through
// package ntlmssp) and CRAM-MD5 binds, and answers the root DSE and
// searches from a seeded directory that fits the persona.
package ldap

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "ldap"

// The ports: LDAP (with StartTLS) and LDAP over TLS.
const (
	PortLDAP  = 389
	PortLDAPS = 636
)

// Service is the ldap honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares ports 389 and 636 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "LDAP directory (OpenLDAP slapd or Active Directory persona) capturing binds, NTLM hashes and searches",
		Ports: []service.Port{
			{Number: PortLDAP, Proto: service.TCP},
			{Number: PortLDAPS, Proto: service.TCP, TLS: true},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's LDAP server.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

var (
	_ service.Service   = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
