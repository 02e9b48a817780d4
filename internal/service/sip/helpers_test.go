package sip

import (
	"net"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testHost is a decky on ip (in this package's loopback range
// 127.0.114.0/24).
func testHost(ip string) service.Host {
	return service.Host{Name: "decky-pbx-" + ip, Hostname: "PBX-01", Distro: "debian", OS: "linux", IP: ip}
}

// start serves a SIP server with persona keys on ip:5060 over UDP and
// TCP until the test ends. Each test takes its own address, since the
// real clients insist on port 5060.
func start(t *testing.T, ip string, keys map[string]string) *testutil.Events {
	t.Helper()
	srv, ev := servicetest.New(t, Service{}, testHost(ip), keys)
	servicetest.ServeRealPorts(t, srv, ip, Service{}.Info().Ports...)
	return ev
}

// exchangeUDP sends msg from a fresh socket on the loopback and returns
// the replies that arrive within wait (at least one is awaited).
func exchangeUDP(t *testing.T, server, msg string, wait time.Duration) []string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 114, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, _ := net.ResolveUDPAddr("udp", net.JoinHostPort(server, "5060"))
	if _, err := c.WriteToUDP([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	var out []string
	buf := make([]byte, 65535)
	deadline := time.Now().Add(wait)
	for {
		c.SetReadDeadline(deadline)
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return out
		}
		out = append(out, string(buf[:n]))
	}
}

// sipRequest is a request as a softphone writes it, from 127.0.114.1.
func sipRequest(method, ruri, extra string) string {
	return method + " " + ruri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.114.1:5070;branch=z9hG4bK-" + method + "1;rport\r\n" +
		"From: <sip:100@127.0.114.66>;tag=abc\r\n" +
		"To: <sip:100@127.0.114.66>\r\n" +
		"Call-ID: call-" + method + "@127.0.114.1\r\n" +
		"CSeq: 1 " + method + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"Contact: <sip:100@127.0.114.1:5070>\r\n" +
		"User-Agent: Linphone/5.0\r\n" + extra +
		"Content-Length: 0\r\n\r\n"
}

// respHeader returns a header's value in a response.
func respHeader(resp, name string) string {
	for _, l := range strings.Split(resp, "\r\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// headerNames lists a response's header names in order.
func headerNames(resp string) []string {
	var out []string
	for _, l := range strings.Split(resp, "\r\n")[1:] {
		if l == "" {
			break
		}
		k, _, _ := strings.Cut(l, ":")
		out = append(out, k)
	}
	return out
}

// waitEvent waits for an event of typ whose fields match want.
func waitEvent(t *testing.T, ev *testutil.Events, typ string, want map[string]string) event.Event {
	t.Helper()
	var got event.Event
	testutil.Eventually(t, typ+" event with "+strings.Join(keys(want), ","), func() bool {
		for _, e := range ev.OfType(typ) {
			ok := true
			for k, v := range want {
				if e.Fields[k] != v {
					ok = false
					break
				}
			}
			if ok {
				got = e
				return true
			}
		}
		return false
	})
	return got
}

func keys(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}
