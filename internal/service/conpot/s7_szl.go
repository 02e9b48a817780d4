package conpot

import (
	"encoding/binary"
	"time"
)

// System status list (SZL) partial lists the CPU answers.
const (
	szlList           = 0x0000 // the SZL IDs there are
	szlModuleID       = 0x0011 // module identification: all records
	szlModuleIDOne    = 0x0111 // one record of it
	szlComponentID    = 0x001c // component identification: all records
	szlComponentIDOne = 0x011c
	szlCPUState       = 0x0424 // operating mode
)

// szl is the body of an SZL answer (ID, index, record length, record
// count, records), or false for an ID the CPU does not have.
func (s *Server) szl(id, index uint16) ([]byte, bool) {
	var size int
	var recs [][]byte
	switch id {
	case szlModuleID, szlModuleIDOne:
		size = 28
		for _, r := range s.moduleRecords() {
			if id == szlModuleID || binary.BigEndian.Uint16(r) == index {
				recs = append(recs, r)
			}
		}
	case szlComponentID, szlComponentIDOne:
		size = 34
		for _, r := range s.componentRecords() {
			if id == szlComponentID || binary.BigEndian.Uint16(r) == index {
				recs = append(recs, r)
			}
		}
	case szlCPUState:
		size = 20
		recs = [][]byte{s.cpuState()}
	case szlList:
		size = 2
		for _, v := range []uint16{0x0000, 0x0011, 0x0111, 0x001c, 0x011c, 0x0424} {
			recs = append(recs, binary.BigEndian.AppendUint16(nil, v))
		}
	default:
		return nil, false
	}
	if len(recs) == 0 {
		return nil, false
	}
	out := binary.BigEndian.AppendUint16(nil, id)
	out = binary.BigEndian.AppendUint16(out, index)
	out = binary.BigEndian.AppendUint16(out, uint16(size))
	out = binary.BigEndian.AppendUint16(out, uint16(len(recs)))
	for _, r := range recs {
		out = append(out, r...)
	}
	return out, true
}

// padded is s in a field of n bytes, filled with fill.
func padded(s string, n int, fill byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = fill
	}
	copy(b, s)
	return b
}

// moduleRecords are SZL 0x0011's records: the module's order number
// (index 1), the basic hardware's (6) and the firmware version (7).
func (s *Server) moduleRecords() [][]byte {
	rec := func(index uint16, mlfb string, typ, ausbg, ausbe uint16) []byte {
		r := binary.BigEndian.AppendUint16(nil, index)
		r = append(r, padded(mlfb, 20, ' ')...)
		r = binary.BigEndian.AppendUint16(r, typ)
		r = binary.BigEndian.AppendUint16(r, ausbg)
		return binary.BigEndian.AppendUint16(r, ausbe)
	}
	fw := s.id
	return [][]byte{
		rec(0x0001, fw.product, 0x0000, 0x0001, 0x0000),
		rec(0x0006, fw.product, 0x0000, 0x0001, 0x0000),
		rec(0x0007, "", 0x0000, 'V'<<8|uint16(fw.fwMajor), uint16(fw.fwMinor)<<8|uint16(fw.fwPatch)),
	}
}

// componentRecords are SZL 0x001C's records, as many as one 240-byte
// PDU carries: station name (1), module name (2), plant designation (3),
// copyright (4), serial number (5) and module type (7).
func (s *Server) componentRecords() [][]byte {
	rec := func(index uint16, text string) []byte {
		return append(binary.BigEndian.AppendUint16(nil, index), padded(text, 32, 0)...)
	}
	return [][]byte{
		rec(1, s.id.station),
		rec(2, s.id.moduleName),
		rec(3, s.id.plant),
		rec(4, "Original Siemens Equipment"),
		rec(5, s.id.serial),
		rec(7, s.id.model),
	}
}

// cpuState is SZL 0x0424's record: the CPU is in RUN since its start.
func (s *Server) cpuState() []byte {
	r := []byte{0x51, 0x44, 0xff, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	return append(r, bcdTime(s.boot)...)
}

// bcdTime is an S7 DATE_AND_TIME: BCD year, month, day, hour, minute,
// second, milliseconds and weekday.
func bcdTime(t time.Time) []byte {
	bcd := func(n int) byte { return byte(n/10<<4 | n%10) }
	t = t.UTC()
	ms := t.Nanosecond() / 1e6
	return []byte{bcd(t.Year() % 100), bcd(int(t.Month())), bcd(t.Day()), bcd(t.Hour()), bcd(t.Minute()), bcd(t.Second()),
		bcd(ms / 10), byte(ms%10<<4) | byte(t.Weekday()+1)}
}
