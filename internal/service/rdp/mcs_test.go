package rdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"decnet/internal/testutil"
)

// The Connect-Initials of real clients, captured in the end-to-end tests
// (xfreerdp ran on a machine named "vm" with /size:800x600).
func TestParseConnectInitialClients(t *testing.T) {
	for _, tc := range []struct {
		file string
		want ConnectInitial
	}{
		{"xfreerdp-mcs-rdp.hex", ConnectInitial{HasCore: true, RDPVersion: 0x0008000c, DesktopWidth: 800, DesktopHeight: 600,
			KeyboardLayout: 0x409, ClientBuild: 18363, ClientName: "vm", HighColorDepth: 24, SupportedColorDepths: 0xf,
			EarlyCapabilityFlags: 0x5e3, HasServerSelectedProtocol: true,
			ServerSelectedProtocol: ProtocolRDP, HasEncryptionMethods: true, EncryptionMethods: 0x1b,
			Channels: []string{"rdpdr", "rdpsnd", "cliprdr", "drdynvc"}}},
		{"xfreerdp-mcs-tls.hex", ConnectInitial{HasCore: true, RDPVersion: 0x0008000c, DesktopWidth: 800, DesktopHeight: 600,
			KeyboardLayout: 0x409, ClientBuild: 18363, ClientName: "vm", HighColorDepth: 24, SupportedColorDepths: 0xf,
			EarlyCapabilityFlags: 0x5e3, HasServerSelectedProtocol: true,
			ServerSelectedProtocol: ProtocolSSL, HasEncryptionMethods: true,
			Channels: []string{"rdpdr", "rdpsnd", "cliprdr", "drdynvc"}, MsgChannel: true}},
		{"nmap-mcs.hex", ConnectInitial{HasCore: true, RDPVersion: 0x00080004, DesktopWidth: 1280, DesktopHeight: 800,
			KeyboardLayout: 0x409, ClientBuild: 2600, ClientName: "EMP-LAP-0014", HighColorDepth: 24, SupportedColorDepths: 7,
			EarlyCapabilityFlags: 1, HasServerSelectedProtocol: true,
			HasEncryptionMethods: true, EncryptionMethods: 1, Channels: []string{"rdpdr", "cliprdr", "rdpsnd"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseConnectInitial(readHex(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// connectInitial wraps client data blocks in an X.224 Data TPDU, an MCS
// Connect-Initial and a GCC conference create request, as clients do.
func connectInitial(blocks ...[]byte) []byte {
	data := bytes.Join(blocks, nil)
	gcc := append(testutil.Hex("000500147c00018000 0008001000 01c000"), "Duca"...)
	gcc = append(gcc, 0x80|byte(len(data)>>8), byte(len(data)))
	gcc = append(gcc, data...)
	params := tlv(tagSequence, derInt(34), derInt(2), derInt(0), derInt(1), derInt(0), derInt(1), derInt(0xffff), derInt(2))
	body := bytes.Join([][]byte{tlv(tagOctetString, []byte{1}), tlv(tagOctetString, []byte{1}), testutil.Hex("0101ff"),
		params, params, params, tlv(tagOctetString, gcc)}, nil)
	ci := append([]byte{0x7f, 0x65}, tlv(0, body)[1:]...)
	return append(testutil.Hex("02f080"), ci...)
}

// block is a client data block of type typ.
func block(typ uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, typ)
	b = binary.LittleEndian.AppendUint16(b, uint16(4+len(v)))
	return append(b, v...)
}

func TestParseConnectInitialBlocks(t *testing.T) {
	core := make([]byte, coreMinLen)
	binary.LittleEndian.PutUint32(core, 0x00080001)
	binary.LittleEndian.PutUint16(core[4:], 640)
	binary.LittleEndian.PutUint16(core[6:], 480)
	copy(core[coreNameOff:], testutil.Hex("5700 4f00 5200 4b00 0000 5800")) // "WORK", NUL, garbage after
	net := testutil.Hex("05000000")                                         // five channels announced, two present
	net = append(net, "rdpdr\x00\x00\x00"...)
	net = append(net, testutil.Hex("00000080")...)
	net = append(net, "12345678"...)
	net = append(net, testutil.Hex("00000000")...)
	for _, tc := range []struct {
		name string
		in   []byte
		want ConnectInitial
	}{
		{"old core, channels cut short", connectInitial(block(csCore, core), block(csNet, net), block(0xc0ff, testutil.Hex("0102"))),
			ConnectInitial{HasCore: true, RDPVersion: 0x00080001, DesktopWidth: 640, DesktopHeight: 480, ClientName: "WORK",
				Channels: []string{"rdpdr", "12345678"}}},
		{"short core and security skipped", connectInitial(block(csCore, core[:100]), block(csSecurity, testutil.Hex("0102"))), ConnectInitial{}},
		{"no blocks", connectInitial(), ConnectInitial{}},
		{"trailing partial header", connectInitial(block(csSecurity, testutil.Hex("03000000")), testutil.Hex("01")),
			ConnectInitial{HasEncryptionMethods: true, EncryptionMethods: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConnectInitial(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseConnectInitialErrors(t *testing.T) {
	ok := connectInitial(block(csSecurity, testutil.Hex("03000000")))
	badBlock := connectInitial(block(csSecurity, testutil.Hex("03000000")))
	badBlock[len(badBlock)-6] = 0x40 // block length past the end
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not X.224 data", append(testutil.Hex("02f000"), ok[3:]...)},
		{"not Connect-Initial", append(testutil.Hex("02f080 7f66"), ok[5:]...)},
		{"no Duca", bytes.Replace(ok, []byte("Duca"), []byte("Dxca"), 1)},
		{"block length", badBlock},
		{"truncated", ok[:20]},
		{"no user data length", ok[:bytes.Index(ok, []byte("Duca"))+4]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseConnectInitial(tc.in); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}
