package smb

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/ntlmssp"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

var writeSeeds = flag.Bool("seeds", false, "write what the real clients send to testdata (client captures and fuzz seeds)")

// runClient runs a client for at most a minute and returns what it printed.
func runClient(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	t.Logf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	return string(out)
}

// checkHash checks that a captured hashcat 5600 line is the user's NTLMv2
// response for exactly that password: what a cracker would recover.
func checkHash(t *testing.T, f map[string]string, user, password string) {
	t.Helper()
	if f[event.FieldHashFormat] != ntlmssp.FormatNetNTLMv2 {
		t.Fatalf("hash_format %q", f[event.FieldHashFormat])
	}
	if !strings.HasPrefix(f[event.FieldHash], user+"::") {
		t.Fatalf("hash %q is not %s's", f[event.FieldHash], user)
	}
	ok, err := ntlmssp.CracksV2(f[event.FieldHash], password)
	bad, _ := ntlmssp.CracksV2(f[event.FieldHash], password+"x")
	if err != nil || !ok || bad {
		t.Errorf("hash %s does not crack with exactly %q (%v)", f[event.FieldHash], password, err)
	}
}

// onlyAuth returns the auth events, failing unless there is one with a
// hash for user.
func authOf(t *testing.T, ev *testutil.Events, user string) map[string]string {
	t.Helper()
	for _, f := range fieldsOf(ev, event.TypeAuth) {
		if f[event.FieldUsername] == user && f[event.FieldHash] != "" {
			return f
		}
	}
	dump(t, ev)
	t.Fatalf("no auth event with a hash for %s", user)
	return nil
}

// TestSmbclientLogonFailure: Samba's smbclient logs in with a password;
// its NetNTLMv2 is captured and verifies, and it hears
// NT_STATUS_LOGON_FAILURE, from either product.
func TestSmbclientLogonFailure(t *testing.T) {
	smbclient := testutil.RequireTool(t, "smbclient")
	for _, tc := range []struct {
		name, os string
		p        *Persona
	}{
		{"windows", "windows", nil},
		{"samba", "linux", &Persona{Users: []string{"Alice"}}},
		{"windows-domain", "windows", &Persona{Domain: "corp.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := testServer(t, tc.os, tc.p)
			addr, rec := serve(t, s, "127.0.77.1:0", PortDirect)
			host, port, _ := net.SplitHostPort(addr)
			out := runClient(t, smbclient, "-L", "//"+host, "-p", port, "-U", "alice%secret")
			if !strings.Contains(out, "NT_STATUS_LOGON_FAILURE") {
				t.Errorf("smbclient did not report NT_STATUS_LOGON_FAILURE")
			}
			f := authOf(t, ev, "alice")
			checkHash(t, f, "alice", "secret")
			want := map[string]string{event.FieldSuccess: "false", "status": "STATUS_LOGON_FAILURE",
				"client_version": "6.1.0", "mechanism": "ntlmssp", "spnego": "true", event.FieldSrcIP: "127.0.0.1"}
			for k, v := range want {
				if f[k] != v {
					t.Errorf("auth %s = %q, want %q", k, f[k], v)
				}
			}
			if f["workstation"] == "" || f["session"] == "" {
				t.Errorf("auth event without workstation or session: %v", f)
			}
			neg := fieldsOf(ev, "negotiate")
			if len(neg) == 0 || neg[0]["dialect"] != "3.1.1" || neg[0]["client_guid"] == "" ||
				neg[0]["dialects"] != `["2.0.2","2.1","3.0","3.0.2","3.1.1"]` || neg[0]["netname"] != host {
				t.Errorf("negotiate events %v", neg)
			}
			saveCapture(t, "smbclient-"+tc.name, rec)
		})
	}
}

// TestSmbclientListsShares: smbclient -L lists the persona's shares to a
// null session or a guest, and nothing to a null session on a default
// Windows persona, whose srvsvc pipe refuses it.
func TestSmbclientListsShares(t *testing.T) {
	smbclient := testutil.RequireTool(t, "smbclient")
	for _, tc := range []struct {
		name, os string
		p        *Persona
		user     []string
		want     []string
		session  string // session_type of the listing
	}{
		{"samba-default", "linux", nil, []string{"-N"}, []string{
			"print$          Disk      Printer Drivers",
			"backup          Disk      Backups",
			"IPC$            IPC       IPC Service (Samba 4.17.12-Debian)",
			"nobody          Disk      Home Directories"}, "guest"},
		{"windows-anonymous", "windows", &Persona{Anonymous: yes}, []string{"-N"}, []string{
			"Anonymous login successful",
			"ADMIN$          Disk      Remote Admin",
			"C$              Disk      Default share",
			"Finance         Disk",
			"IPC$            IPC       Remote IPC"}, "anonymous"},
		{"windows-guest", "windows", &Persona{Guest: yes, Shares: map[string]string{"Payroll": "HR only", "scans": ""}},
			[]string{"-U", "alice%secret"}, []string{
				"ADMIN$          Disk      Remote Admin",
				"Payroll         Disk      HR only",
				"scans           Disk"}, "guest"},
		{"windows-default", "windows", nil, []string{"-N"}, []string{"Anonymous login successful"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := testServer(t, tc.os, tc.p)
			addr, rec := serve(t, s, "127.0.77.2:0", PortDirect)
			host, port, _ := net.SplitHostPort(addr)
			out := runClient(t, smbclient, append([]string{"-L", "//" + host, "-p", port}, tc.user...)...)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("smbclient's listing lacks %q", w)
				}
			}
			var listed bool
			for _, f := range fieldsOf(ev, "rpc") {
				listed = listed || f["operation"] == "NetrShareEnum" && f["level"] == "1" && f["result"] == "WERR_OK"
			}
			creates := fieldsOf(ev, "create")
			switch {
			case tc.session == "" && (listed || len(creates) == 0 || creates[0]["status"] != "STATUS_ACCESS_DENIED"):
				t.Errorf("a null session opened srvsvc: %v", creates)
			case tc.session != "" && (!listed || creates[len(creates)-1]["session_type"] != tc.session):
				dump(t, ev)
				t.Errorf("no NetrShareEnum in a %s session", tc.session)
			}
			if tc.name == "windows-guest" {
				checkHash(t, authOf(t, ev, "alice"), "alice", "secret")
			}
			saveCapture(t, "smbclient-list-"+tc.name, rec)
		})
	}
}

// TestSmbclientShareRefused: a tree connect to a listed share is refused
// with NT_STATUS_ACCESS_DENIED, to any other with
// NT_STATUS_BAD_NETWORK_NAME, and both are logged with the share's path.
func TestSmbclientShareRefused(t *testing.T) {
	smbclient := testutil.RequireTool(t, "smbclient")
	s, ev := testServer(t, "windows", &Persona{Guest: yes})
	addr, _ := serve(t, s, "127.0.77.3:0", PortDirect)
	host, port, _ := net.SplitHostPort(addr)
	for share, status := range map[string]string{"Finance": "NT_STATUS_ACCESS_DENIED", "C$": "NT_STATUS_ACCESS_DENIED", "nope": "NT_STATUS_BAD_NETWORK_NAME"} {
		out := runClient(t, smbclient, "//"+host+"/"+share, "-p", port, "-U", "bob%hunter2", "-c", "ls")
		if !strings.Contains(out, status) {
			t.Errorf("%s: smbclient did not report %s", share, status)
		}
		path := `\\` + host + `\` + share
		found := false
		for _, f := range fieldsOf(ev, "tree_connect") {
			found = found || f["share"] == path && f["status"] == strings.TrimPrefix(status, "NT_")
		}
		if !found {
			t.Errorf("no tree_connect event for %s with %s", path, status)
		}
	}
}

const impacketSmbclient = testutil.ImpacketExamples + "smbclient.py"

// TestImpacketSmbclient: impacket's smbclient.py, which only reaches ports
// 445 and 139 (real-clients.md gotcha 2), opens with an SMB1 negotiate
// listing SMB 2.002 (and SMB 2.??? on 445); its NetNTLMv2 is captured
// and it is told STATUS_LOGON_FAILURE. As a Samba guest it lists the
// shares.
func TestImpacketSmbclient(t *testing.T) {
	py := testutil.RequireImpacket(t)
	testutil.RequireRoot(t, "to listen on ports 445 and 139 of a loopback address")
	for _, tc := range []struct {
		name, os string
		port     int
		p        *Persona
	}{
		{"windows-445", "windows", PortDirect, nil},
		{"windows-139", "windows", PortNetBIOS, nil},
		{"samba-445", "linux", PortDirect, &Persona{Users: []string{"alice"}}},
		{"samba-139", "linux", PortNetBIOS, &Persona{Users: []string{"alice"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ev := testServer(t, tc.os, tc.p)
			_, rec := serve(t, s, fmt.Sprintf("127.0.77.5:%d", tc.port), tc.port)
			out := runClient(t, py, impacketSmbclient, "-port", fmt.Sprint(tc.port), "alice:secret@127.0.77.5")
			if !strings.Contains(out, "STATUS_LOGON_FAILURE") {
				t.Errorf("impacket did not report STATUS_LOGON_FAILURE")
			}
			checkHash(t, authOf(t, ev, "alice"), "alice", "secret")
			neg := fieldsOf(ev, "negotiate")
			want := `["NT LM 0.12","SMB 2.002","SMB 2.???"]`
			if tc.port == PortNetBIOS {
				want = `["NT LM 0.12","SMB 2.002"]`
				if ns := fieldsOf(ev, "nbss_session"); len(ns) != 1 || ns[0]["called_name"] != "127.0.77.5" || ns[0]["result"] != "positive" {
					t.Errorf("nbss_session events %v", ns)
				}
			}
			if len(neg) == 0 || neg[0]["smb_version"] != "1" || neg[0]["dialects"] != want {
				t.Errorf("negotiate events %v", neg)
			}
			saveCapture(t, "impacket-"+tc.name, rec)
		})
	}
	t.Run("samba-guest-shares", func(t *testing.T) {
		s, ev := testServer(t, "linux", nil)
		_, rec := serve(t, s, "127.0.77.5:445", PortDirect)
		cmds := filepath.Join(t.TempDir(), "cmds")
		if err := os.WriteFile(cmds, []byte("shares\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out := runClient(t, py, impacketSmbclient, "-file", cmds, "alice:secret@127.0.77.5")
		for _, w := range []string{"print$", "backup", "IPC$", "nobody"} {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("impacket's shares lack %s", w)
			}
		}
		if f := authOf(t, ev, "alice"); f["session_type"] != "guest" {
			t.Errorf("impacket's logon: %v", f)
		}
		saveCapture(t, "impacket-samba-guest-shares", rec)
	})
}

// saveCapture writes what a client sent, with -seeds: one frame a line
// in testdata/clients, the stream as a FuzzSMB2 seed, its first SMB1
// message as a FuzzSMB1 seed and its pipe input as a FuzzDCERPC seed.
func saveCapture(t *testing.T, name string, rec *recorder) {
	t.Helper()
	if !*writeSeeds {
		return
	}
	var lines, stream, smb1, rpc []byte
	for _, f := range rec.all() {
		lines = append(lines, hex.EncodeToString(f)+"\n"...)
		stream = append(stream, f...)
		msg := f[4:]
		if smb1 == nil && strings.HasPrefix(string(msg), magicSMB1) {
			smb1 = msg
		}
		rpc = append(rpc, pipeInput(msg)...)
	}
	write := func(path string, data []byte) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seed := func(target string, data []byte) {
		if data == nil {
			return
		}
		dir := filepath.Join("testdata", "fuzz", target)
		// Many captures open alike: one seed for the same bytes is enough.
		others, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, o := range others {
			if b, err := os.ReadFile(o); err == nil && bytes.Equal(seedBytes(b), data) && filepath.Base(o) != name {
				return
			}
		}
		write(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data))
	}
	write(filepath.Join("testdata", "clients", name+".hex"), lines)
	seed("FuzzSMB2", stream)
	seed("FuzzSMB1", smb1)
	seed("FuzzDCERPC", rpc)
}

// seedBytes decodes a corpus file holding one []byte, nil for another.
func seedBytes(file []byte) []byte {
	q, ok1 := strings.CutPrefix(string(file), "go test fuzz v1\n[]byte(")
	q, ok2 := strings.CutSuffix(q, ")\n")
	if !ok1 || !ok2 {
		return nil
	}
	b, err := strconv.Unquote(q)
	if err != nil {
		return nil
	}
	return []byte(b)
}

// pipeInput returns the bytes an SMB2 message (maybe compound) writes to
// a pipe: WRITE data and FSCTL_PIPE_TRANSCEIVE input.
func pipeInput(msg []byte) []byte {
	var out []byte
	for len(msg) >= headerSize {
		h, err := parseHeader(msg)
		if err != nil {
			break
		}
		n := len(msg)
		if h.NextCommand != 0 && int(h.NextCommand) <= len(msg) {
			n = int(h.NextCommand)
		}
		req := msg[:n]
		le := binary.LittleEndian
		switch body, _ := field(req, headerSize, 56); {
		case body == nil:
		case h.Command == cmdWrite:
			if d, ok := field(req, int(le.Uint16(body[2:])), int(le.Uint32(body[4:]))); ok {
				out = append(out, d...)
			}
		case h.Command == cmdIoctl && le.Uint32(body[4:]) == fsctlPipeTransceive:
			if d, ok := field(req, int(le.Uint32(body[24:])), int(le.Uint32(body[28:]))); ok {
				out = append(out, d...)
			}
		}
		if h.NextCommand == 0 || n == len(msg) {
			break
		}
		msg = msg[n:]
	}
	return out
}

// TestNmapVersion: nmap -sV names Samba on both ports, from the SMB1
// refusal it gets to its SMB_COM_NEGOTIATE probe (sent to 139 without a
// session request, which Samba does not need), as it names Debian's
// Samba 4.17. On a Windows persona 445 stays "microsoft-ds?", as Windows
// with SMB1 removed does, and 139 answers the probe with Windows's
// negative session response, which nmap names.
func TestNmapVersion(t *testing.T) {
	for _, tc := range []struct {
		os, addr string
		want     []string // regexps of nmap's port lines
	}{
		{"linux", "127.0.77.10", []string{`139/tcp +open +netbios-ssn +Samba smbd`, `445/tcp +open +netbios-ssn +Samba smbd`}},
		{"windows", "127.0.77.11", []string{`139/tcp +open +netbios-ssn +Microsoft Windows netbios-ssn`, `445/tcp +open +microsoft-ds\?`}},
	} {
		t.Run(tc.os, func(t *testing.T) {
			t.Parallel()
			s, _ := testServer(t, tc.os, nil)
			servicetest.ServeRealPorts(t, s, tc.addr, Service{}.Info().Ports...)
			out := testutil.Nmap(t, "-Pn", "-n", "-sV", "--version-light", "-p", "139,445", tc.addr)
			for _, w := range tc.want {
				if !regexp.MustCompile(`(?m)^` + w).MatchString(out) {
					t.Errorf("nmap -sV does not say %s", w)
				}
			}
		})
	}
}
