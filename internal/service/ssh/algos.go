package ssh

// profile is what one OpenSSH release advertises, reduced to the names
// x/crypto v0.59.0 implements, in the release's order.
type profile struct {
	version  string   // identification string after "SSH-2.0-"
	kex      []string // without kex-strict-s, which x/crypto appends
	ciphers  []string
	macs     []string
	hostKeys []string // host-key algorithms in advertised order
}

var (
	kex92 = []string{"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
		"ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512", "diffie-hellman-group14-sha256"}
	kexRHEL = []string{"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
		"ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512"}
	kex74 = []string{"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
		"ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
		"diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1"}
	kex100 = []string{"mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
		"ecdh-sha2-nistp384", "ecdh-sha2-nistp521"}

	ciphersUpstream = []string{"chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
		"aes128-gcm@openssh.com", "aes256-gcm@openssh.com"}
	ciphersRHEL = []string{"aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes256-ctr", "aes128-gcm@openssh.com", "aes128-ctr"}
	ciphers74   = append(append([]string{}, ciphersUpstream...), "aes128-cbc", "3des-cbc")
	ciphers100  = []string{"aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
		"aes128-ctr", "aes192-ctr", "aes256-ctr"}

	macsUpstream = []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1"}
	macsRHEL     = []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha1", "hmac-sha2-512"}

	hostKeysModern = []string{"rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"}
	hostKeys82     = []string{"rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519"}
	hostKeys74     = []string{"ssh-rsa", "rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"}
)

// profiles maps a distro slug to the OpenSSH its current packages ship.
var profiles = map[string]profile{
	"debian":   {"OpenSSH_9.2p1 Debian-2+deb12u10", kex92, ciphersUpstream, macsUpstream, hostKeysModern},
	"ubuntu22": {"OpenSSH_8.9p1 Ubuntu-3ubuntu0.13", kex92, ciphersUpstream, macsUpstream, hostKeysModern},
	"ubuntu20": {"OpenSSH_8.2p1 Ubuntu-4ubuntu0.13", kex92, ciphersUpstream, macsUpstream, hostKeys82},
	"rocky9":   {"OpenSSH_8.7", kexRHEL, ciphersRHEL, macsRHEL, hostKeysModern},
	"centos7":  {"OpenSSH_7.4", kex74, ciphers74, macsUpstream, hostKeys74},
	"alpine":   {"OpenSSH_9.6", kex92, ciphersUpstream, macsUpstream, hostKeysModern},
	"fedora":   {"OpenSSH_9.3", kexRHEL, ciphersRHEL, macsRHEL, hostKeysModern},
	"kali":     {"OpenSSH_10.0p2 Debian-5", kex100, ciphers100, macsUpstream, hostKeysModern},
	"arch":     {"OpenSSH_10.0", kex100, ciphers100, macsUpstream, hostKeysModern},
}

func profileFor(distro string) profile {
	if p, ok := profiles[distro]; ok {
		return p
	}
	return profiles["debian"]
}

// serverSigAlgs is OpenSSH's server-sig-algs; x/crypto drops the names it
// lacks (webauthn, ssh-dss).
var serverSigAlgs = []string{"ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-rsa", "rsa-sha2-256", "rsa-sha2-512"}
