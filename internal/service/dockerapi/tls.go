package dockerapi

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"net"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/tlscert"
)

// certName is the daemon's certificate under its data directory.
const certName = "docker-server"

// certProfile is the certificate of Docker's "Protect the Docker daemon
// socket" guide: a private CA made with openssl signs a server
// certificate for the host's name and addresses, serverAuth only.
func certProfile(h service.Host) tlscert.Profile {
	p := tlscert.Profile{
		Subject:    pkix.Name{CommonName: h.Hostname},
		DNSNames:   []string{h.Hostname},
		IPs:        []net.IP{net.IPv4(127, 0, 0, 1)},
		Issuer:     &pkix.Name{CommonName: h.Hostname + "-ca"},
		Lifetime:   365 * 24 * time.Hour,
		Backdate:   200 * 24 * time.Hour,
		ServerAuth: true,
	}
	if ip := net.ParseIP(h.IP); ip != nil {
		p.IPs = append([]net.IP{ip}, p.IPs...)
	}
	return p
}

// tlsConfig is dockerd's (go-connections' ServerDefault of Docker 24):
// TLS 1.2 and later, ECDHE with AES-GCM only. Every client certificate
// presented is recorded; with tls_verify it must chain to the daemon's
// CA, as with dockerd --tlsverify.
func (s *Server) tlsConfig() (*tls.Config, error) {
	store, err := tlscert.Open(s.cfg.Host.DataDir, certName, certProfile(s.cfg.Host), nil)
	if err != nil {
		return nil, err
	}
	base := &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		},
		GetCertificate: store.GetCertificate,
		ClientAuth:     tls.RequestClientCert,
	}
	pool := store.CAPool()
	if s.p.TLSVerify {
		base.ClientAuth = tls.RequireAnyClientCert
		base.ClientCAs = pool // names the CA in the CertificateRequest
	}
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		conf := base.Clone()
		conf.GetConfigForClient = nil
		fields := service.ConnFields(hello.Conn)
		conf.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return s.clientCert(fields, raw, pool)
		}
		return conf, nil
	}
	return base, nil
}

// errUntrusted fails a handshake whose certificate the CA did not sign.
var errUntrusted = errors.New("client certificate not signed by the daemon's CA")

// clientCert records the certificate a client presented and, with
// tls_verify, refuses one the daemon's CA did not sign.
func (s *Server) clientCert(fields map[string]string, raw [][]byte, pool *x509.CertPool) error {
	if len(raw) == 0 {
		return nil
	}
	sum := sha256.Sum256(raw[0])
	f := map[string]string{event.FieldToken: hex.EncodeToString(sum[:]), event.FieldTokenType: "client_cert", "method": "tls"}
	cert, err := x509.ParseCertificate(raw[0])
	if err == nil {
		f["subject"] = event.Clip(cert.Subject.String(), 512)
		f["issuer"] = event.Clip(cert.Issuer.String(), 512)
		f["serial"] = event.Clip(cert.SerialNumber.String(), 80)
		f["cn"] = event.Clip(cert.Subject.CommonName, 256)
	}
	trusted := false
	if err == nil {
		inter := x509.NewCertPool()
		for _, r := range raw[1:] {
			if c, err := x509.ParseCertificate(r); err == nil {
				inter.AddCert(c)
			}
		}
		_, verr := cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		trusted = verr == nil
	}
	f[event.FieldSuccess] = boolString(trusted || !s.p.TLSVerify)
	s.cfg.Emit.Emit(event.Event{Type: event.TypeAuth, Severity: event.Warning, Fields: event.With(fields, f)})
	if s.p.TLSVerify && !trusted {
		return errUntrusted
	}
	return nil
}
