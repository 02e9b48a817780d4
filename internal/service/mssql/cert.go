package mssql

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"time"

	"decnet/internal/tlscert"
)

// fallbackCN is the subject and issuer of the certificate SQL Server makes
// for itself when none is configured, as almost every installation runs.
const fallbackCN = "SSL_Self_Signed_Fallback"

// certProfile is SQL Server's fallback certificate (2016 and later): self
// signed, RSA 2048 with SHA-256, valid 30 years from when the service
// started, which is dated back up to a few weeks, as a server that last
// restarted on a patch day.
var certProfile = tlscert.Profile{
	Subject:  pkix.Name{CommonName: fallbackCN},
	Lifetime: 30 * 365 * 24 * time.Hour,
	Backdate: 40 * 24 * time.Hour,
}

// tlsConfig is Schannel's TLS on Windows Server 2016 to 2022 as SQL Server
// 2017 to 2022 uses it for TDS 7: TLS 1.0 to 1.2 (TDS 7 clients cannot
// carry TLS 1.3's handshake), ECDHE then plain RSA suites in Schannel's
// order (of those Go has), no session tickets.
func tlsConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS10,
		MaxVersion:             tls.VersionTLS12,
		SessionTicketsDisabled: true,
		CurvePreferences:       []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
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
	}
}

// loadCert is the decky's fallback certificate, kept in dir.
func loadCert(dir string) (tls.Certificate, error) {
	return tlscert.Load(dir, "fallback", certProfile)
}
