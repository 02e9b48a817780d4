package tlscert

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"
)

var (
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidServerAuth       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	// keyAndDataEncipherment is the key usage Windows writes.
	keyAndDataEncipherment = asn1.BitString{Bytes: []byte{0x30}, BitLength: 4}
)

// Lifetimes of the presets, and how far back a first certificate is dated.
const (
	WindowsMonths       = 6
	SnakeoilDays        = 3650
	WindowsMaxBackdate  = 120 * 24 * time.Hour
	SnakeoilMaxBackdate = 700 * 24 * time.Hour
)

// Snakeoil is Debian's ssl-cert snakeoil, made at install time for the host
// name cn and used by Apache, nginx, PostgreSQL, xrdp and others: CN and SAN
// DNS = cn, RSA 2048, SHA-256, valid 10 years, basic constraints CA:FALSE,
// SAN and subject key identifier in OpenSSL's order, a 159-bit random
// serial.
func Snakeoil(cn string) Profile {
	return Profile{Subject: pkix.Name{CommonName: cn}, Lifetime: SnakeoilDays * 24 * time.Hour,
		Backdate: SnakeoilMaxBackdate, SerialBytes: 20,
		Extensions: func(pub crypto.PublicKey) ([]pkix.Extension, error) {
			rsaPub, ok := pub.(*rsa.PublicKey)
			if !ok {
				return nil, fmt.Errorf("snakeoil key %T, want RSA", pub)
			}
			bc, _ := asn1.Marshal(struct{}{}) // BasicConstraints with cA FALSE left out (DER default)
			san, err := asn1.Marshal([]asn1.RawValue{{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(cn)}})
			if err != nil {
				return nil, err
			}
			ski := sha1.Sum(x509.MarshalPKCS1PublicKey(rsaPub))
			skiDER, _ := asn1.Marshal(ski[:])
			return []pkix.Extension{
				{Id: oidBasicConstraints, Value: bc}, {Id: oidSubjectAltName, Value: san}, {Id: oidSubjectKeyID, Value: skiDER},
			}, nil
		}}
}

// SnakeoilName is the name HostSnakeoil keeps a machine's snakeoil under.
const SnakeoilName = "ssl-cert-snakeoil"

// HostSnakeoil is the machine's snakeoil certificate for its host name,
// kept in dir (the decky's shared directory): Debian's ssl-cert makes one
// at install, /etc/ssl/certs/ssl-cert-snakeoil.pem, and Apache, Postfix,
// Dovecot, PostgreSQL and xrdp all present it, so a scanner that compares
// the certificates of a host's ports finds the same one. The services run
// as separate processes take turns making it (Open's file lock). An empty
// hostname is "localhost", what ssl-cert names a host it cannot name.
func HostSnakeoil(dir, hostname string) (tls.Certificate, error) {
	return Load(dir, SnakeoilName, Snakeoil(SnakeoilCN(hostname)))
}

// SnakeoilCN is the name ssl-cert gives a host's snakeoil: its host name,
// or "localhost" when it has none.
func SnakeoilCN(hostname string) string {
	if hostname == "" {
		return "localhost"
	}
	return hostname
}

// WindowsSelfSigned is the certificate a Windows service makes for itself
// (Remote Desktop, a WinRM or IIS self-signed binding): CN = the
// computer's DNS name, no SAN, RSA 2048, SHA-256, valid 6 months and
// renewed when it expires, extended key usage server authentication then
// key usage key and data encipherment, both not critical, a 16-byte random
// serial.
func WindowsSelfSigned(cn string) Profile {
	return Profile{Subject: pkix.Name{CommonName: cn}, Months: WindowsMonths, Backdate: WindowsMaxBackdate, Renew: true,
		Extensions: func(crypto.PublicKey) ([]pkix.Extension, error) {
			eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidServerAuth})
			if err != nil {
				return nil, err
			}
			ku, err := asn1.Marshal(keyAndDataEncipherment)
			return []pkix.Extension{{Id: oidExtKeyUsage, Value: eku}, {Id: oidKeyUsage, Value: ku}}, err
		}}
}
