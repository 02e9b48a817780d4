package mqtt

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// point is one topic of a simulated process.
type point struct {
	topic string
	text  string  // a fixed value (a state); empty for a number
	lo    float64 // a number wanders in [lo, hi]
	hi    float64
	step  float64 // the largest change per tick
	prec  int     // decimals shown
	count bool    // a counter: only goes up, by up to step per tick
	clock bool    // a counter of seconds: goes up by the tick interval
}

func fixed(topic, text string) point { return point{topic: topic, text: text} }

func analog(topic string, lo, hi, step float64, prec int) point {
	return point{topic: topic, lo: lo, hi: hi, step: step, prec: prec}
}

func counter(topic string, lo, hi, step float64) point {
	return point{topic: topic, lo: lo, hi: hi, step: step, count: true}
}

// processes are the personas' topics: the original's water plant, and a
// production line, a building's HVAC/BMS and one generic device.
var processes = map[string][]point{
	WaterPlant: {
		analog("plant/water/tank1/level", 55, 85, 0.6, 1),
		analog("plant/water/tank1/pressure", 2.6, 3.8, 0.05, 2),
		fixed("plant/water/pump1/status", "RUNNING"),
		analog("plant/water/pump1/rpm", 1420, 1490, 6, 0),
		fixed("plant/water/pump2/status", "STANDBY"),
		analog("plant/water/chlorine/dosing", 1.0, 1.8, 0.03, 2),
		analog("plant/water/chlorine/residual", 0.4, 0.9, 0.02, 2),
		fixed("plant/water/valve/inlet/state", "OPEN"),
		fixed("plant/water/valve/drain/state", "CLOSED"),
		fixed("plant/alarm/high_pressure", "0"),
		fixed("plant/alarm/low_chlorine", "0"),
		fixed("plant/alarm/pump_fault", "0"),
	},
	Factory: {
		fixed("factory/line1/plc/status", "RUN"),
		analog("factory/line1/plc/cycle_time_ms", 420, 520, 8, 0),
		analog("factory/line1/plc/tags/M1_Current", 11, 16, 0.3, 1),
		fixed("factory/line1/plc/tags/Speed_Setpoint", "12.50"),
		counter("factory/line1/plc/tags/Part_Count", 10000, 900000, 4),
		fixed("factory/line1/conveyor/state", "RUNNING"),
		analog("factory/line1/conveyor/speed", 11.5, 13.5, 0.15, 2),
		fixed("factory/line1/machine/press01/state", "PRODUCING"),
		analog("factory/line1/machine/press01/temperature", 58, 72, 0.4, 1),
		fixed("factory/line1/machine/cnc02/state", "IDLE"),
		fixed("factory/line1/machine/robot03/state", "AUTO"),
		analog("factory/line1/oee", 0.72, 0.86, 0.005, 3),
		analog("factory/line1/oee/availability", 0.88, 0.95, 0.004, 3),
		analog("factory/line1/oee/performance", 0.85, 0.93, 0.004, 3),
		analog("factory/line1/oee/quality", 0.97, 0.995, 0.002, 3),
		counter("factory/line1/count/good", 10000, 900000, 4),
		counter("factory/line1/count/reject", 100, 9000, 0.3),
		fixed("factory/line1/alarm/estop", "0"),
	},
	Building: {
		fixed("building/hvac/ahu1/mode", "COOLING"),
		analog("building/hvac/ahu1/supply_air_temp", 12.5, 15.5, 0.1, 1),
		analog("building/hvac/ahu1/return_air_temp", 21, 24, 0.1, 1),
		analog("building/hvac/ahu1/fan_speed", 55, 80, 1, 0),
		fixed("building/hvac/chiller1/status", "RUNNING"),
		analog("building/hvac/chiller1/chw_supply_temp", 6, 7.5, 0.05, 1),
		fixed("building/hvac/boiler1/status", "OFF"),
		analog("building/floor1/zone1/temp", 20.5, 23.5, 0.1, 1),
		fixed("building/floor1/zone1/setpoint", "22.0"),
		analog("building/floor1/zone1/co2", 450, 800, 8, 0),
		analog("building/floor1/zone1/humidity", 35, 50, 0.3, 0),
		analog("building/floor2/zone1/temp", 20.5, 23.5, 0.1, 1),
		fixed("building/floor2/zone1/setpoint", "21.5"),
		fixed("building/lighting/floor1/state", "ON"),
		analog("building/energy/main_meter/kw", 85, 140, 1.5, 1),
		counter("building/energy/main_meter/kwh", 100000, 2000000, 0.2),
		fixed("building/access/main_entrance/state", "LOCKED"),
		fixed("building/fire/panel/status", "NORMAL"),
	},
	Generic: {
		fixed("device/status", "online"),
		{topic: "device/uptime", lo: 3600, hi: 4000000, count: true, clock: true},
		analog("device/temperature", 35, 48, 0.3, 1),
		analog("device/rssi", -75, -50, 1, 0),
	},
}

// firmwares are the generic device's firmware versions, one per decky.
var firmwares = []string{"1.4.2", "1.4.7", "2.0.3", "2.1.0", "2.1.5", "3.0.1"}

// Attack kinds a publish may have.
const (
	attackControl = "device_control" // a command topic (…/set, …/cmd)
	attackSpoof   = "value_spoof"    // overwrites a value the process publishes
)

// controlWords are the last topic levels that command a device.
var controlWords = map[string]bool{
	"set": true, "cmd": true, "command": true, "control": true, "write": true, "override": true,
	"start": true, "stop": true, "reset": true, "open": true, "close": true, "shutdown": true,
}

// process is one decky's simulated process: values seeded from the decky's
// name, moving a little each tick, held within their ranges.
type process struct {
	mu     sync.Mutex
	rng    *rand.Rand
	points []point
	vals   []float64
	text   map[string]string // custom topics, fixed
}

func newProcess(decky, persona string, custom map[string]string, interval int) *process {
	h := fnv.New64a()
	h.Write([]byte(persona + "\x00" + decky))
	seed := h.Sum64()
	p := &process{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), text: custom}
	for _, pt := range processes[persona] {
		if _, ok := custom[pt.topic]; ok {
			continue
		}
		if pt.clock {
			pt.step = float64(interval)
		}
		p.points = append(p.points, pt)
		p.vals = append(p.vals, pt.lo+p.rng.Float64()*(pt.hi-pt.lo)*0.6+(pt.hi-pt.lo)*0.2)
	}
	if persona == Generic {
		if _, ok := custom["device/firmware"]; !ok {
			p.points = append(p.points, fixed("device/firmware", firmwares[p.rng.IntN(len(firmwares))]))
			p.vals = append(p.vals, 0)
		}
	}
	return p
}

// all returns every topic and its value, sorted by topic.
func (p *process) all() [][2]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][2]string, 0, len(p.points)+len(p.text))
	for i, pt := range p.points {
		out = append(out, [2]string{pt.topic, pt.format(p.vals[i])})
	}
	for t, v := range p.text {
		out = append(out, [2]string{t, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// tick moves the numbers and returns the topics whose shown value changed.
func (p *process) tick() [][2]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][2]string
	for i, pt := range p.points {
		if pt.text != "" {
			continue
		}
		old := pt.format(p.vals[i])
		switch {
		case pt.clock:
			p.vals[i] += pt.step
		case pt.count:
			p.vals[i] = math.Min(p.vals[i]+p.rng.Float64()*pt.step, pt.hi)
		default:
			// A random walk pulled towards the middle of the range.
			mid := (pt.lo + pt.hi) / 2
			v := p.vals[i] + (p.rng.Float64()*2-1)*pt.step + (mid-p.vals[i])*0.05
			p.vals[i] = math.Max(pt.lo, math.Min(pt.hi, v))
		}
		if s := pt.format(p.vals[i]); s != old {
			out = append(out, [2]string{pt.topic, s})
		}
	}
	return out
}

func (pt point) format(v float64) string {
	if pt.text != "" {
		return pt.text
	}
	if pt.count {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', pt.prec, 64)
}

// target says what a publish to topic does to the simulated devices: a
// command, a spoofed value, or nothing ("").
func (p *process) target(topic string) string {
	last := topic[strings.LastIndexByte(topic, '/')+1:]
	if controlWords[strings.ToLower(last)] {
		return attackControl
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.text[topic]; ok {
		return attackSpoof
	}
	for _, pt := range p.points {
		if pt.topic == topic {
			return attackSpoof
		}
	}
	return ""
}
