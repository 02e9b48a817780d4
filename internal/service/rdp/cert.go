package rdp

import (
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

// certProfile is how the product of kind makes its certificate for the
// name cn.
func certProfile(kind certKind, cn string) tlscert.Profile {
	if kind == certWindows {
		return tlscert.WindowsSelfSigned(cn)
	}
	return tlscert.Snakeoil(cn)
}
