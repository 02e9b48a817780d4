package rdp

import "encoding/hex"

// What xrdp 0.9.21 (Debian 12, stock xrdp.ini) sends after a client's
// Client Info PDU, captured on loopback between xfreerdp and the real
// xrdp through a TLS-terminating relay (README.md). It is the same on
// every connection but for the user ID, which the code puts in, and the
// Demand Active's desktop size and colour depth, which xrdp copies from
// the client.

// xrdpLicenseRequest is xrdp's Server License Request (MS-RDPELE
// 2.2.2.1), with its fixed server random and RSA key, behind a security
// header whose flagsHi xrdp fills with the licensing message's size.
var xrdpLicenseRequest = hexBytes(
	"80003e0101023e017b3c31a6aee874f6b4a50390e7c2c739ba531c30546e9005d005ce4418918381000004002c000000" +
		"4d006900630072006f0073006f0066007400200043006f00720070006f0072006100740069006f006e00000008000000" +
		"32003300360000000d000400010000000300b80001000000010000000100000006005c00525341314800000000020000" +
		"3f0000000100010001c7c9f78e5a38e429c300952ddd4c3e50450b0d9e2a5d186364c42cf78f29d53fc5352234ffad3a" +
		"e6e39506ae5582e3c8c7b4a847c85071742953896d9ced70000000000000000008004800a8f431b9ab4be6b4f43989d6" +
		"b1daf61eecb1f0543b5e3e6a71b4f775c8162f2400dee982995f330ba9a694afcb11c3f2db0942682956580156db5903" +
		"69db7d370000000000000000010000000e000e006d6963726f736f66742e636f6d00")

// xrdpLicenseValid is xrdp's answer to the client's licensing reply: an
// ERROR_ALERT with STATUS_VALID_CLIENT and ST_NO_TRANSITION.
var xrdpLicenseValid = hexBytes("80001000ff021000070000000200000028140000")

// xrdpDemandActive is xrdp's Demand Active PDU (shareId 0x000103ea, 13
// capability sets), with the fields filled per connection zeroed.
var xrdpDemandActive = hexBytes(
	"9a0111000000ea03010004008401524450000d000000090008000000b5e2010018000100030000020000000001040000" +
		"00000000010102001c000000010001000100000000000000010001000000000000000e00040003005800000000000000" +
		"0000000000000000000040420f0001001400000001002f00220001010101000000000100010000000000000001000000" +
		"00000000000100000000a106020040420f0040420f0001000000000000001d005d0004b91b8dca0f004f15589fae2d1a" +
		"87e2d6010300010103122f777672bd6344afb3b73c9c6f788600040000000000d4cc44278a9d744e803c0ecbeea19c54" +
		"00040000000000e64caf1bed9e0c43869acb8b37b662370001004b0a0008000600000008000a000100190019000d0058" +
		"003d01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
		"0000000000000000000000000000000000000000000000000000000000000000000000000006000500001a0008000040" +
		"30001e000800020000001c000c00520000000000000000000000")

// Offsets into xrdpDemandActive of the fields filled per connection.
const (
	daPDUSource     = 4  // share control header's pduSource: the user ID
	daShareNodeID   = 26 // TS_SHARE_CAPABILITYSET nodeId: the user ID
	daBitsPerPixel  = 58 // TS_BITMAP_CAPABILITYSET preferredBitsPerPixel
	daDesktopWidth  = 66
	daDesktopHeight = 68
)

// xrdpFinalization are xrdp's answers to the client's finalization PDUs,
// sent together when the Font List arrives: Synchronize, Control
// Cooperate, Control Granted Control, Font Map. Their pduSource (offset
// 4) is the user ID.
var xrdpFinalization = [][]byte{
	hexBytes("160017000000ea030100000116001f0016000100ea03"),
	hexBytes("1a0017000000ea03010000011a0014001a0004000000ea030000"),
	hexBytes("1a0017000000ea03010000011a0014001a0002000000ea030000"),
	hexBytes("1a0017000000ea03010000011a0028001a000000000003000400"),
}

// xrdpFastPathSync is the fast-path Synchronize update xrdp sends after
// the Font Map.
var xrdpFastPathSync = hexBytes("00800783000000")

// xrdpDynVCCaps is the DYNVC_CAPS_VERSION2 request xrdp then sends on the
// drdynvc channel, in its CHANNEL_PDU_HEADER.
var xrdpDynVCCaps = hexBytes("0c00000003000000500002000000000000000000")

// hexBytes decodes hex that is part of the program.
func hexBytes(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
