// Package mqtt is the MQTT broker honeypot: MQTT 3.1, 3.1.1 and 5 on 1883
// and MQTT over TLS on 8883, answering as Debian 12's mosquitto 2.0.11. It
// is a real broker (mochi-mqtt, reshaped on the wire into mosquitto's
// bytes) that captures CONNECT credentials, records subscriptions and
// publishes, keeps attackers' retained messages so they read back, and
// feeds subscribers a small simulated process (a water plant, a factory
// line, a building's HVAC or a generic device) whose values differ per
// decky and drift over time.
package mqtt

import (
	"decnet/internal/service"
)

// Slug is the service's registry name.
const Slug = "mqtt"

// The ports: MQTT and MQTT over TLS.
const (
	PortMQTT  = 1883
	PortMQTTS = 8883
)

// Service is the mqtt honeypot kind.
type Service struct{}

func init() { service.Register(Service{}) }

// Info declares ports 1883 and 8883 and the persona keys.
func (Service) Info() service.Info {
	return service.Info{
		Slug:        Slug,
		Description: "MQTT broker (mosquitto 2.0.11 persona) capturing logins, subscriptions and device-control publishes",
		Ports: []service.Port{
			{Number: PortMQTT, Proto: service.TCP},
			{Number: PortMQTTS, Proto: service.TCP, TLS: true},
		},
		Persona: defaultPersona,
	}
}

// New builds one decky's broker.
func (Service) New(cfg service.Config) (service.Server, error) {
	p, err := service.PersonaOf[Persona](cfg, Service{}.Info())
	if err != nil {
		return nil, err
	}
	return newServer(cfg, p)
}

// Fragment implements service.Composer: the host's snakeoil, which the
// decky's other services present too, is kept in its shared directory.
func (Service) Fragment(h service.Host, keys map[string]string) service.Fragment {
	return service.SharedFragment(Slug, h, keys)
}

var (
	_ service.Service   = Service{}
	_ service.Composer  = Service{}
	_ service.Server    = (*Server)(nil)
	_ service.Validator = (*Persona)(nil)
)
