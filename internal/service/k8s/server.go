package k8s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/tlscert"
)

// Timeouts and limits of the apiserver's own HTTP server.
const (
	readHeaderTimeout = 32 * time.Second
	idleTimeout       = 90 * time.Second
	writeTimeout      = 60 * time.Second
	lifetime          = time.Hour
	maxHeaderBytes    = 1 << 20
	maxBody           = 3 << 20 // the apiserver's request body limit
)

// limits leave deadlines to net/http, as the real server does; lifetime is
// enforced per connection by the server.
var limits = service.Limits{MaxConns: service.DefaultLimits.MaxConns, MaxPerSource: service.DefaultLimits.MaxPerSource}

// Server is one decky's API server.
type Server struct {
	emit      event.Emitter
	log       *slog.Logger
	p         *Persona
	rel       release
	node, ip  string
	cert      tls.Certificate
	clientCAs *x509.CertPool
	seed      []byte // per-decky seed of UIDs
	bait      *cluster
	now       func() time.Time
}

// NewServer builds the API server for cfg with persona p: it makes or
// loads the decky's cluster CA and serving certificate.
func NewServer(cfg service.Config, p *Persona) (*Server, error) {
	node := p.NodeName
	if node == "" {
		node = strings.ToLower(cfg.Host.Hostname)
	}
	if node == "" {
		node = "control-plane"
	}
	ips := []net.IP{net.IPv4(10, 96, 0, 1)}
	ip := cfg.Host.IP
	if a := net.ParseIP(ip); a != nil {
		ips = append(ips, a)
	} else {
		ip = "10.0.0.10"
	}
	// kubeadm's apiserver.crt: CN kube-apiserver, issued by the cluster CA
	// "kubernetes", valid a year, the node name then the service names.
	cert, err := tlscert.Load(cfg.Host.DataDir, "apiserver", tlscert.Profile{
		Subject:    pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:   []string{node, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPs:        ips,
		Issuer:     &pkix.Name{CommonName: "kubernetes"},
		Lifetime:   365 * 24 * time.Hour,
		Backdate:   200 * 24 * time.Hour,
		ServerAuth: true,
	})
	if err != nil {
		return nil, fmt.Errorf("k8s certificate: %w", err)
	}
	front, err := tlscert.Load(cfg.Host.DataDir, "front-proxy-client", tlscert.Profile{
		Subject:    pkix.Name{CommonName: "front-proxy-client"},
		Issuer:     &pkix.Name{CommonName: "front-proxy-ca"},
		Lifetime:   365 * 24 * time.Hour,
		Backdate:   200 * 24 * time.Hour,
		ClientAuth: true,
	})
	if err != nil {
		return nil, fmt.Errorf("k8s front proxy certificate: %w", err)
	}
	if len(cert.Certificate) < 2 || len(front.Certificate) < 2 {
		return nil, fmt.Errorf("k8s certificate: no issuing CA")
	}
	// The apiserver asks for client certificates of either CA, and sends
	// its certificate alone, as apiserver.crt holds no chain.
	pool := x509.NewCertPool()
	var ca *x509.Certificate
	for _, der := range [][]byte{cert.Certificate[1], front.Certificate[1]} {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("k8s CA: %w", err)
		}
		if ca == nil {
			ca = c
		}
		pool.AddCert(c)
	}
	cert.Certificate = cert.Certificate[:1]
	logger := cfg.Log
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{emit: cfg.Emit, log: logger, p: p, rel: releases[p.Version], node: node, ip: ip, cert: cert,
		clientCAs: pool, seed: ca.Raw, now: time.Now}
	s.bait = newCluster(baitIn{node: node, ip: ip, t0: cert.Leaf.NotBefore,
		caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})), uid: s.uid})
	return s, nil
}

// uid is a stable per-decky UUID (version 4 layout) for name.
func (s *Server) uid(name string) string {
	h := hashName(string(s.seed) + "\x00" + name)
	b := []byte(h[:32])
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return string(b[:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:32])
}

// go120Suites are Go 1.20's default TLS 1.2 cipher suites, which the
// releases built with it offer (no --tls-cipher-suites in kubeadm): later
// Go dropped the RSA key exchange and 3DES ones.
var go120Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// tlsConfig is the secure port's: TLS 1.2 and 1.3 with the suites and
// groups of the Go release the apiserver was built with (no post-quantum
// key exchange in Go 1.20), HTTP/2 first, client certificates requested
// (and checked by the authenticator, not the handshake), as
// kube-apiserver's secure serving does.
func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{
		Certificates:     []tls.Certificate{s.cert},
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     go120Suites,
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
		NextProtos:       []string{"h2", "http/1.1"},
		ClientAuth:       tls.RequestClientCert,
		ClientCAs:        s.clientCAs,
	}
}

// connKey carries a connection's state into its requests.
type connKey struct{}

// connState is what one connection's requests share.
type connState struct {
	port   int
	fields map[string]string
	mu     sync.Mutex
	seen   map[string]bool // credentials already recorded on this connection
}

// firstSight reports whether cred is new on this connection.
func (cs *connState) firstSight(cred string) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.seen[cred] {
		return false
	}
	if len(cs.seen) < 64 {
		cs.seen[cred] = true
	}
	return true
}

// Serve serves every TCP listener until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	var wg sync.WaitGroup
	for port, ln := range ls.TCP {
		var l net.Listener = service.Listen(ln, s.emit, limits)
		if port != InsecurePort {
			l = tls.NewListener(l, s.tlsConfig())
		}
		srv := s.httpServer(port)
		stop := context.AfterFunc(ctx, func() { srv.Close() })
		wg.Go(func() {
			defer stop()
			if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
				s.log.Warn("k8s serve", "port", port, "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

func (s *Server) httpServer(port int) *http.Server {
	var timers sync.Map
	return &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: 250, MaxReadFrameSize: 256 << 10, MaxReceiveBufferPerStream: 256 << 10},
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connState{port: port, fields: service.ConnFields(c), seen: map[string]bool{}})
		},
		// No session lives for ever, however busy.
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				timers.Store(c, time.AfterFunc(lifetime, func() { c.Close() }))
			case http.StateClosed, http.StateHijacked:
				if t, ok := timers.LoadAndDelete(c); ok {
					t.(*time.Timer).Stop()
				}
			}
		},
	}
}
