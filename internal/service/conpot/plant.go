package conpot

import (
	"hash/fnv"
	"math"
	"strconv"
	"sync"
	"time"
)

// The four Modbus data tables.
const (
	tableCoil     = "coil"
	tableDiscrete = "discrete_input"
	tableInput    = "input_register"
	tableHolding  = "holding_register"
)

// tag is one named point of the process.
type tag struct {
	table string
	addr  uint16
	name  string
	desc  string
	unit  string
	// scale divides the register to the engineering value (10 = one
	// decimal).
	scale float64
	// base, amp and period (seconds) make a measurement's slow swing;
	// a setpoint or bit starts at base.
	base, amp, period float64
	// needs is the coil that must be on for the value to be non-zero (a
	// pump's speed needs its run command).
	needs string
	// setpoint marks a holding register whose change steers the process:
	// a write to it is an attack a SOC must see at once.
	setpoint bool
}

// siteTags are the tags of each site, per table in address order.
var siteTags = map[string][]tag{
	SiteWater: {
		{table: tableCoil, addr: 0, name: "P101_RUN", desc: "Raw water pump 1 run command", base: 1},
		{table: tableCoil, addr: 1, name: "P102_RUN", desc: "Raw water pump 2 run command", base: 1},
		{table: tableCoil, addr: 2, name: "P103_RUN", desc: "Standby pump 3 run command", base: 0},
		{table: tableCoil, addr: 3, name: "XV201_OPEN", desc: "Inlet valve open", base: 1},
		{table: tableCoil, addr: 4, name: "XV202_OPEN", desc: "Drain valve open", base: 0},
		{table: tableCoil, addr: 5, name: "CL_DOSE_EN", desc: "Chlorine dosing enable", base: 1},
		{table: tableCoil, addr: 6, name: "BW_VALVE", desc: "Filter backwash valve", base: 0},
		{table: tableCoil, addr: 7, name: "ALM_RESET", desc: "Alarm reset", base: 0},
		{table: tableDiscrete, addr: 0, name: "P101_FB", desc: "Pump 1 running feedback", base: 1, needs: "P101_RUN"},
		{table: tableDiscrete, addr: 1, name: "P102_FB", desc: "Pump 2 running feedback", base: 1, needs: "P102_RUN"},
		{table: tableDiscrete, addr: 2, name: "P103_FB", desc: "Pump 3 running feedback", base: 1, needs: "P103_RUN"},
		{table: tableDiscrete, addr: 3, name: "LSH_T1", desc: "Tank 1 high level switch", base: 0},
		{table: tableDiscrete, addr: 4, name: "LSL_T1", desc: "Tank 1 low level switch", base: 0},
		{table: tableDiscrete, addr: 5, name: "P101_FLT", desc: "Pump 1 motor fault", base: 0},
		{table: tableInput, addr: 0, name: "LT101", desc: "Tank 1 level", unit: "cm", scale: 1, base: 342, amp: 18, period: 1800},
		{table: tableInput, addr: 1, name: "PT101", desc: "Discharge pressure", unit: "bar", scale: 100, base: 412, amp: 9, period: 240},
		{table: tableInput, addr: 2, name: "FT101", desc: "Outlet flow", unit: "m3/h", scale: 10, base: 1264, amp: 40, period: 600},
		{table: tableInput, addr: 3, name: "AT301", desc: "Free chlorine residual", unit: "mg/l", scale: 100, base: 82, amp: 6, period: 900, needs: "CL_DOSE_EN"},
		{table: tableInput, addr: 4, name: "AT302", desc: "Turbidity", unit: "NTU", scale: 100, base: 31, amp: 4, period: 700},
		{table: tableInput, addr: 5, name: "AT303", desc: "pH", unit: "pH", scale: 100, base: 724, amp: 5, period: 1200},
		{table: tableInput, addr: 6, name: "SI101", desc: "Pump 1 speed", unit: "rpm", scale: 1, base: 1478, amp: 6, period: 90, needs: "P101_RUN"},
		{table: tableInput, addr: 7, name: "II101", desc: "Pump 1 motor current", unit: "A", scale: 10, base: 286, amp: 7, period: 120, needs: "P101_RUN"},
		{table: tableInput, addr: 8, name: "TT101", desc: "Raw water temperature", unit: "degC", scale: 10, base: 118, amp: 3, period: 3600},
		{table: tableHolding, addr: 0, name: "LT101_SP_HI", desc: "Tank 1 high level setpoint", unit: "cm", scale: 1, base: 420, setpoint: true},
		{table: tableHolding, addr: 1, name: "LT101_SP_LO", desc: "Tank 1 low level setpoint", unit: "cm", scale: 1, base: 180, setpoint: true},
		{table: tableHolding, addr: 2, name: "CL_DOSE_SP", desc: "Chlorine dosing setpoint", unit: "mg/l", scale: 100, base: 80, setpoint: true},
		{table: tableHolding, addr: 3, name: "P101_SPEED_SP", desc: "Pump 1 speed setpoint", unit: "%", scale: 1, base: 85, setpoint: true},
		{table: tableHolding, addr: 4, name: "PT101_ALM_HI", desc: "Discharge pressure alarm limit", unit: "bar", scale: 100, base: 600, setpoint: true},
		{table: tableHolding, addr: 5, name: "MODE", desc: "Control mode (0 manual, 1 auto)", base: 1, setpoint: true},
		{table: tableHolding, addr: 6, name: "BW_INTERVAL", desc: "Backwash interval", unit: "h", scale: 1, base: 48},
	},
	SiteFactory: {
		{table: tableCoil, addr: 0, name: "CV1_RUN", desc: "Conveyor 1 run", base: 1},
		{table: tableCoil, addr: 1, name: "CV2_RUN", desc: "Conveyor 2 run", base: 1},
		{table: tableCoil, addr: 2, name: "PRESS_EN", desc: "Press enable", base: 1},
		{table: tableCoil, addr: 3, name: "OVEN_HEAT", desc: "Curing oven heaters", base: 1},
		{table: tableCoil, addr: 4, name: "ROBOT_EN", desc: "Robot cell enable", base: 1},
		{table: tableCoil, addr: 5, name: "ESTOP_RESET", desc: "Emergency stop reset", base: 0},
		{table: tableCoil, addr: 6, name: "LIGHT_TOWER_RED", desc: "Light tower red", base: 0},
		{table: tableDiscrete, addr: 0, name: "CV1_FB", desc: "Conveyor 1 running", base: 1, needs: "CV1_RUN"},
		{table: tableDiscrete, addr: 1, name: "CV2_FB", desc: "Conveyor 2 running", base: 1, needs: "CV2_RUN"},
		{table: tableDiscrete, addr: 2, name: "GUARD_CLOSED", desc: "Safety guard closed", base: 1},
		{table: tableDiscrete, addr: 3, name: "ESTOP_OK", desc: "Emergency stop circuit healthy", base: 1},
		{table: tableDiscrete, addr: 4, name: "PART_PRESENT", desc: "Part at press station", base: 0},
		{table: tableInput, addr: 0, name: "CV1_SPEED", desc: "Conveyor 1 speed", unit: "m/min", scale: 10, base: 182, amp: 3, period: 150, needs: "CV1_RUN"},
		{table: tableInput, addr: 1, name: "CV2_SPEED", desc: "Conveyor 2 speed", unit: "m/min", scale: 10, base: 176, amp: 3, period: 170, needs: "CV2_RUN"},
		{table: tableInput, addr: 2, name: "OVEN_TEMP", desc: "Curing oven temperature", unit: "degC", scale: 10, base: 1805, amp: 22, period: 900, needs: "OVEN_HEAT"},
		{table: tableInput, addr: 3, name: "PRESS_FORCE", desc: "Press force", unit: "kN", scale: 10, base: 2410, amp: 60, period: 45, needs: "PRESS_EN"},
		{table: tableInput, addr: 4, name: "HYD_PRESS", desc: "Hydraulic pressure", unit: "bar", scale: 10, base: 1652, amp: 25, period: 300},
		{table: tableInput, addr: 5, name: "PART_COUNT", desc: "Parts produced this shift", scale: 1, base: 3120, amp: 900, period: 28800},
		{table: tableInput, addr: 6, name: "MOTOR1_CURR", desc: "Main drive current", unit: "A", scale: 10, base: 412, amp: 12, period: 200, needs: "CV1_RUN"},
		{table: tableHolding, addr: 0, name: "CV1_SPEED_SP", desc: "Conveyor 1 speed setpoint", unit: "m/min", scale: 10, base: 180, setpoint: true},
		{table: tableHolding, addr: 1, name: "CV2_SPEED_SP", desc: "Conveyor 2 speed setpoint", unit: "m/min", scale: 10, base: 175, setpoint: true},
		{table: tableHolding, addr: 2, name: "OVEN_TEMP_SP", desc: "Oven temperature setpoint", unit: "degC", scale: 10, base: 1800, setpoint: true},
		{table: tableHolding, addr: 3, name: "PRESS_FORCE_MAX", desc: "Press force limit", unit: "kN", scale: 10, base: 2800, setpoint: true},
		{table: tableHolding, addr: 4, name: "BATCH_SIZE", desc: "Batch size", scale: 1, base: 500},
		{table: tableHolding, addr: 5, name: "RECIPE_ID", desc: "Active recipe", scale: 1, base: 12},
	},
	SiteSubstation: {
		{table: tableCoil, addr: 0, name: "CB_Q1_CLOSE", desc: "Incomer breaker Q1 closed", base: 1},
		{table: tableCoil, addr: 1, name: "CB_Q2_CLOSE", desc: "Feeder 1 breaker Q2 closed", base: 1},
		{table: tableCoil, addr: 2, name: "CB_Q3_CLOSE", desc: "Feeder 2 breaker Q3 closed", base: 1},
		{table: tableCoil, addr: 3, name: "CB_Q4_CLOSE", desc: "Bus coupler Q4 closed", base: 0},
		{table: tableCoil, addr: 4, name: "ES_Q1_EARTH", desc: "Earthing switch Q1", base: 0},
		{table: tableCoil, addr: 5, name: "TX_FAN_RUN", desc: "Transformer cooling fans", base: 1},
		{table: tableCoil, addr: 6, name: "REMOTE_CTRL", desc: "Remote control enabled", base: 1},
		{table: tableDiscrete, addr: 0, name: "Q1_POS_CLOSED", desc: "Q1 position closed", base: 1, needs: "CB_Q1_CLOSE"},
		{table: tableDiscrete, addr: 1, name: "Q2_POS_CLOSED", desc: "Q2 position closed", base: 1, needs: "CB_Q2_CLOSE"},
		{table: tableDiscrete, addr: 2, name: "Q3_POS_CLOSED", desc: "Q3 position closed", base: 1, needs: "CB_Q3_CLOSE"},
		{table: tableDiscrete, addr: 3, name: "BUCHHOLZ_ALM", desc: "Buchholz relay alarm", base: 0},
		{table: tableDiscrete, addr: 4, name: "PROT_TRIP", desc: "Protection relay trip", base: 0},
		{table: tableDiscrete, addr: 5, name: "DC_SUPPLY_OK", desc: "110 V DC supply healthy", base: 1},
		{table: tableInput, addr: 0, name: "U_L1L2", desc: "Busbar voltage L1-L2", unit: "kV", scale: 100, base: 1102, amp: 9, period: 600},
		{table: tableInput, addr: 1, name: "U_L2L3", desc: "Busbar voltage L2-L3", unit: "kV", scale: 100, base: 1099, amp: 9, period: 610},
		{table: tableInput, addr: 2, name: "U_L3L1", desc: "Busbar voltage L3-L1", unit: "kV", scale: 100, base: 1104, amp: 9, period: 590},
		{table: tableInput, addr: 3, name: "I_FDR1", desc: "Feeder 1 current", unit: "A", scale: 1, base: 214, amp: 35, period: 3600, needs: "CB_Q2_CLOSE"},
		{table: tableInput, addr: 4, name: "I_FDR2", desc: "Feeder 2 current", unit: "A", scale: 1, base: 167, amp: 28, period: 3300, needs: "CB_Q3_CLOSE"},
		{table: tableInput, addr: 5, name: "FREQ", desc: "Frequency", unit: "Hz", scale: 100, base: 5000, amp: 3, period: 60},
		{table: tableInput, addr: 6, name: "P_TOTAL", desc: "Active power", unit: "kW", scale: 1, base: 6890, amp: 900, period: 3600, needs: "CB_Q1_CLOSE"},
		{table: tableInput, addr: 7, name: "TX_OIL_TEMP", desc: "Transformer top oil temperature", unit: "degC", scale: 10, base: 584, amp: 40, period: 7200},
		{table: tableInput, addr: 8, name: "TAP_POS", desc: "On-load tap changer position", scale: 1, base: 9},
		{table: tableHolding, addr: 0, name: "U_TARGET", desc: "Voltage regulator target", unit: "kV", scale: 100, base: 1100, setpoint: true},
		{table: tableHolding, addr: 1, name: "U_DEADBAND", desc: "Voltage regulator deadband", unit: "%", scale: 10, base: 15, setpoint: true},
		{table: tableHolding, addr: 2, name: "I_FDR1_TRIP", desc: "Feeder 1 overcurrent pickup", unit: "A", scale: 1, base: 400, setpoint: true},
		{table: tableHolding, addr: 3, name: "I_FDR2_TRIP", desc: "Feeder 2 overcurrent pickup", unit: "A", scale: 1, base: 400, setpoint: true},
		{table: tableHolding, addr: 4, name: "TX_TEMP_ALM", desc: "Oil temperature alarm", unit: "degC", scale: 10, base: 950, setpoint: true},
		{table: tableHolding, addr: 5, name: "TAP_MODE", desc: "Tap changer mode (0 manual, 1 auto)", base: 1, setpoint: true},
	},
}

// plant is the live state of the process: what Modbus reads and writes,
// the web process view shows and S7 would hold. Safe for concurrent use.
type plant struct {
	tags  []tag
	phase float64
	now   func() time.Time

	mu       sync.Mutex
	coils    map[uint16]bool
	discrete map[uint16]bool
	holding  map[uint16]uint16
}

func newPlant(site, decky string, now func() time.Time) *plant {
	h := fnv.New64a()
	h.Write([]byte(decky))
	p := &plant{tags: siteTags[site], phase: float64(h.Sum64()%6283) / 1000, now: now,
		coils: map[uint16]bool{}, discrete: map[uint16]bool{}, holding: map[uint16]uint16{}}
	for _, t := range p.tags {
		switch t.table {
		case tableCoil:
			p.coils[t.addr] = t.base != 0
		case tableDiscrete:
			p.discrete[t.addr] = t.base != 0
		case tableHolding:
			p.holding[t.addr] = uint16(t.base)
		}
	}
	return p
}

// tagAt is the tag at addr of table, if any.
func (p *plant) tagAt(table string, addr uint16) (tag, bool) {
	for _, t := range p.tags {
		if t.table == table && t.addr == addr {
			return t, true
		}
	}
	return tag{}, false
}

// coilOn reports the state of the named coil; callers hold p.mu.
func (p *plant) coilOn(name string) bool {
	for _, t := range p.tags {
		if t.table == tableCoil && t.name == name {
			return p.coils[t.addr]
		}
	}
	return true
}

// bits reads count bits of a bit table from addr.
func (p *plant) bits(table string, addr, count uint16) []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]bool, count)
	for i := range out {
		a := addr + uint16(i)
		if table == tableCoil {
			out[i] = p.coils[a]
			continue
		}
		out[i] = p.discrete[a]
		if t, ok := p.tagAt(tableDiscrete, a); ok && t.needs != "" && !p.coilOn(t.needs) {
			out[i] = false
		}
	}
	return out
}

// registers reads count registers of a register table from addr.
func (p *plant) registers(table string, addr, count uint16) []uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]uint16, count)
	for i := range out {
		a := addr + uint16(i)
		if table == tableHolding {
			out[i] = p.holding[a]
			continue
		}
		if t, ok := p.tagAt(tableInput, a); ok {
			out[i] = p.measure(t)
		}
	}
	return out
}

// measure is a measurement's register now: a slow swing around its base
// with a little noise that changes every few seconds. Callers hold p.mu.
func (p *plant) measure(t tag) uint16 {
	if t.needs != "" && !p.coilOn(t.needs) {
		return 0
	}
	if t.period == 0 {
		return uint16(t.base)
	}
	s := float64(p.now().UnixMilli()) / 1000
	v := t.base + t.amp*math.Sin(2*math.Pi*s/t.period+p.phase+float64(t.addr))
	h := fnv.New32a()
	h.Write([]byte{byte(t.addr), byte(int64(s) / 5), byte(int64(s) / 1280)})
	v += float64(int(h.Sum32()%5) - 2)
	return uint16(max(v, 0))
}

// setCoils writes bits of the coil table from addr.
func (p *plant) setCoils(addr uint16, vals []bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, v := range vals {
		p.coils[addr+uint16(i)] = v
	}
}

// setHolding writes holding registers from addr.
func (p *plant) setHolding(addr uint16, vals []uint16) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, v := range vals {
		p.holding[addr+uint16(i)] = v
	}
}

// tagValue is one tag's value now, as the process view shows it.
type tagValue struct {
	tag
	raw   uint16
	value string
}

// snapshot is every tag's value now.
func (p *plant) snapshot() []tagValue {
	out := make([]tagValue, 0, len(p.tags))
	for _, t := range p.tags {
		var raw uint16
		switch t.table {
		case tableCoil, tableDiscrete:
			if p.bits(t.table, t.addr, 1)[0] {
				raw = 1
			}
		default:
			raw = p.registers(t.table, t.addr, 1)[0]
		}
		out = append(out, tagValue{tag: t, raw: raw, value: formatValue(t, raw)})
	}
	return out
}

// formatValue writes a register as its engineering value.
func formatValue(t tag, raw uint16) string {
	switch {
	case t.table == tableCoil || t.table == tableDiscrete:
		if raw != 0 {
			return "ON"
		}
		return "OFF"
	case t.scale > 1:
		dec := int(math.Round(math.Log10(t.scale)))
		return strconv.FormatFloat(float64(raw)/t.scale, 'f', dec, 64)
	default:
		return strconv.Itoa(int(raw))
	}
}
