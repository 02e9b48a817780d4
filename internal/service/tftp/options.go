package tftp

import (
	"math"
	"math/bits"
	"strconv"
	"time"
)

// maxBlksize is tftp-hpa's MAX_SEGSIZE: the largest block it agrees to.
const maxBlksize = 65464

// defaultBlksize is RFC 1350's block size.
const defaultBlksize = 512

// timeoutLimit is tftp-hpa's TIMEOUT_LIMIT: a packet is given up once the
// doubling retransmission timeout reaches 63 times the first one (sent at
// 0, 1, 3, 7, 15 and 31 s, abandoned at 63 s, with the default 1 s).
const timeoutLimit = 1<<6 - 1

// params are what a transfer runs with once options are negotiated.
type params struct {
	blksize  int
	rexmt    time.Duration // first retransmission timeout
	rollover uint16        // the block number after 65535
}

// negotiation is what negotiate needs to know of the transfer.
type negotiation struct {
	// tsize is the file's size (RRQ); tsizeOK is false when it cannot be
	// told, for netascii reads, where tftp-hpa refuses the option.
	tsize   int64
	tsizeOK bool
	// maxBlksize caps blksize (tftpd's --blocksize), at most maxBlksize.
	maxBlksize int
	// second is the length of a second: the unit of the timeout option
	// (tests shorten it).
	second time.Duration
}

// negotiate applies the options one by one as tftp-hpa's do_opt does,
// returning the OACK (nil when no option was accepted) and the transfer's
// parameters, or the ERROR that ends the request. Unknown options and
// values that are not numbers are ignored; an accepted option is echoed
// as the client spelt it, every time it appears.
func negotiate(opts []option, n negotiation) ([]byte, params, *tftpError) {
	p := params{blksize: defaultBlksize, rexmt: n.second}
	oack := []byte{0, opOACK}
	for _, o := range opts {
		v, ok := strtoumax(o.value)
		if !ok {
			continue
		}
		v, known, ok := setOption(asciiLower(o.name), v, &p, n)
		if !known {
			continue
		}
		if !ok {
			return nil, params{}, &tftpError{errOptNeg, msgUnsupportedOpt}
		}
		val := strconv.FormatUint(v, 10)
		if len(oack)+len(o.name)+len(val)+2 >= maxPacket {
			return nil, params{}, &tftpError{errOptNeg, msgOptionSpace}
		}
		oack = append(oack, o.name...)
		oack = append(oack, 0)
		oack = append(oack, val...)
		oack = append(oack, 0)
	}
	if len(oack) == 2 {
		return nil, p, nil
	}
	return oack, p, nil
}

// setOption checks the value v of option name (lower-cased) and applies
// it to p as tftp-hpa 5.2 does, returning the value to echo; known is false
// for an option it does not know, which is ignored (windowsize, RFC 7440,
// is one), ok false for a value that refuses the request.
func setOption(name string, v uint64, p *params, n negotiation) (echo uint64, known, ok bool) {
	switch name {
	case "blksize":
		if v < 8 {
			return 0, true, false
		}
		p.blksize = int(min(v, uint64(n.maxBlksize)))
		return uint64(p.blksize), true, true
	case "blksize2":
		if v < 8 {
			return 0, true, false
		}
		// tftp-hpa rounds down to a power of two, but not the cap.
		if v > uint64(n.maxBlksize) {
			v = uint64(n.maxBlksize)
		} else {
			v = 1 << (bits.Len64(v) - 1)
		}
		p.blksize = int(v)
		return v, true, true
	case "tsize":
		if !n.tsizeOK {
			return 0, true, false
		}
		if v == 0 {
			v = uint64(n.tsize)
		}
		return v, true, true
	case "timeout":
		if v < 1 || v > 255 {
			return 0, true, false
		}
		p.rexmt = time.Duration(v) * n.second
		return v, true, true
	case "utimeout":
		if v < 10000 || v > 255000000 {
			return 0, true, false
		}
		p.rexmt = time.Duration(v) * n.second / time.Second * time.Microsecond
		return v, true, true
	case "rollover":
		if v > math.MaxUint16 {
			return 0, true, false
		}
		p.rollover = uint16(v)
		return v, true, true
	}
	return 0, false, false
}

// strtoumax parses s as C's strtoumax(s, &end, 10) with the checks
// tftp-hpa makes: leading white space and a sign are allowed, a minus
// negates modulo 2^64, and the whole string must be used and in range.
func strtoumax(s string) (uint64, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		hi, lo := bits.Mul64(v, 10)
		lo, carry := bits.Add64(lo, uint64(s[i]-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false // ERANGE
		}
		v = lo
	}
	if i == start || i != len(s) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}
