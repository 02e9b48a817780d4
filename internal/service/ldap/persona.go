package ldap

import (
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"

	"decnet/internal/service"
)

// Persona is what a decky's directory server claims to be.
type Persona struct {
	// Product is the server imitated: openldap (slapd 2.5.13 on Debian 12)
	// or ad (Active Directory on a Windows Server 2019 domain controller).
	// Empty means ad on Windows deckies and openldap elsewhere.
	Product string `ini:"product"`
	// Domain is the DNS domain the directory serves (dc=<label>,...).
	// Empty means the decky hostname's domain, or else a company name
	// drawn from the decky's name (every decky gets its own).
	Domain string `ini:"domain"`
	// Organization is the o: of an openldap directory's base entry.
	// Empty means one made from the domain.
	Organization string `ini:"organization"`
	// Site is an ad domain controller's site.
	Site string `ini:"site"`
	// Users are name:password pairs whose binds succeed: the name may be
	// a seeded user's DN, uid or sAMAccountName, its userPrincipalName or
	// DOMAIN\name. A successful bind opens the seeded directory to
	// searches, which an ad persona refuses to anonymous clients. Empty,
	// the default, refuses every password, as the original did.
	Users []string `ini:"users"`
	// StartTLS answers the StartTLS extended operation on 389 and serves
	// LDAPS on 636. Default on; a stock Debian slapd has neither, so off
	// gives its exact "unsupported extended operation" answer.
	StartTLS bool `ini:"starttls"`
	// SizeLimit is the server's limit on entries per search (slapd's
	// sizelimit, AD's MaxPageSize). 0 means the product's default.
	SizeLimit int `ini:"size_limit"`
	// SASLMechanisms is the supportedSASLMechanisms list. Empty means the
	// product's default (slapd with Debian's libsasl2-modules, or AD's
	// GSSAPI, GSS-SPNEGO, EXTERNAL, DIGEST-MD5).
	SASLMechanisms []string `ini:"sasl_mechanisms"`
}

// The products a persona can imitate.
const (
	OpenLDAP = "openldap"
	AD       = "ad"
)

func defaultPersona() any { return &Persona{StartTLS: true} }

var dnsLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// Validate checks the product, the domain and the user list.
func (p *Persona) Validate() error {
	if p.Product != "" && p.Product != OpenLDAP && p.Product != AD {
		return fmt.Errorf("product %q: want %s or %s", p.Product, OpenLDAP, AD)
	}
	if p.Domain != "" {
		labels := strings.Split(p.Domain, ".")
		if len(labels) < 2 {
			return fmt.Errorf("domain %q: want at least two labels", p.Domain)
		}
		for _, l := range labels {
			if !dnsLabel.MatchString(l) {
				return fmt.Errorf("domain %q is not a DNS name", p.Domain)
			}
		}
	}
	if p.Site != "" && !dnsLabel.MatchString(p.Site) {
		return fmt.Errorf("site %q: want letters, digits and hyphens", p.Site)
	}
	for _, u := range p.Users {
		if name, _, ok := strings.Cut(u, ":"); !ok || name == "" {
			return fmt.Errorf("users: %q is not name:password", u)
		}
	}
	if p.SizeLimit < 0 {
		return errors.New("size_limit: must not be negative")
	}
	for _, m := range p.SASLMechanisms {
		if m == "" || strings.ToUpper(m) != m || len(m) > 20 {
			return fmt.Errorf("sasl_mechanisms: %q is not a SASL mechanism name", m)
		}
	}
	return nil
}

// companies name the directories of deckies without a domain of their own.
var companies = []string{
	"kestrel", "brightwater", "halvorsen", "meridianhealth", "orionmfg", "lakeshore", "northgate",
	"bluepeak", "ashford", "calderon", "pinecrest", "vantara", "redfern", "stonebridge",
}

// site is a persona resolved for one decky.
type site struct {
	ad        bool
	domain    string // DNS domain, lower case
	base      string // the naming context, as the product writes it
	host      string // the server's short host name, as the product writes it
	netbios   string // AD NetBIOS domain
	org       string // openldap o:
	adSite    string
	users     map[string]string // lower-case bind name -> password
	startTLS  bool
	sizeLimit int
	sasl      []string
	enc       encoder
}

// resolve fills the persona's defaults from the decky.
func resolve(p *Persona, h service.Host) site {
	s := site{ad: p.Product == AD || (p.Product == "" && h.OS == "windows"), users: map[string]string{}}
	s.enc = encoder{longConstructed: s.ad}
	hostname := h.Hostname
	if hostname == "" {
		hostname = h.Name
	}
	short, hostDomain, _ := strings.Cut(hostname, ".")
	s.domain = strings.ToLower(p.Domain)
	if s.domain == "" && strings.Contains(hostDomain, ".") && hostDomain != "localdomain" {
		s.domain = strings.ToLower(hostDomain)
	}
	if s.domain == "" {
		hh := fnv.New32a()
		hh.Write([]byte(h.Name + "/" + hostname))
		tld := ".com"
		if s.ad {
			tld = ".local"
		}
		s.domain = companies[hh.Sum32()%uint32(len(companies))] + tld
	}
	labels := strings.Split(s.domain, ".")
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = "dc=" + l
		if s.ad {
			parts[i] = "DC=" + l
		}
	}
	s.base = strings.Join(parts, ",")
	s.netbios = strings.ToUpper(labels[0][:min(len(labels[0]), 15)])
	s.host = strings.ToUpper(short)
	if !s.ad {
		s.host = strings.ToLower(short)
	}
	if s.host == "" {
		s.host = "DC01"
	}
	s.org = p.Organization
	if s.org == "" {
		s.org = strings.ToUpper(labels[0][:1]) + labels[0][1:]
	}
	s.adSite = p.Site
	if s.adSite == "" {
		s.adSite = "Default-First-Site-Name"
	}
	for _, u := range p.Users {
		name, pw, _ := strings.Cut(u, ":")
		s.users[strings.ToLower(name)] = pw
	}
	s.startTLS = p.StartTLS
	s.sizeLimit = p.SizeLimit
	if s.sizeLimit == 0 {
		s.sizeLimit = 500 // slapd's default sizelimit
		if s.ad {
			s.sizeLimit = 1000 // MaxPageSize
		}
	}
	s.sasl = p.SASLMechanisms
	if len(s.sasl) == 0 {
		s.sasl = []string{"SCRAM-SHA-512", "SCRAM-SHA-384", "SCRAM-SHA-256", "SCRAM-SHA-224", "SCRAM-SHA-1",
			"DIGEST-MD5", "CRAM-MD5", "NTLM"}
		if s.ad {
			s.sasl = []string{"GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"}
		}
	}
	return s
}

// dnsHost is the server's fully qualified name.
func (s site) dnsHost() string { return strings.ToLower(s.host) + "." + s.domain }

// offers reports whether mech is in supportedSASLMechanisms.
func (s site) offers(mech string) bool {
	for _, m := range s.sasl {
		if m == mech {
			return true
		}
	}
	return false
}
