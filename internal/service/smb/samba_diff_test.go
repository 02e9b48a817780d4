package smb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// Loopback addresses of the differential test: real smbd, and the samba
// persona next to it.
const (
	smbdAddr    = "127.0.78.1"
	personaAddr = "127.0.78.2"
)

// nmapSMBProgNeg is nmap's SMBProgNeg probe (nmap-service-probes), which
// -sV sends to 139 and 445 without a session request.
var nmapSMBProgNeg = append([]byte("\x00\x00\x00\xa4\xffSMBr\x00\x00\x00\x00\x08\x01\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40\x06\x00\x00\x01\x00\x00\x81\x00"),
	"\x02PC NETWORK PROGRAM 1.0\x00\x02MICROSOFT NETWORKS 1.03\x00\x02MICROSOFT NETWORKS 3.0\x00\x02LANMAN1.0\x00\x02LM1.2X002\x00\x02Samba\x00\x02NT LANMAN 1.0\x00\x02NT LM 0.12\x00"...)

// nbssProbes are exchanges whose answers real Samba and the samba persona
// must share byte for byte: nmap's probe, SMB1 negotiates with and
// without a session request, session requests Samba refuses, keepalives
// and other NetBIOS packets before and after SMB2 starts.
func nbssProbes(t *testing.T) []struct {
	name   string
	frames [][]byte
} {
	nt1Only := smb1NT1Only()
	wildcard := clientFrames(t, "impacket-samba-445")[0] // NT LM 0.12, SMB 2.002, SMB 2.???
	nt1Only17 := bytes.Clone(nt1Only)
	nt1Only17[1] = 0x02 // above the 17 bits of an RFC 1002 length
	// After the SMB1 negotiate, message id 0 is spent (MS-SMB2 3.2.5.2).
	// Each connection has its own client GUID: Samba hands a connection
	// to the process already serving its GUID, whose port then counts.
	smb2Negotiate := func() []byte {
		req := negotiateReq(0, []uint16{dialect210})
		if _, err := rand.Read(req[12:28]); err != nil {
			t.Fatal(err)
		}
		return frame(append(header{Command: cmdNegotiate, Credits: 1, MessageID: 1}.appendTo(nil), req...))
	}
	sreq := sessionRequestFrame("*SMBSERVER", 0)
	keepalive := []byte{nbssKeepAlive, 0, 0, 0}
	keepaliveRequest := []byte{0x89, 0, 0, 0}
	badChars := nbssPacket(nbssSessionRequest, append(append([]byte{32}, bytes.Repeat([]byte("Z"), 32)...), append([]byte{0}, netbiosName("ATTACKER", 0)...)...))
	smb1Echo := nbssPacket(nbssMessage, append([]byte("\xffSMB\x2b"), make([]byte, 30)...))
	return []struct {
		name   string
		frames [][]byte
	}{
		{"nmap SMBProgNeg", [][]byte{nmapSMBProgNeg}},
		{"SMB1 NT1 only", [][]byte{nt1Only}},
		{"SMB1 17-bit length", [][]byte{nt1Only17}},
		{"SMB1 echo first", [][]byte{smb1Echo}},
		{"wrong called name", [][]byte{sessionRequestFrame("NOSUCHNAME", 0), nt1Only}},
		{"session then SMB2", [][]byte{sreq, wildcard, smb2Negotiate()}},
		{"PATHWORKS calling name", [][]byte{sessionRequestFrame("*SMBSERVER", 'R')}},
		{"truncated name", [][]byte{{nbssSessionRequest, 0, 0, 4, 32, 'A', 'A', 'A'}}},
		{"names outside A-P", [][]byte{badChars, nt1Only}},
		{"keepalive first", [][]byte{keepalive, nt1Only}},
		{"keepalive request first", [][]byte{keepaliveRequest, nt1Only}},
		{"positive response first", [][]byte{{nbssPositive, 0, 0, 0}, nt1Only}},
		{"keepalive after session", [][]byte{sreq, keepalive, nt1Only}},
		{"second session request", [][]byte{sreq, sreq, nt1Only}},
		{"NetBIOS packets after SMB2 starts", [][]byte{wildcard, keepalive, keepaliveRequest, sreq, smb2Negotiate()}},
		{"HTTP", [][]byte{[]byte("GET / HTTP/1.0\r\n\r\n")}},
	}
}

// smb1NT1Only is smbclient -m NT1's negotiate (NT LM 0.12 alone).
func smb1NT1Only() []byte {
	return frame([]byte("\xffSMBr\x00\x00\x00\x00\x08\x13\xc8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00\x00\x00\x00" +
		"\x00\x0c\x00\x02NT LM 0.12\x00"))
}

// recordedSmbd holds smbd's answers to the nbssProbes, one
// "port<TAB>probe<TAB>answers" line each, as TestSambaNBSSDifferential
// recorded them (-update rewrites it).
var recordedSmbd = filepath.Join("testdata", "golden", "smbd-nbss.txt")

// TestSambaNBSSDifferential: Debian's smbd and the samba persona, side by
// side on ports 139 and 445 of loopback addresses, answer the nbssProbes
// alike (SMB2 times aside), smbd as recorded in recordedSmbd, and nmap
// -sV names both the same. -seeds writes the probes as client captures
// and fuzz seeds.
func TestSambaNBSSDifferential(t *testing.T) {
	testutil.RequireRoot(t, "to run smbd and listen on ports 139 and 445")
	smbd := testutil.RequireTool(t, "smbd")
	startSmbd(t, smbd, smbdAddr)
	s, _ := testServer(t, "linux", nil)
	for _, port := range []int{PortNetBIOS, PortDirect} {
		serve(t, s, fmt.Sprintf("%s:%d", personaAddr, port), port)
	}
	recorded := readRecorded(t)
	var mu sync.Mutex
	fresh := map[string]string{}
	t.Run("probes", func(t *testing.T) {
		for _, port := range []int{PortNetBIOS, PortDirect} {
			for _, p := range nbssProbes(t) {
				key := fmt.Sprintf("%d\t%s", port, p.name)
				if port == PortNetBIOS {
					rec := &recorder{}
					for _, f := range p.frames {
						rec.add(f)
					}
					saveCapture(t, "nbss-"+strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(p.name)), rec)
				}
				t.Run(fmt.Sprintf("%s/%d", p.name, port), func(t *testing.T) {
					t.Parallel()
					var want, got string
					var wg sync.WaitGroup
					wg.Go(func() { want = exchange(t, fmt.Sprintf("%s:%d", smbdAddr, port), p.frames) })
					wg.Go(func() { got = exchange(t, fmt.Sprintf("%s:%d", personaAddr, port), p.frames) })
					wg.Wait()
					if got != want {
						t.Errorf("answers differ\nsmbd:    %s\npersona: %s", want, got)
					}
					if !*update && recorded[key] != want {
						t.Errorf("smbd no longer answers as recorded in %s (-update)\nnow: %s\nwas: %s", recordedSmbd, want, recorded[key])
					}
					mu.Lock()
					fresh[key] = want
					mu.Unlock()
				})
			}
		}
	})
	if *update && !t.Failed() {
		var lines []string
		for k, v := range fresh {
			lines = append(lines, k+"\t"+v+"\n")
		}
		slices.Sort(lines)
		if err := os.WriteFile(recordedSmbd, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("nmap", func(t *testing.T) {
		nmap := testutil.RequireTool(t, "nmap")
		var want, got string
		var wg sync.WaitGroup
		wg.Go(func() { want = nmapPorts(t, nmap, smbdAddr) })
		wg.Go(func() { got = nmapPorts(t, nmap, personaAddr) })
		wg.Wait()
		if got != want || !strings.Contains(want, "139/tcp open  netbios-ssn Samba smbd") {
			t.Errorf("nmap -sV names smbd\n%s\nand the persona\n%s", want, got)
		}
	})
}

// TestSambaNBSSRecorded: the samba persona answers the nbssProbes as
// smbd did when recorded, on any machine (no smbd, no root needed).
func TestSambaNBSSRecorded(t *testing.T) {
	recorded := readRecorded(t)
	s, _ := testServer(t, "linux", nil)
	for _, port := range []int{PortNetBIOS, PortDirect} {
		addr, _ := serve(t, s, "127.0.78.3:0", port)
		for _, p := range nbssProbes(t) {
			want := recorded[fmt.Sprintf("%d\t%s", port, p.name)]
			t.Run(fmt.Sprintf("%s/%d", p.name, port), func(t *testing.T) {
				t.Parallel()
				if got := exchange(t, addr, p.frames); want == "" || got != want {
					t.Errorf("answers differ\nsmbd:    %s\npersona: %s", want, got)
				}
			})
		}
	}
}

// readRecorded reads recordedSmbd, by "port<TAB>probe".
func readRecorded(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(recordedSmbd)
	if err != nil && !*update {
		t.Fatal(err)
	}
	m := map[string]string{}
	for l := range strings.Lines(string(b)) {
		i := strings.LastIndexByte(l, '\t')
		if i < 0 {
			t.Fatalf("%s: bad line %q", recordedSmbd, l)
		}
		m[l[:i]] = strings.TrimSuffix(l[i+1:], "\n")
	}
	return m
}

// nmapPorts runs nmap -sV on ports 139 and 445 and returns its port lines.
func nmapPorts(t *testing.T, nmap, addr string) string {
	out := runClient(t, nmap, "-Pn", "-n", "-sV", "--version-light", "-p", "139,445", addr)
	var lines []string
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, "139/") || strings.HasPrefix(l, "445/") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "")
}

// exchange sends frames one at a time to addr and returns, for each, the
// hex of the answer ("-" for none), space-separated, then whether the server closed the connection
// meanwhile ("closed") or kept it ("open"). A server is given 2 s to
// start an answer and then 200 ms between its parts: on loopback both
// answer at once.
// It runs in its own goroutine, so it reports errors and returns.
func exchange(t *testing.T, addr string, frames [][]byte) string {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer conn.Close()
	var out []string
	buf := make([]byte, 1<<16)
	for _, f := range frames {
		if _, err := conn.Write(f); err != nil {
			return strings.Join(append(out, "write failed"), " ")
		}
		var answer []byte
		var closed bool
		for wait := 2 * time.Second; ; wait = 200 * time.Millisecond {
			conn.SetReadDeadline(time.Now().Add(wait))
			n, err := conn.Read(buf)
			answer = append(answer, buf[:n]...)
			if err != nil {
				var ne net.Error
				closed = !errors.As(err, &ne) || !ne.Timeout()
				break
			}
		}
		h := hex.EncodeToString(maskNegotiateTime(answer))
		if h == "" {
			h = "-"
		}
		out = append(out, h)
		if closed {
			return strings.Join(append(out, "closed"), " ")
		}
	}
	return strings.Join(append(out, "open"), " ")
}

// maskNegotiateTime zeroes the SystemTime of an SMB2 NEGOTIATE response,
// the one field two servers cannot share.
func maskNegotiateTime(b []byte) []byte {
	const at = 4 + headerSize + 40
	if len(b) >= at+8 && string(b[4:8]) == magicSMB2 && b[4+12] == byte(cmdNegotiate) {
		clear(b[at : at+8])
	}
	return b
}

// startSmbd runs Debian's smbd, with the stock smb.conf's global settings
// and the test server's NetBIOS name (which Samba's server GUID is made
// of), on ports 139 and 445 of addr until the test ends.
func startSmbd(t *testing.T, smbd, addr string) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "smb.conf")
	// A fake interface "addr/8" needs no address on lo: smbd binds addr.
	err := os.WriteFile(conf, fmt.Appendf(nil, `[global]
   workgroup = WORKGROUP
   netbios name = FILESRV01
   server role = standalone server
   map to guest = bad user
   usershare allow guests = yes
   interfaces = %[1]s/8
   bind interfaces only = yes
   smb ports = 445 139
   private dir = %[2]s/private
   lock directory = %[2]s/lock
   state directory = %[2]s/state
   cache directory = %[2]s/cache
   pid directory = %[2]s
   ncalrpc dir = %[2]s/ncalrpc
   usershare path = %[2]s/usershares
   logging = stdout
   load printers = no
`, addr, dir), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"private", "lock", "state", "cache", "ncalrpc", "usershares"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	cmd := exec.Command(smbd, "--foreground", "--no-process-group", "--debug-stdout", "-s", conf)
	cmd.Stdout, cmd.Stderr = &log, &log
	// Its own process group, so that the connections' children go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("smbd's log:\n%s", log.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, port := range []string{"139", "445"} {
		for {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(addr, port))
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-exited:
				t.Fatalf("smbd exited: %s", log.String())
			case <-ctx.Done():
				t.Fatalf("smbd does not listen on %s:%s", addr, port)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}
