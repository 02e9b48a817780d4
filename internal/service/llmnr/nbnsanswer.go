package llmnr

import "strings"

// NB flags of the name table: the group bit and the owner node type.
// Windows reports itself as ONT 10 (M, its H-node), which is what nmap's
// Windows signatures match; nmbd is a B-node.
const (
	nbGroup   = 0x8000
	nbONTM    = 0x4000
	nbONTMask = 0x6000
	nbActive  = 0x0400
)

// TTLs of positive name query responses: Windows gives 300000 s, nmbd
// three days.
const (
	ttlNBWindows = 300000
	ttlNBSamba   = 259200
)

// nbTable is the decky's registered names as node status lists them, in
// the order of the product it imitates.
func (id identity) nbTable() []nbEntry {
	switch id.nbns {
	case styleWindows:
		return []nbEntry{
			{newNBName(id.netbios, 0x00), nbONTM | nbActive},
			{newNBName(id.group, 0x00), nbGroup | nbONTM | nbActive},
			{newNBName(id.netbios, 0x20), nbONTM | nbActive},
		}
	case styleSamba:
		return []nbEntry{
			{newNBName(id.netbios, 0x00), nbActive},
			{newNBName(id.netbios, 0x03), nbActive},
			{newNBName(id.netbios, 0x20), nbActive},
			{newNBName(id.group, 0x00), nbGroup | nbActive},
			{newNBName(id.group, 0x1e), nbGroup | nbActive},
		}
	}
	return nil
}

// answerNBNS is the reply to a name query for one of the decky's names
// or to a node status request, or nil. Windows answers for its unique
// names, and node status for "*" or its name. nmbd (measured, 4.17)
// answers both for every name it holds: its table, group names too, and
// the "*" and "__SAMBA__" names it keeps out of the table.
func (id identity) answerNBNS(p *nbPacket) []byte {
	q := p.question
	if id.nbns == styleNone || p.flags&nbResponse != 0 || p.opcode() != 0 || q == nil || q.name.scope != "" {
		return nil
	}
	table := id.nbTable()
	if id.nbns == styleSamba {
		e, ok := id.sambaHolds(q.name)
		if !ok {
			return nil
		}
		// nmbd writes "*" back NUL-padded however it was asked.
		name := q.name
		if name.base() == "*" {
			name = wildcard()
			name.raw[15] = q.name.suffix()
		}
		switch q.qtype {
		case nbTypeNB:
			return id.positive(p, name, e.flags&(nbGroup|nbONTMask))
		case nbTypeNBSTAT:
			return nbNodeStatus(p.id, name, table, nil) // nmbd reports no adapter address
		}
		return nil
	}
	switch q.qtype {
	case nbTypeNB:
		for _, e := range table {
			if e.flags&nbGroup == 0 && e.name.raw[15] == q.name.raw[15] && strings.EqualFold(e.name.base(), q.name.base()) {
				return id.positive(p, q.name, e.flags&(nbGroup|nbONTMask))
			}
		}
	case nbTypeNBSTAT:
		if q.name.base() == "*" || strings.EqualFold(q.name.base(), id.netbios) {
			return nbNodeStatus(p.id, q.name, table, id.mac)
		}
	}
	return nil
}

// sambaHolds finds n (any case) among the names nmbd holds: its table,
// and "*" and "__SAMBA__" as unique <00> and <20> names.
func (id identity) sambaHolds(n nbName) (nbEntry, bool) {
	for _, e := range id.nbTable() {
		if e.name.suffix() == n.suffix() && strings.EqualFold(e.name.base(), n.base()) {
			return e, true
		}
	}
	if b := n.base(); (b == "*" || strings.EqualFold(b, "__SAMBA__")) && (n.suffix() == 0x00 || n.suffix() == 0x20) {
		return nbEntry{n, nbActive}, true
	}
	return nbEntry{}, false
}

// positive is the positive name query response for n, whose NB flags
// (group bit and node type, as the name table has them) are nbFlags.
func (id identity) positive(p *nbPacket, n nbName, nbFlags uint16) []byte {
	if !id.ip.IsValid() {
		return nil
	}
	if id.nbns == styleWindows {
		return nbPositive(p.id, p.flags&nbRD, n, ttlNBWindows, nbFlags, id.ip)
	}
	// nmbd says recursion is desired, asked or not, and available.
	return nbPositive(p.id, nbRD|nbRA, n, ttlNBSamba, nbFlags, id.ip)
}
