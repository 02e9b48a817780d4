// Package tlsstack holds the TLS settings of the TLS libraries that the
// imitated products use, as close as crypto/tls allows: the versions they
// complete, their cipher suites in their order, their curves and their
// session-ticket policy. Scanners that walk versions and suites, or read
// JA3S/JA4S, see these choices. What crypto/tls cannot change (its
// extension order, its key shares) is listed in each service's README.
package tlsstack

import "crypto/tls"

// Schannel2019 is Windows Server 2019's schannel: TLS 1.0 to 1.2 (no 1.3
// before Server 2022), the suites of schannel's default list that
// crypto/tls implements, in schannel's order, schannel's curves, and no
// session tickets. Remote Desktop, SQL Server, Active Directory's LDAPS
// and IIS all speak it.
func Schannel2019() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
		},
		CurvePreferences:       []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
		SessionTicketsDisabled: true,
	}
}

// OpenSSL3 is Debian 12's OpenSSL 3.0 at security level 2 with the HIGH
// cipher list: TLS 1.2 and 1.3 only (a TLS 1.0 or 1.1 client is refused),
// ECDHE before plain RSA key exchange, AES-GCM and ChaCha20 first, X25519
// then the NIST curves, and session tickets on (the services that turn
// them off, Apache and xrdp, set SessionTicketsDisabled).
func OpenSSL3() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		MaxVersion: tls.VersionTLS13,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
			tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
			tls.TLS_RSA_WITH_AES_256_CBC_SHA,
			tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		},
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
	}
}
