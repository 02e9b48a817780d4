package snmp

import (
	"bytes"
	"encoding/hex"
	"net"
	"testing"
	"time"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// TestWireBytes compares replies byte for byte with snmpd 5.9.3's,
// captured on Debian 12 (real-products.md §10): the sysObjectID answer,
// and the engine discovery report with the decky's own engine ID in place
// of the captured one (boots 1 and time 14 s, as captured).
func TestWireBytes(t *testing.T) {
	h := testHost()
	p := defaultPersona().(*Persona)
	a, err := NewAgent(service.Config{Host: h, Emit: &testutil.Events{}}, p, profileDevice(p, h, timeNowForFuzz()))
	if err != nil {
		t.Fatal(err)
	}
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 116, 9), Port: 5000}
	req := communityMessage(version2c, []byte("public"), appendPDU(nil, pduGet, 0x1234, 0, 0, appendVarbind(nil, oid{1, 3, 6, 1, 2, 1, 1, 2, 0}, tagNull, nil)))
	want := testutil.Hex("303102010104067075626c6963a224020212340201000201003018301606082b06010201010200060a2b06010401bf0803020a")
	if got := a.datagram(src, req); !bytes.Equal(got, want) {
		t.Errorf("sysObjectID reply\n got %x\nwant %x", got, want)
	}
	// The discovery snmpget sends: msgID 0x1122, reportable, an empty
	// GET with request-id 0x3344.
	empty := appendTLV(nil, tagOctetString)
	disc := appendTLV(nil, tagSequence, appendInt(nil, 3),
		appendTLV(nil, tagSequence, appendInt(nil, 0x1122), appendInt(nil, 65507), appendTLV(nil, tagOctetString, []byte{flagReportable}), appendInt(nil, 3)),
		appendTLV(nil, tagOctetString, appendTLV(nil, tagSequence, empty, appendInt(nil, 0), appendInt(nil, 0), empty, empty, empty)),
		appendTLV(nil, tagSequence, empty, empty, appendPDU(nil, pduGet, 0x3344, 0, 0, nil)))
	frozen := a.now()
	a.now = func() time.Time { return frozen }
	a.eng.boots, a.eng.start = 1, frozen.Add(-14*time.Second)
	got := a.datagram(src, disc)
	const captured = "306d020103300f02021122020300ffe30401000201030421301f041180001f888060b65437f448076b0000000002010102010e0400040004003034041180001f888060b65437f448076b000000000400a81d020233440201000201003011300f060a2b060106030f01010400410101"
	patched := bytes.ReplaceAll(testutil.Hex(captured), testutil.Hex("80001f888060b65437f448076b00000000"), a.eng.id)
	if !bytes.Equal(got, patched) {
		t.Errorf("discovery report\n got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(patched))
	}
}
