package smb

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"decnet/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixedTime is the clock of golden tests.
var fixedTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// clientFrames reads a capture of testdata/clients: one NBSS frame a line.
func clientFrames(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "clients", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		b, err := hex.DecodeString(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// replay feeds frames to a fresh connection of a server with a fixed
// clock and randomness and returns its answer to each.
func replay(t *testing.T, os string, port int, frames [][]byte) [][]byte {
	t.Helper()
	s, _ := testServer(t, os, nil)
	s.now = func() time.Time { return fixedTime }
	s.random = &fixedRandom{}
	c := s.newConn(port, map[string]string{})
	var out [][]byte
	for _, f := range frames {
		var resp []byte
		if f[0] == nbssSessionRequest {
			resp, _ = c.sessionRequest(f[4:])
		} else {
			resp, _ = c.message(f[4:])
		}
		out = append(out, resp)
	}
	return out
}

// negResponse is what a test checks in a NEGOTIATE response.
type negResponse struct {
	dialect      uint16
	capabilities uint32
	maxSize      uint32
	guid         [16]byte
	contexts     []negContext
}

func parseNegResponse(t *testing.T, frame []byte) negResponse {
	t.Helper()
	msg := frame[4:]
	h, err := parseHeader(msg)
	if err != nil || h.Status != statusSuccess || h.Command != cmdNegotiate || h.Flags&flagResponse == 0 {
		t.Fatalf("not a NEGOTIATE response: %x", frame)
	}
	le := binary.LittleEndian
	b := msg[headerSize:]
	r := negResponse{dialect: le.Uint16(b[4:]), capabilities: le.Uint32(b[24:]), maxSize: le.Uint32(b[28:]), guid: [16]byte(b[8:24])}
	if le.Uint32(b[32:]) != r.maxSize || le.Uint32(b[36:]) != r.maxSize {
		t.Errorf("max read/write differ from max transact")
	}
	if n := int(le.Uint16(b[6:])); n > 0 {
		req := negotiateRequest{dialects: []uint16{dialect311}, contextOffset: int(le.Uint32(b[60:])), contextCount: n}
		// The response's contexts sit after a longer fixed part; reuse the
		// request parser from their offset.
		req.dialects = make([]uint16, (req.contextOffset-headerSize-36)/2)
		cs, err := req.contexts(msg)
		if err != nil {
			t.Fatal(err)
		}
		r.contexts = cs
	}
	return r
}

// TestNegotiateGolden compares the NEGOTIATE responses to real clients'
// requests with golden bytes, and checks what they say: Windows Server
// 2019 and Samba 4.17 pick 3.1.1 for smbclient with different
// capabilities and contexts, upgrade impacket's SMB1 negotiate with the
// 0x02FF wildcard (or 0x0202 when it lists only SMB 2.002, on port 139),
// then pick 3.0.
func TestNegotiateGolden(t *testing.T) {
	for _, tc := range []struct {
		name, os, capture string
		port, frame       int
		dialect           uint16
		caps, max         uint32
		contexts          string // hex of the contexts' data, in order
	}{
		{"smbclient-windows", "windows", "smbclient-windows", 445, 0, dialect311, 0x2f, maxSizeLarge,
			"0100200001000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" + "01000200"},
		{"smbclient-samba", "linux", "smbclient-windows", 445, 0, dialect311, 0x0f, maxSizeLarge,
			"0100200001000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" + "01000200" + "01000200"},
		{"impacket-smb1-windows", "windows", "impacket-windows-445", 445, 0, dialectWildcard, 0x07, maxSizeLarge, ""},
		{"impacket-smb1-samba", "linux", "impacket-windows-445", 445, 0, dialectWildcard, 0x07, maxSizeLarge, ""},
		{"impacket-smb2-windows", "windows", "impacket-windows-445", 445, 1, dialect300, 0x47, maxSizeLarge, ""},
		{"impacket-smb2-samba", "linux", "impacket-windows-445", 445, 1, dialect300, 0x47, maxSizeLarge, ""},
		{"impacket-139-windows", "windows", "impacket-windows-139", 139, 1, dialect202, 0x01, maxSizeSmall, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := clientFrames(t, tc.capture)[:tc.frame+1]
			outs := replay(t, tc.os, tc.port, frames)
			got := outs[len(outs)-1]
			testutil.GoldenHex(t, filepath.Join("testdata", "golden", tc.name+".hex"), got, *update)
			r := parseNegResponse(t, got)
			if r.dialect != tc.dialect || r.capabilities != tc.caps || r.maxSize != tc.max {
				t.Errorf("dialect %#x capabilities %#x max %d, want %#x %#x %d", r.dialect, r.capabilities, r.maxSize, tc.dialect, tc.caps, tc.max)
			}
			var ctx []byte
			for _, c := range r.contexts {
				ctx = append(ctx, c.data...)
			}
			if hex.EncodeToString(ctx) != tc.contexts {
				t.Errorf("contexts %x, want %s", ctx, tc.contexts)
			}
			wantGUID := formatGUID(serverGUID(tc.os != "windows", "FILESRV01", "decky1"))
			if formatGUID(r.guid) != wantGUID {
				t.Errorf("server GUID %s, want %s", formatGUID(r.guid), wantGUID)
			}
		})
	}
}

// TestSambaSMB1Refusal: an SMB1 negotiate offering only NT LM 0.12 gets
// Samba's exact refusal (real-products.md §13) and the connection ends;
// Windows, with SMB1 removed, just closes.
func TestSambaSMB1Refusal(t *testing.T) {
	// smbclient -m NT1's negotiate: caseless paths, flags2 with Unicode,
	// NT status, long names and signatures required; PID 0xfeff, MID 0.
	req := []byte("\xffSMBr\x00\x00\x00\x00\x08\x13\xc8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00\x00\x00\x00" +
		"\x00\x0c\x00\x02NT LM 0.12\x00")
	want := "00000025ff534d4272000000008813c00000000000000000000000000000fffe0000000001ffff0000"
	for _, tc := range []struct {
		os   string
		want string
	}{{"linux", want}, {"windows", ""}} {
		s, ev := testServer(t, tc.os, nil)
		c := s.newConn(PortDirect, map[string]string{})
		out, keep := c.message(req)
		if hex.EncodeToString(out) != tc.want || keep {
			t.Errorf("%s: answer %x (keep %v), want %s and close", tc.os, out, keep, tc.want)
		}
		if f := fieldsOf(ev, "negotiate"); len(f) != 1 || f[0]["result"] != "no common dialect" || f[0]["dialects"] != `["NT LM 0.12"]` {
			t.Errorf("%s: negotiate events %v", tc.os, f)
		}
	}
}
