package postgres

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
	"decnet/internal/testutil"
)

// testNet is this package's loopback range for tests.
const testNet = "127.0.102."

// startServer serves a persona (the default, changed by edit) on
// 127.0.102.<host> and returns its address and events.
func startServer(t *testing.T, host int, edit func(p *Persona)) (string, *testutil.Events) {
	t.Helper()
	p := defaultPersona().(*Persona)
	if edit != nil {
		edit(p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	ev := &testutil.Events{}
	srv, err := Service{}.New(service.Config{Host: service.Host{Name: "decky-pg", Distro: "debian", DataDir: t.TempDir()}, Persona: p, Emit: ev})
	if err != nil {
		t.Fatal(err)
	}
	return servicetest.ServeTCP(t, srv, testNet+strconv.Itoa(host), Port), ev
}

// cracksMD5 recomputes a hashcat 11100 line for a guess as hashcat does:
// md5(md5(pass.user) hex . salt) == hash.
func cracksMD5(line, password string) bool {
	rest, ok := strings.CutPrefix(line, "$postgres$")
	parts := strings.Split(rest, "*")
	if !ok || len(parts) != 3 {
		return false
	}
	salt, err := hex.DecodeString(parts[1])
	if err != nil {
		return false
	}
	inner := md5.Sum([]byte(password + parts[0]))
	outer := md5.Sum(append([]byte(hex.EncodeToString(inner[:])), salt...))
	return hex.EncodeToString(outer[:]) == parts[2]
}

// cracksSCRAM recomputes a SCRAM exchange line for a guess as RFC 5802
// does: ClientKey XOR HMAC(H(ClientKey), AuthMessage) == proof.
func cracksSCRAM(line, password string) bool {
	parts := strings.Split(strings.TrimPrefix(line, "$scram-sha-256$"), "$")
	if len(parts) != 4 {
		return false
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	dec := func(s string) []byte { b, _ := base64.StdEncoding.DecodeString(s); return b }
	salt, authMsg, proof := dec(parts[1]), dec(parts[2]), dec(parts[3])
	salted, _ := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	m := hmac.New(sha256.New, salted)
	m.Write([]byte("Client Key"))
	clientKey := m.Sum(nil)
	stored := sha256.Sum256(clientKey)
	m = hmac.New(sha256.New, stored[:])
	m.Write(authMsg)
	sig := m.Sum(nil)
	if len(proof) != len(sig) {
		return false
	}
	for i := range sig {
		if sig[i]^clientKey[i] != proof[i] {
			return false
		}
	}
	return true
}
