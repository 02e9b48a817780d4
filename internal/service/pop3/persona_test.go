package pop3

import (
	"errors"
	"slices"
	"testing"

	"decnet/internal/service"
	"decnet/internal/service/servicetest"
)

// TestPersonaKeys decodes the keys as the fleet configuration gives them
// and rejects what Dovecot would not take.
func TestPersonaKeys(t *testing.T) {
	p, err := service.NewPersona(Service{}.Info(), map[string]string{
		"users": "alice:Secr3t!,bob:x:y", "auth_mechanisms": "plain login apop", "disable_plaintext_auth": "true",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := p.(*Persona)
	if !got.users.Check("bob", "x:y") || !slices.Equal(got.Mechanisms, []string{"plain", "login", "apop"}) || !got.DisablePlaintextAuth {
		t.Errorf("persona %+v", got)
	}
	for _, keys := range []map[string]string{
		{"auth_mechanisms": "cram-md5"}, {"auth_mechanisms": ""}, {"login_greeting": "a\r\nb"}, {"users": "nopassword"}, {"port": "1"},
	} {
		if _, err := service.NewPersona(Service{}.Info(), keys); !errors.Is(err, service.ErrPersonaKey) {
			t.Errorf("keys %v: %v, want a persona key error", keys, err)
		}
	}
	// The registered service builds with its defaults.
	servicetest.New(t, Service{}, testHost, nil)
}
