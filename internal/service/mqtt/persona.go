package mqtt

import (
	"fmt"
	"strconv"
	"strings"
)

// Persona is what a decky's broker serves and whom it lets in.
type Persona struct {
	// Persona is the process whose topics the broker carries: water_plant
	// (the original's water treatment plant), factory (a production
	// line's PLC tags, conveyor, OEE and machine states), building (HVAC
	// and BMS points) or generic (one device's status).
	Persona string `ini:"persona"`
	// CustomTopics is a JSON object of topic → payload, retained beside
	// (or instead of) the persona's own topics. Its values stay fixed.
	CustomTopics map[string]string `ini:"custom_topics"`
	// AllowAnonymous lets clients in without a username, as mosquitto's
	// allow_anonymous does. Default true: an open broker is what IoT
	// botnets and ICS scanners look for.
	AllowAnonymous bool `ini:"allow_anonymous"`
	// Users are name:password pairs, as a mosquitto password_file holds.
	// Empty, the default, accepts any username and password (a broker
	// without a password file); set, only these logins succeed and every
	// other is refused with mosquitto's "not authorised".
	Users []string `ini:"users"`
	// TLS serves MQTT over TLS on 8883 (true or false). Empty means on
	// for the ICS personas (water_plant, factory, building) and off for
	// generic. When off the 8883 listener is closed.
	TLS string `ini:"tls"`
	// PublishInterval is how often, in seconds, the simulated process
	// publishes its changed values to subscribers. 0 freezes the values.
	PublishInterval int `ini:"publish_interval"`
}

// The process personas.
const (
	WaterPlant = "water_plant"
	Factory    = "factory"
	Building   = "building"
	Generic    = "generic"
)

func defaultPersona() any {
	return &Persona{Persona: WaterPlant, AllowAnonymous: true, PublishInterval: 5}
}

// maxCustomTopics bounds the custom topics a persona may add.
const maxCustomTopics = 500

// Validate checks the persona name, the users, the TLS switch and the
// custom topics.
func (p *Persona) Validate() error {
	switch p.Persona {
	case WaterPlant, Factory, Building, Generic:
	default:
		return fmt.Errorf("persona %q: want %s, %s, %s or %s", p.Persona, WaterPlant, Factory, Building, Generic)
	}
	for _, u := range p.Users {
		if name, _, ok := strings.Cut(u, ":"); !ok || name == "" {
			return fmt.Errorf("users: %q is not name:password", u)
		}
	}
	if p.TLS != "" {
		if _, err := strconv.ParseBool(p.TLS); err != nil {
			return fmt.Errorf("tls %q: want true or false", p.TLS)
		}
	}
	if p.PublishInterval < 0 || p.PublishInterval > 3600 {
		return fmt.Errorf("publish_interval %d: want 0 to 3600 seconds", p.PublishInterval)
	}
	if len(p.CustomTopics) > maxCustomTopics {
		return fmt.Errorf("custom_topics: %d topics, at most %d", len(p.CustomTopics), maxCustomTopics)
	}
	for topic := range p.CustomTopics {
		if topic == "" || strings.ContainsAny(topic, "+#\x00") || strings.HasPrefix(topic, "$") {
			return fmt.Errorf("custom_topics: %q is not a topic a client could publish", topic)
		}
	}
	return nil
}

// tlsOn says whether 8883 is served.
func (p *Persona) tlsOn() bool {
	if p.TLS == "" {
		return p.Persona != Generic
	}
	on, _ := strconv.ParseBool(p.TLS)
	return on
}

// users maps names to passwords; nil when any login is accepted.
func (p *Persona) users() map[string]string {
	if len(p.Users) == 0 {
		return nil
	}
	m := make(map[string]string, len(p.Users))
	for _, u := range p.Users {
		name, pass, _ := strings.Cut(u, ":")
		m[name] = pass
	}
	return m
}
