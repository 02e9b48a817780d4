package pop3

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"
)

// HashFormatAPOP names the crackable form of an APOP login: hashcat mode
// 20, md5($salt.$pass), written "<digest>:<timestamp>".
const HashFormatAPOP = "md5($salt.$pass) (hashcat 20)"

// authProcess stands for Dovecot's auth process as APOP timestamps show
// it: "<pid.connect-uid.time.random@host>" holds the process's pid (in
// hex) and the number of login connections it has served. The process
// exits after a minute without clients (default_idle_kill) and the next
// one has a new, higher pid and counts from 1 again.
type authProcess struct {
	mu   sync.Mutex
	pid  uint32
	uid  uint32
	last time.Time
}

// Pids of daemons run after boot, below the kernel's default pid_max
// (32768), where the measured ones wrapped.
const (
	pidMin = 600
	pidMax = 32768
)

// authIdleKill is default_idle_kill.
const authIdleKill = time.Minute

// newAuthProcess starts the pid at a value drawn from the decky's name,
// as one machine's would be after its boot.
func newAuthProcess(decky string) *authProcess {
	h := fnv.New32a()
	h.Write([]byte(decky))
	return &authProcess{pid: pidMin + h.Sum32()%(pidMax-pidMin)}
}

// connect counts a login connection at now and returns the pid and
// connection number it gets.
func (a *authProcess) connect(now time.Time) (pid, uid uint32) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.last.IsZero() && now.Sub(a.last) > authIdleKill {
		// Idle-killed and respawned: other processes ran in between.
		a.pid = pidMin + (a.pid-pidMin+40+mrand.Uint32N(4000))%(pidMax-pidMin)
		a.uid = 0
	}
	a.uid++
	a.last = now
	return a.pid, a.uid
}

// apopChallenge is get_apop_challenge's timestamp: pid, connection
// number and time in hex, 16 random bytes in base64, and the host name.
func apopChallenge(pid, uid uint32, now time.Time, host string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("pop3: apop challenge: %w", err)
	}
	return fmt.Sprintf("<%x.%x.%x.%s@%s>", pid, uid, now.Unix(), base64.StdEncoding.EncodeToString(b[:]), host), nil
}

// apopDigest is RFC 1939's APOP digest: MD5 of the timestamp then the
// password, in lower-case hex.
func apopDigest(challenge, password string) string {
	sum := md5.Sum([]byte(challenge + password))
	return hex.EncodeToString(sum[:])
}

// parseAPOP splits APOP's arguments as pop3-login's cmd_apop does: the
// user before the first space and a digest of exactly 32 hex digits after
// it. It returns the user, the digest in lower case, or the error reply.
func parseAPOP(args string) (user, digest, errReply string) {
	i := strings.IndexByte(args, ' ')
	if i < 0 || len(args)-i-1 != 32 {
		return "", "", "-ERR Invalid parameters."
	}
	raw, err := hex.DecodeString(args[i+1:])
	if err != nil {
		return "", "", "-ERR Invalid characters in MD5 response."
	}
	return args[:i], hex.EncodeToString(raw), ""
}
