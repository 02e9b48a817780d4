package mysql

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"time"

	"decnet/internal/tlscert"
)

// certLifetime is the validity of both products' certificates.
const certLifetime = 10 * 365 * 24 * time.Hour

// certProfile is how each product's certificate is made: MySQL 8 makes
// its own at first start, signed by an auto-generated CA named after the
// version; MariaDB has none, so its persona has what MariaDB's
// documentation tells administrators to make (a "MariaDB admin" CA
// signing a "MariaDB server" certificate).
func certProfile(prod, version string) tlscert.Profile {
	if prod == MySQL {
		return tlscert.Profile{
			Subject:  pkix.Name{CommonName: "MySQL_Server_" + version + "_Auto_Generated_Server_Certificate"},
			Issuer:   &pkix.Name{CommonName: "MySQL_Server_" + version + "_Auto_Generated_CA_Certificate"},
			Lifetime: certLifetime,
			Backdate: 400 * 24 * time.Hour,
		}
	}
	return tlscert.Profile{
		Subject:    pkix.Name{CommonName: "MariaDB server"},
		Issuer:     &pkix.Name{CommonName: "MariaDB admin"},
		Lifetime:   certLifetime,
		Backdate:   400 * 24 * time.Hour,
		ServerAuth: true,
	}
}

// loadCert returns the decky's server certificate, made on first use.
func loadCert(dir, prod, version string) (tls.Certificate, error) {
	c, err := tlscert.Load(dir, "server", certProfile(prod, version))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("mysql certificate: %w", err)
	}
	return c, nil
}
