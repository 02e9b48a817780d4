package postgres

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// realServer is where CI runs Debian's PostgreSQL 15 (stock pg_hba.conf:
// scram-sha-256 from 127.0.0.1).
const realServer = "127.0.0.1:5432"

// realVersion is the release of the installed server, e.g. "15.18".
func realVersion(t *testing.T) string {
	bin := testutil.RequireTool(t, "/usr/lib/postgresql/15/bin/postgres")
	out, err := exec.Command(bin, "--version").Output()
	m := regexp.MustCompile(`\) (15\.\d+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("postgres --version: %v %q", err, out)
	}
	return string(m[1])
}

func startupMsg(proto uint32, kv ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, proto)
	for _, s := range kv {
		b = append(b, cstr(s)...)
	}
	b = append(b, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b)+4)), b...)
}

func saslInit(mech string, data string) []byte {
	return message('p', cstr(mech), binary.BigEndian.AppendUint32(nil, uint32(len(data))), []byte(data))
}

// converse sends each step and collects what the server answers to it,
// until it closes or stays quiet; steps may use the previous answer.
func converse(t *testing.T, addr string, useTLS bool, steps []func(prev []byte) []byte) [][]byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if useTLS {
		c.Write(testutil.Hex("0000000804d2162f"))
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 'S' {
			t.Fatalf("SSLRequest: %q %v", b, err)
		}
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		c = tc
	}
	var answers [][]byte
	var prev []byte
	for i, step := range steps {
		if _, err := c.Write(step(prev)); err != nil {
			break
		}
		// A step's answer ends at EOF, or when the server, having said
		// something, falls quiet; the last step waits for the close.
		var got bytes.Buffer
		buf := make([]byte, 4096)
		for {
			quiet := 1500 * time.Millisecond
			if got.Len() > 0 && i < len(steps)-1 {
				quiet = 300 * time.Millisecond
			}
			c.SetReadDeadline(time.Now().Add(quiet))
			n, err := c.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				if err == io.EOF {
					got.WriteString("<EOF>")
				}
				break
			}
		}
		prev = got.Bytes()
		answers = append(answers, prev)
	}
	return answers
}

// smbProbe is nmap's SMBProgNeg probe, which PostgreSQL answers with the
// error whose source line nmap reads as a version.
func smbProbe() []byte {
	return append(testutil.Hex(`000000a4ff534d4272000000000801400000000000000000000000000000400600000100008100`),
		"\x02PC NETWORK PROGRAM 1.0\x00\x02MICROSOFT NETWORKS 1.03\x00\x02MICROSOFT NETWORKS 3.0\x00\x02LANMAN1.0\x00\x02LM1.2X002\x00\x02Samba\x00\x02NT LANMAN 1.0\x00\x02NT LM 0.12\x00"...)
}

func fixed(b []byte) func([]byte) []byte { return func([]byte) []byte { return b } }

// wrongProof answers a server-first message with a well-formed client-final
// whose proof is wrong.
func wrongProof(prev []byte) []byte {
	m := regexp.MustCompile(`r=([^,]+),`).FindSubmatch(prev)
	if m == nil {
		return nil
	}
	return message('p', []byte("c=biws,r="+string(m[1])+",p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
}

const zeroProof = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

// finalWith sends a client-final-message, NONCE replaced by the server's.
func finalWith(msg string) func([]byte) []byte {
	return func(prev []byte) []byte {
		m := regexp.MustCompile(`r=([^,]+),`).FindSubmatch(prev)
		if m == nil {
			return nil
		}
		return message('p', []byte(strings.ReplaceAll(msg, "NONCE", string(m[1]))))
	}
}

// serverFirstRE masks the random parts of a server-first message.
var serverFirstRE = regexp.MustCompile(`R\x00\x00\x00.\x00\x00\x00\x0br=[^,]+,s=[^,]+,i=4096`)

// TestDifferentialRealServer sends the same bytes to Debian's PostgreSQL
// and to the honeypot (at the same release) and wants the same answers.
func TestDifferentialRealServer(t *testing.T) {
	version := realVersion(t)
	if c, err := net.DialTimeout("tcp", realServer, time.Second); err != nil {
		testutil.Skip(t, "no PostgreSQL on "+realServer)
	} else {
		c.Close()
	}
	fake, _ := startServer(t, 40, func(p *Persona) { p.Version = version })
	fakeTLS, _ := startServer(t, 41, func(p *Persona) { p.Version = version; p.SSL = true })
	smb := smbProbe()
	user := startupMsg(protoV3, "user", "nobody_diff", "database", "postgres", "application_name", "psql")
	for _, tc := range []struct {
		name  string
		tls   bool
		steps []func([]byte) []byte
	}{
		{"nmap SMB probe", false, []func([]byte) []byte{fixed(smb)}},
		{"protocol 2.0", false, []func([]byte) []byte{fixed(testutil.Hex("0000000800020000"))}},
		{"cancel", false, []func([]byte) []byte{fixed(testutil.Hex("0000001004d2162e 00000001 00000002"))}},
		{"short length", false, []func([]byte) []byte{fixed(testutil.Hex("00000004"))}},
		{"huge length", false, []func([]byte) []byte{fixed(testutil.Hex("7fffffff00030000"))}},
		{"no user", false, []func([]byte) []byte{fixed(startupMsg(protoV3, "database", "postgres"))}},
		{"no terminator", false, []func([]byte) []byte{fixed(append(binary.BigEndian.AppendUint32(nil, 14), testutil.Hex("00030000 75736572 0078")...))}},
		{"bad replication", false, []func([]byte) []byte{fixed(startupMsg(protoV3, "user", "x", "replication", "maybe"))}},
		{"protocol 3.1 and _pq_", false, []func([]byte) []byte{fixed(startupMsg(protoV3|1, "user", "x", "_pq_.foo", "bar"))}},
		{"scram wrong proof", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abcdefghijklmnopqrstuvwx")), wrongProof}},
		{"scram bad flag", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "garbage"))}},
		{"scram bad attr", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,x=ab"))}},
		{"scram binding", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "y,,n=,r=ab")), fixed(message('p', []byte("c=biws,r=zz,p=AAAA")))}},
		{"bad mechanism", false, []func([]byte) []byte{fixed(user), fixed(saslInit("FOO", "abc"))}},
		{"scram empty", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", ""))}},
		{"scram NUL", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=x\x00junk"))}},
		{"scram n comma", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n"))}},
		{"scram y comma", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "yX"))}},
		{"scram p without plus", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "p=x"))}},
		{"scram authzid", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,a=b,n=,r=x"))}},
		{"scram first attr", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,"))}},
		{"scram extension", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,m=x,n=,r=x"))}},
		{"scram equals", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,rx"))}},
		{"scram nonce", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=a\x01b"))}},
		{"scram any attr", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=x,1=y"))}},
		{"scram any attr equals", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=x,e"))}},
		{"scram extension accepted", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=x,e=y"))}},
		{"scram no initial response", false, []func([]byte) []byte{fixed(user), fixed(message('p', cstr("SCRAM-SHA-256"), testutil.Hex("ffffffff")))}},
		{"sasl short length", false, []func([]byte) []byte{fixed(user), fixed(message('p', cstr("SCRAM-SHA-256"), testutil.Hex("00000003"), []byte("n,,n=,r=abc")))}},
		{"sasl long length", false, []func([]byte) []byte{fixed(user), fixed(message('p', cstr("SCRAM-SHA-256"), testutil.Hex("0000001e"), []byte("n,,n=,r=abc")))}},
		{"sasl no length", false, []func([]byte) []byte{fixed(user), fixed(message('p', cstr("SCRAM-SHA-256"), []byte{0, 0}))}},
		{"sasl no NUL", false, []func([]byte) []byte{fixed(user), fixed(message('p', []byte("SCRAM-SHA-256")))}},
		{"scram nonce mismatch", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abc")), finalWith("c=biws,r=zz,p=" + zeroProof)}},
		{"scram short proof", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abc")), finalWith("c=biws,r=NONCE,p=AAAA")}},
		{"scram final garbage", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abc")), finalWith("c=biws,r=NONCE,p=" + zeroProof + ",x=1")}},
		{"scram final no proof", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abc")), finalWith("c=biws,r=NONCE")}},
		{"scram final extension", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abc")), finalWith("c=biws,r=NONCE,e=1,p=" + zeroProof)}},
		{"scram final no c", false, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abc")), finalWith("x=biws,r=NONCE,p=" + zeroProof)}},
		{"tls mechanisms and wrong proof", true, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "n,,n=,r=abcdefghijklmnopqrstuvwx")), wrongProof}},
		{"tls downgrade", true, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256", "y,,n=,r=abc"))}},
		{"tls plus without binding", true, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256-PLUS", "n,,n=,r=abc"))}},
		{"tls plus y", true, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256-PLUS", "y,,n=,r=abc"))}},
		{"tls plus tls-unique", true, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256-PLUS", "p=tls-unique,,n=,r=abc"))}},
		{"tls plus bad binding", true, []func([]byte) []byte{fixed(user), fixed(saslInit("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc")),
			finalWith("c=" + base64.StdEncoding.EncodeToString(append([]byte("p=tls-server-end-point,,"), make([]byte, 32)...)) + ",r=NONCE,p=" + zeroProof)}},
		{"tls second SSLRequest", true, []func([]byte) []byte{fixed(testutil.Hex("0000000804d2162f"))}},
		{"tls then GSSENCRequest", true, []func([]byte) []byte{fixed(testutil.Hex("0000000804d21630"))}},
		{"tls junk protocol", true, []func([]byte) []byte{fixed(smb)}},
		{"query before auth", false, []func([]byte) []byte{fixed(user), fixed(message('Q', cstr("select 1")))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := fake
			if tc.tls {
				addr = fakeTLS
			}
			want := bytes.Join(converse(t, realServer, tc.tls, tc.steps), nil)
			got := bytes.Join(converse(t, addr, tc.tls, tc.steps), nil)
			// Answers may straddle steps when a server is slow; the
			// stream is what must match.
			want = serverFirstRE.ReplaceAll(want, []byte("<server-first>"))
			got = serverFirstRE.ReplaceAll(got, []byte("<server-first>"))
			if !bytes.Equal(got, want) {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
		})
	}
}
