package docker

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"decnet/internal/service"
)

// Socket states of /proc/net/{tcp,udp}: a listening TCP socket, a bound
// unconnected UDP socket.
const (
	stateListen = "0A"
	stateUDP    = "07"
)

// boundPorts reads the ports of a /proc/<pid>/net/{tcp,tcp6,udp,udp6}
// table whose sockets are in state: what the network namespace of that
// process serves. Reading it shows that a service listens without
// connecting to it, which the honeypot would record as an attack.
func boundPorts(table []byte, state string) map[int]bool {
	out := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(table))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 4 || f[3] != state {
			continue
		}
		_, port, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(port, 16, 16); err == nil {
			out[int(n)] = true
		}
	}
	return out
}

// listens reports whether the network namespace of process pid serves
// one of ports, a service's declared ports: its honeypot binds them all
// at once before it serves, so one bound means it started, and a persona
// may then close those it does not have (conpot's S7 port on a Modicon,
// smtp's 465 with smtps off, mqtt's 8883 without TLS), which must not
// hold the deployment up.
func listens(pid int, ports []service.Port) (bool, error) {
	bound := map[service.Proto]map[int]bool{service.TCP: {}, service.UDP: {}}
	for _, t := range []struct {
		file, state string
		proto       service.Proto
	}{{"tcp", stateListen, service.TCP}, {"tcp6", stateListen, service.TCP}, {"udp", stateUDP, service.UDP}, {"udp6", stateUDP, service.UDP}} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, t.file))
		if err != nil {
			if os.IsNotExist(err) && t.file != "tcp" {
				continue // no IPv6 in this kernel, or no UDP sockets table
			}
			return false, err
		}
		for p := range boundPorts(b, t.state) {
			bound[t.proto][p] = true
		}
	}
	return slices.ContainsFunc(ports, func(p service.Port) bool { return bound[p.Proto][p.Number] }), nil
}
