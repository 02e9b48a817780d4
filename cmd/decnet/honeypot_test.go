package main

import (
	"maps"
	"testing"

	"decnet/internal/service"
)

// TestHoneypotArgsRoundTrip checks that the command every service
// container runs, written by service.HoneypotArgs, is read back by
// `decnet honeypot` as the same decky and persona.
func TestHoneypotArgsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		host service.Host
		keys map[string]string
	}{
		{"data and keys", service.Host{Name: "web-01", Hostname: "db17.localdomain", Distro: "rocky9", OS: "linux", IP: "10.0.0.5", DataDir: "/data"},
			map[string]string{"password": "Summer$2024 =x", "users": "a:b,c:d"}},
		{"shared dir", service.Host{Name: "web-01", Hostname: "db17", Distro: "debian", OS: "linux", IP: "10.0.0.5", DataDir: "/data", SharedDir: "/shared"},
			map[string]string{"password": "Summer$2024 =x", "users": "a:b,c:d"}},
		{"no data, no keys", service.Host{Name: "ws", Hostname: "WS-01", Distro: "debian", OS: "windows", IP: "10.0.0.6"}, nil},
		{"archetype", service.Host{Name: "prn", Hostname: "prn-2", Distro: "alpine", OS: "embedded", Archetype: "printer", IP: "10.0.0.7"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := service.HoneypotArgs("ssh", tt.host, tt.keys)
			cmd := honeypotCmd()
			if err := cmd.ParseFlags(args[2:]); err != nil {
				t.Fatal(err)
			}
			f := cmd.Flags()
			get := func(name string) string { v, _ := f.GetString(name); return v }
			got := service.Host{Name: get(service.FlagDecky), Hostname: get(service.FlagHostname), Distro: get(service.FlagDistro),
				OS: get(service.FlagOS), Archetype: get(service.FlagArchetype), IP: get(service.FlagIP), DataDir: get(service.FlagDataDir), SharedDir: get(service.FlagSharedDir)}
			if got != tt.host || args[0] != "honeypot" || args[1] != "ssh" {
				t.Fatalf("args %q read back as %+v, want %+v", args, got, tt.host)
			}
			pairs, _ := f.GetStringArray(service.FlagPersona)
			keys, err := personaKeys(pairs)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.keys) == 0 && len(keys) == 0 {
				return
			}
			if !maps.Equal(keys, tt.keys) {
				t.Fatalf("persona %v read back as %v", tt.keys, keys)
			}
		})
	}
}
