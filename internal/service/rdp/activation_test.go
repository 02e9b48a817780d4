package rdp

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// transcript is a recorded exchange: lines "C hex" (client) and "S hex"
// (server), in order.
type transcript []struct {
	client bool
	data   []byte
}

func readTranscript(t *testing.T, name string) transcript {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tr transcript
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dir, hx, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(dir, "#") {
			continue
		}
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		tr = append(tr, struct {
			client bool
			data   []byte
		}{dir == "C", b})
	}
	return tr
}

// tlsSession negotiates TLS with the server at addr as xfreerdp /sec:tls
// does (the Connection Request of the transcripts) and runs the
// handshake.
func tlsSession(t *testing.T, addr string) *tls.Conn {
	t.Helper()
	c := dial(t, addr)
	c.Write(testutil.Hex("0300002b26e00000000000436f6f6b69653a206d737473686173683d616c6963650d0a0100080001000000"))
	if cc, _, err := readTPKT(c); err != nil || cc[len(cc)-4] != byte(ProtocolSSL) {
		t.Fatalf("CC %x, %v", cc, err)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

// The xrdp persona answers xfreerdp's connection sequence byte for byte
// as Debian's xrdp answered it, from the MCS Connect-Response to the
// finalization (testdata/xrdp-session.txt), and records the Client Info
// PDU's credentials.
func TestXrdpSessionTranscript(t *testing.T) {
	_, addr, ev := startServer(t, linuxHost, &Persona{}, "127.0.0.1")
	tc := tlsSession(t, addr)
	tr := readTranscript(t, "xrdp-session.txt")
	for i := 0; i < len(tr); i++ {
		if tr[i].client {
			if _, err := tc.Write(tr[i].data); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var want []byte
		for ; i < len(tr) && !tr[i].client; i++ {
			want = append(want, tr[i].data...)
		}
		i--
		got := make([]byte, len(want))
		if _, err := io.ReadFull(tc, got); err != nil {
			t.Fatalf("after line %d: %v (got %x)", i+1, err, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("server bytes before line %d:\n got %x\nwant %x", i+2, got, want)
		}
	}
	a := waitFor(t, ev, event.TypeAuth)
	checkFields(t, "auth", a, map[string]string{event.FieldUsername: "alice", event.FieldPassword: "secret",
		event.FieldMethod: "client_info", "autologon": "true", "client_address": "127.0.0.1",
		"client_dir": `C:\Windows\System32\mstscax.dll`, "domain": "", "alternate_shell": "", "info_flags": "0x000b47fb",
		"workstation":      "vm",
		event.FieldSuccess: "false"})
	// xrdp then keeps the connection for its login screen.
	tc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := tc.Read(make([]byte, 1)); !isTimeout(err) {
		t.Errorf("read after the finalization: %v, want the connection open and silent", err)
	}
}

// The Windows persona without NLA answers the same client with Windows
// Server 2019's Connect-Response, channel IDs 1003 up and user ID 1008
// (four channels), then licensing, a bad-password logon error and the
// Disconnect Provider Ultimatum.
func TestWindowsClientInfo(t *testing.T) {
	_, addr, ev := startServer(t, windowsHost, &Persona{NLA: false}, "127.0.0.1")
	tc := tlsSession(t, addr)
	tr := readTranscript(t, "xrdp-session.txt")
	steps := []struct {
		send []int // transcript lines sent, or the message channel's join
		want string
	}{
		{[]int{0}, "0300007702f0807f666d0a0100020100301a020116020103020100020101020100020101020300fff80201020449000500147c0001" +
			"2a14760a01010001c0004d63446e8032010c1000 0b000800 01000000 07000000 030c1000eb030400ec03ed03ee03ef03" +
			"020c0c000000000000000000 040c0600f103"},
		{[]int{2, 3}, "0300000b02f0802e000007"},
		{[]int{5}, "0300000f02f0803e00000703f003f0"},
		{[]int{7}, "0300000f02f0803e00000703eb03eb"},
		{[]int{9}, "0300000f02f0803e00000703ec03ec"},
		{[]int{11}, "0300000f02f0803e00000703ed03ed"},
		{[]int{13}, "0300000f02f0803e00000703ee03ee"},
		{[]int{15}, "0300000f02f0803e00000703ef03ef"},
		// The message channel, which xrdp does not offer.
		{nil, "0300000f02f0803e00000703f103f1"},
	}
	for _, s := range steps {
		if s.send == nil {
			tc.Write(testutil.Hex("0300000c02f08038000703f1"))
		}
		for _, i := range s.send {
			if _, err := tc.Write(tr[i].data); err != nil {
				t.Fatal(err)
			}
		}
		want := testutil.Hex(s.want)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(tc, got); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("after lines %v: %v\n got %x\nwant %x", s.send, err, got, want)
		}
	}
	tc.Write(tr[17].data) // Client Info
	rest, err := io.ReadAll(tc)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{
		testutil.Hex("0300002202f08068000103eb7014 80000000ff031000070000000200000004000000"),
		testutil.Hex("0300027102f08068000103eb708262 62021700ea03ea0301000001 5402 26000000 03000000 1200 02000000 08000000 feffffff 00000000"),
		make([]byte, logonInfoExtendedPad),
		testutil.Hex("0300000902f0802180"),
	}, nil)
	if !bytes.Equal(rest, want) {
		t.Errorf("after the Client Info:\n got %x\nwant %x", rest, want)
	}
	a := waitFor(t, ev, event.TypeAuth)
	checkFields(t, "auth", a, map[string]string{event.FieldUsername: "alice", event.FieldPassword: "secret",
		event.FieldMethod: "client_info", "security": "SSL"})
}

// A blank password is recorded as one; hostile PDUs in the domain phase
// are recorded and end the connection.
func TestActivationInputs(t *testing.T) {
	ci := clientInfo(infoUnicode|infoAutologon, "", "bob", "", "", "")
	for _, tc := range []struct {
		name   string
		send   [][]byte
		typ    string
		fields map[string]string
	}{
		{"blank password", [][]byte{mcsPDU(0x28), sendData(ci)}, event.TypeAuth,
			map[string]string{event.FieldUsername: "bob", "autologon": "true"}},
		{"encrypted info", [][]byte{sendData(append(testutil.Hex("48000000 0000000000000000"), ci[4:]...))}, typeProtocolError,
			map[string]string{"stage": "client_info"}},
		{"short send data", [][]byte{mcsPDU(0x64, 0, 7, 3, 0xeb, 0x70, 0x20, 1)}, typeProtocolError,
			map[string]string{"stage": "mcs"}},
		{"not X.224 data", [][]byte{tpkt(testutil.Hex("0506070809"))}, typeProtocolError, map[string]string{"stage": "mcs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, addr, ev := startServer(t, linuxHost, &Persona{}, "127.0.0.1")
			c := tlsSession(t, addr)
			c.Write(tpkt(readHex(t, "xfreerdp-mcs-tls.hex")))
			if _, _, err := readTPKT(c); err != nil {
				t.Fatal(err)
			}
			for _, b := range tc.send {
				c.Write(b)
			}
			f := waitFor(t, ev, tc.typ)
			checkFields(t, tc.typ, f, tc.fields)
			if tc.typ == event.TypeAuth {
				if p, ok := f[event.FieldPassword]; !ok || p != "" {
					t.Errorf("password %q (present %v), want an empty field", p, ok)
				}
			}
		})
	}
}

// sendData is a client's send data request on the I/O channel from user
// 1008.
func sendData(b []byte) []byte {
	return tpkt(append(append(testutil.Hex("02f080 64 0007 03eb 70"), perLength(len(b))...), b...))
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
