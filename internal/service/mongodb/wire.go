package mongodb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// Opcodes of the wire protocol.
const (
	opReply      = 1
	opUpdate     = 2001
	opInsert     = 2002
	opQuery      = 2004
	opGetMore    = 2005
	opDelete     = 2006
	opKillCursor = 2007
	opCompressed = 2012
	opMsg        = 2013
)

// OP_MSG flag bits.
const (
	flagChecksum   = 1 << 0
	flagMoreToCome = 1 << 1
	flagExhaust    = 1 << 16
)

// replyAwaitCapable is the OP_REPLY flag every mongod sets since 1.6.
const replyAwaitCapable = 8

// headerLen is the size of the standard message header.
const headerLen = 16

// maxWireMessage is what the server advertises as maxMessageSizeBytes.
const maxWireMessage = 48000000

// maxAccepted is the largest message read into memory. Larger ones (real
// servers take up to 48 MB) end the connection: no driver's handshake or
// query comes near it, and 256 connections of 48 MB would not fit.
const maxAccepted = 8 << 20

// errWire is wrapped by every message-level protocol error.
var errWire = errors.New("invalid message")

// header is a message's standard header.
type header struct {
	Length, RequestID, ResponseTo, OpCode int32
}

func parseHeader(b []byte) header {
	return header{
		Length:     int32(binary.LittleEndian.Uint32(b)),
		RequestID:  int32(binary.LittleEndian.Uint32(b[4:])),
		ResponseTo: int32(binary.LittleEndian.Uint32(b[8:])),
		OpCode:     int32(binary.LittleEndian.Uint32(b[12:])),
	}
}

// request is a command decoded from OP_QUERY or OP_MSG.
type request struct {
	OpCode     int32
	RequestID  int32
	Flags      uint32 // OP_MSG flags, or OP_QUERY's
	DB         string
	Collection string // OP_QUERY's collection ("$cmd" for commands)
	Body       doc    // the command, with OP_MSG document sequences folded in
	MoreToCome bool
}

// parseQuery decodes an OP_QUERY body (after the header): flags,
// fullCollectionName, numberToSkip, numberToReturn, query and optional
// returnFieldsSelector.
func parseQuery(b []byte) (request, error) {
	if len(b) < 4 {
		return request{}, fmt.Errorf("%w: short OP_QUERY", errWire)
	}
	r := request{OpCode: opQuery, Flags: binary.LittleEndian.Uint32(b)}
	ns, rest, err := cstring(b[4:])
	if err != nil {
		return request{}, fmt.Errorf("%w: OP_QUERY namespace: %v", errWire, err)
	}
	r.DB, r.Collection, _ = strings.Cut(ns, ".")
	if len(rest) < 8 {
		return request{}, fmt.Errorf("%w: short OP_QUERY", errWire)
	}
	q, n, err := readDoc(rest[8:], 0)
	if err != nil {
		return request{}, err
	}
	if extra := rest[8+n:]; len(extra) > 0 {
		if _, err := decodeDoc(extra); err != nil {
			return request{}, err
		}
	}
	// Drivers wrap a command with read preference as {$query: cmd, ...}.
	for _, k := range []string{"$query", "query"} {
		if inner := q.sub(k); inner != nil && len(q) > 0 && q[0].Key == k {
			q = inner
			break
		}
	}
	r.Body = q
	return r, nil
}

// parseMsg decodes an OP_MSG body (after the header): flags, sections and
// the optional CRC-32C, which must match when present.
func parseMsg(whole []byte) (request, error) {
	b := whole[headerLen:]
	if len(b) < 5 {
		return request{}, fmt.Errorf("%w: short OP_MSG", errWire)
	}
	flags := binary.LittleEndian.Uint32(b)
	// Bits 0-15 are required: the server refuses ones it does not know.
	if unknown := flags & 0xffff &^ (flagChecksum | flagMoreToCome); unknown != 0 {
		return request{}, fmt.Errorf("%w: unrecognized required flags %#x", errWire, unknown)
	}
	secs := b[4:]
	if flags&flagChecksum != 0 {
		if len(secs) < 4 {
			return request{}, fmt.Errorf("%w: OP_MSG checksum missing", errWire)
		}
		want := binary.LittleEndian.Uint32(secs[len(secs)-4:])
		if crc32.Checksum(whole[:len(whole)-4], crc32.MakeTable(crc32.Castagnoli)) != want {
			return request{}, fmt.Errorf("%w: OP_MSG checksum mismatch", errWire)
		}
		secs = secs[:len(secs)-4]
	}
	r := request{OpCode: opMsg, Flags: flags, MoreToCome: flags&flagMoreToCome != 0}
	var body doc
	var seqs []elem
	haveBody := false
	for len(secs) > 0 {
		kind := secs[0]
		secs = secs[1:]
		switch kind {
		case 0:
			if haveBody {
				return request{}, fmt.Errorf("%w: OP_MSG with two body sections", errWire)
			}
			d, n, err := readDoc(secs, 0)
			if err != nil {
				return request{}, err
			}
			body, haveBody, secs = d, true, secs[n:]
		case 1:
			if len(secs) < 4 {
				return request{}, fmt.Errorf("%w: short document sequence", errWire)
			}
			n := int(int32(binary.LittleEndian.Uint32(secs)))
			if n < 5 || n > len(secs) {
				return request{}, fmt.Errorf("%w: document sequence length %d", errWire, n)
			}
			id, rest, err := cstring(secs[4:n])
			if err != nil {
				return request{}, err
			}
			var docs []any
			for len(rest) > 0 {
				d, dn, err := readDoc(rest, 0)
				if err != nil {
					return request{}, err
				}
				docs, rest = append(docs, d), rest[dn:]
			}
			seqs = append(seqs, elem{id, docs})
			secs = secs[n:]
		default:
			return request{}, fmt.Errorf("%w: unknown OP_MSG section kind %d", errWire, kind)
		}
	}
	if !haveBody {
		return request{}, fmt.Errorf("%w: OP_MSG without a body section", errWire)
	}
	for _, s := range seqs {
		if _, dup := body.get(s.Key); dup {
			return request{}, fmt.Errorf("%w: duplicate field %q in OP_MSG", errWire, clipKey(s.Key))
		}
		body = append(body, s)
	}
	r.Body = body
	r.DB = body.str("$db")
	return r, nil
}

// appendHeader starts a reply message; finish sets its length.
func appendHeader(b []byte, requestID, responseTo, op int32) []byte {
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(requestID))
	b = binary.LittleEndian.AppendUint32(b, uint32(responseTo))
	return binary.LittleEndian.AppendUint32(b, uint32(op))
}

func finish(b []byte, start int) []byte {
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// appendReply appends an OP_REPLY holding docs.
func appendReply(b []byte, requestID, responseTo int32, flags uint32, docs ...doc) []byte {
	start := len(b)
	b = appendHeader(b, requestID, responseTo, opReply)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = binary.LittleEndian.AppendUint64(b, 0)                 // cursorID
	b = binary.LittleEndian.AppendUint32(b, 0)                 // startingFrom
	b = binary.LittleEndian.AppendUint32(b, uint32(len(docs))) // numberReturned
	for _, d := range docs {
		b = appendDoc(b, d)
	}
	return finish(b, start)
}

// appendMsgFlags appends an OP_MSG reply with one body section and no
// checksum, as the server answers.
func appendMsgFlags(b []byte, requestID, responseTo int32, flags uint32, d doc) []byte {
	start := len(b)
	b = appendHeader(b, requestID, responseTo, opMsg)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = append(b, 0)
	b = appendDoc(b, d)
	return finish(b, start)
}

// httpReply is what mongod writes to a connection whose first bytes are an
// HTTP GET, before closing it.
const httpReply = "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 84\r\n\r\n" +
	"It looks like you are trying to access MongoDB over HTTP on the native driver port.\n"
