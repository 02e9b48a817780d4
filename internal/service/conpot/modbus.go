package conpot

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"decnet/internal/event"
)

// Modbus exception codes.
const (
	exIllegalFunction = 0x01
	exIllegalAddress  = 0x02
	exIllegalValue    = 0x03
)

var exceptionNames = map[byte]string{
	exIllegalFunction: "illegal function",
	exIllegalAddress:  "illegal data address",
	exIllegalValue:    "illegal data value",
}

// Modbus function codes.
const (
	fcReadCoils          = 0x01
	fcReadDiscrete       = 0x02
	fcReadHolding        = 0x03
	fcReadInput          = 0x04
	fcWriteCoil          = 0x05
	fcWriteRegister      = 0x06
	fcDiagnostics        = 0x08
	fcWriteCoils         = 0x0f
	fcWriteRegisters     = 0x10
	fcReportServerID     = 0x11
	fcReadWriteRegisters = 0x17
	fcEncapsulated       = 0x2b
	fcUMAS               = 0x5a
)

var functionNames = map[byte]string{
	fcReadCoils: "read_coils", fcReadDiscrete: "read_discrete_inputs", fcReadHolding: "read_holding_registers",
	fcReadInput: "read_input_registers", fcWriteCoil: "write_single_coil", fcWriteRegister: "write_single_register",
	fcDiagnostics: "diagnostics", fcWriteCoils: "write_multiple_coils", fcWriteRegisters: "write_multiple_registers",
	fcReportServerID: "report_server_id", fcReadWriteRegisters: "read_write_multiple_registers",
	fcEncapsulated: "encapsulated_interface", fcUMAS: "umas",
}

// tableSizes are how many points of each table the device maps: past
// them it answers illegal data address.
type tableSizes struct{ coils, discrete, input, holding int }

// modbusMap is each device's Modbus address space: the M340 maps %M bits
// and %MW words (1024 by default in a Unity Pro application, bits 512);
// the S7-1200's MB_SERVER maps coils to %Q, discrete inputs to %I, input
// registers to %IW, and holding registers to the MB_HOLD_REG data block
// (here 100 words).
var modbusMap = map[string]tableSizes{
	DeviceM340:   {coils: 512, discrete: 512, input: 1024, holding: 1024},
	DeviceS71200: {coils: 8192, discrete: 8192, input: 512, holding: 100},
}

// modbusOutcome is what one request did, for its event.
type modbusOutcome struct {
	typ    string
	sev    event.Severity
	fields map[string]string
}

// handlePDU answers one request PDU: the response PDU (nil for none) and
// the event to record.
func (s *Server) handlePDU(unit byte, pdu []byte) ([]byte, modbusOutcome) {
	out := modbusOutcome{typ: typeModbusOther, sev: event.Info, fields: map[string]string{"unit": strconv.Itoa(int(unit))}}
	if len(pdu) == 0 {
		return nil, out
	}
	fc := pdu[0]
	out.fields["function"] = strconv.Itoa(int(fc))
	if n, ok := functionNames[fc]; ok {
		out.fields["function_name"] = n
	}
	var resp []byte
	var ex byte
	if !s.supports(fc) {
		out.typ, out.sev = functionEvent(fc)
		out.fields["data"] = hexHead(pdu[1:])
		out.fields["exception"] = fmt.Sprintf("%02x %s", exIllegalFunction, exceptionNames[exIllegalFunction])
		return []byte{fc | 0x80, exIllegalFunction}, out
	}
	switch fc {
	case fcReadCoils, fcReadDiscrete, fcReadHolding, fcReadInput:
		out.typ = typeModbusRead
		resp, ex = s.modbusRead(fc, pdu[1:], out.fields)
	case fcWriteCoil, fcWriteRegister, fcWriteCoils, fcWriteRegisters:
		out.typ = typeModbusWrite
		out.sev = event.Warning
		resp, ex = s.modbusWrite(fc, pdu[1:], &out)
	case fcReadWriteRegisters:
		out.typ = typeModbusWrite
		out.sev = event.Warning
		resp, ex = s.readWriteRegisters(pdu[1:], &out)
	case fcEncapsulated:
		out.typ = typeDeviceID
		resp, ex = s.encapsulated(pdu[1:], out.fields)
	case fcReportServerID:
		out.typ = typeDeviceID
		resp, ex = s.reportServerID(pdu[1:])
	case fcUMAS:
		out.sev = event.Warning
		resp, ex = s.umas(pdu[1:], &out)
	default:
		out.fields["data"] = hexHead(pdu[1:])
		ex = exIllegalFunction
	}
	if ex != 0 {
		out.fields["exception"] = fmt.Sprintf("%02x %s", ex, exceptionNames[ex])
		return []byte{fc | 0x80, ex}, out
	}
	return resp, out
}

// functionEvent is the event type and severity of a function the device
// does not implement: still a read, a write or an identification probe.
func functionEvent(fc byte) (string, event.Severity) {
	switch fc {
	case fcReadCoils, fcReadDiscrete, fcReadHolding, fcReadInput:
		return typeModbusRead, event.Info
	case fcWriteCoil, fcWriteRegister, fcWriteCoils, fcWriteRegisters, fcReadWriteRegisters:
		return typeModbusWrite, event.Warning
	case fcEncapsulated, fcReportServerID:
		return typeDeviceID, event.Info
	case fcUMAS:
		return typeModbusOther, event.Warning
	}
	return typeModbusOther, event.Info
}

// supports reports whether the device implements function fc: the
// MB_SERVER instruction of the S7-1200 knows only the eight data
// functions; the M340 also has read/write multiple, device
// identification, report server id and UMAS. Neither takes FC 8 over
// TCP.
func (s *Server) supports(fc byte) bool {
	switch fc {
	case fcReadCoils, fcReadDiscrete, fcReadHolding, fcReadInput, fcWriteCoil, fcWriteRegister, fcWriteCoils, fcWriteRegisters:
		return true
	case fcReadWriteRegisters, fcEncapsulated, fcReportServerID, fcUMAS:
		return s.id.device == DeviceM340
	}
	return false
}

func (s *Server) size(table string) int {
	m := modbusMap[s.id.device]
	switch table {
	case tableCoil:
		return m.coils
	case tableDiscrete:
		return m.discrete
	case tableInput:
		return m.input
	}
	return m.holding
}

var readTables = map[byte]string{fcReadCoils: tableCoil, fcReadDiscrete: tableDiscrete, fcReadHolding: tableHolding, fcReadInput: tableInput}

// modbusRead answers FC 1 to 4.
func (s *Server) modbusRead(fc byte, data []byte, f map[string]string) ([]byte, byte) {
	table := readTables[fc]
	f["table"] = table
	if len(data) != 4 {
		return nil, exIllegalValue
	}
	addr, count := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
	f["address"], f["count"] = strconv.Itoa(int(addr)), strconv.Itoa(int(count))
	bitTable := table == tableCoil || table == tableDiscrete
	limit := uint16(125)
	if bitTable {
		limit = 2000
	}
	if count < 1 || count > limit {
		return nil, exIllegalValue
	}
	if int(addr)+int(count) > s.size(table) {
		return nil, exIllegalAddress
	}
	if bitTable {
		bits := s.plant.bits(table, addr, count)
		f["values"] = bitList(bits)
		packed := packBits(bits)
		return append([]byte{fc, byte(len(packed))}, packed...), 0
	}
	regs := s.plant.registers(table, addr, count)
	f["values"] = regList(regs)
	resp := []byte{fc, byte(2 * len(regs))}
	for _, r := range regs {
		resp = binary.BigEndian.AppendUint16(resp, r)
	}
	return resp, 0
}

// modbusWrite answers FC 5, 6, 15 and 16; writes change the plant.
func (s *Server) modbusWrite(fc byte, data []byte, out *modbusOutcome) ([]byte, byte) {
	f := out.fields
	switch fc {
	case fcWriteCoil, fcWriteRegister:
		if len(data) != 4 {
			return nil, exIllegalValue
		}
		addr, v := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
		f["address"], f["count"] = strconv.Itoa(int(addr)), "1"
		if fc == fcWriteCoil {
			f["table"] = tableCoil
			if v != 0 && v != 0xff00 {
				return nil, exIllegalValue
			}
			if int(addr) >= s.size(tableCoil) {
				return nil, exIllegalAddress
			}
			s.recordWrite(out, tableCoil, addr, []uint16{boolReg(v != 0)})
			s.plant.setCoils(addr, []bool{v != 0})
		} else {
			f["table"] = tableHolding
			if int(addr) >= s.size(tableHolding) {
				return nil, exIllegalAddress
			}
			s.recordWrite(out, tableHolding, addr, []uint16{v})
			s.plant.setHolding(addr, []uint16{v})
		}
		return append([]byte{fc}, data...), 0
	}
	if len(data) < 5 {
		return nil, exIllegalValue
	}
	addr, count, n := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:]), int(data[4])
	f["address"], f["count"] = strconv.Itoa(int(addr)), strconv.Itoa(int(count))
	vals := data[5:]
	if fc == fcWriteCoils {
		f["table"] = tableCoil
		if count < 1 || count > 1968 || n != (int(count)+7)/8 || len(vals) != n {
			return nil, exIllegalValue
		}
		if int(addr)+int(count) > s.size(tableCoil) {
			return nil, exIllegalAddress
		}
		bits := unpackBits(vals, int(count))
		regs := make([]uint16, len(bits))
		for i, b := range bits {
			if b {
				regs[i] = 1
			}
		}
		s.recordWrite(out, tableCoil, addr, regs)
		s.plant.setCoils(addr, bits)
	} else {
		f["table"] = tableHolding
		if count < 1 || count > 123 || n != 2*int(count) || len(vals) != n {
			return nil, exIllegalValue
		}
		if int(addr)+int(count) > s.size(tableHolding) {
			return nil, exIllegalAddress
		}
		regs := make([]uint16, count)
		for i := range regs {
			regs[i] = binary.BigEndian.Uint16(vals[2*i:])
		}
		s.recordWrite(out, tableHolding, addr, regs)
		s.plant.setHolding(addr, regs)
	}
	return append([]byte{fc}, data[:4]...), 0
}

// readWriteRegisters answers FC 23: the write happens before the read.
func (s *Server) readWriteRegisters(data []byte, out *modbusOutcome) ([]byte, byte) {
	f := out.fields
	f["table"] = tableHolding
	if len(data) < 9 {
		return nil, exIllegalValue
	}
	raddr, rcount := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
	waddr, wcount, n := binary.BigEndian.Uint16(data[4:]), binary.BigEndian.Uint16(data[6:]), int(data[8])
	f["address"], f["count"] = strconv.Itoa(int(waddr)), strconv.Itoa(int(wcount))
	f["read_address"], f["read_count"] = strconv.Itoa(int(raddr)), strconv.Itoa(int(rcount))
	if rcount < 1 || rcount > 125 || wcount < 1 || wcount > 121 || n != 2*int(wcount) || len(data[9:]) != n {
		return nil, exIllegalValue
	}
	if int(raddr)+int(rcount) > s.size(tableHolding) || int(waddr)+int(wcount) > s.size(tableHolding) {
		return nil, exIllegalAddress
	}
	regs := make([]uint16, wcount)
	for i := range regs {
		regs[i] = binary.BigEndian.Uint16(data[9+2*i:])
	}
	s.recordWrite(out, tableHolding, waddr, regs)
	s.plant.setHolding(waddr, regs)
	read := s.plant.registers(tableHolding, raddr, rcount)
	resp := []byte{fcReadWriteRegisters, byte(2 * len(read))}
	for _, r := range read {
		resp = binary.BigEndian.AppendUint16(resp, r)
	}
	return resp, 0
}

// recordWrite adds a write's values, the tags it hits and their old
// values to its event, and raises it to critical when it moves a coil
// (a pump, valve or breaker) or a setpoint: the process is under attack.
func (s *Server) recordWrite(out *modbusOutcome, table string, addr uint16, vals []uint16) {
	out.fields["values"] = regList(vals)
	var old []uint16
	if table == tableCoil {
		for _, b := range s.plant.bits(tableCoil, addr, uint16(len(vals))) {
			old = append(old, boolReg(b))
		}
	} else {
		old = s.plant.registers(tableHolding, addr, uint16(len(vals)))
	}
	out.fields["old_values"] = regList(old)
	var names []string
	for i := range vals {
		t, ok := s.plant.tagAt(table, addr+uint16(i))
		if !ok {
			continue
		}
		names = append(names, t.name)
		if table == tableCoil || t.setpoint {
			out.sev = event.Critical
		}
	}
	if len(names) > 0 {
		out.fields["tags"] = event.Clip(strings.Join(names, ","), 512)
	}
}

func boolReg(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// packBits packs bits LSB first, as Modbus bit reads return them.
func packBits(bits []bool) []byte {
	out := make([]byte, (len(bits)+7)/8)
	for i, b := range bits {
		if b {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

func unpackBits(b []byte, n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = b[i/8]&(1<<(i%8)) != 0
	}
	return out
}

// maxListed bounds the values listed in one event.
const maxListed = 64

func regList(regs []uint16) string {
	var b strings.Builder
	for i, r := range regs {
		if i == maxListed {
			b.WriteString(",...")
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(r)))
	}
	return b.String()
}

func bitList(bits []bool) string {
	regs := make([]uint16, len(bits))
	for i, v := range bits {
		regs[i] = boolReg(v)
	}
	return regList(regs)
}

// hexHead is the hex of the first bytes of attacker data, for events.
func hexHead(b []byte) string {
	return fmt.Sprintf("%x", b[:min(len(b), 64)])
}
