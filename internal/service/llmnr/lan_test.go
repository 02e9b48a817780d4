package llmnr

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// The LAN tests run the decky and the other hosts as copies of the test
// binary in network namespaces the test makes: a bridge is the LAN.
const (
	roleEnv    = "LLMNR_TEST_ROLE"
	lanPrefix  = "10.118.0."
	deckyAddr  = lanPrefix + "2"
	poisonAddr = lanPrefix + "3"
	honestAddr = lanPrefix + "4"
	honestName = "HONESTPC"
)

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "decky":
		runDecky()
	case "poisoner":
		runResponder(poisonAddr, true)
	case "honest":
		runResponder(honestAddr, false)
	default:
		os.Exit(m.Run())
	}
	os.Exit(0)
}

// untilSignal is a context that ends when the parent test kills the role.
func untilSignal() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	return ctx
}

// runDecky serves a Windows decky at deckyAddr with the detector on a
// 1 s interval, writing its events to stdout as JSON lines.
func runDecky() {
	p, err := service.NewPersona(Service{}.Info(), map[string]string{"detect_interval": "1s"})
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	emit := event.EmitterFunc(func(e event.Event) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(e)
	})
	h := service.Host{Name: "decky-lan", Hostname: "WS-ACCT-07", OS: "windows", IP: deckyAddr}
	srv, err := Service{}.New(service.Config{Host: h, Persona: p, Emit: emit, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		panic(err)
	}
	ls := service.Listeners{UDP: map[int]net.PacketConn{}}
	for _, port := range []int{PortLLMNR, PortMDNS, PortNBNS} {
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(deckyAddr, strconv.Itoa(port)))
		if err != nil {
			panic(err)
		}
		ls.UDP[port] = pc
	}
	srv.Serve(untilSignal(), ls)
}

// runResponder is another host on the LAN. A poisoner answers every
// LLMNR, NBNS and mDNS query with its own address, as Responder does; an
// honest host answers only its own name, and itself asks the LAN for
// WPAD and for the decky, as Windows hosts do. Each query it hears is a
// line "heard <proto> <name> <source>" on stdout.
func runResponder(addr string, poison bool) {
	ctx := untilSignal()
	me := netip.MustParseAddr(addr)
	l, err := findLAN(me)
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	answers := func(name string) bool { return poison || strings.EqualFold(name, honestName) }
	llmnr, err := l.listenGroup(groupLLMNR, PortLLMNR, me)
	if err != nil {
		panic(err)
	}
	mdns, err := l.listenGroup(groupMDNS, PortMDNS, me)
	if err != nil {
		panic(err)
	}
	nbns, err := net.ListenUDP("udp4", &net.UDPAddr{Port: PortNBNS})
	if err != nil {
		panic(err)
	}
	out, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(me, 0)))
	if err != nil {
		panic(err)
	}
	if err := multicastFrom(out, me, 1); err != nil {
		panic(err)
	}
	if err := allowBroadcast(out); err != nil {
		panic(err)
	}
	for _, c := range []io.Closer{llmnr, mdns, nbns, out} {
		context.AfterFunc(ctx, func() { c.Close() })
	}
	dnsAnswer := func(proto string, c net.PacketConn) {
		buf := make([]byte, maxDatagram)
		for {
			n, addr, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			from := addr.(*net.UDPAddr).AddrPort()
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil || m.Response || len(m.Question) == 0 {
				continue
			}
			q := m.Question[0]
			name := strings.TrimSuffix(strings.TrimSuffix(q.Name, "."), ".local")
			say("heard %s %s %s", proto, name, from.Addr())
			if !answers(name) || from.Addr() == me {
				continue
			}
			r := new(dns.Msg)
			r.SetReply(m)
			r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IP(me.AsSlice())}}
			b, _ := r.Pack()
			out.WriteToUDPAddrPort(b, from)
		}
	}
	go dnsAnswer(protoLLMNR, llmnr)
	go dnsAnswer(protoMDNS, mdns)
	go func() {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := nbns.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			p, err := parseNBNS(buf[:n])
			if err != nil || p.flags&nbResponse != 0 || p.question == nil || p.question.qtype != nbTypeNB {
				continue
			}
			say("heard %s %s %s", protoNBNS, p.question.name.base(), from.Addr())
			if answers(p.question.name.base()) && from.Addr() != me {
				nbns.WriteToUDPAddrPort(nbPositive(p.id, p.flags, p.question.name, 300000, 0, me), from)
			}
		}
	}()
	// An honest Windows host's own lookups: WPAD, and the decky by name.
	if !poison {
		for i := uint16(1); ctx.Err() == nil; i++ {
			for _, name := range []string{"wpad", "ws-acct-07"} {
				b, _ := (&dns.Msg{MsgHdr: dns.MsgHdr{Id: i}, Question: []dns.Question{{Name: name + ".", Qtype: dns.TypeA, Qclass: dns.ClassINET}}}).Pack()
				out.WriteToUDPAddrPort(b, netip.AddrPortFrom(groupLLMNR, PortLLMNR))
			}
			out.WriteToUDPAddrPort(nbQuery(i, newNBName("WPAD", 0), true), netip.AddrPortFrom(l.bcast, PortNBNS))
			time.Sleep(300 * time.Millisecond)
		}
	}
	<-ctx.Done()
}

// lanHost is a host the test runs in a namespace of its own on the LAN.
type lanHost struct {
	ns   string
	out  testutil.Buffer
	done chan struct{}
}

// requireNetns skips a test that cannot make network namespaces, and
// returns the process's tag for the names of those it makes (all start
// with "llm"), so that two test runs do not clash.
func requireNetns(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t, "to create network namespaces")
	testutil.RequireTool(t, "ip")
	return strconv.Itoa(os.Getpid() % 100000)
}

// ipRun runs the ip tool, failing the test if it fails.
func ipRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// addNetns creates network namespace ns, deleted with its links when the
// test ends.
func addNetns(t *testing.T, ns string) {
	t.Helper()
	ipRun(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
}

// makeLAN creates a bridge in a namespace of its own, and one namespace
// per address plugged into it; everything is deleted when the test ends.
func makeLAN(t *testing.T, addrs ...string) map[string]string {
	t.Helper()
	id := requireNetns(t)
	lan := "llml" + id
	addNetns(t, lan)
	ipRun(t, "-n", lan, "link", "add", "llmbr"+id, "type", "bridge")
	ipRun(t, "-n", lan, "link", "set", "llmbr"+id, "up")
	nss := map[string]string{}
	for i, a := range addrs {
		ns := fmt.Sprintf("llmh%s-%d", id, i)
		addNetns(t, ns)
		port, dev := fmt.Sprintf("llmp%s%d", id, i), fmt.Sprintf("llmv%s%d", id, i)
		ipRun(t, "-n", lan, "link", "add", port, "type", "veth", "peer", "name", dev, "netns", ns)
		ipRun(t, "-n", lan, "link", "set", port, "master", "llmbr"+id, "up")
		ipRun(t, "-n", ns, "addr", "add", a+"/24", "broadcast", lanPrefix+"255", "dev", dev)
		ipRun(t, "-n", ns, "link", "set", dev, "up")
		ipRun(t, "-n", ns, "link", "set", "lo", "up")
		ipRun(t, "-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)
		nss[a] = ns
	}
	return nss
}

// startRole runs the test binary as role in namespace ns until the test
// ends.
func startRole(t *testing.T, ns, role string) *lanHost {
	t.Helper()
	h := &lanHost{ns: ns, done: make(chan struct{})}
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Stdout = &h.out
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-h.done
		}
		if s := stderr.String(); strings.Contains(s, "panic") || t.Failed() {
			t.Errorf("%s: %s", role, s)
		}
	})
	return h
}

// events decodes the decky's events written so far.
func (h *lanHost) events(t *testing.T) *testutil.Events {
	ev := &testutil.Events{}
	sc := bufio.NewScanner(strings.NewReader(h.out.String()))
	for sc.Scan() {
		var e event.Event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			ev.Emit(e)
		}
	}
	return ev
}

// heard counts the responder's lines for queries of proto from src.
func (h *lanHost) heard(proto, src string) int {
	n := 0
	for _, l := range strings.Split(h.out.String(), "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "heard" && f[1] == proto && f[3] == src {
			n++
		}
	}
	return n
}

// TestDetectorPoisoner: a Responder-like host on the LAN answers the
// decky's questions for names that do not exist, and is reported over
// each protocol as a Critical poisoner event with its address.
func TestDetectorPoisoner(t *testing.T) {
	nss := makeLAN(t, deckyAddr, poisonAddr, honestAddr)
	poisoner := startRole(t, nss[poisonAddr], "poisoner")
	startRole(t, nss[honestAddr], "honest")
	decky := startRole(t, nss[deckyAddr], "decky")
	for _, proto := range []string{protoLLMNR, protoNBNS, protoMDNS} {
		testutil.Eventually(t, proto+" poisoner event", func() bool {
			return len(decky.events(t).With(typePoisoner, fieldProto, proto)) > 0
		})
	}
	for _, e := range decky.events(t).OfType(typePoisoner) {
		f := e.Fields
		t.Logf("%s %v", e.Msg, f)
		if e.Severity != event.Critical || f[event.FieldSrcIP] != poisonAddr || f[fieldAnswer] != poisonAddr || f[fieldName] == "" || f[fieldMAC] == "" {
			t.Errorf("poisoner event %v", f)
		}
		if poisoner.heard(f[fieldProto], deckyAddr) == 0 {
			t.Errorf("the poisoner never heard the decky's %s question", f[fieldProto])
		}
	}
	// Nothing else is taken for a poisoner, and the LAN's own queries
	// (multicast and broadcast) are recorded.
	if got := decky.events(t).OfType(typePoisoner); len(got) > 0 {
		for _, e := range got {
			if e.Fields[event.FieldSrcIP] != poisonAddr {
				t.Errorf("not a poisoner: %v", e.Fields)
			}
		}
	}
	checkLANQueries(t, decky)
}

// checkLANQueries: the honest host's multicast and broadcast queries
// reach the decky, which answers only its own name.
func checkLANQueries(t *testing.T, decky *lanHost) {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("decky's output:\n%s", decky.out.String())
		}
	}()
	want := []struct{ proto, name, via, answered string }{
		{protoLLMNR, "wpad", viaMulticast, "false"},
		{protoLLMNR, "ws-acct-07", viaMulticast, "true"},
		{protoNBNS, "WPAD", viaBroadcast, "false"},
	}
	for _, w := range want {
		testutil.Eventually(t, w.proto+" "+w.via+" query for "+w.name, func() bool {
			for _, e := range decky.events(t).With(typeQuery, fieldName, w.name) {
				if e.Fields[fieldProto] == w.proto && e.Fields[fieldVia] == w.via && e.Fields[event.FieldSrcIP] == honestAddr {
					if e.Fields[fieldAnswered] != w.answered {
						t.Errorf("%v", e.Fields)
					}
					return true
				}
			}
			return false
		})
	}
}

// TestDetectorHonestLAN: an honest host answers only its own name, so
// however many rounds the decky asks, nobody is reported.
func TestDetectorHonestLAN(t *testing.T) {
	nss := makeLAN(t, deckyAddr, honestAddr)
	honest := startRole(t, nss[honestAddr], "honest")
	decky := startRole(t, nss[deckyAddr], "decky")
	testutil.Eventually(t, "three rounds of the decky's questions", func() bool {
		return honest.heard(protoLLMNR, deckyAddr) >= 3 && honest.heard(protoNBNS, deckyAddr) >= 3 && honest.heard(protoMDNS, deckyAddr) >= 3
	})
	checkLANQueries(t, decky)
	if got := decky.events(t).OfType(typePoisoner); len(got) > 0 {
		t.Errorf("poisoner events on an honest LAN: %v", got)
	}
}
