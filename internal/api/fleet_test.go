package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"decnet/internal/store"
)

// scriptedFleet is a fakeFleet whose writes fail with err when set.
type scriptedFleet struct {
	*fakeFleet
	err error
	ini string // the last document Deploy got
}

func (f *scriptedFleet) Mutate(ctx context.Context, name string) error {
	if f.err != nil {
		return f.err
	}
	return f.fakeFleet.Mutate(ctx, name)
}

func (f *scriptedFleet) SetMutateInterval(ctx context.Context, name string, minutes *int) error {
	if f.err != nil {
		return f.err
	}
	return f.fakeFleet.SetMutateInterval(ctx, name, minutes)
}

func (f *scriptedFleet) Deploy(_ context.Context, ini string) error {
	f.ini = ini
	return f.err
}

// fleetFixture serves a fleet of web-01 and db-01 (or none) with users of
// every role.
func fleetFixture(t *testing.T, withFleet bool) (*fixture, *scriptedFleet, map[string]string) {
	t.Helper()
	mutated := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	fl := &scriptedFleet{fakeFleet: newFakeFleet(
		Decky{Name: "web-01", IP: "127.77.0.10", Services: []string{"ssh"}, Ports: map[string]int{"ssh": 2222},
			LastMutated: &mutated, Active: true},
		Decky{Name: "db-01", IP: "127.77.0.11"},
	)}
	f := newFixture(t, func(c *Config) {
		if withFleet {
			c.Fleet = fl
		}
	})
	toks := map[string]string{}
	for _, role := range []string{store.RoleViewer, store.RoleAnalyst, store.RoleAdmin} {
		toks[role] = f.token(t, f.addUser(t, role, "password1", role, false))
	}
	return f, fl, toks
}

func TestDeckiesList(t *testing.T) {
	f, _, toks := fleetFixture(t, true)
	rec := f.do(t, "GET", "/api/v1/deckies", toks[store.RoleViewer], "")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{`"name":"web-01"`, `"ports":{"ssh":2222}`, `"last_mutated":"2024-05-01T10:00:00Z"`, `"active":true`,
		`"name":"db-01","ip":"127.77.0.11","hostname":"","distro":"","os":"","services":[],"service_config":{},"ports":{},"mutate_interval":null,"last_mutated":null,"active":false`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}

	f, _, toks = fleetFixture(t, false)
	rec = f.do(t, "GET", "/api/v1/deckies", toks[store.RoleViewer], "")
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != "[]" {
		t.Fatalf("no fleet: %d %s", rec.Code, got)
	}
}

func TestMutate(t *testing.T) {
	tests := []struct {
		name   string
		fleet  bool
		err    error // the fleet's
		role   string
		decky  string
		status int
		detail string
	}{
		{"analyst", true, nil, store.RoleAnalyst, "web-01", 200, ""},
		{"admin", true, nil, store.RoleAdmin, "db-01", 200, ""},
		{"viewer", true, nil, store.RoleViewer, "web-01", 403, "Insufficient permissions"},
		{"unknown", true, nil, store.RoleAnalyst, "nope-01", 404, "Decky not found"},
		{"bad name", true, nil, store.RoleAnalyst, "Web_01", 422, ""},
		{"name too long", true, nil, store.RoleAnalyst, strings.Repeat("a", 65), 422, ""},
		{"not supported", true, fmt.Errorf("mutate: %w", ErrNotSupported), store.RoleAnalyst, "web-01", 501, "cannot change deckies"},
		{"refused", true, fmt.Errorf("%w: no other service set", ErrInvalid), store.RoleAnalyst, "web-01", 409, "no other service set"},
		{"broken", true, errors.New("compose failed at /srv/secret"), store.RoleAnalyst, "web-01", 500, "Internal server error"},
		{"no fleet", false, nil, store.RoleAnalyst, "web-01", 501, "no fleet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, fl, toks := fleetFixture(t, tt.fleet)
			fl.err = tt.err
			rec := f.do(t, "POST", "/api/v1/deckies/"+tt.decky+"/mutate", toks[tt.role], "")
			m := expect(t, rec, tt.status, tt.detail)
			if strings.Contains(rec.Body.String(), "secret") {
				t.Fatal("internal error leaked")
			}
			mutated := len(fl.mutated) == 1 && fl.mutated[0] == tt.decky
			if (tt.status == 200) != mutated {
				t.Fatalf("mutated %v", fl.mutated)
			}
			if tt.status == 200 && m["message"] != "Successfully mutated "+tt.decky {
				t.Fatalf("answer %v", m)
			}
		})
	}
}

func TestMutateInterval(t *testing.T) {
	minutes := func(n int) *int { return &n }
	tests := []struct {
		name   string
		fleet  bool
		err    error
		role   string
		decky  string
		body   string
		status int
		want   *int // the decky's interval after a 200
		detail string
	}{
		{"minutes", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"45m"}`, 200, minutes(45), "45 minutes"},
		{"hours", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"4h"}`, 200, minutes(240), ""},
		{"days", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"2d"}`, 200, minutes(2880), ""},
		{"months", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"1M"}`, 200, minutes(43200), ""},
		{"years", true, nil, store.RoleAdmin, "web-01", `{"mutate_interval":"2Y"}`, 200, minutes(1051200), ""},
		{"100 years", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"100y"}`, 200, minutes(52560000), ""},
		{"null", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":null}`, 200, nil, "global interval"},
		{"over 100 years", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"101y"}`, 422, nil, "validation failed"},
		{"overflow", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"99999999999999999999m"}`, 422, nil, ""},
		{"zero", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"0m"}`, 422, nil, ""},
		{"seconds", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"30s"}`, 422, nil, ""},
		{"a number", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":30}`, 422, nil, ""},
		{"missing", true, nil, store.RoleAnalyst, "web-01", `{}`, 422, nil, ""},
		{"extra field", true, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"5m","x":1}`, 422, nil, ""},
		{"viewer", true, nil, store.RoleViewer, "web-01", `{"mutate_interval":"5m"}`, 403, nil, ""},
		{"unknown", true, nil, store.RoleAnalyst, "nope", `{"mutate_interval":"5m"}`, 404, nil, "Decky not found"},
		{"not supported", true, ErrNotSupported, store.RoleAnalyst, "web-01", `{"mutate_interval":"5m"}`, 501, nil, ""},
		{"no fleet", false, nil, store.RoleAnalyst, "web-01", `{"mutate_interval":"5m"}`, 501, nil, "no fleet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, fl, toks := fleetFixture(t, tt.fleet)
			old := 7
			if err := fl.SetMutateInterval(t.Context(), "web-01", &old); err != nil {
				t.Fatal(err)
			}
			fl.err = tt.err
			rec := f.do(t, "PUT", "/api/v1/deckies/"+tt.decky+"/mutate-interval", toks[tt.role], tt.body)
			m := expect(t, rec, tt.status, "")
			if d, _ := m["detail"].(string); tt.status != 200 && !strings.Contains(d, tt.detail) {
				t.Fatalf("detail %q, want %q", d, tt.detail)
			}
			if msg, _ := m["message"].(string); tt.status == 200 && !strings.Contains(msg, tt.detail) {
				t.Fatalf("message %q, want %q", msg, tt.detail)
			}
			got := fl.Deckies()[0].MutateInterval
			switch {
			case tt.status != 200:
				if got == nil || *got != old {
					t.Fatalf("a refused request changed the interval to %v", got)
				}
			case (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want:
				t.Fatalf("interval %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDeploy(t *testing.T) {
	ini, _ := json.Marshal(map[string]string{"ini_content": "[general]\nnet = 127.77.0.0/24\n\n[decky-03]\nservices = ssh\n"})
	big := `{"ini_content":"` + strings.Repeat("a", maxINIBytes) + `"}`
	tests := []struct {
		name   string
		fleet  bool
		err    error
		role   string
		body   string
		status int
		detail string
	}{
		{"admin", true, nil, store.RoleAdmin, string(ini), 200, ""},
		{"largest", true, nil, store.RoleAdmin, big, 200, ""},
		{"escaped largest", true, nil, store.RoleAdmin, `{"ini_content":"` + strings.Repeat(`\u0041`, maxINIBytes) + `"}`, 200, ""},
		{"too large", true, nil, store.RoleAdmin, `{"ini_content":"` + strings.Repeat("a", maxINIBytes+1) + `"}`, 422, ""},
		{"empty", true, nil, store.RoleAdmin, `{"ini_content":""}`, 422, ""},
		{"extra field", true, nil, store.RoleAdmin, `{"ini_content":"x","config":{}}`, 422, ""},
		{"analyst", true, nil, store.RoleAnalyst, `{"ini_content":"x"}`, 403, "Insufficient permissions"},
		{"viewer", true, nil, store.RoleViewer, `{"ini_content":"x"}`, 403, ""},
		{"bad document", true, fmt.Errorf("deploy: %w: line 3: no section", ErrInvalid), store.RoleAdmin, `{"ini_content":"x"}`, 409, "line 3: no section"},
		{"not supported", true, fmt.Errorf("deploy: %w", ErrNotSupported), store.RoleAdmin, `{"ini_content":"x"}`, 501, "use the docker runtime"},
		{"no fleet", false, nil, store.RoleAdmin, `{"ini_content":"x"}`, 501, "no fleet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, fl, toks := fleetFixture(t, tt.fleet)
			fl.err = tt.err
			rec := f.do(t, "POST", "/api/v1/deckies/deploy", toks[tt.role], tt.body)
			m := expect(t, rec, tt.status, tt.detail)
			if tt.status == 200 {
				if m["message"] != "Deckies deployed successfully" || fl.ini == "" {
					t.Fatalf("answer %v, fleet got %d bytes", m, len(fl.ini))
				}
			} else if tt.status != 409 && tt.status != 501 && fl.ini != "" {
				t.Fatal("a refused request reached the fleet")
			}
		})
	}
}
