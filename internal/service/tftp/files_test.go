package tftp

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	tr := newTree(map[string][]byte{"a.txt": nil, "pxelinux.cfg/default": nil, "x/y/z": nil}, 1<<20)
	cases := []struct {
		name  string
		path  string
		kind  kind
		slash bool
		err   string
	}{
		{name: "a.txt", path: "a.txt", kind: regular},
		{name: "/a.txt", path: "a.txt", kind: regular},
		{name: "//a.txt", path: "a.txt", kind: regular},
		{name: "./a.txt", path: "a.txt", kind: regular},
		{name: "../../a.txt", path: "a.txt", kind: regular},
		{name: "pxelinux.cfg/../a.txt", path: "a.txt", kind: regular},
		{name: "x/y/../../a.txt", path: "a.txt", kind: regular},
		{name: "pxelinux.cfg", path: "pxelinux.cfg", kind: directory},
		{name: "pxelinux.cfg/", path: "pxelinux.cfg", kind: directory, slash: true},
		{name: ".", kind: directory},
		{name: "/", kind: directory, slash: true},
		{name: "new.txt", path: "new.txt", kind: missing},
		{name: "x/new", path: "x/new", kind: missing},
		{name: "new/", path: "new", kind: missing, slash: true},
		{name: "a.txt/", err: msgNotFound},
		{name: "a.txt/.", err: msgNotFound},
		{name: "a.txt/b", err: msgNotFound},
		{name: "nope/../a.txt", err: msgNotFound},
		{name: "nope/" + strings.Repeat("n", 300), err: msgNotFound},
		{name: strings.Repeat("n", 300) + "/a", err: msgNameTooLong},
		{name: strings.Repeat("n", 255), path: strings.Repeat("n", 255), kind: missing},
		{name: strings.Repeat("/", 4096), err: msgNameTooLong},
	}
	for _, c := range cases {
		l := tr.resolve(c.name)
		errText := ""
		if l.err != nil {
			errText = l.err.msg
		}
		if errText != c.err || c.err == "" && (l.path != c.path || l.kind != c.kind || l.slash != c.slash) {
			t.Errorf("resolve(%.40q) = %q %v slash %v err %q", c.name, l.path, l.kind, l.slash, errText)
		}
	}
}

func TestTreeUploads(t *testing.T) {
	tr := newTree(map[string][]byte{"bait": []byte("b")}, 10)
	if !tr.lock("up1") || tr.lock("up1") || !tr.locked("up1") {
		t.Fatal("lock")
	}
	if !tr.reserve(6) {
		t.Fatal("reserve within the budget")
	}
	tr.finish("up1", []byte("123456"), 6)
	if tr.locked("up1") {
		t.Error("still locked")
	}
	if b, ok := tr.read("up1"); !ok || string(b) != "123456" {
		t.Errorf("read back %q %v", b, ok)
	}
	// A new upload needs room: the oldest kept upload gives way.
	tr.lock("up2")
	if !tr.reserve(8) {
		t.Fatal("reserve after eviction")
	}
	if _, ok := tr.read("up1"); ok {
		t.Error("up1 was not evicted")
	}
	if tr.reserve(3) {
		t.Error("reserve past the budget with nothing to evict")
	}
	tr.finish("up2", []byte("1234"), 8)
	if tr.used != 4 {
		t.Errorf("used %d, want 4", tr.used)
	}
	// Overwriting gives the old content's bytes back.
	tr.lock("up2")
	tr.reserve(2)
	tr.finish("up2", []byte("ab"), 2)
	if tr.used != 2 || len(tr.order) != 1 {
		t.Errorf("used %d, order %v", tr.used, tr.order)
	}
	if !tr.isBait("bait") || tr.isBait("up2") {
		t.Error("isBait")
	}
	tr.lock("x")
	tr.unlock("x")
	if tr.locked("x") {
		t.Error("unlock")
	}
}
