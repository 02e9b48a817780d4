package rdp

import (
	"crypto/tls"
	"encoding/binary"
	"slices"

	"decnet/internal/tlsstack"
)

// product is how one RDP server answers where implementations differ.
type product struct {
	name string
	// confirm chooses the answer to a Connection Request.
	confirm func(cr ConnectionRequest) Confirm
	// xrdpFraming reads a first message that is not a Connection Request
	// to the end of the frame its first bytes announce, TPKT or fast-path,
	// then sends a Disconnect Provider Ultimatum and closes, as xrdp does;
	// otherwise the connection closes at once, as Windows closes it.
	xrdpFraming bool
	// directTLS accepts a TLS ClientHello in place of the Connection
	// Request (Windows).
	directTLS bool
	// serverOrder picks the cipher suite in the order of the TLS
	// configuration, as schannel does, not crypto/tls's own.
	serverOrder bool
	cert        certKind
	// tls is the product's TLS configuration, without the certificate.
	tls func() *tls.Config
	// serverData is the MCS Connect-Response's data blocks for a client
	// that requested protocols in its Connection Request and sent ci.
	serverData func(requested uint32, ci ConnectInitial) []byte
	// afterLogon ends the connection after the Client Info PDU.
	afterLogon func(ss *session, a *activation)
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
		tls:         tlsstack.Schannel2019,
		serverData:  windowsServerData,
		afterLogon:  windowsAfterLogon,
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
		xrdpFraming: true,
		cert:        certSnakeoil,
		tls:         openSSLConfig,
		serverData:  xrdpServerData,
		afterLogon:  xrdpAfterLogon,
	}
}

// Server core data (TS_UD_SC_CORE) of each product.
const (
	// xrdpCoreVersion is what xrdp sends: RDP 5.0 to 8.1.
	xrdpCoreVersion = 0x00080004
	// windowsCoreVersion is RDP 10.6, the protocol of Windows 10 1809 and
	// Server 2019.
	windowsCoreVersion = 0x0008000b
	// windowsEarlyCaps are RNS_UD_SC_EDGE_ACTIONS_SUPPORTED_V1,
	// RNS_UD_SC_DYNAMIC_DST_SUPPORTED and EDGE_ACTIONS_SUPPORTED_V2; not
	// SKIP_CHANNELJOIN, whose use would change the join sequence.
	windowsEarlyCaps = 0x7
)

// xrdpServerData are xrdp 0.9.21's blocks as captured: a 12-byte core
// block echoing the requested protocols, the channels, and a security
// block without encryption (TLS); xrdp ignores the client's message
// channel and multitransport blocks.
func xrdpServerData(requested uint32, ci ConnectInitial) []byte {
	b := serverBlock(scCore, xrdpCoreVersion, requested)
	b = append(b, netBlock(len(ci.Channels))...)
	return append(b, serverBlock(scSecurity, 0, 0)...)
}

// windowsServerData are the blocks of Windows Server 2019 with TLS: core
// with earlyCapabilityFlags, channels, security without encryption
// (ENCRYPTION_METHOD_NONE, ENCRYPTION_LEVEL_NONE), and the message
// channel when the client asked for one, numbered after the user ID.
func windowsServerData(requested uint32, ci ConnectInitial) []byte {
	b := serverBlock(scCore, windowsCoreVersion, requested, windowsEarlyCaps)
	b = append(b, netBlock(len(ci.Channels))...)
	b = append(b, serverBlock(scSecurity, 0, 0)...)
	if ci.MsgChannel {
		b = binary.LittleEndian.AppendUint16(b, scMsgChannel)
		b = binary.LittleEndian.AppendUint16(b, 6)
		b = binary.LittleEndian.AppendUint16(b, uint16(firstVC+len(ci.Channels)+1))
	}
	return b
}

// openSSLConfig is xrdp's TLS: OpenSSL 3.0 with ssl_protocols TLSv1.2,
// TLSv1.3 and tls_ciphers HIGH, and no session tickets.
func openSSLConfig() *tls.Config {
	c := tlsstack.OpenSSL3()
	c.SessionTicketsDisabled = true
	return c
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
