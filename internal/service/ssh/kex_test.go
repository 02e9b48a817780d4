package ssh

import (
	"encoding/binary"
	"testing"
)

// sampleKexinit is the KEXINIT of Debian 12's OpenSSH 9.2p1 client (deb12u10), as captured.
func sampleKexinit() []byte {
	lists := []string{
		"sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,ext-info-c,kex-strict-c-v00@openssh.com",
		"ssh-ed25519-cert-v01@openssh.com,ssh-ed25519",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		"none,zlib@openssh.com,zlib", "none,zlib@openssh.com,zlib", "", "",
	}
	return appendSSHDPacket(nil, kexinitPayload(lists))
}

// kexinitPayload is SSH_MSG_KEXINIT with a zero cookie, the ten name-lists
// and first_kex_packet_follows false.
func kexinitPayload(lists []string) []byte {
	payload := append([]byte{20}, make([]byte, 16)...)
	for _, l := range lists {
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(l)))
		payload = append(payload, l...)
	}
	return append(payload, 0, 0, 0, 0, 0)
}

func TestParseKexinit(t *testing.T) {
	ck, err := parseKexinit(sampleKexinit())
	if err != nil {
		t.Fatal(err)
	}
	// The published HASSH of the OpenSSH 9.2 client (tshark ssh.kex.hassh).
	if ck.HASSH != "472b5de333ad665af5cbf10ff892c4df" {
		t.Errorf("hassh %s", ck.HASSH)
	}
	for _, bad := range [][]byte{nil, {0, 0, 0, 1, 0}, sampleKexinit()[:100]} {
		if _, err := parseKexinit(bad); err == nil {
			t.Errorf("accepted %x", bad)
		}
	}
}

func TestParseProtoVersion(t *testing.T) {
	tests := []struct {
		line  string
		major int
		ok    bool
	}{
		{"SSH-2.0-OpenSSH", 2, true}, {"SSH-1.99-x", 2, true}, {"SSH-1.5-x", 1, true}, {"SSH- 2.0-x", 2, true},
		{"SSH-2.0-", 0, false}, {"SSH-1111-x", 0, false}, {"SSH-x.0-y", 0, false}, {"SSH-3.1-z", 3, true},
	}
	for _, tt := range tests {
		major, ok := parseProtoVersion(tt.line)
		if ok != tt.ok || ok && major != tt.major {
			t.Errorf("%q: got %d %v", tt.line, major, ok)
		}
	}
}
