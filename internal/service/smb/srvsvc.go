package smb

import (
	"fmt"
	"slices"
	"strings"
)

// srvsvc operations served (MS-SRVS 3.1.4).
const (
	opNetrShareEnum    = 15
	opNetrShareGetInfo = 16
)

// Win32 errors srvsvc returns.
const (
	werrOK              uint32 = 0
	werrAccessDenied    uint32 = 5
	werrInvalidLevel    uint32 = 124
	werrNetNameNotFound uint32 = 2310
)

func werrName(w uint32) string {
	switch w {
	case werrOK:
		return "WERR_OK"
	case werrAccessDenied:
		return "WERR_ACCESS_DENIED"
	case werrInvalidLevel:
		return "WERR_INVALID_LEVEL"
	case werrNetNameNotFound:
		return "WERR_NET_NAME_NOT_FOUND"
	}
	return fmt.Sprint(w)
}

// srvsvc answers the server service's share queries with the persona's
// shares, as a guest or anonymous user sees them: names, types and
// comments (levels 0 and 1); the levels that show paths and permissions
// need an administrator.
type srvsvc struct {
	shares []share
}

func (s srvsvc) call(opnum uint16, stub []byte) ([]byte, uint32, rpcEvent) {
	switch opnum {
	case opNetrShareEnum:
		return s.shareEnum(stub)
	case opNetrShareGetInfo:
		return s.shareGetInfo(stub)
	}
	return nil, faultOpRangeError, rpcEvent{}
}

// levelAllowed checks an info level: levels 0 and 1 for anyone; 2, 502
// and 503 (paths, permissions) are an administrator's.
func levelAllowed(level uint32) uint32 {
	switch level {
	case 0, 1:
		return werrOK
	case 2, 502, 503:
		return werrAccessDenied
	}
	return werrInvalidLevel
}

// shareEnum is NetrShareEnum (MS-SRVS 3.1.4.8).
func (s srvsvc) shareEnum(stub []byte) ([]byte, uint32, rpcEvent) {
	r := &ndrReader{b: stub}
	var server string
	if r.u32() != 0 {
		server = r.str()
	}
	level := r.u32()
	r.u32() // union discriminant
	if r.u32() != 0 {
		r.u32() // EntriesRead
		if r.u32() != 0 {
			r.fail("container buffer from the client")
		}
	}
	r.u32() // PreferedMaximumLength
	resume := r.u32() != 0
	var from uint32
	if resume {
		from = r.u32()
	}
	ev := rpcEvent{kv: []string{"operation", "NetrShareEnum", "server_name", server, "level", fmt.Sprint(level)}}
	if r.err != nil {
		return nil, faultBadStubData, ev
	}
	werr := levelAllowed(level)
	list := s.shares[min(int(from), len(s.shares)):]
	w := &ndrWriter{}
	w.u32(level)
	w.u32(level)
	if werr == werrOK {
		w.ptr()
		w.u32(uint32(len(list)))
		w.ptr()
		w.u32(uint32(len(list)))
		for _, sh := range list {
			w.ptr()
			if level == 1 {
				w.u32(sh.typ)
				w.ptr()
			}
		}
		for _, sh := range list {
			w.str(sh.name)
			if level == 1 {
				w.str(sh.comment)
			}
		}
	} else {
		w.u32(0)
	}
	total := 0
	if werr == werrOK {
		total = len(s.shares)
	}
	w.u32(uint32(total))
	if resume {
		w.ptr()
		w.u32(0)
	} else {
		w.u32(0)
	}
	w.u32(werr)
	ev.kv = append(ev.kv, "result", werrName(werr))
	return w.b, 0, ev
}

// shareGetInfo is NetrShareGetInfo (MS-SRVS 3.1.4.10).
func (s srvsvc) shareGetInfo(stub []byte) ([]byte, uint32, rpcEvent) {
	r := &ndrReader{b: stub}
	var server string
	if r.u32() != 0 {
		server = r.str()
	}
	name := r.str()
	level := r.u32()
	ev := rpcEvent{kv: []string{"operation", "NetrShareGetInfo", "server_name", server, "share", name, "level", fmt.Sprint(level)}}
	if r.err != nil {
		return nil, faultBadStubData, ev
	}
	werr := levelAllowed(level)
	i := slices.IndexFunc(s.shares, func(sh share) bool { return strings.EqualFold(sh.name, name) })
	if werr == werrOK && i < 0 {
		werr = werrNetNameNotFound
	}
	w := &ndrWriter{}
	w.u32(level)
	if werr == werrOK {
		sh := s.shares[i]
		w.ptr()
		w.ptr()
		if level == 1 {
			w.u32(sh.typ)
			w.ptr()
		}
		w.str(sh.name)
		if level == 1 {
			w.str(sh.comment)
		}
	} else {
		w.u32(0)
	}
	w.u32(werr)
	ev.kv = append(ev.kv, "result", werrName(werr))
	return w.b, 0, ev
}
