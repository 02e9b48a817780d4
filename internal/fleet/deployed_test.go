package fleet

import (
	"maps"
	"testing"

	"decnet/internal/service"
)

func TestTCPPorts(t *testing.T) {
	tcp := func(n int) service.Port { return service.Port{Number: n, Proto: service.TCP} }
	udp := func(n int) service.Port { return service.Port{Number: n, Proto: service.UDP} }
	tests := []struct {
		name string
		b    []Binding
		want map[string]int
	}{
		{"none", nil, map[string]int{}},
		{"shifted", []Binding{{"ssh", tcp(22), "127.77.0.10:10022"}}, map[string]int{"ssh": 10022}},
		{"first TCP port of each", []Binding{{"app", udp(53), "127.77.0.10:53"}, {"app", tcp(8080), "127.77.0.10:8080"},
			{"app", tcp(8443), "127.77.0.10:8443"}, {"redis", tcp(6379), "127.77.0.10:6379"}},
			map[string]int{"app": 8080, "redis": 6379}},
		{"UDP only left out", []Binding{{"snmp", udp(161), "127.77.0.10:10161"}}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Deployed{Bindings: tt.b}.TCPPorts()
			if got == nil || !maps.Equal(got, tt.want) {
				t.Fatalf("TCPPorts() = %#v, want %v", got, tt.want)
			}
		})
	}
}
