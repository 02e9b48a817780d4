package ssh

import (
	"crypto/rand"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"

	"decnet/internal/event"
)

// Forwarding and agent requests are answered as Debian's sshd with its
// stock sshd_config answers them (AllowTcpForwarding, AllowAgentForwarding
// and AllowStreamLocalForwarding default to yes, X11Forwarding yes,
// GatewayPorts and PermitTunnel no), but nothing is ever listened on,
// connected to or relayed:
//
//   - tcpip-forward (ssh -R) is accepted as sshd accepts it, because with
//     GatewayPorts no sshd would listen on the decky's loopback only, which
//     nobody outside can reach: nothing observable is missing. It fails
//     where the bind would (a port under 1024 for a user other than root,
//     sshd's own port 22, a port this connection forwards already).
//   - streamlocal-forward@openssh.com is accepted the same way.
//   - direct-tcpip (ssh -L, -D) fails as a connect would: "Connection
//     refused" for addresses, a name-resolution failure for names, as the
//     shell's wget and curl say; direct-streamlocal@openssh.com fails as a
//     missing socket does; tun@openssh.com as PermitTunnel no.
//   - auth-agent-req@openssh.com is granted once per connection and the
//     session gets an SSH_AUTH_SOCK, but the agent is never asked for
//     anything; x11-req is granted once per session with a DISPLAY, and no
//     X11 channel is ever opened back.

// connState is what sshd remembers about one connection between requests.
type connState struct {
	user   string
	fields map[string]string

	mu             sync.Mutex
	forwards       map[string]bool // accepted remote forwards: "port" or a socket path
	agent          bool            // agent forwarding was asked for already
	noMoreSessions bool
	opened         int // session channels accepted
}

// sshdPort is the port the decky's sshd listens on, which a remote
// forward cannot bind.
const sshdPort = 22

// globalRequests answers the connection's global requests.
func (s *Server) globalRequests(reqs <-chan *gossh.Request, st *connState) {
	for req := range reqs {
		ok, payload := false, []byte(nil)
		switch req.Type {
		case "tcpip-forward", "cancel-tcpip-forward":
			ok, payload = s.tcpipForward(req, st)
		case "streamlocal-forward@openssh.com", "cancel-streamlocal-forward@openssh.com":
			ok = s.streamlocalForward(req, st)
		case "no-more-sessions@openssh.com":
			st.mu.Lock()
			st.noMoreSessions = true
			st.mu.Unlock()
			ok = true
		}
		req.Reply(ok, payload)
	}
}

// tcpipForward handles ssh -R: a remote forward and its cancellation.
func (s *Server) tcpipForward(req *gossh.Request, st *connState) (bool, []byte) {
	var fw struct {
		Host string
		Port uint32
	}
	f := map[string]string{"request": req.Type, event.FieldUsername: st.user}
	if gossh.Unmarshal(req.Payload, &fw) != nil {
		f["accepted"] = "false"
		s.emit("port_forward", event.Warning, st.fields, f)
		return false, nil
	}
	f["listen_host"], f["listen_port"] = event.Clip(fw.Host, 256), strconv.FormatUint(uint64(fw.Port), 10)
	key := strconv.FormatUint(uint64(fw.Port), 10)
	st.mu.Lock()
	defer st.mu.Unlock()
	ok := false
	var payload []byte
	if req.Type == "cancel-tcpip-forward" {
		ok = st.forwards[key]
		delete(st.forwards, key)
	} else {
		port := fw.Port
		switch {
		case port > 65535, !req.WantReply && port == 0:
		case port != 0 && port < 1024 && st.user != "root": // bind: EACCES
		case port == sshdPort || st.forwards[key]: // bind: EADDRINUSE
		default:
			ok = true
			if port == 0 {
				port = ephemeralPort()
				payload = gossh.Marshal(struct{ Port uint32 }{port})
				f["allocated_port"] = strconv.FormatUint(uint64(port), 10)
				key = strconv.FormatUint(uint64(port), 10)
			}
			if st.forwards == nil {
				st.forwards = map[string]bool{}
			}
			st.forwards[key] = true
		}
	}
	f["accepted"] = strconv.FormatBool(ok)
	s.emit("port_forward", event.Warning, st.fields, f)
	return ok, payload
}

// ephemeralPort is a port from Linux's default ip_local_port_range, as a
// bind to port 0 gets.
func ephemeralPort() uint32 {
	n, err := rand.Int(rand.Reader, big.NewInt(60999-32768+1))
	if err != nil {
		return 40000
	}
	return uint32(32768 + n.Int64())
}

// streamlocalForward handles ssh -R with a Unix socket path.
func (s *Server) streamlocalForward(req *gossh.Request, st *connState) bool {
	var fw struct{ Path string }
	f := map[string]string{"request": req.Type, event.FieldUsername: st.user}
	ok := false
	if gossh.Unmarshal(req.Payload, &fw) == nil {
		f["path"] = event.Clip(fw.Path, 1024)
		key := "unix:" + fw.Path
		st.mu.Lock()
		if strings.HasPrefix(req.Type, "cancel-") {
			ok = st.forwards[key]
			delete(st.forwards, key)
		} else if fw.Path != "" && !st.forwards[key] {
			if st.forwards == nil {
				st.forwards = map[string]bool{}
			}
			st.forwards[key], ok = true, true
		}
		st.mu.Unlock()
	}
	f["accepted"] = strconv.FormatBool(ok)
	s.emit("port_forward", event.Warning, st.fields, f)
	return ok
}

// openForward refuses a forwarding channel the way a failed connect
// does, and records it.
func (s *Server) openForward(nc gossh.NewChannel, st *connState) {
	f := map[string]string{"request": nc.ChannelType(), event.FieldUsername: st.user}
	reason, msg := gossh.ConnectionFailed, "open failed"
	switch nc.ChannelType() {
	case "direct-tcpip":
		var d struct {
			Host     string
			Port     uint32
			OrigHost string
			OrigPort uint32
		}
		if gossh.Unmarshal(nc.ExtraData(), &d) != nil {
			break
		}
		f["dst_host"], f["dst_port"] = event.Clip(d.Host, 256), strconv.FormatUint(uint64(d.Port), 10)
		f["orig_host"], f["orig_port"] = event.Clip(d.OrigHost, 256), strconv.FormatUint(uint64(d.OrigPort), 10)
		switch {
		case d.Port > 65535 || d.OrigPort > 65535:
			reason = gossh.Prohibited
		case s.resolvable(d.Host):
			msg = "Connection refused"
		default:
			msg = "Temporary failure in name resolution"
		}
	case "direct-streamlocal@openssh.com":
		var d struct {
			Path     string
			OrigHost string
			OrigPort uint32
		}
		if gossh.Unmarshal(nc.ExtraData(), &d) == nil {
			f["path"] = event.Clip(d.Path, 1024)
		}
	}
	f["accepted"] = "false"
	s.emit("port_forward", event.Warning, st.fields, f)
	nc.Reject(reason, msg)
}

// resolvable reports whether the decky could resolve host without DNS:
// an address, localhost, or its own name from /etc/hosts.
func (s *Server) resolvable(host string) bool {
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return true
	}
	h := strings.ToLower(host)
	own := strings.ToLower(s.fs.System().Hostname)
	short, _, _ := strings.Cut(own, ".")
	return h == "localhost" || h == "ip6-localhost" || h == own || h == short
}

// openSession counts a session channel, false when the client said it
// opens no more (sshd drops such a connection). The client says so right
// after opening its session, and global requests and channels reach us
// on separate paths, so the first session always opens.
func (st *connState) openSession() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.noMoreSessions && st.opened > 0 {
		return false
	}
	st.opened++
	return true
}

// grantAgent allows agent forwarding once per connection, like sshd.
func (st *connState) grantAgent() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.agent {
		return false
	}
	st.agent = true
	return true
}
