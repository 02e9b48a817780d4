package sip

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"decnet/internal/testutil"
)

// startKamailio runs Debian's kamailio with its stock kamailio.cfg on
// ip:5060 (UDP and TCP) until the test ends, and waits until it answers.
func startKamailio(t *testing.T, ip string) {
	t.Helper()
	bin := testutil.RequireTool(t, "kamailio")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", "/etc/kamailio/kamailio.cfg", "-DD", "-E",
		"-l", "udp:"+ip+":5060", "-l", "tcp:"+ip+":5060", "-Y", dir, "-P", dir+"/kamailio.pid",
		"-m", "64", "-M", "8", "-n", "1")
	logs := &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	// kamailio forks its workers: stop them all (its own process group)
	// with SIGTERM, and do not wait for ever on their output.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	ready := false
	for i := 0; i < 50 && !ready; i++ {
		ready = len(exchangeUDP(t, ip, sipRequest("OPTIONS", "sip:"+ip, ""), 200*time.Millisecond)) > 0
	}
	if !ready {
		t.Fatalf("kamailio did not answer:\n%s", logs.String())
	}
}

// TestKamailioDifferential sends the same requests to the real kamailio
// 5.6.3 (stock config) and to the persona and compares the replies byte
// for byte, once the client port and the server-specific parts of the
// To tags are masked.
func TestKamailioDifferential(t *testing.T) {
	const real, ours = "127.0.114.67", "127.0.114.77"
	startKamailio(t, real)
	start(t, ours, map[string]string{"product": productKamailio})
	mask := func(s string) string {
		s = regexp.MustCompile(`rport=\d+`).ReplaceAllString(s, "rport=P")
		s = regexp.MustCompile(`tag=[0-9a-f]{32}\.`).ReplaceAllString(s, "tag=SL.")
		s = regexp.MustCompile(`tag=[0-9a-f]{32}-`).ReplaceAllString(s, "tag=TM-")
		return regexp.MustCompile(`tag=(SL\.|TM-)[0-9a-f]{8}`).ReplaceAllString(s, "tag=${1}X")
	}
	for i, tc := range kamailioCaptures {
		t.Run(tc.name, func(t *testing.T) {
			id := strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			req := strings.ReplaceAll(tc.req, "z9hG4bK-", "z9hG4bK-"+id+"-")
			req = strings.ReplaceAll(req, "Call-ID: ", "Call-ID: "+id+"-")
			var replies [2][]string
			for j, ip := range []string{real, ours} {
				for _, r := range exchangeUDP(t, ip, strings.ReplaceAll(req, "{ip}", ip), 300*time.Millisecond) {
					replies[j] = append(replies[j], mask(strings.ReplaceAll(r, ip, "{ip}")))
				}
			}
			if strings.Join(replies[0], "") != strings.Join(replies[1], "") {
				t.Errorf("kamailio:\n%q\npersona:\n%q", replies[0], replies[1])
			}
		})
	}
}
