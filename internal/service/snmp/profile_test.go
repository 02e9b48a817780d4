package snmp

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"decnet/internal/service"
)

func TestProfiles(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	other := service.Host{Name: "decky-12", Hostname: "nova-33", Distro: "alpine", OS: "embedded", IP: "10.20.30.52"}
	cases := []struct {
		profile, objectID, descr string
	}{
		{"linux", "1.3.6.1.4.1.8072.3.2.10", "Linux SRV-MONITOR-17 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian"},
		{"iot", "1.3.6.1.4.1.8072.3.2.10", "Linux SRV-MONITOR-17 6.1.0-28-amd64"},
		{"printer", "1.3.6.1.4.1.11.2.3.9.1", "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,"},
		{"switch", "1.3.6.1.4.1.9.1.1208", "Cisco IOS Software, C2960X Software"},
	}
	for _, c := range cases {
		t.Run(c.profile, func(t *testing.T) {
			p := &Persona{Profile: c.profile}
			dev := profileDevice(p, testHost(), now)
			if dev.ObjectID != c.objectID || !strings.HasPrefix(dev.Descr, c.descr) {
				t.Fatalf("device %q %q", dev.ObjectID, dev.Descr)
			}
			if up := now.Sub(dev.Boot); up < 48*time.Hour || up > 60*24*time.Hour {
				t.Fatalf("uptime %v", up)
			}
			m, err := buildMIB(dev, func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			// Counters grow: ifInOctets.2 (or .1) an hour later.
			o, _ := m.get(oid{1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1}, false)
			if o == nil {
				t.Fatal("no ifInOctets.1")
			}
			_, a := o.value(now)
			_, b := o.value(now.Add(time.Hour))
			if bytes.Equal(a, b) {
				t.Fatal("ifInOctets does not grow")
			}
			twin := profileDevice(p, other, now)
			e1 := newEngine("decky-07", dev, nil, nil)
			e2 := newEngine("decky-12", twin, nil, nil)
			if bytes.Equal(e1.id, e2.id) || twin.Boot.Equal(dev.Boot) || c.profile != "switch" && twin.Descr == dev.Descr {
				t.Fatalf("two deckies look alike: %x %x %q", e1.id, e2.id, twin.Descr)
			}
		})
	}
}

func TestPersonaOverrides(t *testing.T) {
	p, err := service.NewPersona(Service{}.Info(), map[string]string{"sysContact": "ops@corp.example", "SYSLOCATION": "Basement", "sysName": "core-sw1", "profile": "switch"})
	if err != nil {
		t.Fatal(err)
	}
	dev := profileDevice(p.(*Persona), testHost(), time.Now())
	if dev.Contact != "ops@corp.example" || dev.Location != "Basement" || dev.Name != "core-sw1" {
		t.Fatalf("overrides not applied: %+v", dev)
	}
	for _, bad := range []map[string]string{
		{"profile": "mainframe"},
		{"v3_users": "alice:SHA:short"},
		{"v3_users": "alice:SHA256:authpass123"},
		{"community": "public", "rw_community": "public"},
	} {
		if _, err := service.NewPersona(Service{}.Info(), bad); err == nil {
			t.Errorf("persona %v accepted", bad)
		}
	}
}

func TestProfileOfArchetype(t *testing.T) {
	for _, tc := range []struct {
		host    service.Host
		persona string
		want    string
	}{
		{service.Host{OS: "embedded", Archetype: "printer"}, "", profilePrinter},
		{service.Host{OS: "embedded", Archetype: "iot-device"}, "", profileIoT},
		{service.Host{OS: "cisco"}, "", profileSwitch},
		{service.Host{OS: "linux", Archetype: "monitoring-node"}, "", profileLinux},
		{service.Host{OS: "embedded", Archetype: "printer"}, profileLinux, profileLinux},
	} {
		if got := profileOf(&Persona{Profile: tc.persona}, tc.host); got != tc.want {
			t.Errorf("profileOf(%q, %+v) = %s, want %s", tc.persona, tc.host, got, tc.want)
		}
	}
}
