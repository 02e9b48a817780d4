package mssql

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"time"

	"decnet/internal/tlsstack"

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

// tlsConfig is Schannel's TLS as SQL Server uses it for TDS 7 (whose
// clients cannot carry TLS 1.3's handshake).
func tlsConfig(cert tls.Certificate) *tls.Config {
	c := tlsstack.Schannel2019()
	c.Certificates = []tls.Certificate{cert}
	return c
}

// loadCert is the decky's fallback certificate, kept in dir.
func loadCert(dir string) (tls.Certificate, error) {
	return tlscert.Load(dir, "fallback", certProfile)
}
