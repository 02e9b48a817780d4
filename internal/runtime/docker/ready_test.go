package docker

import (
	"maps"
	"net"
	"os"
	"slices"
	"testing"

	"decnet/internal/service"
)

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200A8C0:0016 C800A8C0:B87A 01 00000000:00000000 02:0009A2B0 00000000     0        0 3 2 0000000000000000 20 4 31 10 -1
`

func TestBoundPorts(t *testing.T) {
	got := slices.Sorted(maps.Keys(boundPorts([]byte(tcpTable), stateListen)))
	if !slices.Equal(got, []int{22, 6379}) {
		t.Fatalf("listening ports %v, want [22 6379] (the established 22 is not a listener)", got)
	}
	if len(boundPorts([]byte("garbage\nno fields here\n1: x 0A\n"), stateListen)) != 0 {
		t.Fatal("garbage gave ports")
	}
}

func TestListensOwnProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ok, err := listens(os.Getpid(), []service.Port{{Number: port, Proto: service.TCP}})
	if err != nil || !ok {
		t.Fatalf("listens(self, %d) = %v, %v", port, ok, err)
	}
	// A port the persona closed (none listens on 1/udp here) does not
	// hold the service up.
	if ok, err := listens(os.Getpid(), []service.Port{{Number: 1, Proto: service.UDP}, {Number: port, Proto: service.TCP}}); err != nil || !ok {
		t.Fatalf("listens with one port closed = %v, %v", ok, err)
	}
	ln.Close()
	if ok, _ := listens(os.Getpid(), []service.Port{{Number: port, Proto: service.TCP}}); ok {
		t.Fatalf("port %d still reported after close", port)
	}
}

func FuzzBoundPorts(f *testing.F) {
	f.Add([]byte(tcpTable))
	f.Add([]byte("sl\n0: 00000000:FFFF 0 0A\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for p := range boundPorts(b, stateListen) {
			if p < 0 || p > 65535 {
				t.Fatalf("port %d", p)
			}
		}
	})
}
