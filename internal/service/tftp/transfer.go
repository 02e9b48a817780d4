package tftp

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"time"

	"decnet/internal/event"
)

// xfer is one transfer: what plan decided, and the socket it runs on.
type xfer struct {
	path     string // clean path in the tree
	write    bool   // WRQ
	netascii bool
	dir      bool   // an RRQ of a directory, which fails after the OACK
	data     []byte // RRQ: the file's bytes
	oack     []byte // nil when no option was accepted
	params   params

	conn     *net.UDPConn
	fields   map[string]string // the request's peer and session fields
	filename string            // as the client sent it
	end      time.Time         // the transfer's lifetime runs out
	buf      []byte            // receive buffer
	reserved int64             // upload bytes taken from the tree's budget
	finished bool              // the upload's file is written and unlocked
	last     uint16            // the upload's last block
}

// How a transfer ended (the transfer event's result field).
const (
	resultComplete = "complete"
	resultTimeout  = "timeout"        // the client stopped answering
	resultAborted  = "client error"   // the client sent an ERROR
	resultSocket   = "socket error"   // e.g. ICMP port unreachable
	resultLifetime = "lifetime"       // our bound on a transfer's length
	resultShutdown = "shutdown"       // the server stopped
	resultLimit    = "upload limit"   // an upload went on past discardLimit
	resultIsDir    = "Is a directory" // an RRQ of a directory, after its OACK
)

var (
	errTimeout  = errors.New(resultTimeout)
	errAborted  = errors.New(resultAborted)
	errLifetime = errors.New(resultLifetime)
	errShutdown = errors.New(resultShutdown)
)

// outcome is how far a transfer got.
type outcome struct {
	result    string
	clientErr string // the text of the client's ERROR
	blocks    int
	bytes     int64 // DATA payload bytes sent or received
}

// verdict is what exchange does with a datagram from the client.
type verdict int

const (
	wait   verdict = iota // ignore it, keep waiting for the same deadline
	done                  // the awaited packet
	resend                // send again now, with the same timeout
	abort                 // the client gave up (ERROR)
)

// run carries out a planned transfer and records how it ended.
func (s *Server) run(ctx context.Context, x *xfer) {
	start := time.Now()
	x.end = start.Add(s.limits.Lifetime)
	stop := context.AfterFunc(ctx, func() { x.conn.Close() })
	defer stop()
	defer x.conn.Close()
	var o outcome
	f := copyFields(x.fields)
	if x.write {
		f[event.FieldMethod] = "WRQ"
		x.buf = make([]byte, maxPacket)
		var data []byte
		var truncated bool
		data, truncated, o = s.receive(ctx, x)
		f["truncated"] = strconv.FormatBool(truncated)
		s.capture(x, data, truncated, o)
		if o.result == resultComplete {
			x.linger(ctx)
		}
	} else {
		f[event.FieldMethod] = "RRQ"
		// An ACK is 4 bytes, but what the client sends while the OACK
		// waits is copied over it (see send), so room for that.
		x.buf = make([]byte, max(len(x.oack), 516))
		o = s.send(ctx, x)
	}
	f[fieldFilename] = fieldText(x.filename)
	f[fieldResult] = o.result
	if o.clientErr != "" {
		f[fieldError] = fieldText(o.clientErr)
	}
	f["blocks"] = strconv.Itoa(o.blocks)
	f["bytes"] = strconv.FormatInt(o.bytes, 10)
	f["blksize"] = strconv.Itoa(x.params.blksize)
	f["duration_s"] = strconv.FormatFloat(time.Since(start).Seconds(), 'f', 3, 64)
	s.emit(typeTransfer, event.Info, f)
}

// capture keeps an upload's bytes, complete or not, and records them.
func (s *Server) capture(x *xfer, data []byte, truncated bool, o outcome) {
	if !x.finished {
		s.files.finish(x.path, data, x.reserved)
	}
	if len(data) == 0 {
		return
	}
	kept := s.art.Keep(x.filename, data, s.now())
	f := copyFields(x.fields)
	for k, v := range kept.Fields(fieldText(x.filename)) {
		f[k] = v
	}
	f[event.FieldMethod] = "WRQ"
	f["complete"] = strconv.FormatBool(o.result == resultComplete)
	f["truncated"] = strconv.FormatBool(truncated)
	s.emit(event.TypeFileCaptured, event.Warning, f)
}

// send serves an RRQ as tftp-hpa's tftp_sendfile does: the OACK until it
// is acknowledged with block 0, then each block until its ACK comes; a
// stale ACK is not answered (RFC 1350's Sorcerer's Apprentice rule), and a
// last block shorter than blksize (empty if need be) ends the transfer.
func (s *Server) send(ctx context.Context, x *xfer) outcome {
	var o outcome
	if x.oack != nil {
		// tftp-hpa receives into the buffer that holds its OACK, so what
		// it sends again is the OACK overwritten by the client's last
		// datagram: an ACK of block 1 makes it resend "\0\4\0\1" and the
		// rest of the OACK.
		buf := slices.Clone(x.oack)
		p, err := x.exchange(ctx, buf, func(p []byte) verdict {
			copy(buf, p)
			op, block, _ := header(buf)
			switch {
			case op == opERROR:
				return abort
			case op == opACK && block == 0:
				return done
			case op == opACK:
				return resend
			}
			return wait
		})
		if err != nil {
			return o.ended(err, p)
		}
	}
	if x.dir {
		x.conn.Write(errorPacket(tftpError{errUndef, msgIsDir}))
		o.result = resultIsDir
		return o
	}
	data := x.data
	if x.netascii {
		data = toNetascii(data)
	}
	block := uint16(1)
	for off := 0; ; {
		chunk := data[off:min(off+x.params.blksize, len(data))]
		p, err := x.exchange(ctx, dataPacket(block, chunk), func(p []byte) verdict {
			op, b, ok := header(p)
			switch {
			case len(p) >= 2 && binaryOp(p) == opERROR:
				return abort
			case ok && op == opACK && b == block:
				return done
			}
			return wait
		})
		if err != nil {
			return o.ended(err, p)
		}
		o.blocks++
		o.bytes += int64(len(chunk))
		if len(chunk) < x.params.blksize {
			o.result = resultComplete
			return o
		}
		off += len(chunk)
		if block++; block == 0 {
			block = x.params.rollover
		}
	}
}

// receive takes a WRQ's upload as tftp-hpa's tftp_recvfile does: the OACK
// (or ACK 0), then an ACK for each block; a repeat of the previous block
// gets its ACK again; a block shorter than blksize is the last (see
// linger for what follows its ACK). It returns the file's bytes (at most
// maxUpload, decoded from netascii) and whether some were dropped.
func (s *Server) receive(ctx context.Context, x *xfer) (data []byte, truncated bool, o outcome) {
	var dec netasciiWriter
	block := uint16(0)
	for {
		pkt := ackPacket(block)
		if block == 0 && x.oack != nil {
			pkt = x.oack
		}
		if block++; block == 0 {
			block = x.params.rollover
		}
		p, err := x.exchange(ctx, pkt, func(p []byte) verdict {
			if len(p) >= 2 && binaryOp(p) == opERROR {
				return abort
			}
			op, b, ok := header(p)
			switch {
			case !ok || op != opDATA:
				return wait
			case b == block:
				return done
			case block != 0 && b == block-1: // tftp-hpa compares as int
				return resend
			}
			return wait
		})
		if err != nil {
			return data, truncated, o.ended(err, p)
		}
		payload := p[4:]
		o.blocks++
		o.bytes += int64(len(payload))
		if o.bytes > discardLimit {
			o.result = resultLimit
			return data, truncated, o
		}
		if !truncated {
			if len(data)+len(payload) > maxUpload || !s.files.reserve(int64(len(payload))) {
				truncated = true
			} else {
				x.reserved += int64(len(payload))
				if x.netascii {
					data = dec.decode(data, payload)
				} else {
					data = append(data, payload...)
				}
			}
		}
		if len(payload) != x.params.blksize {
			break
		}
	}
	// tftp-hpa closes the file, and so unlocks it, before its last ACK.
	s.files.finish(x.path, data, x.reserved)
	x.finished = true
	x.last = block
	if _, err := x.conn.Write(ackPacket(block)); err != nil {
		return data, truncated, o.ended(err, nil)
	}
	o.result = resultComplete
	return data, truncated, o
}

// linger waits a timeout after the last ACK of an upload, as tftp-hpa
// does, and sends it once more if anything comes (it does not look at
// what: its check reads the last DATA's fields, not the new datagram's).
func (x *xfer) linger(ctx context.Context) {
	if p, err := x.read(ctx, time.Now().Add(x.params.rexmt)); err == nil && len(p) >= 4 {
		x.conn.Write(ackPacket(x.last))
	}
}

// exchange sends pkt and waits for the datagram accept is done with,
// resending on tftp-hpa's schedule: the timeout starts at rexmt and doubles
// at each retransmission, and the transfer is given up when it reaches
// timeoutLimit times rexmt. It returns the datagram that ended the wait
// (also for abort, with errAborted).
func (x *xfer) exchange(ctx context.Context, pkt []byte, accept func(p []byte) verdict) ([]byte, error) {
	timeout := x.params.rexmt
	limit := timeout * timeoutLimit
	for {
		if _, err := x.conn.Write(pkt); err != nil {
			return nil, x.failed(ctx, err)
		}
		deadline := time.Now().Add(timeout)
	waiting:
		for {
			p, err := x.read(ctx, deadline)
			if errors.Is(err, errTimeout) {
				if timeout <<= 1; timeout >= limit {
					return nil, errTimeout
				}
				break waiting
			}
			if err != nil {
				return nil, err
			}
			switch accept(p) {
			case done:
				return p, nil
			case resend:
				break waiting
			case abort:
				return p, errAborted
			}
		}
	}
}

// read waits until deadline, or the end of the transfer's lifetime, for a
// datagram from the client (the connected socket drops all others).
func (x *xfer) read(ctx context.Context, deadline time.Time) ([]byte, error) {
	if x.end.Before(deadline) {
		deadline = x.end
	}
	x.conn.SetReadDeadline(deadline)
	n, err := x.conn.Read(x.buf)
	if err != nil {
		return nil, x.failed(ctx, err)
	}
	return x.buf[:n], nil
}

// failed names a socket error: the server stopping, a timeout (or the
// lifetime running out), or an error of the socket itself.
func (x *xfer) failed(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return errShutdown
	case errors.As(err, &ne) && ne.Timeout():
		if !time.Now().Before(x.end) {
			return errLifetime
		}
		return errTimeout
	}
	return err
}

// ended records how a transfer stopped on err; p is the client's ERROR
// when it aborted.
func (o outcome) ended(err error, p []byte) outcome {
	switch {
	case errors.Is(err, errAborted):
		o.result = resultAborted
		o.clientErr = errorText(p)
	case errors.Is(err, errTimeout), errors.Is(err, errLifetime), errors.Is(err, errShutdown):
		o.result = err.Error()
	default:
		o.result = resultSocket
	}
	return o
}

// binaryOp is a datagram's opcode; it must be at least 2 bytes long.
func binaryOp(p []byte) uint16 { return uint16(p[0])<<8 | uint16(p[1]) }
