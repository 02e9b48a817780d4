package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"decnet/internal/pause"

	gossh "golang.org/x/crypto/ssh"

	"decnet/internal/archetype"
	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/service/accounts"
	"decnet/internal/shell"
)

// Server is one decky's ssh honeypot.
type Server struct {
	cfg     service.Config
	persona *Persona
	prof    profile
	keys    *hostKeys
	fs      *shell.FS
	base    gossh.ServerConfig

	// FailDelay is the pause before a failed password is answered:
	// pam_unix's 2 s, randomised as Linux-PAM does (pause.PAMFailure).
	FailDelay time.Duration
	// LoginGrace is sshd's LoginGraceTime: the connection is closed if
	// authentication has not succeeded by then.
	LoginGrace time.Duration
	// BannerDelayMin and BannerDelayMax bound the jittered pause before our
	// identification line, where sshd forks and re-executes itself.
	BannerDelayMin, BannerDelayMax time.Duration
	// Limits bound connections.
	Limits service.Limits

	// startups is sshd's MaxStartups, per source address.
	startups *maxStartups

	// transfers bounds the bytes scp and sftp hold in memory.
	transfers *budget

	mu sync.Mutex
	// accounts are the persona's logins, each bound to the first of its
	// passwords an attacker uses.
	accounts *accounts.Accounts
	pts      int          // last pseudo-terminal number handed out
	displays map[int]bool // X11 display numbers in use
}

// New builds the server for one decky: host keys are loaded from (or
// created in) cfg.Host.DataDir, the fake filesystem and bound logins from
// the decky's shared directory, where telnet finds them too.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	if cfg.Host.DataDir == "" {
		return nil, errors.New("ssh: no data directory")
	}
	if err := os.MkdirAll(cfg.Host.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	keys, err := loadHostKeys(cfg.Host.DataDir)
	if err != nil {
		return nil, err
	}
	hostname := p.Hostname
	if hostname == "" {
		hostname = cfg.Host.Hostname
	}
	fsys, err := shell.Open(filepath.Join(cfg.Host.Shared(), shell.DirName), shell.System{Hostname: hostname, Distro: cfg.Host.Distro, IP: cfg.Host.IP,
		Boot: archetype.Boot(cfg.Host.Name, time.Now())})
	if err != nil {
		return nil, err
	}
	prof := profileFor(cfg.Host.Distro)
	if p.Version != "" {
		prof.version = p.Version
	}
	lim := service.DefaultLimits
	// MaxStartups drops every unauthenticated connection from a source
	// past its full mark; the listener's own cap must not cut in earlier,
	// or a burst of 40 would see silent closes where sshd answers.
	lim.MaxPerSource = max(lim.MaxPerSource, maxStartupsFull)
	s := &Server{cfg: cfg, persona: p, prof: prof, keys: keys, fs: fsys, FailDelay: 2 * time.Second,
		LoginGrace: 120 * time.Second, BannerDelayMin: 8 * time.Millisecond, BannerDelayMax: 13 * time.Millisecond,
		Limits: lim, startups: newMaxStartups(), transfers: &budget{max: transferBudget}}
	s.accounts = accounts.Open(p.Password, p.Users, filepath.Join(cfg.Host.Shared(), accounts.FileName), cfg.Log)
	s.base = gossh.ServerConfig{
		Config:                  gossh.Config{KeyExchanges: prof.kex, Ciphers: prof.ciphers, MACs: prof.macs},
		ServerVersion:           "SSH-2.0-" + prof.version,
		MaxAuthTries:            6,
		PublicKeyAuthAlgorithms: serverSigAlgs,
	}
	for _, k := range keys.signers(prof.hostKeys) {
		s.base.AddHostKey(k)
	}
	return s, nil
}

// Serve accepts ssh connections on every TCP listener until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	service.ServeTCPPorts(ctx, ls, s.cfg.Emit, s.Limits, func(ctx context.Context, _ int, c *service.Conn) {
		s.handle(ctx, c)
	})
	s.fs.Flush()
	return nil
}

func (s *Server) emit(typ string, sev event.Severity, fields map[string]string, extra map[string]string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: event.With(fields, extra)})
}

// maxSessions is sshd's default MaxSessions: open session channels per
// connection.
const maxSessions = 10

// handle runs one connection: identification exchange with sshd's checks,
// then x/crypto's handshake and authentication, then channels.
func (s *Server) handle(ctx context.Context, c *service.Conn) {
	fields := c.Fields()
	// Go's listeners probe idle peers every 15 s; sshd leaves the kernel
	// default, so no probes show up for hours.
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetKeepAlive(false)
	}
	// sshd's listener refuses past MaxStartups before it forks, so the
	// refusal comes without the fork's delay and nothing is read.
	src := fields[event.FieldSrcIP]
	if !s.startups.admit(src) {
		c.Write([]byte(msgMaxStartups))
		c.CloseWithReason("maxstartups")
		return
	}
	// sshd stops counting a connection once it has authenticated.
	unpend := sync.OnceFunc(func() { s.startups.done(src) })
	defer unpend()
	grace := time.AfterFunc(s.LoginGrace, func() { c.Close() })
	defer grace.Stop()
	pause.For(ctx, pause.Between(s.BannerDelayMin, s.BannerDelayMax))
	banner := []byte(s.base.ServerVersion + "\r\n")
	if _, err := c.Write(banner); err != nil {
		return
	}
	line, raw, err := readIdent(c)
	if err != nil {
		var ie *identError
		if errors.As(err, &ie) {
			c.Write([]byte(ie.reply + "\r\n"))
			s.emit("ident", event.Notice, fields, map[string]string{"client_version": event.Clip(string(raw), 256), "reply": ie.reply})
		}
		return
	}
	fields["client_version"] = line
	sniff := &kexSniffer{report: func(ck clientKex) {
		s.emit("client_kex", event.Info, fields, map[string]string{"hassh": ck.HASSH, "kex": ck.Kex,
			"ciphers": ck.Ciphers, "macs": ck.MACs, "compression": ck.Compression, "host_keys": ck.HostKeys})
	}}
	ic := newIdentConn(c, banner, raw, sniff)
	conf := s.base
	s.authCallbacks(ctx, &conf, fields)
	sc, chans, reqs, err := gossh.NewServerConn(ic, &conf)
	if err != nil {
		return
	}
	grace.Stop()
	unpend()
	defer sc.Close()
	st := &connState{user: sc.User(), fields: fields}
	go s.globalRequests(reqs, st)
	// sshd announces all its host keys after login (UpdateHostKeys).
	sc.SendRequest("hostkeys-00@openssh.com", false, hostkeysPayload(s.keys.blobs()))
	var wg sync.WaitGroup
	defer wg.Wait()
	// Each session holds a goroutine and a shell; sshd's MaxSessions keeps
	// one connection from opening them without bound.
	var sessions atomic.Int32
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			if sessions.Load() >= maxSessions {
				nc.Reject(gossh.ConnectionFailed, "open failed")
				continue
			}
			if !st.openSession() {
				// sshd disconnects: "Possible attack: attempt to open a
				// session after additional sessions disabled".
				sc.Close()
				continue
			}
			ch, creqs, err := nc.Accept()
			if err != nil {
				continue
			}
			sessions.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer sessions.Add(-1)
				s.session(ctx, ch, creqs, st)
			}()
		case "direct-tcpip", "direct-streamlocal@openssh.com", "tun@openssh.com":
			s.openForward(nc, st)
		default:
			nc.Reject(gossh.ConnectionFailed, "open failed")
		}
	}
}

func hostkeysPayload(blobs [][]byte) []byte {
	var out []byte
	for _, b := range blobs {
		out = append(out, gossh.Marshal(struct{ B []byte }{b})...)
	}
	return out
}

// authCallbacks records every attempt and accepts the persona's logins.
func (s *Server) authCallbacks(ctx context.Context, conf *gossh.ServerConfig, fields map[string]string) {
	record := func(meta gossh.ConnMetadata, method string, ok bool, extra map[string]string) {
		f := map[string]string{event.FieldUsername: event.Clip(meta.User(), 256), event.FieldMethod: method,
			event.FieldSuccess: strconv.FormatBool(ok)}
		for k, v := range extra {
			f[k] = v
		}
		sev := event.Notice
		if ok {
			sev = event.Warning
		}
		s.emit(event.TypeAuth, sev, fields, f)
	}
	conf.PasswordCallback = func(meta gossh.ConnMetadata, pw []byte) (*gossh.Permissions, error) {
		ok := s.accounts.Accept(meta.User(), string(pw))
		record(meta, "password", ok, map[string]string{event.FieldPassword: event.Clip(string(pw), 256)})
		if ok {
			return &gossh.Permissions{}, nil
		}
		s.failDelay(ctx)
		return nil, errors.New("denied")
	}
	conf.PublicKeyCallback = func(meta gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
		record(meta, "publickey", false, map[string]string{"key_type": key.Type(), "fingerprint": gossh.FingerprintSHA256(key)})
		return nil, errors.New("denied")
	}
	if s.persona.KeyboardInteractive {
		conf.KeyboardInteractiveCallback = func(meta gossh.ConnMetadata, ch gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
			answers, err := ch("", "", []string{"Password: "}, []bool{false})
			if err != nil || len(answers) != 1 {
				return nil, errors.New("denied")
			}
			ok := s.accounts.Accept(meta.User(), answers[0])
			record(meta, "keyboard-interactive", ok, map[string]string{event.FieldPassword: event.Clip(answers[0], 256)})
			if ok {
				return &gossh.Permissions{}, nil
			}
			s.failDelay(ctx)
			return nil, errors.New("denied")
		}
	}
}

func (s *Server) failDelay(ctx context.Context) {
	pause.For(ctx, pause.PAMFailure(s.FailDelay))
}

var _ service.Server = (*Server)(nil)
