package rdp

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"

	"decnet/internal/tlscert"
)

// certKind is the certificate a product presents.
type certKind int

const (
	// certWindows is the self-signed certificate the Remote Desktop
	// service makes for itself: CN = the computer's DNS name, no SAN, RSA
	// 2048, SHA-256, valid 6 months, extended key usage server
	// authentication then key usage key and data encipherment, both not
	// critical, and a 16-byte random serial. Windows renews it when it
	// expires.
	certWindows certKind = iota
	// certSnakeoil is Debian's ssl-cert snakeoil, which xrdp uses: CN and
	// SAN DNS = the host name, RSA 2048, SHA-256, valid 10 years, basic
	// constraints CA:FALSE, SAN and subject key identifier in OpenSSL's
	// order, a 159-bit random serial.
	certSnakeoil
)

var (
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstraints    = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectAltName      = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSubjectKeyID        = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidServerAuth          = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1}
	keyAndDataEncipherment = asn1.BitString{Bytes: []byte{0x30}, BitLength: 4}
)

// Certificate lifetimes, and how far back a first certificate is dated so
// that a new decky does not present one made minutes ago.
const (
	windowsCertMonths   = 6
	snakeoilCertDays    = 3650
	windowsMaxBackdate  = 120 * 24 * time.Hour
	snakeoilMaxBackdate = 700 * 24 * time.Hour
)

// certProfile is how the product of kind makes its certificate for the
// name cn. Windows renews its certificate when it expires; Debian's
// snakeoil is kept for its ten years.
func certProfile(kind certKind, cn string) tlscert.Profile {
	if kind == certWindows {
		return tlscert.Profile{Subject: pkix.Name{CommonName: cn}, Months: windowsCertMonths,
			Backdate: windowsMaxBackdate, Renew: true,
			Extensions: func(crypto.PublicKey) ([]pkix.Extension, error) {
				eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidServerAuth})
				if err != nil {
					return nil, err
				}
				ku, err := asn1.Marshal(keyAndDataEncipherment)
				return []pkix.Extension{{Id: oidExtKeyUsage, Value: eku}, {Id: oidKeyUsage, Value: ku}}, err
			}}
	}
	return tlscert.Profile{Subject: pkix.Name{CommonName: cn}, Lifetime: snakeoilCertDays * 24 * time.Hour,
		Backdate: snakeoilMaxBackdate, SerialBytes: 20,
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
