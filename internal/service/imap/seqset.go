package imap

import (
	"strconv"
	"strings"
)

// maxRanges bounds a sequence set.
const maxRanges = 1024

// seqRange is lo:hi, 0 standing for '*'.
type seqRange struct{ lo, hi uint32 }

// seqSet is a parsed sequence set (RFC 3501 sequence-set).
type seqSet []seqRange

var errMessageSet = wireError("Invalid messageset")

// parseSeqSet reads "1", "1:3", "*", "3:*", "1,4:6,9".
func parseSeqSet(s string) (seqSet, error) {
	if s == "" {
		return nil, errMessageSet
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxRanges {
		return nil, errMessageSet
	}
	var out seqSet
	for _, p := range parts {
		lo, hi, isRange := strings.Cut(p, ":")
		a, err := seqNumber(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = seqNumber(hi); err != nil {
				return nil, err
			}
		}
		out = append(out, seqRange{a, b})
	}
	return out, nil
}

func seqNumber(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	if s == "" || s[0] == '0' || s[0] == '+' {
		return 0, errMessageSet
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errMessageSet
	}
	return uint32(n), nil
}

// contains reports whether n is in the set, '*' being last.
func (s seqSet) contains(n, last uint32) bool {
	for _, r := range s {
		lo, hi := r.lo, r.hi
		if lo == 0 {
			lo = last
		}
		if hi == 0 {
			hi = last
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// maxNumber is the highest number the set names outright (not '*').
func (s seqSet) maxNumber() uint32 {
	var m uint32
	for _, r := range s {
		m = max(m, r.lo, r.hi)
	}
	return m
}

// compress writes numbers in ascending order as a sequence set.
func compress(nums []uint32) string {
	var b strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(nums[i]), 10))
		if j > i {
			b.WriteString(":" + strconv.FormatUint(uint64(nums[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}

// pick returns the selected mailbox's messages the set names, by
// sequence number or UID, with their sequence numbers. A sequence
// number beyond the mailbox is Dovecot's "Invalid messageset".
func (ss *session) pick(setArg arg, uid bool) ([]*message, []int, error) {
	if setArg.kind != atom {
		return nil, nil, errMessageSet
	}
	set, err := parseSeqSet(setArg.s)
	if err != nil {
		return nil, nil, err
	}
	msgs := ss.sel.msgs
	var last uint32
	if uid {
		if len(msgs) > 0 {
			last = msgs[len(msgs)-1].UID
		}
	} else {
		last = uint32(len(msgs))
		if set.maxNumber() > last {
			return nil, nil, errMessageSet
		}
	}
	var out []*message
	var seqs []int
	for i, m := range msgs {
		n := uint32(i + 1)
		if uid {
			n = m.UID
		}
		if set.contains(n, last) {
			out = append(out, m)
			seqs = append(seqs, i+1)
		}
	}
	return out, seqs, nil
}
