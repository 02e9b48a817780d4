package ftp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzCommand feeds arbitrary control-connection bytes to the line
// reader and every argument parser. Seeds are what lftp, curl and tnftp
// sent in the client tests (testdata/fuzz/FuzzCommand).
func FuzzCommand(f *testing.F) {
	f.Add([]byte("FEAT\r\nAUTH TLS\r\nUSER alice\r\nPASS secret\r\nPWD\r\nPASV\r\nLIST\r\n"))
	f.Add([]byte("PORT 127,0,0,1,200,10\r\nEPRT |1|127.0.0.1|50435|\r\nEPRT |2|::1|5282|\r\nLIST -la *.{sql,txt}\r\n"))
	f.Add([]byte("\xff\xf4\xff\xf2ABOR\r\nREST 100\r\nSITE CHMOD 0755 x\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(b), maxLine)
		for {
			line, err := readCommand(r)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, errLineTooLong) {
					t.Fatalf("readCommand: %v", err)
				}
				return
			}
			if strings.ContainsRune(line, 0) || strings.HasSuffix(line, "\r") || len(line) >= maxLine {
				t.Fatalf("line %q", line)
			}
			cmd, arg := splitCommand(line)
			if strings.ContainsAny(cmd, "abcdefghijklmnopqrstuvwxyz") || len(cmd) > len(line) ||
				!strings.EqualFold(cmd, line[:len(cmd)]) {
				t.Fatalf("command %q of line %q", cmd, line)
			}
			if a, ok := parsePort(arg); ok && (len(a.IP) != 4 || a.Port < 0 || a.Port > 65535) {
				t.Fatalf("PORT %q gave %v", arg, a)
			}
			for _, v6 := range []bool{false, true} {
				a, bad := parseEPRT(arg, v6)
				if (a == nil) == (bad == "") || (a != nil && (a.Port < 0 || a.Port > 65535 || (!v6 && len(a.IP) != 4))) {
					t.Fatalf("EPRT %q (ipv6 %v) gave %v %q", arg, v6, a, bad)
				}
			}
			iters := 0
			matchFilter("backup.sql", arg, &iters)
			if iters > maxMatchIters {
				t.Fatalf("filter %q took %d steps", arg, iters)
			}
			out := reply(550, ' ', arg)
			if bytes.Count(out, []byte("\n")) != 1 || !bytes.HasSuffix(out, []byte("\r\n")) {
				t.Fatalf("reply to %q spans lines: %q", arg, out)
			}
		}
	})
}

// FuzzSession runs whole sessions on arbitrary client bytes, logged in or
// not: nothing may panic or hang, and every reply is CRLF-terminated.
// The seeds (testdata/fuzz/FuzzSession) are the client tests' sessions.
func FuzzSession(f *testing.F) {
	f.Add([]byte("USER u\r\nPASS p\r\nPWD\r\nCWD /tmp\r\nMKD a\r\nRNFR a\r\nRNTO b\r\nRMD b\r\nLIST -a\r\nQUIT\r\n"))
	f.Add([]byte("USER u\r\nPASS p\r\nPASV\r\nSTOR x\r\nEPSV\r\nNLST *\r\nSTAT .\r\nSITE UMASK 7\r\n"))
	f.Add([]byte("USER anonymous\r\nPASS a@b\r\nCWD pub\r\nSIZE README\r\nMDTM 20200101000000 README\r\n"))
	// One server takes both kinds of login: local users may write
	// everywhere they own, anonymous ones may upload but not delete.
	srv, _ := newTestServer(f, "debian", map[string]string{"users": "u:p,bob:hunter2,alice:secret",
		"anonymous_enable": "true", "anon_upload_enable": "true", "anon_mkdir_write_enable": "true"})
	srv.timeouts = timeouts{accept: time.Millisecond, connect: 20 * time.Millisecond, data: 50 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer ln.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		cl, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		lo := net.IPv4(127, 0, 0, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close()
			srv.newSession(server, map[string]string{}, lo, lo).run(ctx)
		}()
		go func() {
			cl.Write(b)
			cl.(*net.TCPConn).CloseWrite()
		}()
		out, rerr := io.ReadAll(cl) // an RST (input left unread at close) may cut it
		<-done
		if rerr == nil && len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
			t.Fatalf("output does not end in CRLF: %q", out)
		}
		if ctx.Err() != nil {
			t.Fatalf("session ran 5 s on %q", b)
		}
	})
}
