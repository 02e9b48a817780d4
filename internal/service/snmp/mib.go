package snmp

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/gosnmp/gosnmp"
)

// object is one instance in the agent's MIB.
type object struct {
	oid oid
	// typeLen is the length of the OID of its object type (a scalar's
	// OID without the .0, a column's without the row index): a GET under
	// an existing type is noSuchInstance, anywhere else noSuchObject.
	typeLen int
	// value gives the tag and encoded contents at now.
	value func(now time.Time) (byte, []byte)
	// counter64 objects are invisible to SNMPv1, as in snmpd.
	counter64 bool
}

// mib is the agent's objects in lexicographic OID order.
type mib struct {
	objs []object
}

// Dynamic is the type of a Var.Value that changes over time (a counter, a
// clock): it is called with the time of each request and returns a value
// of the Var's Type, in gosnmp's conventions.
type Dynamic = func(now time.Time) any

// buildMIB lays out dev: the system group, sysORTable, the interface and
// address tables, then dev.Extra, which replaces objects at the same OID.
func buildMIB(dev Device, now func() time.Time) (*mib, error) {
	var vars []Var
	vars = append(vars, systemGroup(dev)...)
	vars = append(vars, interfaceTables(dev)...)
	vars = append(vars, dev.Extra...)
	byOID := map[string]int{}
	m := &mib{}
	t := now()
	for _, v := range vars {
		o, err := parseOID(v.OID)
		if err != nil {
			return nil, err
		}
		typeLen := len(o) - 1
		if tl, ok := columnOf(o); ok {
			typeLen = tl
		}
		val, err := valueFunc(v)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", v.OID, err)
		}
		if tag, b := val(t); b == nil && tag != tagNull {
			return nil, fmt.Errorf("object %s: no value", v.OID)
		}
		obj := object{oid: o, typeLen: typeLen, value: val, counter64: v.Type == gosnmp.Counter64}
		key := o.String()
		if i, dup := byOID[key]; dup {
			m.objs[i] = obj
			continue
		}
		byOID[key] = len(m.objs)
		m.objs = append(m.objs, obj)
	}
	slices.SortFunc(m.objs, func(a, b object) int { return a.oid.compare(b.oid) })
	return m, nil
}

// tables are the entry OIDs of the tables the agent fills, so the type of
// a row's instance (its column) is known; other objects are scalars.
var tables = []oid{
	{1, 3, 6, 1, 2, 1, 1, 9, 1},               // sysOREntry
	{1, 3, 6, 1, 2, 1, 2, 2, 1},               // ifEntry
	{1, 3, 6, 1, 2, 1, 4, 20, 1},              // ipAddrEntry
	{1, 3, 6, 1, 2, 1, 31, 1, 1, 1},           // ifXEntry
	{1, 3, 6, 1, 2, 1, 25, 3, 2, 1},           // hrDeviceEntry
	{1, 3, 6, 1, 2, 1, 25, 2, 3, 1},           // hrStorageEntry
	{1, 3, 6, 1, 2, 1, 25, 3, 5, 1},           // hrPrinterEntry
	{1, 3, 6, 1, 2, 1, 43, 5, 1, 1},           // prtGeneralEntry
	{1, 3, 6, 1, 2, 1, 43, 10, 2, 1},          // prtMarkerEntry
	{1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1},        // entPhysicalEntry
	{1, 3, 6, 1, 2, 1, 43, 11, 1, 1},          // prtMarkerSuppliesEntry
	{1, 3, 6, 1, 2, 1, 43, 8, 2, 1},           // prtInputEntry
	{1, 3, 6, 1, 4, 1, 2021, 10, 1},           // laEntry
	{1, 3, 6, 1, 4, 1, 9, 9, 13, 1, 3, 1},     // ciscoEnvMonTemperatureStatusEntry
	{1, 3, 6, 1, 4, 1, 9, 9, 109, 1, 1, 1, 1}, // cpmCPUTotalEntry
}

// columnOf returns the length of a table instance's column OID.
func columnOf(o oid) (int, bool) {
	for _, e := range tables {
		if len(o) > len(e)+1 && o.hasPrefix(e) {
			return len(e) + 1, true
		}
	}
	return 0, false
}

// valueFunc turns a Var into an encoder of its value.
func valueFunc(v Var) (func(time.Time) (byte, []byte), error) {
	if d, ok := v.Value.(Dynamic); ok {
		typ := v.Type
		if _, _, err := encodeValue(typ, d(time.Now())); err != nil {
			return nil, err
		}
		return func(now time.Time) (byte, []byte) {
			tag, b, err := encodeValue(typ, d(now))
			if err != nil {
				return tagNull, nil
			}
			return tag, b
		}, nil
	}
	tag, b, err := encodeValue(v.Type, v.Value)
	if err != nil {
		return nil, err
	}
	return func(time.Time) (byte, []byte) { return tag, b }, nil
}

// encodeValue encodes a value in gosnmp's conventions.
func encodeValue(typ gosnmp.Asn1BER, v any) (byte, []byte, error) {
	switch typ {
	case gosnmp.OctetString, gosnmp.Opaque:
		switch s := v.(type) {
		case string:
			return byte(typ), []byte(s), nil
		case []byte:
			return byte(typ), append([]byte{}, s...), nil
		}
	case gosnmp.Integer:
		if n, ok := toInt(v); ok && n >= -1<<31 && n < 1<<31 {
			return tagInteger, intBytes(n), nil
		}
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks:
		if n, ok := toInt(v); ok && n >= 0 && n < 1<<32 {
			return byte(typ), uintBytes(uint64(n)), nil
		}
	case gosnmp.Counter64:
		switch n := v.(type) {
		case uint64:
			return tagCounter64, uintBytes(n), nil
		default:
			if i, ok := toInt(v); ok && i >= 0 {
				return tagCounter64, uintBytes(uint64(i)), nil
			}
		}
	case gosnmp.ObjectIdentifier:
		if s, ok := v.(string); ok {
			o, err := parseOID(s)
			if err != nil {
				return 0, nil, err
			}
			return tagOID, oidBytes(o), nil
		}
	case gosnmp.IPAddress:
		if s, ok := v.(string); ok {
			if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
				b := a.As4()
				return tagIPAddress, b[:], nil
			}
		}
	case gosnmp.Null:
		return tagNull, []byte{}, nil
	}
	return 0, nil, fmt.Errorf("value %v (%T) does not fit type %s", v, v, typ)
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n < 1<<63 {
			return int64(n), true
		}
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	}
	return 0, false
}

// find returns the index of the first object at or after o, and whether
// it is o.
func (m *mib) find(o oid) (int, bool) {
	return slices.BinarySearchFunc(m.objs, o, func(x object, t oid) int { return x.oid.compare(t) })
}

// get returns the object at o, or the exception tag: noSuchInstance when
// o lies under an object type the agent has, else noSuchObject.
func (m *mib) get(o oid, v1 bool) (*object, byte) {
	i, ok := m.find(o)
	if ok && !(v1 && m.objs[i].counter64) {
		return &m.objs[i], 0
	}
	for _, j := range []int{i - 1, i} {
		if j >= 0 && j < len(m.objs) {
			x := m.objs[j]
			if len(o) >= x.typeLen && o.hasPrefix(x.oid[:x.typeLen]) {
				return nil, tagNoSuchInst
			}
		}
	}
	return nil, tagNoSuchObj
}

// next returns the first object after o (nil at the end of the MIB).
func (m *mib) next(o oid, v1 bool) *object {
	i, ok := m.find(o)
	if ok {
		i++
	}
	for ; i < len(m.objs); i++ {
		if !(v1 && m.objs[i].counter64) {
			return &m.objs[i]
		}
	}
	return nil
}

// hwString is a MAC as an OctetString value.
func hwString(mac net.HardwareAddr) []byte { return append([]byte{}, mac...) }
