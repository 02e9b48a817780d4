package redis

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"time"

	"decnet/internal/archetype"
)

// seedBait fills db 0 with what a web application's cache would hold: the
// original honeypot's keys (sessions, an API key, the JWT secret, user
// records, database and AWS credentials, a rate limiter) with the types
// and TTLs such an application gives them. Secrets are drawn from the
// decky's seed, so each decky has its own and keeps them across restarts.
func seedBait(ks *keyspace, h hostFacts) {
	r := rand.New(rand.NewPCG(h.seed, 0x5eed))
	now := ks.now()
	alnum := func(n int, chars string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		return string(b)
	}
	const lowerDigits = "abcdefghijklmnopqrstuvwxyz0123456789"
	const all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	const upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	ttl := func(period time.Duration) (time.Time, time.Duration) {
		return now.Add(time.Duration(r.Int64N(int64(period)))), period
	}
	session := func(id int, user, role string) *entry {
		e := &entry{typ: tString, str: fmt.Sprintf(`{"user_id":%d,"username":"%s","role":"%s","csrf":"%s","ip":"10.0.%d.%d","created":%d}`,
			id, user, role, alnum(32, lowerDigits), r.IntN(8), 2+r.IntN(250), now.Add(-time.Duration(r.IntN(3600))*time.Second).Unix())}
		e.expire, e.renew = ttl(2 * time.Hour)
		return e
	}
	bcrypt := func() string { return "$2b$12$" + alnum(53, all+"./") }
	put := func(k string, e *entry) { ks.put(0, k, e) }

	put("sessions:user:1234", session(1234, "admin", "admin"))
	put("sessions:user:5678", session(5678, "alice", "developer"))
	put("cache:api_key", &entry{typ: tString, str: "sk_live_" + alnum(24, all)})
	put("jwt:secret", &entry{typ: tString, str: base64.RawURLEncoding.EncodeToString([]byte(alnum(48, all)))})
	put("user:admin", &entry{typ: tHash, hash: []field{
		{"id", "1"}, {"username", "admin"}, {"email", "admin@" + archetype.MailDomain(h.hostname)}, {"password", bcrypt()},
		{"role", "admin"}, {"mfa", "false"}, {"last_login", now.Add(-26 * time.Hour).UTC().Format(time.RFC3339)},
	}})
	put("user:alice", &entry{typ: tHash, hash: []field{
		{"id", "5678"}, {"username", "alice"}, {"email", "alice@" + archetype.MailDomain(h.hostname)}, {"password", bcrypt()},
		{"role", "developer"}, {"mfa", "false"}, {"last_login", now.Add(-3 * time.Hour).UTC().Format(time.RFC3339)},
	}})
	put("config:db_password", &entry{typ: tString, str: "Pr0dDB!2024#Secure"})
	put("config:aws_access_key", &entry{typ: tString, str: "AKIA" + alnum(16, upperDigits)})
	put("config:aws_secret_key", &entry{typ: tString, str: alnum(40, all+"/+")})
	limiter := &entry{typ: tString, str: fmt.Sprint(3 + r.IntN(40))}
	limiter.expire, limiter.renew = ttl(time.Minute)
	put("rate_limit:192.168.1.1", limiter)
	put("queue:password_reset", &entry{typ: tList, list: []string{
		fmt.Sprintf(`{"email":"alice@%s","token":"%s","ts":%d}`, archetype.MailDomain(h.hostname), alnum(40, lowerDigits), now.Add(-40*time.Minute).Unix()),
		fmt.Sprintf(`{"email":"admin@%s","token":"%s","ts":%d}`, archetype.MailDomain(h.hostname), alnum(40, lowerDigits), now.Add(-3*time.Hour).Unix()),
	}})
}
