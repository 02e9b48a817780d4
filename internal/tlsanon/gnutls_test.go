package tlsanon

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// serveOnce accepts one connection on a loopback listener, runs the
// handshake, writes greeting and echoes one line back; the handshake's
// outcome goes to result.
func serveOnce(t *testing.T, greeting string) (port string, result <-chan error, state <-chan State) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	res, st := make(chan error, 1), make(chan State, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		tc := Server(c, nil)
		err = tc.Handshake()
		st <- tc.State()
		if err != nil {
			tc.Close()
			res <- err
			return
		}
		if _, err := tc.Write([]byte(greeting)); err != nil {
			res <- err
			return
		}
		line, err := bufio.NewReader(tc).ReadString('\n')
		if err == nil {
			_, err = tc.Write([]byte("echo " + line))
		}
		tc.Close()
		res <- err
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, res, st
}

// gnutls-cli 3.7 (the GnuTLS that TigerVNC links) against the server,
// with the priorities that make it choose each suite, extension set and
// group; the one GnuTLS's own server fails fails here too.
func TestGnutlsCli(t *testing.T) {
	cli := testutil.RequireTool(t, "gnutls-cli")
	const (
		anon = "NORMAL:-VERS-TLS1.3:-KX-ALL:"
		old  = "NONE:+AES-256-GCM:+AES-128-CBC:+SHA1:+AEAD:+COMP-NULL:+GROUP-ALL:"
	)
	const (
		ecdh256 = "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"
		closed  = "Peer has terminated the connection"
	)
	for _, tc := range []struct {
		priority, suite string
		version         string // TLS1.2 when empty
		group           uint16
		wantErr         error
		args            []string
		says            string // gnutls-cli's error
	}{
		// Xtigervnc's answers: TLS 1.3 (ServerHello, then close_notify
		// under the handshake key), a certificate suite first (close_notify).
		{priority: "NORMAL:+ANON-ECDH:+ANON-DH", wantErr: ErrTLS13, says: closed},
		{priority: "NORMAL:-VERS-TLS1.3:+ANON-ECDH:+ANON-DH", wantErr: ErrNoSuite, says: closed},
		{priority: anon + "+ANON-ECDH:+ANON-DH", suite: ecdh256, group: groupP256},
		{priority: anon + "+ANON-ECDH:-GROUP-ALL:+GROUP-X25519", suite: ecdh256, group: groupX25519},
		{priority: anon + "+ANON-ECDH:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-SECP521R1", suite: ecdh256, group: groupP384},
		{priority: anon + "+ANON-ECDH:-GROUP-ALL:+GROUP-SECP521R1", suite: ecdh256, group: groupP521},
		{priority: anon + "+ANON-ECDH:-CIPHER-ALL:+AES-128-CBC", suite: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", group: groupP256},
		{priority: anon + "+ANON-ECDH:%NO_ETM", suite: ecdh256, group: groupP256},
		{priority: anon + "+ANON-ECDH:%NO_EXTENSIONS", suite: ecdh256, group: groupP256},
		{priority: anon + "+ANON-DH", suite: "TLS_DH_anon_WITH_AES_256_GCM_SHA384", group: groupFFDHE2048},
		{priority: anon + "+ANON-DH:-CIPHER-ALL:+AES-128-GCM", suite: "TLS_DH_anon_WITH_AES_128_GCM_SHA256", group: groupFFDHE2048},
		{priority: anon + "+ANON-DH:-CIPHER-ALL:+AES-256-CBC", suite: "TLS_DH_anon_WITH_AES_256_CBC_SHA", group: groupFFDHE2048},
		{priority: anon + "+ANON-DH:-CIPHER-ALL:+AES-128-CBC:%NO_ETM", suite: "TLS_DH_anon_WITH_AES_128_CBC_SHA", group: groupFFDHE2048},
		{priority: anon + "+ANON-DH:-GROUP-ALL:+GROUP-SECP256R1", wantErr: ErrNoSuite, says: closed},
		// GnuTLS 3.7's NORMAL still has TLS 1.1 and 1.0, and no AEAD there.
		{priority: old + "+VERS-TLS1.1:+VERS-TLS1.0:+ANON-DH:+ANON-ECDH", version: "TLS1.1",
			suite: "TLS_DH_anon_WITH_AES_128_CBC_SHA", group: groupFFDHE2048},
		{priority: old + "+VERS-TLS1.0:+ANON-ECDH", version: "TLS1.0", suite: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", group: groupP256},
		{priority: old + "+VERS-TLS1.0:+ANON-ECDH:%NO_ETM", version: "TLS1.0", suite: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", group: groupP256},
		{priority: old + "+VERS-TLS1.1:+ANON-ECDH:%NO_ETM", version: "TLS1.1", suite: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", group: groupP256},
		{priority: old + "+VERS-TLS1.1:+SIGN-ALL:+ECDHE-RSA:+ANON-ECDH", wantErr: ErrNoSuite, says: closed},
		// Xtigervnc closes with close_notify: "Rehandshake was requested by the peer".
		{priority: anon + "+ANON-ECDH", wantErr: errRenegotiation, args: []string{"--rehandshake"},
			says: "Application data were received, while expecting handshake data"},
	} {
		t.Run(tc.priority+strings.Join(tc.args, ""), func(t *testing.T) {
			port, result, state := serveOnce(t, "ping\n")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			args := append([]string{"--priority", tc.priority, "-p", port}, tc.args...)
			cmd := exec.CommandContext(ctx, cli, append(args, "127.0.0.1")...)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var out strings.Builder
			lines := bufio.NewScanner(stdout)
			sent := false
			for lines.Scan() {
				out.WriteString(lines.Text() + "\n")
				if lines.Text() == "ping" && !sent {
					io.WriteString(stdin, "hello\n")
					sent = true
				}
				if lines.Text() == "echo hello" {
					break
				}
			}
			err := <-result
			if !errors.Is(err, tc.wantErr) && !(tc.wantErr == nil && err == nil) {
				t.Fatalf("handshake: %v, want %v\n%s", err, tc.wantErr, out.String())
			}
			st := <-state
			if tc.wantErr != nil {
				// What gnutls-cli says of Xtigervnc's close_notify; a record
				// it could not decrypt would read otherwise.
				if err := cmd.Wait(); err == nil || !strings.Contains(out.String()+readAll(stdout), tc.says) {
					t.Errorf("gnutls-cli: %v, want it to say %q\n%s", err, tc.says, out.String())
				}
				return
			}
			version := cmp.Or(tc.version, "TLS1.2")
			if st.CipherSuite != tc.suite || st.Group != groupName(tc.group) || st.Version != version {
				t.Errorf("state %+v, want %s %s group %d", st, version, tc.suite, tc.group)
			}
			if !strings.Contains(out.String(), "echo hello") {
				t.Errorf("no echo from the server\n%s", out.String())
			}
			t.Log(strconv.Quote(out.String()))
		})
	}
}

// readAll reads what is left of r.
func readAll(r io.Reader) string {
	b, _ := io.ReadAll(r)
	return string(b)
}
