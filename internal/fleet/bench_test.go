package fleet

import (
	"fmt"
	"strings"
	"testing"
)

func benchLoad(b *testing.B, src string) {
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := LoadINI(strings.NewReader(src), "bench.ini", 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadINIExample(b *testing.B) {
	src := strings.Replace(exampleINI, "windows-workstation", "linux-server", 1)
	benchLoad(b, strings.Replace(src, "industrial-control", "deaddeck", 1))
}

// A long multi-line value once took quadratic time (a minute for 1 MB).
func BenchmarkLoadINILongValue(b *testing.B) {
	benchLoad(b, "[a]\nservices = ssh\n[a.ssh]\npassword = x\n"+strings.Repeat(" y\n", 300000))
}

func BenchmarkLoadINIThousandDeckies(b *testing.B) {
	var src strings.Builder
	for g := range 10 {
		fmt.Fprintf(&src, "[g%d]\namount = 100\narchetype = linux-server\n[g%d.http]\nserver_header = nginx\n", g, g)
	}
	benchLoad(b, src.String())
}
