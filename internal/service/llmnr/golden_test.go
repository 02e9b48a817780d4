package llmnr

import (
	"bytes"
	"testing"

	"decnet/internal/service"
	"decnet/internal/testutil"
)

// TestSambaReplies compares the Samba-style answers with those of the
// real nmbd 4.17.12-Debian (netbios name NBTESTSRV, workgroup WORKGROUP,
// on 127.0.118.50), captured byte for byte.
func TestSambaReplies(t *testing.T) {
	id, err := newIdentity(service.Host{Name: "d", Hostname: "nbtestsrv", OS: "linux", IP: "127.0.118.50"}, defaultPersona().(*Persona))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		query, nmb []byte
	}{
		{"node status *", append(append(testutil.Hex(`abcd 0000 0001 0000 0000 0000`), appendName(nil, wildcard())...), 0, 0x21, 0, 1),
			testutil.Hex(`abcd8400000000010000000020434b4141414141414141414141414141414141414141414141414141414141410000210001000000000089054e42544553545352562020202020200004004e42544553545352562020202020200304004e4254455354535256202020202020200400574f524b47524f5550202020202020008400574f524b47524f55502020202020201e8400` + zeros(46))},
		{"name query NBTESTSRV<20>", append(append(testutil.Hex(`abce 0110 0001 0000 0000 0000`), appendName(nil, newNBName("NBTESTSRV", 0x20))...), 0, 0x20, 0, 1),
			testutil.Hex(`abce 8580 0000 0001 0000 0000 20454f45434645454646444645464446434647434143414341434143414341434100 0020 0001 0003f480 0006 0000 7f007632`)},
		{"name query WORKGROUP<00>", append(append(testutil.Hex(`abce 0110 0001 0000 0000 0000`), appendName(nil, newNBName("WORKGROUP", 0x00))...), 0, 0x20, 0, 1),
			nil}, // answered, checked for its flags only below
	}
	for _, tc := range tests {
		p, err := parseNBNS(tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := id.answerNBNS(p)
		if tc.nmb == nil {
			if len(got) != 62 || got[2] != 0x85 || got[3] != 0x80 {
				t.Errorf("%s: %x", tc.name, got)
			}
			continue
		}
		if !bytes.Equal(got, tc.nmb) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, got, tc.nmb)
		}
	}
	// nmbd answers a node status request for any name it holds (measured
	// from another host on its subnet), but not for a name it does not.
	for name, want := range map[string]bool{"NBTESTSRV": true, "OTHERHOST": false} {
		p, _ := parseNBNS(append(append(testutil.Hex(`abcf 0000 0001 0000 0000 0000`), appendName(nil, newNBName(name, 0))...), 0, 0x21, 0, 1))
		if got := id.answerNBNS(p); (got != nil) != want {
			t.Errorf("node status for %s: %x", name, got)
		}
	}
}

func zeros(n int) string { return string(bytes.Repeat([]byte("00"), n)) }
