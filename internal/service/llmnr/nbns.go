package llmnr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// The NetBIOS name service wire format (RFC 1002 §4.2), as much of it as
// name queries, node status requests and their answers use.

// NBNS header flag bits.
const (
	nbResponse  = 0x8000
	nbOpcode    = 0x7800
	nbAA        = 0x0400
	nbTC        = 0x0200
	nbRD        = 0x0100
	nbRA        = 0x0080
	nbBroadcast = 0x0010
	nbRcode     = 0x000f
)

// Question and record types.
const (
	nbTypeNB     = 0x0020
	nbTypeNBSTAT = 0x0021
	nbClassIN    = 0x0001
)

// Bounds of a name: the encoded NetBIOS name is 32 bytes; the scope adds
// labels, the whole held to DNS's 255 bytes.
const (
	nbEncodedLen = 32
	nbMaxName    = 255
	nbHeaderLen  = 12
)

var errShort = errors.New("truncated")

// nbName is a decoded NetBIOS name: 15 bytes of name, padded, and the
// suffix byte that says which service it names.
type nbName struct {
	raw   [16]byte
	scope string
}

// newNBName pads name (at most 15 bytes) with spaces and adds suffix.
func newNBName(name string, suffix byte) nbName {
	var n nbName
	copy(n.raw[:15], "               ")
	copy(n.raw[:15], name)
	n.raw[15] = suffix
	return n
}

// wildcard is the "*" name that node status requests ask for.
func wildcard() nbName {
	var n nbName
	n.raw[0] = '*'
	return n
}

// base is the name without its padding (spaces, or NULs for "*").
func (n nbName) base() string { return strings.TrimRight(string(n.raw[:15]), " \x00") }

// suffix is the service byte.
func (n nbName) suffix() byte { return n.raw[15] }

// String is the name as nbtstat writes it: NAME<1c>.
func (n nbName) String() string { return fmt.Sprintf("%s<%02x>", n.base(), n.suffix()) }

// appendName appends the first-level encoding of n: each nibble as a
// letter from 'A', then the scope's labels, then the root.
func appendName(b []byte, n nbName) []byte {
	b = append(b, nbEncodedLen)
	for _, c := range n.raw {
		b = append(b, 'A'+c>>4, 'A'+c&0x0f)
	}
	if n.scope != "" {
		for _, l := range strings.Split(n.scope, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

// readName decodes the name at off and returns the offset after it. A
// compression pointer (responses may use one) is followed once.
func readName(pkt []byte, off int) (nbName, int, error) {
	var n nbName
	end := -1
	for hops := 0; ; hops++ {
		if off >= len(pkt) {
			return n, 0, errShort
		}
		if pkt[off]&0xc0 != 0xc0 {
			break
		}
		if hops > 0 || off+1 >= len(pkt) {
			return n, 0, errors.New("bad name pointer")
		}
		end = off + 2
		off = int(binary.BigEndian.Uint16(pkt[off:]) & 0x3fff)
	}
	if pkt[off] != nbEncodedLen {
		return n, 0, fmt.Errorf("name label of %d bytes, not 32", pkt[off])
	}
	if off+1+nbEncodedLen > len(pkt) {
		return n, 0, errShort
	}
	enc := pkt[off+1 : off+1+nbEncodedLen]
	for i := range 16 {
		hi, lo := enc[2*i]-'A', enc[2*i+1]-'A'
		if hi > 15 || lo > 15 {
			return n, 0, fmt.Errorf("name byte %q is not first-level encoded", enc[2*i:2*i+2])
		}
		n.raw[i] = hi<<4 | lo
	}
	off += 1 + nbEncodedLen
	var scope []string
	for total := 1 + nbEncodedLen; ; {
		if off >= len(pkt) {
			return n, 0, errShort
		}
		l := int(pkt[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 {
			return n, 0, errors.New("bad scope label")
		}
		if total += 1 + l; total > nbMaxName || off+1+l > len(pkt) {
			return n, 0, errors.New("scope too long")
		}
		scope = append(scope, string(pkt[off+1:off+1+l]))
		off += 1 + l
	}
	n.scope = strings.Join(scope, ".")
	if end >= 0 {
		off = end
	}
	return n, off, nil
}

// nbPacket is a parsed NBNS datagram: the header, and the first question
// and first answer when there are any.
type nbPacket struct {
	id, flags      uint16
	qd, an, ns, ar uint16
	question       *nbQuestion
	answer         *nbRecord
}

type nbQuestion struct {
	name        nbName
	qtype, qcls uint16
}

type nbRecord struct {
	name       nbName
	rtype, cls uint16
	ttl        uint32
	rdata      []byte
}

func (p *nbPacket) opcode() int { return int(p.flags&nbOpcode) >> 11 }

// parseNBNS decodes a datagram. Anything past what it reads is ignored,
// as Windows and nmbd do.
func parseNBNS(pkt []byte) (*nbPacket, error) {
	if len(pkt) < nbHeaderLen {
		return nil, fmt.Errorf("header: %w", errShort)
	}
	p := &nbPacket{
		id: binary.BigEndian.Uint16(pkt), flags: binary.BigEndian.Uint16(pkt[2:]),
		qd: binary.BigEndian.Uint16(pkt[4:]), an: binary.BigEndian.Uint16(pkt[6:]),
		ns: binary.BigEndian.Uint16(pkt[8:]), ar: binary.BigEndian.Uint16(pkt[10:]),
	}
	off := nbHeaderLen
	if p.qd > 0 {
		name, next, err := readName(pkt, off)
		if err != nil {
			return nil, fmt.Errorf("question: %w", err)
		}
		if next+4 > len(pkt) {
			return nil, fmt.Errorf("question: %w", errShort)
		}
		p.question = &nbQuestion{name: name, qtype: binary.BigEndian.Uint16(pkt[next:]), qcls: binary.BigEndian.Uint16(pkt[next+2:])}
		off = next + 4
	}
	if p.an > 0 {
		name, next, err := readName(pkt, off)
		if err != nil {
			return nil, fmt.Errorf("answer: %w", err)
		}
		if next+10 > len(pkt) {
			return nil, fmt.Errorf("answer: %w", errShort)
		}
		r := &nbRecord{name: name, rtype: binary.BigEndian.Uint16(pkt[next:]), cls: binary.BigEndian.Uint16(pkt[next+2:]),
			ttl: binary.BigEndian.Uint32(pkt[next+4:])}
		l := int(binary.BigEndian.Uint16(pkt[next+8:]))
		if next+10+l > len(pkt) {
			return nil, fmt.Errorf("answer data: %w", errShort)
		}
		r.rdata = pkt[next+10 : next+10+l]
		p.answer = r
	}
	return p, nil
}

// appendHeader appends an NBNS header.
func appendHeader(b []byte, id, flags, qd, an uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, qd)
	b = binary.BigEndian.AppendUint16(b, an)
	return append(b, 0, 0, 0, 0)
}

// nbQuery builds a name query for n, broadcast or to one server, with
// recursion desired as Windows sends it.
func nbQuery(id uint16, n nbName, broadcast bool) []byte {
	flags := uint16(nbRD)
	if broadcast {
		flags |= nbBroadcast
	}
	b := appendHeader(make([]byte, 0, 50), id, flags, 1, 0)
	b = appendName(b, n)
	return append(b, 0, nbTypeNB, 0, nbClassIN)
}

// nbPositive builds a positive name query response: n has address ip,
// with the NB flags (group bit, owner node type) nbFlags; flags are the
// RD and RA bits to set.
func nbPositive(id, flags uint16, n nbName, ttl uint32, nbFlags uint16, ip netip.Addr) []byte {
	b := appendHeader(make([]byte, 0, 62), id, nbResponse|nbAA|flags&(nbRD|nbRA), 0, 1)
	b = appendName(b, n)
	b = append(b, 0, nbTypeNB, 0, nbClassIN)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = append(b, 0, 6)
	b = binary.BigEndian.AppendUint16(b, nbFlags)
	a := ip.As4()
	return append(b, a[:]...)
}

// nbEntry is one row of a node status reply's name table.
type nbEntry struct {
	name  nbName
	flags uint16
}

// nbStatStatsLen is the statistics block after the name table: the
// adapter address and 40 bytes of counters, zero as Windows leaves them.
const nbStatStatsLen = 46

// nbNodeStatus builds a node status response to a request for q.
func nbNodeStatus(id uint16, q nbName, names []nbEntry, mac []byte) []byte {
	b := appendHeader(make([]byte, 0, 128+18*len(names)), id, nbResponse|nbAA, 0, 1)
	b = appendName(b, q)
	b = append(b, 0, nbTypeNBSTAT, 0, nbClassIN, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(1+18*len(names)+nbStatStatsLen))
	b = append(b, byte(len(names)))
	for _, e := range names {
		b = append(b, e.name.raw[:]...)
		b = binary.BigEndian.AppendUint16(b, e.flags)
	}
	var stats [nbStatStatsLen]byte
	copy(stats[:6], mac)
	return append(b, stats[:]...)
}
