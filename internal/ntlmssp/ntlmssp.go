// Package ntlmssp is the server side of NTLM authentication (MS-NLMP) as the
// honeypot's Windows-flavoured services (smb, rdp, http, mssql) speak it: it
// reads a client's NEGOTIATE, answers a CHALLENGE naming the persona's machine
// the way Windows does, and turns the client's AUTHENTICATE into crackable
// NetNTLMv1/v2 material. It never decides whether a logon succeeds; the
// protocol package does, and VerifyV2 lets it accept a chosen weak password.
//
// Every parser treats its input as hostile: lengths and offsets are checked
// against the message, nothing panics, and failures wrap ErrMalformed.
package ntlmssp

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"decnet/internal/event"
)

// Signature opens every NTLMSSP message; SPNEGO unwrapping uses it to tell a
// raw NTLMSSP token from DER.
const Signature = "NTLMSSP\x00"

// Message types (MS-NLMP 2.2.1).
const (
	typeNegotiate    = 1
	typeChallenge    = 2
	typeAuthenticate = 3
)

// Flags is the NegotiateFlags field (MS-NLMP 2.2.2.5).
type Flags uint32

// Negotiate flags the server reads or answers.
const (
	// FlagUnicode: strings are UTF-16LE.
	FlagUnicode Flags = 0x00000001
	// FlagOEM: strings are in the OEM code page.
	FlagOEM Flags = 0x00000002
	// FlagRequestTarget: the client asks for TargetName.
	FlagRequestTarget Flags = 0x00000004
	// FlagSign: message integrity.
	FlagSign Flags = 0x00000010
	// FlagSeal: message confidentiality.
	FlagSeal Flags = 0x00000020
	// FlagDatagram: connectionless NTLM.
	FlagDatagram Flags = 0x00000040
	// FlagLMKey: LAN Manager session key (mutually exclusive with extended session security).
	FlagLMKey Flags = 0x00000080
	// FlagNTLM: NTLM v1 session security; Windows always sets it.
	FlagNTLM Flags = 0x00000200
	// FlagAnonymous: the AUTHENTICATE is an anonymous (null session) logon.
	FlagAnonymous Flags = 0x00000800
	// FlagOEMDomainSupplied: NEGOTIATE carries the client's domain.
	FlagOEMDomainSupplied Flags = 0x00001000
	// FlagOEMWorkstationSupplied: NEGOTIATE carries the client's workstation.
	FlagOEMWorkstationSupplied Flags = 0x00002000
	// FlagAlwaysSign: sign even when signing was not negotiated.
	FlagAlwaysSign Flags = 0x00008000
	// FlagTargetTypeDomain: TargetName is a domain.
	FlagTargetTypeDomain Flags = 0x00010000
	// FlagTargetTypeServer: TargetName is a server.
	FlagTargetTypeServer Flags = 0x00020000
	// FlagExtendedSessionSecurity: NTLM2 session security (ESS).
	FlagExtendedSessionSecurity Flags = 0x00080000
	// FlagIdentify: an identify-level token.
	FlagIdentify Flags = 0x00100000
	// FlagTargetInfo: the CHALLENGE carries TargetInfo.
	FlagTargetInfo Flags = 0x00800000
	// FlagVersion: the message carries a Version.
	FlagVersion Flags = 0x02000000
	// Flag128: 128-bit session keys.
	Flag128 Flags = 0x20000000
	// FlagKeyExch: explicit session key exchange.
	FlagKeyExch Flags = 0x40000000
	// Flag56: 56-bit session keys.
	Flag56 Flags = 0x80000000
)

// echoedFlags are the client requests Windows grants by setting the same bit
// in its CHALLENGE; the rest of the answer is fixed or derived (see NewChallenge).
const echoedFlags = FlagRequestTarget | FlagSign | FlagSeal | FlagDatagram | FlagAlwaysSign |
	FlagExtendedSessionSecurity | FlagIdentify | Flag128 | FlagKeyExch | Flag56

// ErrMalformed is wrapped by every parse error: the bytes are not a
// well-formed message of the expected kind.
var ErrMalformed = errors.New("ntlmssp: malformed message")

// ErrAnonymous is returned by Hashcat for an anonymous (null session) logon,
// which carries no credential to crack.
var ErrAnonymous = errors.New("ntlmssp: anonymous logon")

// Hash formats, as the event field hash_format names them.
const (
	FormatNetNTLMv2 = "netntlmv2 (hashcat 5600)"
	FormatNetNTLMv1 = "netntlmv1 (hashcat 5500)"
)

// Version is the 8-byte VERSION structure (MS-NLMP 2.2.2.10): product major,
// minor, build (little-endian), three reserved bytes, NTLM revision.
// The zero Version means absent.
type Version [8]byte

// ntlmRevision15 is NTLMSSP_REVISION_W2K3, what every Windows since 2003 sends.
const ntlmRevision15 = 0x0f

// NewVersion returns the Version of a Windows build, e.g. NewVersion(10, 0,
// 17763) for Windows Server 2019 or NewVersion(6, 1, 0) for what Samba claims.
func NewVersion(major, minor uint8, build uint16) Version {
	var v Version
	v[0], v[1] = major, minor
	binary.LittleEndian.PutUint16(v[2:], build)
	v[7] = ntlmRevision15
	return v
}

// String renders "major.minor.build", the way scanners print it, or "" when absent.
func (v Version) String() string {
	if v == (Version{}) {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", v[0], v[1], binary.LittleEndian.Uint16(v[2:]))
}

// defaultVersion is Windows Server 2019 (10.0.17763), the server NewChallenge
// mimics when the persona names none.
func defaultVersion() Version { return NewVersion(10, 0, 17763) }

// AVID identifies an AV_PAIR (MS-NLMP 2.2.2.1).
type AVID uint16

// AV pair identifiers a CHALLENGE carries.
const (
	AvEOL             AVID = 0
	AvNbComputerName  AVID = 1
	AvNbDomainName    AVID = 2
	AvDNSComputerName AVID = 3
	AvDNSDomainName   AVID = 4
	AvDNSTreeName     AVID = 5
	AvTimestamp       AVID = 7
)

// AVPair is one entry of a TargetInfo list.
type AVPair struct {
	ID    AVID
	Value []byte
}

// Persona is the Windows machine the CHALLENGE describes. NetBIOS names go on
// the wire upper-cased, as Windows sends them.
type Persona struct {
	// NetBIOSComputer is the machine's NetBIOS name (1-15 bytes).
	NetBIOSComputer string
	// NetBIOSDomain is the NetBIOS domain, or the computer name again for a
	// standalone (workgroup) server, as Windows reports it; empty means the latter.
	NetBIOSDomain string
	// DNSComputer is the machine's DNS name (FQDN when joined).
	DNSComputer string
	// DNSDomain is the DNS domain; a standalone Windows repeats its host name.
	DNSDomain string
	// DNSTree is the forest name; empty for a standalone server, whose
	// CHALLENGE has no DnsTreeName pair.
	DNSTree string
	// Version is the OS version field; zero means Windows Server 2019.
	Version Version
}

// NewPersona derives a Windows persona from a host name (bare or FQDN) and a
// DNS domain: an empty domain gives a standalone server, whose domain names
// repeat the host name; a domain gives a domain member, whose forest is that
// domain. v zero means Windows Server 2019.
func NewPersona(hostname, domain string, v Version) Persona {
	host, _, _ := strings.Cut(hostname, ".")
	nb := netbiosName(host)
	if domain == "" {
		return Persona{NetBIOSComputer: nb, NetBIOSDomain: nb, DNSComputer: host, DNSDomain: host, Version: v}
	}
	label, _, _ := strings.Cut(domain, ".")
	return Persona{
		NetBIOSComputer: nb,
		NetBIOSDomain:   netbiosName(label),
		DNSComputer:     host + "." + domain,
		DNSDomain:       domain,
		DNSTree:         domain,
		Version:         v,
	}
}

// netbiosName is how Windows derives a NetBIOS name from a host label:
// upper case, cut to 15 bytes at a character boundary.
func netbiosName(label string) string {
	nb := strings.ToUpper(label)
	if len(nb) <= 15 {
		return nb
	}
	i := 0
	for {
		_, w := utf8.DecodeRuneInString(nb[i:])
		if i+w > 15 {
			return nb[:i]
		}
		i += w
	}
}

// Validate reports a persona that Windows could not have.
func (p Persona) Validate() error {
	if p.NetBIOSComputer == "" {
		return errors.New("ntlmssp: persona needs a NetBIOS computer name")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"NetBIOS computer name", p.NetBIOSComputer, 15},
		{"NetBIOS domain name", p.NetBIOSDomain, 15},
		{"DNS computer name", p.DNSComputer, 255},
		{"DNS domain name", p.DNSDomain, 255},
		{"DNS tree name", p.DNSTree, 255},
	} {
		if len(f.value) > f.max {
			return fmt.Errorf("ntlmssp: %s %q is longer than %d bytes", f.name, f.value, f.max)
		}
		if strings.ContainsFunc(f.value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("ntlmssp: %s %q has control characters", f.name, f.value)
		}
	}
	// A client copies TargetInfo into its NTLMv2 blob and adds pairs of its
	// own; past hashcat's 512-byte blob every capture would be uncrackable.
	units := 0
	for _, s := range []string{p.NetBIOSComputer, p.netbiosDomain(), p.DNSComputer, p.DNSDomain, p.DNSTree, p.DNSComputer} {
		units += len(utf16.Encode([]rune(s)))
	}
	if units > maxNameUnits {
		return fmt.Errorf("ntlmssp: persona names total %d UTF-16 units (DNS computer name counted twice), over %d: "+
			"clients' NTLMv2 responses would outgrow hashcat's 512-byte limit", units, maxNameUnits)
	}
	return nil
}

// maxNameUnits bounds the persona's names (UTF-16 code units, the DNS
// computer name twice for the client's SPN) so that a Windows or Samba
// client's blob stays within hashcat's 512 bytes: 32 bytes of blob header and
// padding, 36 of our AV pair headers, timestamp and EOL, 94 of the client's
// own pairs (MsvAvFlags, SingleHost, ChannelBindings, the "cifs/" of the SPN),
// leaving 350 bytes, 175 units, for the names; 170 keeps a margin.
const maxNameUnits = 170

// standalone reports whether the persona is a workgroup server, which Windows
// announces with TARGET_TYPE_SERVER and its own name as TargetName.
func (p Persona) standalone() bool {
	return p.NetBIOSDomain == "" || strings.EqualFold(p.NetBIOSDomain, p.NetBIOSComputer)
}

// netbiosDomain is the NetBIOS domain as it goes on the wire: upper case, and
// the computer name for a standalone server.
func (p Persona) netbiosDomain() string {
	if p.standalone() {
		return strings.ToUpper(p.NetBIOSComputer)
	}
	return strings.ToUpper(p.NetBIOSDomain)
}

// Negotiate is a parsed NEGOTIATE message (type 1).
type Negotiate struct {
	// Flags are the client's requests.
	Flags Flags
	// Domain and Workstation are the OEM strings some clients volunteer.
	Domain, Workstation string
	// Version is the client's OS version, zero when absent.
	Version Version
}

// ParseNegotiate reads a NEGOTIATE message. The 16-byte form of old clients
// (signature, type, flags) is accepted.
func ParseNegotiate(b []byte) (Negotiate, error) {
	if err := checkHeader(b, typeNegotiate, 16); err != nil {
		return Negotiate{}, err
	}
	n := Negotiate{Flags: Flags(binary.LittleEndian.Uint32(b[12:]))}
	if len(b) < 32 {
		return n, nil
	}
	for _, f := range []struct {
		flag Flags
		off  int
		dst  *string
		name string
	}{
		{FlagOEMDomainSupplied, 16, &n.Domain, "domain"},
		{FlagOEMWorkstationSupplied, 24, &n.Workstation, "workstation"},
	} {
		if n.Flags&f.flag == 0 {
			continue
		}
		v, err := field(b, f.off)
		if err != nil {
			return Negotiate{}, fmt.Errorf("negotiate %s: %w", f.name, err)
		}
		*f.dst = decodeString(v, false)
	}
	if n.Flags&FlagVersion != 0 && len(b) >= 40 {
		n.Version = Version(b[32:40])
	}
	return n, nil
}

// Challenge is the server's CHALLENGE message (type 2).
type Challenge struct {
	// Flags answer the client's NEGOTIATE.
	Flags Flags
	// TargetName is the persona's NetBIOS computer name (standalone) or domain.
	TargetName string
	// ServerChallenge is the nonce the client's responses are computed over;
	// keep it for Hashcat and VerifyV2.
	ServerChallenge [8]byte
	// TargetInfo is the AV pair list, without the terminating MsvAvEOL.
	TargetInfo []AVPair
	// Version is the server's OS version.
	Version Version
}

// NewChallenge answers neg as Windows answers it: the requests in
// echoedFlags are granted, NTLM, TARGET_INFO and VERSION are always set,
// UNICODE is chosen over OEM, LM_KEY only survives without extended session
// security, and the target type follows the persona. TargetInfo lists, in
// Windows's order, the NetBIOS domain and computer, DNS domain and computer,
// the forest when there is one, and now as a FILETIME. rnd supplies the
// server challenge; nil means crypto/rand.
func NewChallenge(neg Negotiate, p Persona, now time.Time, rnd io.Reader) (Challenge, error) {
	if err := p.Validate(); err != nil {
		return Challenge{}, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	c := Challenge{
		Flags:   neg.Flags&echoedFlags | FlagNTLM | FlagTargetInfo | FlagVersion,
		Version: p.Version,
	}
	if c.Version == (Version{}) {
		c.Version = defaultVersion()
	}
	switch {
	case neg.Flags&FlagUnicode != 0:
		c.Flags |= FlagUnicode
	case neg.Flags&FlagOEM != 0:
		c.Flags |= FlagOEM
	}
	if neg.Flags&(FlagLMKey|FlagExtendedSessionSecurity) == FlagLMKey {
		c.Flags |= FlagLMKey
	}
	if _, err := io.ReadFull(rnd, c.ServerChallenge[:]); err != nil {
		return Challenge{}, fmt.Errorf("ntlmssp: server challenge: %w", err)
	}

	nbComputer, nbDomain := strings.ToUpper(p.NetBIOSComputer), p.netbiosDomain()
	c.TargetName = nbDomain
	if p.standalone() {
		c.Flags |= FlagTargetTypeServer
	} else {
		c.Flags |= FlagTargetTypeDomain
	}

	c.TargetInfo = []AVPair{
		{AvNbDomainName, encodeUTF16(nbDomain)},
		{AvNbComputerName, encodeUTF16(nbComputer)},
		{AvDNSDomainName, encodeUTF16(p.DNSDomain)},
		{AvDNSComputerName, encodeUTF16(p.DNSComputer)},
	}
	if p.DNSTree != "" {
		c.TargetInfo = append(c.TargetInfo, AVPair{AvDNSTreeName, encodeUTF16(p.DNSTree)})
	}
	c.TargetInfo = append(c.TargetInfo, AVPair{AvTimestamp, binary.LittleEndian.AppendUint64(nil, filetime(now))})
	return c, nil
}

// filetime is t in 100 ns ticks since 1601-01-01 UTC.
func filetime(t time.Time) uint64 {
	const unixEpochTicks = 116444736000000000
	return uint64(t.UnixNano()/100 + unixEpochTicks)
}

// challengeHeaderLen is the CHALLENGE header with its Version; Windows always
// lays the payload out after it.
const challengeHeaderLen = 56

// Marshal encodes the CHALLENGE: the 56-byte header, then TargetName (UTF-16LE
// or OEM per the UNICODE flag), then TargetInfo ending in MsvAvEOL.
func (c Challenge) Marshal() []byte {
	name := encodeString(c.TargetName, c.Flags&FlagUnicode != 0)
	var info []byte
	for _, av := range c.TargetInfo {
		info = binary.LittleEndian.AppendUint16(info, uint16(av.ID))
		info = binary.LittleEndian.AppendUint16(info, uint16(len(av.Value)))
		info = append(info, av.Value...)
	}
	info = append(info, 0, 0, 0, 0) // MsvAvEOL

	b := make([]byte, 0, challengeHeaderLen+len(name)+len(info))
	b = append(b, Signature...)
	b = binary.LittleEndian.AppendUint32(b, typeChallenge)
	b = appendField(b, len(name), challengeHeaderLen)
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Flags))
	b = append(b, c.ServerChallenge[:]...)
	b = append(b, make([]byte, 8)...) // Reserved
	b = appendField(b, len(info), challengeHeaderLen+len(name))
	if c.Flags&FlagVersion != 0 {
		b = append(b, c.Version[:]...)
	} else {
		b = append(b, make([]byte, 8)...)
	}
	b = append(b, name...)
	return append(b, info...)
}

// appendField appends a Len/MaxLen/BufferOffset triple.
func appendField(b []byte, n, offset int) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	return binary.LittleEndian.AppendUint32(b, uint32(offset))
}

// Authenticate is a parsed AUTHENTICATE message (type 3).
type Authenticate struct {
	// Flags are the flags the client settled on.
	Flags Flags
	// LMResponse and NTResponse are the challenge responses: 24 bytes each
	// for NTLMv1; for NTLMv2 the NT response is NTProofStr followed by the
	// client's blob.
	LMResponse, NTResponse []byte
	// Domain, User and Workstation are as the client typed them (UTF-16LE or
	// OEM per FlagUnicode, here as UTF-8).
	Domain, User, Workstation string
	// SessionKey is the EncryptedRandomSessionKey (empty without KEY_EXCH).
	SessionKey []byte
	// MIC is the message integrity code, nil when the client sent none.
	MIC []byte
	// Version is the client's OS version, zero when absent.
	Version Version
}

// authenticateHeaderLen is the header without Version and MIC; versionEnd and
// micEnd are where those optional fields end.
const (
	authenticateHeaderLen = 64
	versionEnd            = 72
	micEnd                = 88
)

// ParseAuthenticate reads an AUTHENTICATE message. Whether the optional
// Version and MIC are present is read from where the payload starts, as the
// header carries no length for them.
func ParseAuthenticate(b []byte) (Authenticate, error) {
	if err := checkHeader(b, typeAuthenticate, authenticateHeaderLen); err != nil {
		return Authenticate{}, err
	}
	a := Authenticate{Flags: Flags(binary.LittleEndian.Uint32(b[60:]))}
	unicode := a.Flags&FlagUnicode != 0

	names := [6]string{"LM response", "NT response", "domain", "user", "workstation", "session key"}
	var raw [6][]byte
	payloadStart := len(b)
	for i := range raw {
		off := 12 + 8*i
		v, err := field(b, off)
		if err != nil {
			return Authenticate{}, fmt.Errorf("authenticate %s: %w", names[i], err)
		}
		raw[i] = v
		if len(v) > 0 {
			payloadStart = min(payloadStart, int(binary.LittleEndian.Uint32(b[off+4:])))
		}
	}
	a.LMResponse = bytes.Clone(raw[0])
	a.NTResponse = bytes.Clone(raw[1])
	a.SessionKey = bytes.Clone(raw[5])
	for i, dst := range []*string{&a.Domain, &a.User, &a.Workstation} {
		if unicode && len(raw[2+i])%2 != 0 {
			return Authenticate{}, fmt.Errorf("authenticate %s: odd UTF-16 length %d: %w", names[2+i], len(raw[2+i]), ErrMalformed)
		}
		*dst = decodeString(raw[2+i], unicode)
	}

	if payloadStart >= versionEnd && a.Flags&FlagVersion != 0 {
		a.Version = Version(b[authenticateHeaderLen:versionEnd])
	}
	if payloadStart >= micEnd {
		a.MIC = bytes.Clone(b[versionEnd:micEnd])
	}
	return a, nil
}

// Anonymous reports a null-session logon (MS-NLMP 3.2.5.1.2): no user name and
// no NT response, the LM response empty or a single zero byte.
func (a Authenticate) Anonymous() bool {
	return a.User == "" && len(a.NTResponse) == 0 &&
		(len(a.LMResponse) == 0 || bytes.Equal(a.LMResponse, []byte{0}))
}

// minNTLMv2Response is NTProofStr plus the smallest NTLMv2_CLIENT_CHALLENGE
// (28-byte header and an MsvAvEOL).
const minNTLMv2Response = 16 + 28 + 4

// Hashcat renders the logon as a line hashcat (and john) crack, with its
// format name:
//
//	NTLMv2: user::domain:serverchallenge:ntproofstr:blob      (FormatNetNTLMv2, mode 5600)
//	NTLMv1: user::domain:lmresponse:ntresponse:serverchallenge (FormatNetNTLMv1, mode 5500)
//
// Hex is lower case. An anonymous logon returns ErrAnonymous; a user or domain
// that would break the colon-separated line, or a response of no known shape,
// returns an error.
func (a Authenticate) Hashcat(serverChallenge [8]byte) (line, format string, err error) {
	if a.Anonymous() {
		return "", "", ErrAnonymous
	}
	for _, s := range []string{a.User, a.Domain} {
		if strings.ContainsFunc(s, func(r rune) bool { return r == ':' || r < 0x20 || r == 0x7f }) {
			return "", "", fmt.Errorf("ntlmssp: %q cannot go into a hash line", s)
		}
	}
	sc := hex.EncodeToString(serverChallenge[:])
	switch nt := a.NTResponse; {
	case len(nt) == 24:
		lm := a.LMResponse
		if len(lm) != 24 {
			// hashcat accepts an empty LM field; any other length would be rejected.
			lm = nil
		}
		return a.User + "::" + a.Domain + ":" + hex.EncodeToString(lm) + ":" + hex.EncodeToString(nt) + ":" + sc,
			FormatNetNTLMv1, nil
	case len(nt) >= minNTLMv2Response:
		return a.User + "::" + a.Domain + ":" + sc + ":" + hex.EncodeToString(nt[:16]) + ":" + hex.EncodeToString(nt[16:]),
			FormatNetNTLMv2, nil
	default:
		return "", "", fmt.Errorf("ntlmssp: NT response of %d bytes is neither NTLMv1 nor NTLMv2", len(nt))
	}
}

// CaptureFields are what a honeypot records of an AUTHENTICATE that
// answered serverChallenge, as event key-value pairs: the crackable line
// and its format, "anonymous" for a null session, or "hash_error" with
// why no line could be made.
func (a Authenticate) CaptureFields(serverChallenge [8]byte) []string {
	line, format, err := a.Hashcat(serverChallenge)
	switch {
	case err == nil:
		return []string{event.FieldHash, line, event.FieldHashFormat, format}
	case errors.Is(err, ErrAnonymous):
		return []string{"anonymous", "true"}
	default:
		return []string{"hash_error", err.Error()}
	}
}

// VerifyV2 reports whether a's NTLMv2 response was computed from password:
// it recomputes NTOWFv2 and NTProofStr (MS-NLMP 3.3.2). NTLMv1 and anonymous
// logons never verify.
func VerifyV2(a Authenticate, serverChallenge [8]byte, password string) bool {
	if len(a.NTResponse) < minNTLMv2Response {
		return false
	}
	ntHash := md4Sum(encodeUTF16(password))
	key := hmacMD5(ntHash[:], encodeUTF16(strings.ToUpper(a.User)+a.Domain))
	proof := hmacMD5(key, serverChallenge[:], a.NTResponse[16:])
	return hmac.Equal(proof, a.NTResponse[:16])
}

// CracksV2 reports whether password cracks a NetNTLMv2 line in hashcat's
// 5600 form (user::domain:challenge:ntproofstr:blob), as hashcat would:
// the line alone must carry everything needed. A line that is not 5600
// is an error.
func CracksV2(line, password string) (bool, error) {
	f := strings.Split(line, ":")
	if len(f) != 6 || f[1] != "" || len(f[3]) != 16 || len(f[4]) != 32 {
		return false, fmt.Errorf("ntlmssp: not a hashcat 5600 line: %q", line)
	}
	sc, err1 := hex.DecodeString(f[3])
	proof, err2 := hex.DecodeString(f[4])
	blob, err3 := hex.DecodeString(f[5])
	if err := errors.Join(err1, err2, err3); err != nil {
		return false, fmt.Errorf("ntlmssp: hashcat 5600 line: %w", err)
	}
	return VerifyV2(Authenticate{User: f[0], Domain: f[2], NTResponse: append(proof, blob...)}, [8]byte(sc), password), nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// checkHeader checks the signature, the message type and a minimum length.
func checkHeader(b []byte, msgType uint32, minLen int) error {
	if len(b) < minLen {
		return fmt.Errorf("%d bytes, want at least %d: %w", len(b), minLen, ErrMalformed)
	}
	if string(b[:8]) != Signature {
		return fmt.Errorf("no NTLMSSP signature: %w", ErrMalformed)
	}
	if t := binary.LittleEndian.Uint32(b[8:]); t != msgType {
		return fmt.Errorf("message type %d, want %d: %w", t, msgType, ErrMalformed)
	}
	return nil
}

// field returns the payload a Len/MaxLen/BufferOffset triple at off points to.
// An empty field's offset is not checked: clients leave it at anything.
func field(b []byte, off int) ([]byte, error) {
	n := int(binary.LittleEndian.Uint16(b[off:]))
	if n == 0 {
		return nil, nil
	}
	start := int64(binary.LittleEndian.Uint32(b[off+4:]))
	if start+int64(n) > int64(len(b)) {
		return nil, fmt.Errorf("%d bytes at offset %d, past the %d-byte message: %w", n, start, len(b), ErrMalformed)
	}
	return b[start : start+int64(n)], nil
}

// encodeString encodes s as UTF-16LE or, without unicode, as OEM bytes.
func encodeString(s string, unicode bool) []byte {
	if unicode {
		return encodeUTF16(s)
	}
	return []byte(s)
}

func encodeUTF16(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// decodeString decodes UTF-16LE (the caller checked the length is even) or
// OEM text. The OEM code page is unknown, so OEM bytes are read as Latin-1,
// which keeps every byte and turns nothing into invalid UTF-8.
func decodeString(b []byte, unicode bool) string {
	if !unicode {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// String renders the flags in hex, as packet dissectors print them.
func (f Flags) String() string { return fmt.Sprintf("0x%08x", uint32(f)) }
