package rdp

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
	// certSnakeoil is Debian's ssl-cert snakeoil, the host's one, which
	// xrdp uses (tlscert.HostSnakeoil).
	certSnakeoil
)
