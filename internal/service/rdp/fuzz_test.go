package rdp

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
	"unicode/utf8"

	"decnet/internal/testutil"
)

// FuzzX224 reads a client's first bytes as the server does: one TPKT, the
// Connection Request in it, and each product's Connection Confirm.
// Seeds: the requests of xfreerdp, impacket and nmap (testdata/fuzz).
func FuzzX224(f *testing.F) {
	f.Add(append(testutil.Hex("03000027"), crXfreerdp...))
	products := []product{windowsProduct(true), windowsProduct(false), xrdpProduct()}
	f.Fuzz(func(t *testing.T, data []byte) {
		payload, got, err := readTPKT(bytes.NewReader(data))
		if err != nil {
			if len(got) > len(data) {
				t.Fatalf("readTPKT reports %d bytes read of %d", len(got), len(data))
			}
			return
		}
		if len(payload) != int(binary.BigEndian.Uint16(data[2:]))-tpktHeaderLen {
			t.Fatalf("payload of %d bytes for TPKT length %d", len(payload), binary.BigEndian.Uint16(data[2:]))
		}
		cr, err := ParseConnectionRequest(payload)
		if err != nil {
			return
		}
		if cr.CorrelationID != nil && len(cr.CorrelationID) != 16 {
			t.Fatalf("correlation id of %d bytes", len(cr.CorrelationID))
		}
		for _, p := range products {
			cc := p.confirm(cr).Marshal()
			if n := len(cc); n != 11 && n != 19 || int(binary.BigEndian.Uint16(cc[2:])) != n || int(cc[4]) != n-5 {
				t.Fatalf("%s: CC %x", p.name, cc)
			}
		}
	})
}

// FuzzTSRequest reads a TSRequest from a stream as the CredSSP loop does;
// whatever parses re-encodes to a TSRequest that parses the same.
// Seeds: the TSRequests of xfreerdp, impacket and nmap, and the server's
// logon failure (testdata/fuzz).
func FuzzTSRequest(f *testing.F) {
	f.Add(TSRequest{Version: 6, NegoTokens: [][]byte{[]byte("NTLMSSP\x00")}}.Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		frame, _, err := readBERFrame(bytes.NewReader(data), tagSequence, maxTSRequest)
		if err != nil {
			return
		}
		req, err := ParseTSRequest(frame)
		if err != nil {
			return
		}
		back, err := ParseTSRequest(req.Marshal())
		if err != nil {
			t.Fatalf("re-encoded TSRequest does not parse: %v", err)
		}
		if !reflect.DeepEqual(back, req) {
			t.Fatalf("round trip: %+v became %+v", req, back)
		}
	})
}

// FuzzConnectInitial reads an MCS Connect-Initial as the server does.
// Seeds: the Connect-Initials of xfreerdp (standard RDP security and TLS)
// and nmap (testdata/fuzz).
func FuzzConnectInitial(f *testing.F) {
	f.Add(connectInitial(block(csSecurity, testutil.Hex("03000000"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := ParseConnectInitial(data)
		if err != nil {
			return
		}
		if len(ci.Channels) > maxChannels {
			t.Fatalf("%d channels", len(ci.Channels))
		}
		for _, c := range ci.Channels {
			if len(c) > 8 {
				t.Fatalf("channel name %q", c)
			}
		}
	})
}

// FuzzDomainPDU reads an MCS domain PDU as the connection sequence does,
// and a send data request's payload as a Client Info PDU.
// Seeds: xfreerdp's Erect Domain, Attach User, Channel Join, Client Info,
// licensing and Confirm Active PDUs sent to Debian's xrdp (testdata/fuzz).
func FuzzDomainPDU(f *testing.F) {
	f.Add(mcsPDU(0x38, 0, 7, 3, 0xeb)[tpktHeaderLen:])
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseDomainPDU(data)
		if err != nil {
			return
		}
		if len(p.Data) > len(data) {
			t.Fatalf("%d bytes of data from %d", len(p.Data), len(data))
		}
		if p.Type == mcsSendData {
			ParseClientInfo(p.Data)
		}
	})
}

// FuzzClientInfo reads a Client Info PDU; its strings stay within the
// limits and are valid UTF-8.
// Seeds: xfreerdp's Client Info PDUs to Debian's xrdp (testdata/fuzz).
func FuzzClientInfo(f *testing.F) {
	f.Add(clientInfo(infoUnicode|infoAutologon, "D", "u", "p", "", ""))
	f.Add(clientInfo(0, "D", "u", "p", "s", "w"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, err := ParseClientInfo(data)
		if err != nil {
			return
		}
		for _, s := range []string{ci.Domain, ci.UserName, ci.Password, ci.AlternateShell, ci.WorkingDir, ci.ClientAddress, ci.ClientDir} {
			// A byte or UTF-16 unit becomes at most three bytes of UTF-8.
			if len(s) > 3*maxInfoString || !utf8.ValidString(s) {
				t.Fatalf("string %q", s)
			}
		}
	})
}
