package ntlmssp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// Seeds live in testdata/fuzz/<target>: the MS-NLMP samples and the tokens
// impacket and smbclient sent in impacket_test.go and smbclient_test.go.

func FuzzParseNegotiate(f *testing.F) {
	persona := NewPersona("fs01.corp.example.com", "corp.example.com", Version{})
	f.Fuzz(func(t *testing.T, b []byte) {
		neg, err := ParseNegotiate(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		c, err := NewChallenge(neg, persona, time.Unix(1700000000, 0), bytes.NewReader(make([]byte, 8)))
		if err != nil {
			t.Fatal(err)
		}
		if c.Flags&(FlagUnicode|FlagOEM) == FlagUnicode|FlagOEM {
			t.Errorf("answered both UNICODE and OEM to %v", neg.Flags)
		}
		if back := parseChallenge(t, c.Marshal()); back.Flags != c.Flags || len(back.TargetInfo) != len(c.TargetInfo) {
			t.Errorf("CHALLENGE does not round-trip: %+v", back)
		}
	})
}

func FuzzParseAuthenticate(f *testing.F) {
	var sc [8]byte
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAuthenticate(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		VerifyV2(a, sc, "Password")
		line, format, err := a.Hashcat(sc)
		if err != nil {
			return
		}
		fields := strings.Split(line, ":")
		if len(fields) != 6 || fields[0] != a.User || fields[1] != "" || fields[2] != a.Domain {
			t.Fatalf("line %q does not split into user, domain and five fields", line)
		}
		for _, h := range fields[3:] {
			if _, err := hex.DecodeString(h); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
		}
		if format != FormatNetNTLMv1 && format != FormatNetNTLMv2 {
			t.Fatalf("format %q", format)
		}
	})
}

func FuzzUnwrapSPNEGO(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		token, err := UnwrapSPNEGO(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoNTLM) && !errors.Is(err, ErrNeedNTLMToken) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !bytes.HasPrefix(token, []byte(Signature)) || !bytes.Contains(b, token) {
			t.Fatalf("token %x is not an NTLMSSP message inside the input", token)
		}
		_, _ = ParseNegotiate(token)
		_, _ = ParseAuthenticate(token)
		if again, err := UnwrapSPNEGO(WrapChallenge(token)); err != nil || !bytes.Equal(again, token) {
			t.Fatalf("WrapChallenge does not round-trip: %v", err)
		}
	})
}
