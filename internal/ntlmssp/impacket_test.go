package ntlmssp

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// requireImpacket returns Debian's python3 when it can import impacket
// (python3-impacket), whose NTLM client is what attackers' tools run.
func requireImpacket(t *testing.T) string {
	t.Helper()
	py := testutil.RequireTool(t, "/usr/bin/python3")
	if err := exec.CommandContext(t.Context(), py, "-c", "import impacket.ntlm, impacket.spnego").Run(); err != nil {
		testutil.Skip(t, "python3-impacket is not installed (see .ci/run)")
	}
	return py
}

// impacketClient drives testdata/impacket_client.py one exchange at a time.
type impacketClient struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

func startImpacket(t *testing.T, py string, args ...string) *impacketClient {
	t.Helper()
	// Not t.Context(): it is cancelled before Cleanup, which waits for the
	// client to finish on its own.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, py, append([]string{"testdata/impacket_client.py"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer cancel()
		in.Close()
		if err := cmd.Wait(); err != nil && !t.Failed() {
			t.Errorf("impacket client: %v\n%s", err, stderr.String())
		}
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	return &impacketClient{t: t, in: in, out: sc}
}

// exchange sends one token and decodes the client's JSON answer into v.
func (c *impacketClient) exchange(token []byte, v any) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.in, "%x\n", token); err != nil {
		c.t.Fatal(err)
	}
	if !c.out.Scan() {
		c.t.Fatalf("impacket client said nothing: %v", c.out.Err())
	}
	if err := json.Unmarshal(c.out.Bytes(), v); err != nil {
		c.t.Fatalf("%v: %s", err, c.out.Text())
	}
}

// TestImpacketClient runs impacket's NTLM client (signing required, as its
// SMB client asks) through our SPNEGO greeting, CHALLENGE and reject, then
// checks what we captured.
func TestImpacketClient(t *testing.T) {
	py := requireImpacket(t)
	persona := NewPersona("fs01.corp.example.com", "corp.example.com", NewVersion(10, 0, 17763))
	now := time.Now()

	for _, tc := range []struct {
		mode, user, password, domain string
		format                       string
	}{
		{"v2", "alice", "Summer2024!", "CORP", FormatNetNTLMv2},
		{"v2", "Administrator", "secret", "", FormatNetNTLMv2},
		{"v1", "bob", "hunter2", "WORKGROUP", FormatNetNTLMv1},
		{"v2", "", "", "", ""},
	} {
		t.Run(tc.mode+"/"+tc.user, func(t *testing.T) {
			client := startImpacket(t, py, tc.mode, tc.user, tc.password, tc.domain)

			var hello struct {
				Mechs     []string
				Negotiate string
			}
			client.exchange(NegTokenInitMechs(Windows), &hello)
			if want := "NEGOEX - SPNEGO Extended Negotiation Security Mechanism,MS KRB5 - Microsoft Kerberos 5," +
				"KRB5 - Kerberos 5,KRB5 - Kerberos 5 - User to User,NTLMSSP - Microsoft NTLM Security Support Provider"; strings.Join(hello.Mechs, ",") != want {
				t.Errorf("impacket reads our mechanisms as %q", hello.Mechs)
			}
			t.Logf("impacket NegTokenInit: %s", hello.Negotiate)
			negToken, err := UnwrapSPNEGO(testutil.Hex(hello.Negotiate))
			if err != nil {
				t.Fatal(err)
			}
			neg, err := ParseNegotiate(negToken)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := NewChallenge(neg, persona, now, nil)
			if err != nil {
				t.Fatal(err)
			}

			var read struct {
				NegState      string `json:"neg_state"`
				SupportedMech string `json:"supported_mech"`
				Flags         uint32
				TargetName    string `json:"target_name"`
				Names         map[string]string
				Timestamp     string
				Authenticate  string
			}
			client.exchange(WrapChallenge(ch.Marshal()), &read)
			if read.NegState != "01" || !strings.HasPrefix(read.SupportedMech, "NTLMSSP") {
				t.Errorf("impacket reads negState %s, mech %q", read.NegState, read.SupportedMech)
			}
			wantNames := map[string]string{"1": "FS01", "2": "CORP", "3": "fs01.corp.example.com", "4": "corp.example.com", "5": "corp.example.com"}
			if Flags(read.Flags) != ch.Flags || read.TargetName != "CORP" || fmt.Sprint(read.Names) != fmt.Sprint(wantNames) {
				t.Errorf("impacket reads flags %v, target %q, names %v", Flags(read.Flags), read.TargetName, read.Names)
			}
			if ts := testutil.Hex(read.Timestamp); len(ts) != 8 || binary.LittleEndian.Uint64(ts) != filetime(now) {
				t.Errorf("impacket reads timestamp %s", read.Timestamp)
			}

			t.Logf("impacket NegTokenResp: %s", read.Authenticate)
			authToken, err := UnwrapSPNEGO(testutil.Hex(read.Authenticate))
			if err != nil {
				t.Fatal(err)
			}
			auth, err := ParseAuthenticate(authToken)
			if err != nil {
				t.Fatal(err)
			}
			if auth.User != tc.user || auth.Domain != tc.domain {
				t.Errorf("captured %q\\%q", auth.Domain, auth.User)
			}
			line, format, err := auth.Hashcat(ch.ServerChallenge)
			switch {
			case tc.user == "":
				if !auth.Anonymous() || !errors.Is(err, ErrAnonymous) {
					t.Errorf("anonymous logon: Anonymous %v, Hashcat %q %v", auth.Anonymous(), line, err)
				}
			case err != nil:
				t.Fatal(err)
			case format != tc.format:
				t.Errorf("format %q, want %q", format, tc.format)
			case format == FormatNetNTLMv2:
				if !VerifyV2(auth, ch.ServerChallenge, tc.password) || VerifyV2(auth, ch.ServerChallenge, tc.password+"x") {
					t.Error("VerifyV2 does not single out the password")
				}
				if !hashcatV2Cracks(t, line, tc.password) {
					t.Errorf("%s does not crack", line)
				}
				wantPrefix := tc.user + "::" + tc.domain + ":" + hex.EncodeToString(ch.ServerChallenge[:]) + ":"
				if !strings.HasPrefix(line, wantPrefix) {
					t.Errorf("line %s", line)
				}
			default:
				if !hashcatV1Cracks(t, line, tc.password) || hashcatV1Cracks(t, line, tc.password+"x") {
					t.Errorf("%s does not crack with exactly the password", line)
				}
			}

			var verdict struct {
				NegState string `json:"neg_state"`
			}
			client.exchange(WrapReject(), &verdict)
			if verdict.NegState != "02" {
				t.Errorf("impacket reads the reject as negState %s", verdict.NegState)
			}
		})
	}
}
