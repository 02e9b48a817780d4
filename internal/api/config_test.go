package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"decnet/internal/event"
	"decnet/internal/store"
	"decnet/internal/testutil"
)

// refusingFleet fails every change of the global interval with err.
type refusingFleet struct {
	*fakeFleet
	err error
}

func (r refusingFleet) SetGlobalMutateInterval(context.Context, int) error { return r.err }

var _ FleetControl = refusingFleet{}

func TestGetConfig(t *testing.T) {
	tests := []struct {
		name   string
		fleet  func() FleetControl
		dev    bool
		limit  string // stored deployment limit; "" = none
		role   string
		want   string // the body without users
		status int
	}{
		{name: "viewer, defaults", fleet: func() FleetControl { return newFakeFleet() }, role: store.RoleViewer, status: 200,
			want: `{"role":"viewer","deployment_limit":10,"global_mutation_interval":"30m","developer_mode":false}`},
		{name: "analyst, stored limit", fleet: func() FleetControl { return newFakeFleet() }, limit: "42", role: store.RoleAnalyst, status: 200,
			want: `{"role":"analyst","deployment_limit":42,"global_mutation_interval":"30m","developer_mode":false}`},
		{name: "no fleet", role: store.RoleViewer, dev: true, status: 200,
			want: `{"role":"viewer","deployment_limit":10,"global_mutation_interval":null,"developer_mode":true}`},
		{name: "scheduled mutation off", fleet: func() FleetControl { ff := newFakeFleet(); ff.global = 0; return ff }, role: store.RoleViewer, status: 200,
			want: `{"role":"viewer","deployment_limit":10,"global_mutation_interval":null,"developer_mode":false}`},
		{name: "interval in days", fleet: func() FleetControl { ff := newFakeFleet(); ff.global = 3 * 1440; return ff }, role: store.RoleViewer, status: 200,
			want: `{"role":"viewer","deployment_limit":10,"global_mutation_interval":"3d","developer_mode":false}`},
		{name: "corrupt stored limit", limit: `"ten"`, role: store.RoleViewer, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, db := newSQLiteFixture(t, func(c *Config) {
				if tt.fleet != nil {
					c.Fleet = tt.fleet()
				}
				c.Developer = tt.dev
			})
			if tt.limit != "" {
				if err := db.SetState(t.Context(), StateDeploymentLimit, []byte(tt.limit)); err != nil {
					t.Fatal(err)
				}
			}
			u := f.addUser(t, "caller", "password1", tt.role, false)
			rec := f.do(t, "GET", "/api/v1/config", f.token(t, u), "")
			if tt.status != 200 {
				expect(t, rec, tt.status, "Internal server error")
				return
			}
			expect(t, rec, 200, "")
			if got := strings.TrimSpace(rec.Body.String()); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestGetConfigAdminSeesUsers(t *testing.T) {
	f, _ := newSQLiteFixture(t, func(c *Config) { c.Fleet = newFakeFleet(); c.Developer = true })
	a := f.addUser(t, "root-ops", "password1", store.RoleAdmin, false)
	v := f.addUser(t, "watcher", "password1", store.RoleViewer, true)
	rec := f.do(t, "GET", "/api/v1/config", f.token(t, a), "")
	expect(t, rec, 200, "")
	want := fmt.Sprintf(`{"role":"admin","deployment_limit":10,"global_mutation_interval":"30m","developer_mode":true,"users":[`+
		`{"uuid":%q,"username":"root-ops","role":"admin","must_change_password":false},`+
		`{"uuid":%q,"username":"watcher","role":"viewer","must_change_password":true}]}`, a.UUID, v.UUID)
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSetDeploymentLimit(t *testing.T) {
	tests := []struct {
		body     string
		status   int
		stored   string // the state afterwards; "" = none
		location string
		msg      string
	}{
		{`{"deployment_limit":1}`, 200, "1", "", ""},
		{`{"deployment_limit":500}`, 200, "500", "", ""},
		{`{"deployment_limit":0}`, 422, "", "body.deployment_limit", "expected number >= 1"},
		{`{"deployment_limit":501}`, 422, "", "body.deployment_limit", "expected number <= 500"},
		{`{"deployment_limit":2.5}`, 422, "", "body.deployment_limit", "expected integer"},
		{`{"deployment_limit":"10"}`, 422, "", "body.deployment_limit", "expected"},
		{`{}`, 422, "", "body", "deployment_limit"},
		{`{"deployment_limit":10,"x":1}`, 422, "", "body.x", "unexpected property"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			f, db := newSQLiteFixture(t, nil)
			a := f.addUser(t, "root-ops", "password1", store.RoleAdmin, false)
			rec := f.do(t, "PUT", "/api/v1/config/deployment-limit", f.token(t, a), tt.body)
			if tt.location != "" {
				expectInvalid(t, rec, tt.status, tt.location, tt.msg)
			} else if m := expect(t, rec, 200, ""); m["message"] != "Deployment limit set to "+tt.stored {
				t.Fatalf("message %v", m)
			}
			raw, err := db.State(t.Context(), StateDeploymentLimit)
			if got := string(raw); got != tt.stored || (tt.stored == "" && err == nil) {
				t.Fatalf("stored %q (%v), want %q", got, err, tt.stored)
			}
			if tt.stored != "" {
				m := expect(t, f.do(t, "GET", "/api/v1/config", f.token(t, a), ""), 200, "")
				if fmt.Sprint(m["deployment_limit"]) != tt.stored {
					t.Fatalf("config %v", m)
				}
			}
		})
	}
}

func TestSetGlobalMutationInterval(t *testing.T) {
	tests := []struct {
		name     string
		fleet    FleetControl // nil: a newFakeFleet
		noFleet  bool
		role     string
		body     string
		status   int
		minutes  int    // the fleet's interval afterwards
		detail   string // of the answer: message or problem detail
		location string // non-empty: a 422 naming it
	}{
		{name: "minutes", body: `{"global_mutation_interval":"45m"}`, status: 200, minutes: 45, detail: "Global mutation interval set to 45m"},
		{name: "hours", body: `{"global_mutation_interval":"4h"}`, status: 200, minutes: 240, detail: "set to 4h"},
		{name: "minutes that are hours", body: `{"global_mutation_interval":"120m"}`, status: 200, minutes: 120, detail: "set to 2h"},
		{name: "days", body: `{"global_mutation_interval":"7d"}`, status: 200, minutes: 7 * 1440, detail: "set to 7d"},
		{name: "months", body: `{"global_mutation_interval":"1M"}`, status: 200, minutes: 43200, detail: "set to 1M"},
		{name: "years", body: `{"global_mutation_interval":"2Y"}`, status: 200, minutes: 2 * 525600, detail: "set to 2y"},
		{name: "analyst may", role: store.RoleAnalyst, body: `{"global_mutation_interval":"1y"}`, status: 200, minutes: 525600},
		{name: "viewer may not", role: store.RoleViewer, body: `{"global_mutation_interval":"1y"}`, status: 403, minutes: 30, detail: "Insufficient permissions"},
		{name: "zero", body: `{"global_mutation_interval":"0m"}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "seconds", body: `{"global_mutation_interval":"30s"}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "no unit", body: `{"global_mutation_interval":"30"}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "leading zero", body: `{"global_mutation_interval":"030m"}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "empty", body: `{"global_mutation_interval":""}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "null", body: `{"global_mutation_interval":null}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "over 100 years", body: `{"global_mutation_interval":"101y"}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "overflowing count", body: `{"global_mutation_interval":"99999999999999999999m"}`, status: 422, minutes: 30, location: "body.global_mutation_interval"},
		{name: "no fleet", noFleet: true, body: `{"global_mutation_interval":"1h"}`, status: 501, detail: detailNoFleet},
		{name: "runtime cannot", fleet: refusingFleet{newFakeFleet(), fmt.Errorf("x: %w", ErrNotSupported)},
			body: `{"global_mutation_interval":"1h"}`, status: 501, minutes: 30, detail: detailNoLiveMutation},
		{name: "fleet refuses", fleet: refusingFleet{newFakeFleet(), fmt.Errorf("%w: the scheduler is paused", ErrInvalid)},
			body: `{"global_mutation_interval":"1h"}`, status: 409, minutes: 30, detail: "the scheduler is paused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fleet := tt.fleet
			if fleet == nil && !tt.noFleet {
				fleet = newFakeFleet()
			}
			// The fake store: route and fleet logic need no more.
			f := newFixture(t, func(c *Config) { c.Fleet = fleet })
			role := tt.role
			if role == "" {
				role = store.RoleAdmin
			}
			rec := f.do(t, "PUT", "/api/v1/config/global-mutation-interval", f.token(t, f.addUser(t, "caller", "password1", role, false)), tt.body)
			switch {
			case tt.location != "":
				expectInvalid(t, rec, 422, tt.location, "")
			case tt.status == 200:
				if m := expect(t, rec, 200, ""); !strings.Contains(fmt.Sprint(m["message"]), tt.detail) {
					t.Fatalf("message %v, want %q", m, tt.detail)
				}
			default:
				expect(t, rec, tt.status, tt.detail)
			}
			if fleet != nil && fleet.GlobalMutateInterval() != tt.minutes {
				t.Fatalf("fleet interval %d, want %d", fleet.GlobalMutateInterval(), tt.minutes)
			}
		})
	}
}

func TestReinit(t *testing.T) {
	tests := []struct {
		name   string
		dev    bool
		role   string
		status int
		detail string
	}{
		{"not developer mode", false, store.RoleAdmin, 403, detailReinitNeedsDev},
		{"viewer", true, store.RoleViewer, 403, "Insufficient permissions"},
		{"analyst", true, store.RoleAnalyst, 403, "Insufficient permissions"},
		{"admin in developer mode", true, store.RoleAdmin, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs *testutil.Logs
			f, db := newSQLiteFixture(t, func(c *Config) { c.Developer = tt.dev; logs = captureLogs(c) })
			base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
			recs := []event.Record{
				{Timestamp: base, Decky: "web-01", Service: "ssh", EventType: "auth", AttackerIP: "192.0.2.7",
					Fields: map[string]string{"username": "root", "password": "toor"}, RawLine: "a"},
				{Timestamp: base, Decky: "web-01", Service: "ssh", EventType: "connect", AttackerIP: "192.0.2.8", RawLine: "b"},
			}
			if err := db.Ingest(t.Context(), recs, "ingest", []byte("2")); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpsertAttacker(t.Context(), store.Attacker{IP: "192.0.2.7", FirstSeen: base, LastSeen: base, EventCount: 1}); err != nil {
				t.Fatal(err)
			}
			u := f.addUser(t, "caller", "password1", tt.role, false)
			rec := f.do(t, "DELETE", "/api/v1/config/reinit", f.token(t, u), "")
			st, err := db.Stats(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if tt.status != 200 {
				expect(t, rec, tt.status, tt.detail)
				if st.TotalLogs != 2 {
					t.Fatalf("refused reinit deleted data: %+v", st)
				}
				return
			}
			expect(t, rec, 200, "")
			if got, want := strings.TrimSpace(rec.Body.String()), `{"message":"Data purged","deleted":{"logs":2,"bounties":1,"attackers":1}}`; got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			if st.TotalLogs != 0 || st.TotalBounties != 0 {
				t.Fatalf("after reinit %+v", st)
			}
			if _, err := db.UserByUUID(t.Context(), u.UUID); err != nil {
				t.Fatalf("reinit deleted the user: %v", err)
			}
			if n := len(logs.Records(t, "data purged")); n != 1 {
				t.Fatalf("%d purge records:\n%s", n, logs.String())
			}
		})
	}
}
