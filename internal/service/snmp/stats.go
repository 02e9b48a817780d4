package snmp

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
)

// stats are the agent's SNMPv2-MIB snmp group counters of the datagrams
// it has seen.
type stats struct {
	inPkts, outPkts, badVersions, badCommunity, badUses, parseErrs atomic.Uint32
	reqVars, setVars, gets, nexts, sets, responses, silentDrops    atomic.Uint32
}

// pollEvery is how often the decky's monitoring polls it: the counters
// start from what that polling since the agent started adds up to, so a
// walk does not show an agent that nobody ever asked anything.
const pollEvery = 30 * time.Second

// agentObjects are the objects of the agent itself: the snmp group
// (1.3.6.1.2.1.11), snmpEngine, snmpMPDStats and usmStats, live.
func (a *Agent) agentObjects(start time.Time) []Var {
	polls := func(now time.Time) uint32 { return uint32(max(now.Sub(start), 0) / pollEvery) }
	live := func(c *atomic.Uint32, perPoll uint32) Dynamic {
		return func(now time.Time) any { return polls(now)*perPoll + c.Load() }
	}
	zero := uint32(0)
	const g = "1.3.6.1.2.1.11."
	vars := []Var{
		{g + "1.0", gosnmp.Counter32, live(&a.st.inPkts, 1)},
		{g + "2.0", gosnmp.Counter32, live(&a.st.outPkts, 1)},
		{g + "3.0", gosnmp.Counter32, live(&a.st.badVersions, 0)},
		{g + "4.0", gosnmp.Counter32, live(&a.st.badCommunity, 0)},
		{g + "5.0", gosnmp.Counter32, live(&a.st.badUses, 0)},
		{g + "6.0", gosnmp.Counter32, live(&a.st.parseErrs, 0)},
		{g + "8.0", gosnmp.Counter32, zero},
		{g + "9.0", gosnmp.Counter32, zero},
		{g + "10.0", gosnmp.Counter32, zero},
		{g + "11.0", gosnmp.Counter32, zero},
		{g + "12.0", gosnmp.Counter32, zero},
		{g + "13.0", gosnmp.Counter32, live(&a.st.reqVars, 12)},
		{g + "14.0", gosnmp.Counter32, live(&a.st.setVars, 0)},
		{g + "15.0", gosnmp.Counter32, live(&a.st.gets, 1)},
		{g + "16.0", gosnmp.Counter32, live(&a.st.nexts, 0)},
		{g + "17.0", gosnmp.Counter32, live(&a.st.sets, 0)},
		{g + "18.0", gosnmp.Counter32, zero},
		{g + "19.0", gosnmp.Counter32, zero},
		{g + "20.0", gosnmp.Counter32, zero},
		{g + "21.0", gosnmp.Counter32, zero},
		{g + "22.0", gosnmp.Counter32, zero},
		{g + "24.0", gosnmp.Counter32, zero},
		{g + "25.0", gosnmp.Counter32, zero},
		{g + "26.0", gosnmp.Counter32, zero},
		{g + "27.0", gosnmp.Counter32, zero},
		{g + "28.0", gosnmp.Counter32, live(&a.st.responses, 1)},
		{g + "29.0", gosnmp.Counter32, zero},
		{g + "30.0", gosnmp.Integer, 2},
		{g + "31.0", gosnmp.Counter32, live(&a.st.silentDrops, 0)},
		{g + "32.0", gosnmp.Counter32, zero},
		{"1.3.6.1.6.3.10.2.1.1.0", gosnmp.OctetString, a.eng.id},
		{"1.3.6.1.6.3.10.2.1.2.0", gosnmp.Integer, int(a.eng.boots)},
		{"1.3.6.1.6.3.10.2.1.3.0", gosnmp.Integer, Dynamic(func(now time.Time) any { return a.eng.time(now) })},
		{"1.3.6.1.6.3.10.2.1.4.0", gosnmp.Integer, 1500},
		{"1.3.6.1.6.3.11.2.1.1.0", gosnmp.Counter32, zero},
		{"1.3.6.1.6.3.11.2.1.2.0", gosnmp.Counter32, zero},
		{"1.3.6.1.6.3.11.2.1.3.0", gosnmp.Counter32, zero},
	}
	for i := 1; i <= statDecryptionErrors; i++ {
		c := &a.eng.usmStats[i]
		vars = append(vars, Var{"1.3.6.1.6.3.15.1.1." + strconv.Itoa(i) + ".0", gosnmp.Counter32, Dynamic(func(time.Time) any { return c.Load() })})
	}
	return vars
}

// count records a datagram in the snmp group.
func (s *stats) count(p pdu, answered bool) {
	switch p.typ {
	case pduGet:
		s.gets.Add(1)
	case pduGetNext, pduGetBulk:
		s.nexts.Add(1)
	case pduSet:
		s.sets.Add(1)
		s.setVars.Add(uint32(len(p.vbs)))
	}
	if p.typ != pduSet {
		s.reqVars.Add(uint32(len(p.vbs)))
	}
	if answered {
		s.responses.Add(1)
		s.outPkts.Add(1)
	}
}
