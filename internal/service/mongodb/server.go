package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"decnet/internal/event"
	"decnet/internal/service"
)

// Event types specific to this service.
const (
	// TypeProtocol is a connection ended for a protocol error, or a
	// message the server does not answer (legacy writes, compression).
	TypeProtocol = "protocol"
)

// Event field limits.
const (
	maxLogArgs = 4096
	maxLogName = 256
)

// Server is one decky's mongod: its bait store and counters are shared by
// all connections, as a real server's are.
type Server struct {
	cfg       service.Config
	persona   *Persona
	facts     versionFacts
	now       func() time.Time
	boot      time.Time
	pid       int64
	processID objectID
	store     *store
	nextConn  atomic.Int32
	reqID     atomic.Int32
	conns     atomic.Int32
	created   atomic.Int32
}

func newServer(cfg service.Config, p *Persona) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := fnv.New64a()
	h.Write([]byte(cfg.Host.Name + "/" + cfg.Host.Hostname))
	seed := h.Sum64()
	s := &Server{cfg: cfg, persona: p, facts: factsOf(p.Version), now: time.Now, store: newStore()}
	// A stable uptime of 3 to 40 days and a pid, per decky.
	s.boot = s.now().Add(-time.Duration(3*86400+seed%(37*86400)) * time.Second).Truncate(time.Millisecond)
	s.pid = int64(700 + seed%30000)
	binary.BigEndian.PutUint32(s.processID[:], uint32(s.boot.Unix()))
	rand.Read(s.processID[4:])
	s.nextConn.Store(int32(seed % 40))
	s.reqID.Store(int32(seed % 5000))
	return s
}

// Serve answers the MongoDB port until ctx is done.
func (s *Server) Serve(ctx context.Context, ls service.Listeners) error {
	ln, ok := ls.TCP[Port]
	if !ok {
		return fmt.Errorf("mongodb: no listener for port %d", Port)
	}
	service.ServeTCP(ctx, ln, s.cfg.Emit, service.DefaultLimits, s.handle)
	return nil
}

// client is one connection's state.
type client struct {
	id       int32
	fields   map[string]string
	remote   string
	convs    map[int32]*scramConv
	nextConv int32
	metaSeen bool // the client metadata came in a hello: it may not change
}

func (s *Server) handle(ctx context.Context, c *service.Conn) {
	s.conns.Add(1)
	s.created.Add(1)
	defer s.conns.Add(-1)
	cl := &client{id: s.nextConn.Add(1), fields: service.ConnFields(c), remote: c.RemoteAddr().String(), convs: map[int32]*scramConv{}}
	hdr := make([]byte, headerLen)
	for first := true; ctx.Err() == nil; first = false {
		if _, err := io.ReadFull(c, hdr); err != nil {
			if !errors.Is(err, io.EOF) {
				s.emitProtocol(cl, "read", err.Error(), hdr)
			}
			return
		}
		if first && string(hdr[:4]) == "GET " {
			c.Write([]byte(httpReply))
			s.emit(cl, event.TypeRequest, event.Notice, map[string]string{event.FieldMethod: "GET", "preview": event.Clip(string(hdr), 64)})
			return
		}
		h := parseHeader(hdr)
		if h.Length < headerLen || h.Length > maxWireMessage || h.Length > maxAccepted {
			s.emitProtocol(cl, "message length", strconv.Itoa(int(h.Length)), hdr)
			return
		}
		msg := make([]byte, h.Length)
		copy(msg, hdr)
		if _, err := io.ReadFull(c, msg[headerLen:]); err != nil {
			s.emitProtocol(cl, "truncated message", err.Error(), msg)
			return
		}
		out, keep, aw := s.message(cl, h, msg)
		if aw != nil && !s.await(ctx, c, cl, aw, out) {
			return
		}
		if aw == nil && len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
		if !keep {
			return
		}
	}
}

// awaitHello is an awaitable hello (one with topologyVersion and
// maxAwaitTimeMS, as drivers' monitors send): the server answers when the
// topology changes or the time is up, and, when the request allowed
// exhaust, goes on answering every maxAwaitTimeMS without being asked.
type awaitHello struct {
	wait   time.Duration
	first  bool // the client's topology is current: wait before the first reply too
	stream bool
	req    request
}

// await writes the replies of an awaitable hello. It returns false when the
// connection must end (closed by the client or the server stopping).
func (s *Server) await(ctx context.Context, c *service.Conn, cl *client, aw *awaitHello, out []byte) bool {
	sleep := func() bool {
		t := time.NewTimer(aw.wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	if aw.first && !sleep() {
		return false
	}
	for {
		if _, err := c.Write(out); err != nil || !aw.stream {
			return err == nil
		}
		if !sleep() {
			return false
		}
		// Each streamed reply answers the one before it.
		prev := parseHeader(out).RequestID
		out = appendMsgFlags(nil, s.reqID.Add(1), prev, flagMoreToCome, s.hello(cl, aw.req.DB, aw.req.Body))
	}
}

// message answers one message: the reply bytes (none for a message that
// takes no reply), whether the connection stays open, and, for an
// awaitable hello, how its replies are timed.
func (s *Server) message(cl *client, h header, msg []byte) ([]byte, bool, *awaitHello) {
	switch h.OpCode {
	case opQuery:
		req, err := parseQuery(msg[headerLen:])
		if err != nil {
			s.emitProtocol(cl, "OP_QUERY", err.Error(), msg)
			return nil, false, nil
		}
		req.RequestID = h.RequestID
		return appendReply(nil, s.reqID.Add(1), h.RequestID, replyAwaitCapable, s.query(cl, req)...), true, nil
	case opMsg:
		req, err := parseMsg(msg)
		if err != nil {
			s.emitProtocol(cl, "OP_MSG", err.Error(), msg)
			return nil, false, nil
		}
		req.RequestID = h.RequestID
		reply := s.command(cl, req)
		if req.MoreToCome {
			return nil, true, nil
		}
		aw := s.awaitable(req, reply)
		var flags uint32
		if aw != nil && aw.stream {
			flags = flagMoreToCome
		}
		return appendMsgFlags(nil, s.reqID.Add(1), h.RequestID, flags, reply), true, aw
	case opCompressed:
		// No compressor was negotiated (hello never offers one), so the
		// server cannot decompress it and ends the session.
		s.emitProtocol(cl, "OP_COMPRESSED", "compression not negotiated", msg)
		return nil, false, nil
	case opInsert, opUpdate, opDelete, opKillCursor:
		// Legacy fire-and-forget writes never had a reply.
		s.emitProtocol(cl, "legacy opcode", strconv.Itoa(int(h.OpCode)), msg)
		return nil, true, nil
	}
	s.emitProtocol(cl, "opcode", strconv.Itoa(int(h.OpCode)), msg)
	return nil, false, nil
}

// awaitable tells how to time the reply to an OP_MSG hello that succeeded
// with topologyVersion and maxAwaitTimeMS; nil for any other command. The
// topology of a standalone never changes, so a client that has this
// server's processId and counter waits the whole maxAwaitTimeMS.
func (s *Server) awaitable(req request, reply doc) *awaitHello {
	switch req.Body[0].Key {
	case "hello", "isMaster", "ismaster":
	default:
		return nil
	}
	tv := req.Body.sub("topologyVersion")
	ms, ok := number(fieldValue(req.Body.get("maxAwaitTimeMS")))
	if tv == nil || !ok || !truthy(fieldValue(reply.get("ok"))) {
		return nil
	}
	counter, _ := number(fieldValue(tv.get("counter")))
	pid, _ := fieldValue(tv.get("processId")).(objectID)
	return &awaitHello{
		// Bounded like every wait here: a client asking for days gets
		// its answer at the idle limit.
		wait:   min(time.Duration(ms)*time.Millisecond, service.DefaultLimits.Idle),
		first:  pid == s.processID && counter == 0,
		stream: req.Flags&flagExhaust != 0,
		req:    req,
	}
}

// opQueryAllowed are the commands 5.1 and later still take over OP_QUERY
// (check_allowed_op_query_cmd.cpp: allowed and temporarily allowed).
var opQueryAllowed = map[string]bool{
	"hello": true, "isMaster": true, "ismaster": true,
	"_isSelf": true, "authenticate": true, "buildinfo": true, "buildInfo": true, "saslContinue": true, "saslStart": true,
}

// query answers an OP_QUERY: a command on <db>.$cmd (one reply
// document), or, before 5.1, a legacy query (the documents found).
func (s *Server) query(cl *client, req request) []doc {
	name := "find"
	if req.Collection == "$cmd" && len(req.Body) > 0 {
		name = req.Body[0].Key
	}
	if s.facts.opQueryLimits && (req.Collection != "$cmd" || !opQueryAllowed[name]) {
		reply := errorDoc(352, "UnsupportedOpQueryCommand", "Unsupported OP_QUERY command: "+name+
			". The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal")
		s.emitCommand(cl, req, name, reply)
		return []doc{reply}
	}
	if req.Collection == "$cmd" {
		return []doc{s.command(cl, req)}
	}
	req.Body = doc{{"find", req.Collection}, {"filter", req.Body}}
	reply := s.command(cl, req)
	batch, ok := fieldValue(reply.sub("cursor").get("firstBatch")).([]any)
	if !ok {
		return []doc{reply}
	}
	out := make([]doc, len(batch))
	for i, d := range batch {
		out[i] = d.(doc)
	}
	return out
}

// errorDoc is a command failure as the server writes it.
func errorDoc(code int32, codeName, msg string) doc {
	return doc{{"ok", 0.0}, {"errmsg", msg}, {"code", code}, {"codeName", codeName}}
}

func (s *Server) emit(cl *client, typ string, sev event.Severity, extra map[string]string) {
	s.cfg.Emit.Emit(event.Event{Type: typ, Severity: sev, Fields: event.With(cl.fields, extra)})
}

func (s *Server) emitProtocol(cl *client, what, detail string, raw []byte) {
	s.emit(cl, TypeProtocol, event.Notice, map[string]string{
		"error": what + ": " + event.Clip(detail, maxLogName), "preview_hex": fmt.Sprintf("%x", raw[:min(len(raw), 64)]),
	})
}

// emitCommand records a command with its database, arguments and result.
func (s *Server) emitCommand(cl *client, req request, name string, reply doc, extra ...map[string]string) {
	op := "OP_MSG"
	if req.OpCode == opQuery {
		op = "OP_QUERY"
	}
	result := "ok"
	if v, _ := reply.get("ok"); v == 0.0 {
		result = reply.str("codeName")
	}
	f := map[string]string{
		event.FieldCommand: event.Clip(name, maxLogName),
		"db":               event.Clip(req.DB, maxLogName),
		"args":             event.Clip(toJSON(req.Body), maxLogArgs),
		"opcode":           op,
		"result":           result,
	}
	for _, e := range extra {
		for k, v := range e {
			f[k] = v
		}
	}
	sev := event.Info
	if writeCommands[name] {
		sev = event.Warning
	}
	s.emit(cl, event.TypeCommand, sev, f)
}

// store is the decky's databases: the bait, and what attackers write, within
// bounds so that writes cannot exhaust memory.
type store struct {
	mu    sync.Mutex
	dbs   map[string]map[string][]doc
	bytes int
}

// Store bounds.
const (
	maxDBs         = 64
	maxColls       = 64
	maxDocsPerColl = 1000
	maxStoreBytes  = 4 << 20
)
