package smb

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"decnet/internal/ntlmssp"
)

// SMB2 dialects (MS-SMB2 2.2.3).
const (
	dialect202      uint16 = 0x0202
	dialect210      uint16 = 0x0210
	dialect300      uint16 = 0x0300
	dialect302      uint16 = 0x0302
	dialect311      uint16 = 0x0311
	dialectWildcard uint16 = 0x02FF
)

// supportedDialects are the dialects both products speak, best first, as
// Samba's smbd_smb2_protocol_dialect_match and Windows Server 2019 pick
// them: the best the client lists, wherever it lists it.
var supportedDialects = []uint16{dialect311, dialect302, dialect300, dialect210, dialect202}

// dialectName names a dialect as the SMB2 specification writes it.
func dialectName(d uint16) string {
	switch d {
	case dialect202:
		return "2.0.2"
	case dialect210:
		return "2.1"
	case dialect300:
		return "3.0"
	case dialect302:
		return "3.0.2"
	case dialect311:
		return "3.1.1"
	case dialectWildcard:
		return "2.???"
	}
	return fmt.Sprintf("0x%04x", d)
}

// Global capabilities (MS-SMB2 2.2.4).
const (
	capDFS          uint32 = 0x01
	capLeasing      uint32 = 0x02
	capLargeMTU     uint32 = 0x04
	capMultiChannel uint32 = 0x08
	capDirLeasing   uint32 = 0x20
	capEncryption   uint32 = 0x40
)

// Negotiate context types (MS-SMB2 2.2.3.1).
const (
	ctxPreauth     uint16 = 0x0001
	ctxEncryption  uint16 = 0x0002
	ctxCompression uint16 = 0x0003
	ctxNetname     uint16 = 0x0005
	ctxTransport   uint16 = 0x0006
	ctxRDMA        uint16 = 0x0007
	ctxSigning     uint16 = 0x0008
	ctxPOSIX       uint16 = 0x0100
)

var contextNames = map[uint16]string{
	ctxPreauth: "preauth_integrity", ctxEncryption: "encryption", ctxCompression: "compression",
	ctxNetname: "netname", ctxTransport: "transport", ctxRDMA: "rdma_transform", ctxSigning: "signing",
	ctxPOSIX: "posix",
}

// Algorithms of the negotiate contexts.
const (
	hashSHA512 uint16 = 1

	cipherAES128CCM uint16 = 1
	cipherAES128GCM uint16 = 2
	cipherAES256CCM uint16 = 3
	cipherAES256GCM uint16 = 4

	signHMACSHA256 uint16 = 0
	signAESCMAC    uint16 = 1
	signAESGMAC    uint16 = 2
)

var cipherNames = map[uint16]string{
	cipherAES128CCM: "AES-128-CCM", cipherAES128GCM: "AES-128-GCM",
	cipherAES256CCM: "AES-256-CCM", cipherAES256GCM: "AES-256-GCM",
}

// Each product's ciphers and signing algorithms, in its order of
// preference: Windows Server 2019 knows the AES-128 ciphers and takes the
// client's favourite; Samba 4.17 imposes its own order.
var (
	windowsCiphers = []uint16{cipherAES128GCM, cipherAES128CCM}
	sambaCiphers   = []uint16{cipherAES128GCM, cipherAES128CCM, cipherAES256GCM, cipherAES256CCM}
	sambaSigning   = []uint16{signAESGMAC, signAESCMAC, signHMACSHA256}
)

// maxNegotiateContexts bounds the contexts read; clients send at most six.
const maxNegotiateContexts = 32

// negotiateRequest is an SMB2 NEGOTIATE request (MS-SMB2 2.2.3).
type negotiateRequest struct {
	dialects     []uint16
	securityMode uint16
	capabilities uint32
	clientGUID   [16]byte
	// contextOffset and contextCount locate the negotiate contexts, read
	// only when 3.1.1 is chosen.
	contextOffset int
	contextCount  int
}

// negContext is one negotiate context.
type negContext struct {
	typ  uint16
	data []byte
}

// parseNegotiate reads a NEGOTIATE request; msg starts at the SMB2 header.
func parseNegotiate(msg []byte) (negotiateRequest, error) {
	const fixed = 36
	body, ok := field(msg, headerSize, fixed)
	if !ok {
		return negotiateRequest{}, fmt.Errorf("NEGOTIATE: %w", errMalformed)
	}
	le := binary.LittleEndian
	req := negotiateRequest{
		securityMode:  le.Uint16(body[4:]),
		capabilities:  le.Uint32(body[8:]),
		contextOffset: int(le.Uint32(body[28:])),
		contextCount:  int(le.Uint16(body[32:])),
	}
	copy(req.clientGUID[:], body[12:28])
	count := int(le.Uint16(body[2:]))
	list, ok := field(msg, headerSize+fixed, 2*count)
	if count == 0 || !ok {
		return negotiateRequest{}, fmt.Errorf("NEGOTIATE dialects: %w", errMalformed)
	}
	for i := range count {
		req.dialects = append(req.dialects, le.Uint16(list[2*i:]))
	}
	return req, nil
}

// contexts reads the negotiate context list of a 3.1.1 NEGOTIATE: it must
// start, 8-byte aligned, after the dialects, and each context starts at
// the next 8-byte boundary after the one before.
func (req negotiateRequest) contexts(msg []byte) ([]negContext, error) {
	end := headerSize + 36 + 2*len(req.dialects)
	off := req.contextOffset
	if off < end || off%8 != 0 || req.contextCount == 0 || req.contextCount > maxNegotiateContexts {
		return nil, fmt.Errorf("negotiate contexts at %d: %w", off, errMalformed)
	}
	var out []negContext
	for i := range req.contextCount {
		if i > 0 {
			off = (off + 7) &^ 7
		}
		h, ok := field(msg, off, 8)
		if !ok {
			return nil, fmt.Errorf("negotiate context %d: %w", i, errMalformed)
		}
		data, ok := field(msg, off+8, int(binary.LittleEndian.Uint16(h[2:])))
		if !ok {
			return nil, fmt.Errorf("negotiate context %d data: %w", i, errMalformed)
		}
		out = append(out, negContext{typ: binary.LittleEndian.Uint16(h), data: data})
		off += 8 + len(data)
	}
	return out, nil
}

// findContext returns the first context of a type.
func findContext(cs []negContext, typ uint16) (negContext, bool) {
	for _, c := range cs {
		if c.typ == typ {
			return c, true
		}
	}
	return negContext{}, false
}

// algorithms reads a context's count-prefixed list of 16-bit algorithm
// ids, which skip bytes into its data (the preauth context's salt length).
func algorithms(c negContext, skip int) ([]uint16, error) {
	if len(c.data) < 2+skip {
		return nil, fmt.Errorf("%s context: %w", contextNames[c.typ], errMalformed)
	}
	n := int(binary.LittleEndian.Uint16(c.data))
	list := c.data[2+skip:]
	if n == 0 || len(list) < 2*n {
		return nil, fmt.Errorf("%s context list: %w", contextNames[c.typ], errMalformed)
	}
	out := make([]uint16, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(list[2*i:])
	}
	return out, nil
}

// chooseDialect returns the best dialect both sides speak, or 0.
func chooseDialect(offered []uint16) uint16 {
	for _, d := range supportedDialects {
		if slices.Contains(offered, d) {
			return d
		}
	}
	return 0
}

// negotiation is the outcome of a NEGOTIATE: the response body's values.
type negotiation struct {
	dialect      uint16
	capabilities uint32
	maxSize      uint32
	contexts     []negContext
}

// The transfer sizes offered: 64 KiB without multi-credit (SMB 2.0.2 and
// NetBIOS transport), else the 8 MiB Windows 10 and Samba 4.17 offer.
const (
	maxSizeSmall = 64 << 10
	maxSizeLarge = 8 << 20
)

// negotiate decides the answer to req for dialect d (dialectWildcard for
// the answer to an SMB1 negotiate), on the given port, as the product
// would. msg is the request, for its 3.1.1 contexts; rnd supplies the
// preauth salt.
func (pr *profile) negotiate(req negotiateRequest, msg []byte, d uint16, port int, rnd io.Reader) (negotiation, ntStatus) {
	n := negotiation{dialect: d, capabilities: capDFS, maxSize: maxSizeSmall}
	smb3 := d >= dialect300
	if d >= dialect210 {
		n.capabilities |= capLeasing
		// Samba refuses multi-credit over NetBIOS (port 139).
		if port != PortNetBIOS {
			n.capabilities |= capLargeMTU
			n.maxSize = maxSizeLarge
		}
	}
	if smb3 {
		n.capabilities |= req.capabilities & capMultiChannel
		if !pr.samba {
			n.capabilities |= req.capabilities & capDirLeasing
		}
		if req.capabilities&capEncryption != 0 && (pr.samba || d != dialect311) {
			n.capabilities |= capEncryption
		}
	}
	if d != dialect311 {
		return n, statusSuccess
	}
	cs, err := req.contexts(msg)
	if err != nil {
		return n, statusInvalidParameter
	}
	preauth, ok := findContext(cs, ctxPreauth)
	if !ok {
		return n, statusInvalidParameter
	}
	hashes, err := algorithms(preauth, 2)
	if err != nil || len(preauth.data) < 4+2*len(hashes)+int(binary.LittleEndian.Uint16(preauth.data[2:])) {
		return n, statusInvalidParameter
	}
	if !slices.Contains(hashes, hashSHA512) {
		return n, statusNoPreauthOverlap
	}
	salt := make([]byte, 32)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return n, statusInsufficientResources
	}
	out := binary.LittleEndian.AppendUint16(nil, 1)
	out = binary.LittleEndian.AppendUint16(out, 32)
	out = binary.LittleEndian.AppendUint16(out, hashSHA512)
	n.contexts = append(n.contexts, negContext{ctxPreauth, append(out, salt...)})

	if c, ok := findContext(cs, ctxEncryption); ok && (!pr.samba || n.capabilities&capEncryption != 0) {
		offered, err := algorithms(c, 0)
		if err != nil {
			return n, statusInvalidParameter
		}
		var cipher uint16
		if pr.samba {
			n.capabilities &^= capEncryption
			cipher = preferred(sambaCiphers, offered)
		} else {
			cipher = preferred(offered, windowsCiphers)
		}
		n.contexts = append(n.contexts, negContext{ctxEncryption, binary.LittleEndian.AppendUint16([]byte{1, 0}, cipher)})
	}
	if c, ok := findContext(cs, ctxSigning); ok && pr.samba {
		offered, err := algorithms(c, 0)
		if err != nil {
			return n, statusInvalidParameter
		}
		if alg := preferred(sambaSigning, offered); slices.Contains(offered, alg) {
			n.contexts = append(n.contexts, negContext{ctxSigning, binary.LittleEndian.AppendUint16([]byte{1, 0}, alg)})
		}
	}
	return n, statusSuccess
}

// preferred returns the first of order that is also in other, or 0.
func preferred(order, other []uint16) uint16 {
	for _, a := range order {
		if slices.Contains(other, a) {
			return a
		}
	}
	return 0
}

// negotiateBody is the NEGOTIATE response body (MS-SMB2 2.2.4): the
// fixed part, the SPNEGO NegTokenInit2 at 0x80 and the contexts after it,
// 8-byte aligned.
func (pr *profile) negotiateBody(n negotiation, now time.Time) []byte {
	flavor := ntlmssp.Windows
	if pr.samba {
		flavor = ntlmssp.Samba
	}
	blob := ntlmssp.NegTokenInitMechs(flavor)
	le := binary.LittleEndian
	b := le.AppendUint16(nil, 65)
	b = le.AppendUint16(b, 0x0001) // signing enabled, not required
	b = le.AppendUint16(b, n.dialect)
	b = le.AppendUint16(b, uint16(len(n.contexts)))
	b = append(b, pr.guid[:]...)
	b = le.AppendUint32(b, n.capabilities)
	b = le.AppendUint32(b, n.maxSize) // MaxTransactSize
	b = le.AppendUint32(b, n.maxSize) // MaxReadSize
	b = le.AppendUint32(b, n.maxSize) // MaxWriteSize
	b = le.AppendUint64(b, filetime(now))
	b = le.AppendUint64(b, 0) // ServerStartTime: 0 since Windows 10 and in Samba
	b = le.AppendUint16(b, headerSize+64)
	b = le.AppendUint16(b, uint16(len(blob)))
	ctxOffset := 0
	if len(n.contexts) > 0 {
		ctxOffset = (headerSize + 64 + len(blob) + 7) &^ 7
	}
	b = le.AppendUint32(b, uint32(ctxOffset))
	b = append(b, blob...)
	for i, c := range n.contexts {
		if i == 0 {
			b = append(b, make([]byte, ctxOffset-headerSize-len(b))...)
		} else {
			b = append(b, make([]byte, (8-len(b)%8)%8)...)
		}
		b = le.AppendUint16(b, c.typ)
		b = le.AppendUint16(b, uint16(len(c.data)))
		b = le.AppendUint32(b, 0)
		b = append(b, c.data...)
	}
	return b
}

// filetime is t as a Windows FILETIME: 100 ns since 1601.
func filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

// formatGUID renders a GUID as Windows prints it (the first three fields
// little-endian).
func formatGUID(g [16]byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", le.Uint32(g[0:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:10], g[10:])
}

// dialectList renders dialects for the negotiate event.
func dialectList(ds []uint16) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, dialectName(d))
	}
	return out
}

// contextSummary names the contexts a client offered and what they say
// that identifies the client: ciphers, signing algorithms, the server name
// it typed (netname).
func contextSummary(cs []negContext) (names []string, netname string, ciphers []string) {
	for _, c := range cs {
		name, ok := contextNames[c.typ]
		if !ok {
			name = fmt.Sprintf("0x%04x", c.typ)
		}
		names = append(names, name)
		switch c.typ {
		case ctxNetname:
			netname = decodeUTF16(c.data)
		case ctxEncryption:
			list, _ := algorithms(c, 0)
			for _, a := range list {
				name, ok := cipherNames[a]
				if !ok {
					name = fmt.Sprintf("0x%04x", a)
				}
				ciphers = append(ciphers, name)
			}
		}
	}
	return names, strings.TrimSpace(netname), ciphers
}
