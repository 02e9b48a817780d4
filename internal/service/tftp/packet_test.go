package tftp

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseRequest(t *testing.T) {
	cases := []struct {
		name, body string
		filename   string
		mode       string
		opts       string // name=value, comma separated
		head, tail string // error texts
	}{
		{name: "tftp-hpa client", body: "running-config\x00octet\x00", filename: "running-config", mode: "octet"},
		{name: "curl", body: "startup-config\x00octet\x00tsize\x000\x00blksize\x00512\x00timeout\x006\x00",
			filename: "startup-config", mode: "octet", opts: "tsize=0,blksize=512,timeout=6"},
		{name: "mode lower-cased", body: "f\x00NetASCII\x00", filename: "f", mode: "netascii"},
		{name: "mode only ASCII lower-cased", body: "f\x00OCT\u212aT\x00", filename: "f", mode: "oct\u212at"},
		{name: "empty", body: "", head: msgMissingMode},
		{name: "empty name", body: "\x00octet\x00", head: msgMissingMode},
		{name: "no mode", body: "f\x00", filename: "f", head: msgMissingMode},
		{name: "empty mode", body: "f\x00\x00", filename: "f", head: msgMissingMode},
		{name: "name unterminated", body: "f", head: msgNotTerminated},
		{name: "mode unterminated", body: "f\x00octet", filename: "f", head: msgNotTerminated},
		{name: "option unterminated", body: "f\x00octet\x00blksize", filename: "f", mode: "octet", tail: msgNotTerminated},
		{name: "value unterminated", body: "f\x00octet\x00tsize\x000\x00blksize\x00512", filename: "f", mode: "octet",
			opts: "tsize=0", tail: msgNotTerminated},
		{name: "dangling option", body: "f\x00octet\x00blksize\x00", filename: "f", mode: "octet"},
		{name: "empty option stops", body: "f\x00octet\x00\x00blksize\x00512\x00", filename: "f", mode: "octet"},
		{name: "empty value stops", body: "f\x00octet\x00a\x00\x00b\x001\x00", filename: "f", mode: "octet"},
		{name: "garbage after the stop", body: "f\x00octet\x00\x00junk", filename: "f", mode: "octet"},
		{name: "binary name", body: "\xff\x01\x02\x00octet\x00", filename: "\xff\x01\x02", mode: "octet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := parseRequest(opRRQ, []byte(c.body))
			var opts []string
			for _, o := range r.options {
				opts = append(opts, o.name+"="+o.value)
			}
			errText := func(e *tftpError) string {
				if e == nil {
					return ""
				}
				return e.msg
			}
			if r.filename != c.filename || r.mode != c.mode || strings.Join(opts, ",") != c.opts ||
				errText(r.headErr) != c.head || errText(r.tailErr) != c.tail {
				t.Errorf("got %q %q [%s] head %q tail %q", r.filename, r.mode, strings.Join(opts, ","), errText(r.headErr), errText(r.tailErr))
			}
		})
	}
}

func TestPackets(t *testing.T) {
	for _, c := range []struct {
		got  []byte
		want string
	}{
		// The bytes of real-products.md §14.
		{errorPacket(tftpError{errNotFound, msgNotFound}), "0005000146696c65206e6f7420666f756e6400"},
		{errorPacket(tftpError{errBadOp, msgUnknownMode}), "00050004556e6b6e6f776e206d6f646500"},
		{dataPacket(1, []byte("hello\n")), "0003000168656c6c6f0a"},
		{ackPacket(0x1234), "00041234"},
	} {
		if got := fmt.Sprintf("%x", c.got); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
	if s := errorText([]byte("\x00\x05\x00\x00abc\x00def")); s != "abc" {
		t.Errorf("errorText = %q", s)
	}
	if s := errorText([]byte("\x00\x05\x00\x00abc")); s != "abc" {
		t.Errorf("errorText of an unterminated text = %q", s)
	}
	if _, _, ok := header([]byte{0, 4, 0}); ok {
		t.Error("header of 3 bytes")
	}
}

func TestNegotiate(t *testing.T) {
	rrq := negotiation{tsize: 6, tsizeOK: true, maxBlksize: maxBlksize, second: time.Second}
	capped := rrq
	capped.maxBlksize = 1468
	ascii := rrq
	ascii.tsizeOK = false
	cases := []struct {
		name string
		n    negotiation
		opts string // name=value;...
		oack string // "" for none
		err  string
		p    params
	}{
		// real-products.md §14: OACK 00067473697a65003600626c6b73697a65003134323800
		{"capture", rrq, "tsize=0;blksize=1428", "tsize\x006\x00blksize\x001428\x00", "", params{1428, time.Second, 0}},
		{"none", rrq, "", "", "", params{512, time.Second, 0}},
		{"unknown only", rrq, "windowsize=8;foo=1", "", "", params{512, time.Second, 0}},
		{"case kept", rrq, "BlkSize=1024", "BlkSize\x001024\x00", "", params{1024, time.Second, 0}},
		{"not ASCII case", rrq, "BL\u212aSIZE=1024", "", "", params{512, time.Second, 0}},
		{"last wins", rrq, "blksize=1024;blksize=2048", "blksize\x001024\x00blksize\x002048\x00", "", params{2048, time.Second, 0}},
		{"blksize 8", rrq, "blksize=8", "blksize\x008\x00", "", params{8, time.Second, 0}},
		{"blksize cap", capped, "blksize=9000", "blksize\x001468\x00", "", params{1468, time.Second, 0}},
		{"blksize2 cap not rounded", capped, "blksize2=9000", "blksize2\x001468\x00", "", params{1468, time.Second, 0}},
		{"blksize2 rounded", capped, "blksize2=1000", "blksize2\x00512\x00", "", params{512, time.Second, 0}},
		{"timeout", rrq, "timeout=3", "timeout\x003\x00", "", params{512, 3 * time.Second, 0}},
		{"utimeout", rrq, "utimeout=250000", "utimeout\x00250000\x00", "", params{512, 250 * time.Millisecond, 0}},
		{"rollover", rrq, "rollover=1", "rollover\x001\x00", "", params{512, time.Second, 1}},
		{"tsize netascii", ascii, "blksize=1024;tsize=0", "", msgUnsupportedOpt, params{}},
		{"error after good", rrq, "blksize=1024;timeout=0", "", msgUnsupportedOpt, params{}},
		{"ignored bad value", rrq, "timeout=x;blksize=1024", "blksize\x001024\x00", "", params{1024, time.Second, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []option
			for _, kv := range strings.Split(c.opts, ";") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					opts = append(opts, option{k, v})
				}
			}
			oack, p, err := negotiate(opts, c.n)
			if c.err != "" {
				if err == nil || err.msg != c.err || err.code != errOptNeg {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err.msg)
			}
			wantOACK := ""
			if c.oack != "" {
				wantOACK = "\x00\x06" + c.oack
			}
			if string(oack) != wantOACK || p != c.p {
				t.Errorf("got %q %+v, want %q %+v", oack, p, wantOACK, c.p)
			}
		})
	}
}

func TestStrtoumax(t *testing.T) {
	for _, c := range []struct {
		in string
		v  uint64
		ok bool
	}{
		{"0", 0, true}, {"512", 512, true}, {" \t512", 512, true}, {"+7", 7, true}, {"-1", 1<<64 - 1, true},
		{"18446744073709551615", 1<<64 - 1, true}, {"18446744073709551616", 0, false},
		{"", 0, false}, {"-", 0, false}, {"512 ", 0, false}, {"0x10", 0, false}, {"1e3", 0, false}, {" ", 0, false},
	} {
		v, ok := strtoumax(c.in)
		if v != c.v || ok != c.ok {
			t.Errorf("strtoumax(%q) = %d %v, want %d %v", c.in, v, ok, c.v, c.ok)
		}
	}
}

func TestNetascii(t *testing.T) {
	in := []byte("a\nb\rc\r\nd")
	wire := toNetascii(in)
	if string(wire) != "a\r\nb\r\x00c\r\x00\r\nd" {
		t.Fatalf("toNetascii = %q", wire)
	}
	// Decoding is the same whatever the block boundaries.
	for split := range len(wire) + 1 {
		var w netasciiWriter
		got := w.decode(w.decode(nil, wire[:split]), wire[split:])
		if string(got) != string(in) {
			t.Errorf("split at %d: %q", split, got)
		}
	}
	var w netasciiWriter
	if got := w.decode(nil, []byte("x\ry\r")); string(got) != "x\ry\r" {
		t.Errorf("bare CRs: %q", got)
	}
}
