package rdp

import (
	"crypto/tls"
	"slices"
)

// product is how one RDP server answers where implementations differ.
type product struct {
	name string
	// confirm chooses the answer to a Connection Request.
	confirm func(cr ConnectionRequest) Confirm
	// drainGarbage keeps a connection that did not start with a
	// Connection Request open, reading, until the client or the idle
	// deadline ends it (xrdp); otherwise it is closed at once (Windows).
	drainGarbage bool
	// directTLS accepts a TLS ClientHello in place of the Connection
	// Request (Windows).
	directTLS bool
	// serverOrder picks the cipher suite in the order of the TLS
	// configuration, as schannel does, not crypto/tls's own.
	serverOrder bool
	cert        certKind
	// tls is the product's TLS configuration, without the certificate.
	tls func() *tls.Config
}

// windowsNegFlags are the RDP_NEG_RSP flags of Windows 10 and Server
// 2016/2019 (nmap's "Windows 10" match: 0x1f).
const windowsNegFlags = negRspExtendedData | negRspGFX | negRspReserved | negRspRestrictedAdmin | negRspRedirectedAuth

// windowsProduct is Windows Server 2019's Remote Desktop service. It
// selects, from what the client requests, HYBRID_EX, then HYBRID, then
// RDSTLS (nmap's rdp-enum-encryption reports all three as SUCCESS against
// Windows 10 and 2016+); with NLA required (the default) anything else is
// HYBRID_REQUIRED_BY_SERVER, without it TLS and then standard RDP
// security are accepted too. A request without RDP_NEG_REQ (RDP 5.0
// clients) gets a CC without negotiation data (MS-RDPBCGR 3.3.5.3.2).
func windowsProduct(nla bool) product {
	return product{
		name: Windows,
		confirm: func(cr ConnectionRequest) Confirm {
			if !cr.HasNegReq {
				return Confirm{}
			}
			c := Confirm{Neg: true, Flags: windowsNegFlags}
			p := cr.Protocols
			switch {
			case p&ProtocolHybridEx != 0:
				c.Selected = ProtocolHybridEx
			case p&ProtocolHybrid != 0:
				c.Selected = ProtocolHybrid
			case p&ProtocolRDSTLS != 0:
				c.Selected = ProtocolRDSTLS
			case nla:
				c.Failure = failureHybridRequired
			case p&ProtocolSSL != 0:
				c.Selected = ProtocolSSL
			default:
				c.Selected = ProtocolRDP
			}
			return c
		},
		directTLS:   true,
		serverOrder: true,
		cert:        certWindows,
		tls:         schannelConfig,
	}
}

// xrdpProduct is xrdp 0.9.21 with Debian's xrdp.ini (security_layer=
// negotiate): TLS whenever the client offers it, otherwise standard RDP
// security, never CredSSP, with RDP_NEG_RSP flags 0x01 (real-products.md
// §15).
func xrdpProduct() product {
	return product{
		name: XRDP,
		confirm: func(cr ConnectionRequest) Confirm {
			if !cr.HasNegReq {
				return Confirm{}
			}
			c := Confirm{Neg: true, Flags: negRspExtendedData, Selected: ProtocolRDP}
			if cr.Protocols&ProtocolSSL != 0 {
				c.Selected = ProtocolSSL
			}
			return c
		},
		drainGarbage: true,
		cert:         certSnakeoil,
		tls:          openSSLConfig,
	}
}

// schannelConfig comes as close to Windows Server 2019's schannel as
// crypto/tls allows: TLS 1.0 to 1.2 (no 1.3 before Server 2022), the
// suites of schannel's default list that crypto/tls implements, in
// schannel's order, and schannel's curves. The differences are in
// README.md.
func schannelConfig() *tls.Config {
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

// openSSLConfig is xrdp's TLS (OpenSSL 3.0, ssl_protocols TLSv1.2,
// TLSv1.3, tls_ciphers HIGH): no post-quantum key share, which OpenSSL 3.0
// does not have, and no session tickets.
func openSSLConfig() *tls.Config {
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
		CurvePreferences:       []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521},
		SessionTicketsDisabled: true,
	}
}

// tls12Only are the suites crypto/tls offers from TLS 1.2 on.
var tls12Only = map[uint16]bool{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: true, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: true,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: true, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: true,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384: true, tls.TLS_RSA_WITH_AES_128_GCM_SHA256: true,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256: true,
}

// ecdheSuites need a curve both sides know.
var ecdheSuites = map[uint16]bool{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: true, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: true,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: true, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: true,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: true, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: true,
}

// serverOrder makes cfg choose like a server that prefers its own order:
// for each ClientHello it offers only the first of its suites that the
// client offers and that fit the version the handshake will settle on.
// crypto/tls, which ignores PreferServerCipherSuites, then has no choice.
func serverOrder(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	base := cfg.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		version := uint16(0)
		for _, v := range hello.SupportedVersions {
			if v >= base.MinVersion && v <= base.MaxVersion && v > version {
				version = v
			}
		}
		curve := slices.ContainsFunc(base.CurvePreferences, func(c tls.CurveID) bool {
			return slices.Contains(hello.SupportedCurves, c)
		})
		for _, s := range base.CipherSuites {
			if !slices.Contains(hello.CipherSuites, s) || tls12Only[s] && version < tls.VersionTLS12 || ecdheSuites[s] && !curve {
				continue
			}
			one := base.Clone()
			one.CipherSuites = []uint16{s}
			return one, nil
		}
		return nil, nil
	}
	return cfg
}
