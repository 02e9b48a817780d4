package ntlmssp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// smb2Stub is the least of an SMB2 server that carries smbclient through
// SESSION_SETUP: NEGOTIATE picks SMB 3.0.2 (no negotiate contexts), the
// first SESSION_SETUP gets our CHALLENGE, the second a logon failure. It
// keeps the NTLMSSP tokens the client sent.
type smb2Stub struct {
	persona Persona

	mu         sync.Mutex
	negotiates [][]byte // SPNEGO tokens carrying NEGOTIATE
	auths      [][]byte // SPNEGO tokens carrying AUTHENTICATE
	challenges []Challenge
	err        error
}

const (
	smb2Negotiate    = 0
	smb2SessionSetup = 1

	statusMoreProcessing = 0xc0000016
	statusLogonFailure   = 0xc000006d
)

func (s *smb2Stub) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if err := s.conn(c); err != nil && !errors.Is(err, io.EOF) {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			}
		}()
	}
}

func (s *smb2Stub) conn(c net.Conn) error {
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	for {
		var nb [4]byte
		if _, err := io.ReadFull(c, nb[:]); err != nil {
			return err
		}
		n := int(nb[1])<<16 | int(nb[2])<<8 | int(nb[3])
		msg := make([]byte, n)
		if _, err := io.ReadFull(c, msg); err != nil {
			return err
		}
		if n < 64+8 || string(msg[:4]) != "\xfeSMB" {
			return fmt.Errorf("not SMB2: % x", msg[:min(n, 8)])
		}
		cmd := binary.LittleEndian.Uint16(msg[12:])
		var status uint32
		var body []byte
		switch cmd {
		case smb2Negotiate:
			blob := NegTokenInitMechs(Windows)
			body = binary.LittleEndian.AppendUint16(nil, 65)
			body = binary.LittleEndian.AppendUint16(body, 1)      // signing enabled
			body = binary.LittleEndian.AppendUint16(body, 0x0302) // SMB 3.0.2
			body = binary.LittleEndian.AppendUint16(body, 0)
			body = append(body, bytes.Repeat([]byte{0x42}, 16)...) // server GUID
			body = binary.LittleEndian.AppendUint32(body, 0)       // capabilities
			for range 3 {
				body = binary.LittleEndian.AppendUint32(body, 1<<20)
			}
			body = binary.LittleEndian.AppendUint64(body, filetime(time.Now()))
			body = binary.LittleEndian.AppendUint64(body, 0)
			body = binary.LittleEndian.AppendUint16(body, 64+64)
			body = binary.LittleEndian.AppendUint16(body, uint16(len(blob)))
			body = binary.LittleEndian.AppendUint32(body, 0)
			body = append(body, blob...)
		case smb2SessionSetup:
			off, ln := int(binary.LittleEndian.Uint16(msg[64+12:])), int(binary.LittleEndian.Uint16(msg[64+14:]))
			if off+ln > n {
				return fmt.Errorf("security buffer past the message")
			}
			token := bytes.Clone(msg[off : off+ln])
			inner, err := UnwrapSPNEGO(token)
			if err != nil {
				return err
			}
			neg, negErr := ParseNegotiate(inner)
			if negErr != nil {
				s.record(&s.auths, token, Challenge{})
				status = statusLogonFailure
				body = []byte{9, 0, 0, 0, 0, 0, 0, 0, 0}
				break
			}
			challenge, err := NewChallenge(neg, s.persona, time.Now(), nil)
			if err != nil {
				return err
			}
			s.record(&s.negotiates, token, challenge)
			status = statusMoreProcessing
			wrapped := WrapChallenge(challenge.Marshal())
			body = binary.LittleEndian.AppendUint16(nil, 9)
			body = binary.LittleEndian.AppendUint16(body, 0)
			body = binary.LittleEndian.AppendUint16(body, 64+8)
			body = binary.LittleEndian.AppendUint16(body, uint16(len(wrapped)))
			body = append(body, wrapped...)
		default:
			return fmt.Errorf("unexpected SMB2 command %d", cmd)
		}

		hdr := bytes.Clone(msg[:64])
		binary.LittleEndian.PutUint32(hdr[8:], status)
		binary.LittleEndian.PutUint16(hdr[14:], 1) // credits granted
		binary.LittleEndian.PutUint32(hdr[16:], binary.LittleEndian.Uint32(hdr[16:])|1)
		if cmd == smb2SessionSetup {
			binary.LittleEndian.PutUint64(hdr[40:], 0x1000000001)
		}
		clear(hdr[48:64])
		out := append(hdr, body...)
		frame := append([]byte{0, byte(len(out) >> 16), byte(len(out) >> 8), byte(len(out))}, out...)
		if _, err := c.Write(frame); err != nil {
			return err
		}
	}
}

// record keeps a token and, for a NEGOTIATE, the CHALLENGE that answered it.
func (s *smb2Stub) record(list *[][]byte, token []byte, c Challenge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*list = append(*list, token)
	if list == &s.negotiates {
		s.challenges = append(s.challenges, c)
	}
}

// TestSmbclient logs in with Samba's smbclient and checks the captured NetNTLMv2.
func TestSmbclient(t *testing.T) {
	smbclient := testutil.RequireTool(t, "smbclient")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stub := &smb2Stub{persona: NewPersona("FILESRV", "", Version{})}
	go stub.serve(ln)

	const user, password = "alice", "Winter2025!"
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	out, err := exec.CommandContext(t.Context(), smbclient, "-L", "//127.0.0.1", "-p", port,
		"-U", user+"%"+password, "-m", "SMB3", "--use-kerberos=disabled").CombinedOutput()
	if !strings.Contains(string(out), "NT_STATUS_LOGON_FAILURE") {
		t.Fatalf("smbclient: %v\n%s", err, out)
	}

	stub.mu.Lock()
	defer stub.mu.Unlock()
	if stub.err != nil {
		t.Fatal(stub.err)
	}
	if len(stub.auths) == 0 {
		t.Fatal("no AUTHENTICATE captured")
	}
	for i, token := range stub.negotiates {
		t.Logf("smbclient NegTokenInit %d: %x", i, token)
	}
	inner, _ := UnwrapSPNEGO(stub.negotiates[0])
	neg, err := ParseNegotiate(inner)
	if err != nil {
		t.Fatal(err)
	}
	// Samba 4.17 answers smbclient 4.17 with 0x628a8215 (real-products.md §13).
	if got := stub.challenges[0].Flags; got != 0x628a8215 {
		t.Errorf("we answer smbclient's %v with %v, Samba with 0x628a8215", neg.Flags, got)
	}

	t.Logf("smbclient NegTokenResp: %x", stub.auths[0])
	inner, err = UnwrapSPNEGO(stub.auths[0])
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ParseAuthenticate(inner)
	if err != nil {
		t.Fatal(err)
	}
	sc := stub.challenges[len(stub.auths)-1].ServerChallenge
	line, format, err := auth.Hashcat(sc)
	if err != nil || format != FormatNetNTLMv2 {
		t.Fatalf("Hashcat = %q %q %v", line, format, err)
	}
	t.Logf("captured %s (client version %v, MIC %x)", line, auth.Version, auth.MIC)
	if auth.User != user || !VerifyV2(auth, sc, password) || VerifyV2(auth, sc, "winter2025!") {
		t.Errorf("captured %q\\%q does not verify with exactly the password", auth.Domain, auth.User)
	}
	if !hashcatV2Cracks(t, line, password) {
		t.Errorf("%s does not crack", line)
	}
	if auth.MIC == nil {
		t.Error("smbclient sends a MIC, none was found")
	}
}
