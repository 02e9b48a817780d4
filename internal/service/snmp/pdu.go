package snmp

import (
	"time"
)

// maxBulkResponses is snmpd's default maxGetbulkResponses: the
// repetitions of a GETBULK are cut so that repeaters × max-repetitions
// stays within it.
const maxBulkResponses = 100

// result is a response PDU before encoding: its error status and index,
// and its encoded varbinds (echo: the request's own, as error responses
// carry them).
type result struct {
	errStat, errIdx int64
	vbs             [][]byte
}

// access is what a request's credentials allow.
type access int

const (
	accessNone access = iota
	accessRead
	accessWrite
)

// process answers a GET, GETNEXT, GETBULK or SET as snmpd does. v1
// requests get v1's error semantics (noSuchName instead of exceptions,
// Counter64 objects invisible).
func (a *Agent) process(p pdu, v1 bool, acc access, now time.Time) result {
	switch p.typ {
	case pduGet:
		return a.get(p, v1, now)
	case pduGetNext:
		return a.getNext(p, v1, now)
	case pduGetBulk:
		return a.getBulk(p, v1, now)
	default:
		return setResult(p, v1, acc)
	}
}

// echo is an error response: the request's varbinds as received.
func echo(p pdu, stat int64, idx int) result {
	r := result{errStat: stat, errIdx: int64(idx)}
	for _, vb := range p.vbs {
		r.vbs = append(r.vbs, vb.raw)
	}
	return r
}

func encodeObject(o *object, now time.Time) []byte {
	tag, val := o.value(now)
	return appendVarbind(nil, o.oid, tag, val)
}

func (a *Agent) get(p pdu, v1 bool, now time.Time) result {
	var r result
	for i, vb := range p.vbs {
		o, exc := a.mib.get(vb.oid, v1)
		if o == nil {
			if v1 {
				return echo(p, errNoSuchName, i+1)
			}
			r.vbs = append(r.vbs, appendVarbind(nil, vb.oid, exc, nil))
			continue
		}
		r.vbs = append(r.vbs, encodeObject(o, now))
	}
	return r
}

func (a *Agent) getNext(p pdu, v1 bool, now time.Time) result {
	var r result
	for i, vb := range p.vbs {
		o := a.mib.next(vb.oid, v1)
		if o == nil {
			if v1 {
				return echo(p, errNoSuchName, i+1)
			}
			r.vbs = append(r.vbs, appendVarbind(nil, vb.oid, tagEndOfMib, nil))
			continue
		}
		r.vbs = append(r.vbs, encodeObject(o, now))
	}
	return r
}

// getBulk follows RFC 3416 4.2.3 with snmpd's limits: the repetitions
// stop when every repeater is past the end of the MIB. In a v1 message
// (which snmpd answers too) the end of the MIB is noSuchName.
func (a *Agent) getBulk(p pdu, v1 bool, now time.Time) result {
	var r result
	n := int(min(max(p.errStat, 0), int64(len(p.vbs))))
	reps := int(max(p.errIdx, 0))
	for i, vb := range p.vbs[:n] {
		o := a.mib.next(vb.oid, v1)
		switch {
		case o != nil:
			r.vbs = append(r.vbs, encodeObject(o, now))
		case v1:
			return echo(p, errNoSuchName, i+1)
		default:
			r.vbs = append(r.vbs, appendVarbind(nil, vb.oid, tagEndOfMib, nil))
		}
	}
	repeaters := p.vbs[n:]
	if len(repeaters) == 0 {
		return r
	}
	reps = min(reps, maxBulkResponses/len(repeaters))
	last := make([]oid, len(repeaters))
	for i, vb := range repeaters {
		last[i] = vb.oid
	}
	for range reps {
		live := 0
		for i, cur := range last {
			o := a.mib.next(cur, v1)
			if o == nil && v1 {
				return echo(p, errNoSuchName, n+i+1)
			}
			if o == nil {
				r.vbs = append(r.vbs, appendVarbind(nil, cur, tagEndOfMib, nil))
				continue
			}
			live++
			last[i] = o.oid
			r.vbs = append(r.vbs, encodeObject(o, now))
		}
		if live == 0 {
			break
		}
	}
	return r
}

// setResult refuses a SET as snmpd does when no object is writable: with
// a read-only community, noAccess (VACM has no write view); with the
// read-write one, notWritable on the first binding. v1 maps both to
// noSuchName (RFC 3584 4.4).
func setResult(p pdu, v1 bool, acc access) result {
	stat := int64(errNotWritable)
	if acc != accessWrite {
		stat = errNoAccess
	}
	if v1 {
		stat = errNoSuchName
	}
	if len(p.vbs) == 0 {
		return echo(p, errNoError, 0)
	}
	return echo(p, stat, 1)
}

// fit encodes a response within limit bytes, wrapped by wrap (which
// adds the message around the PDU). A GETBULK response that is too big is
// truncated; any other becomes tooBig (with the request's bindings for
// v1, as RFC 1157 has it, and none for v2c/v3, as RFC 3416 has it). Nil
// when not even that fits.
func fit(p pdu, r result, v1 bool, limit int, wrap func([]byte) []byte) []byte {
	build := func(r result) []byte {
		var vbs []byte
		for _, v := range r.vbs {
			vbs = append(vbs, v...)
		}
		return wrap(appendPDU(nil, pduResponse, p.reqID, r.errStat, r.errIdx, vbs))
	}
	out := build(r)
	if len(out) <= limit {
		return out
	}
	if p.typ == pduGetBulk && r.errStat == errNoError {
		// Drop the bindings that overflow, then one more at a time for
		// the length octets that the estimate leaves out.
		over, k := len(out)-limit, len(r.vbs)
		for k > 0 && over > 0 {
			k--
			over -= len(r.vbs[k])
		}
		for ; k > 0; k-- {
			if out = build(result{vbs: r.vbs[:k]}); len(out) <= limit {
				return out
			}
		}
	}
	tb := result{errStat: errTooBig}
	if v1 {
		tb = echo(p, errTooBig, 0)
	}
	if out = build(tb); len(out) <= limit {
		return out
	}
	return nil
}
