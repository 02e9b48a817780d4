package conpot

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	"decnet/internal/event"
	"decnet/internal/service"
)

// S7comm header fields.
const (
	s7ProtocolID = 0x32

	rosctrJob      = 0x01
	rosctrAckData  = 0x03
	rosctrUserData = 0x07

	s7FuncSetup = 0xf0
	s7FuncRead  = 0x04
	s7FuncWrite = 0x05

	// s7PDUSize is what the S7-1200 grants in Setup Communication.
	s7PDUSize = 240
	s7MaxAmQ  = 3
)

// s7JobNames are the job functions an attacker sends.
var s7JobNames = map[byte]struct {
	name     string
	critical bool
}{
	s7FuncSetup: {"setup_communication", false}, s7FuncRead: {"read_var", false}, s7FuncWrite: {"write_var", true},
	0x1a: {"request_download", true}, 0x1b: {"download_block", true}, 0x1c: {"download_ended", true},
	0x1d: {"start_upload", false}, 0x1e: {"upload", false}, 0x1f: {"end_upload", false},
	0x28: {"pi_service", true}, 0x29: {"plc_stop", true},
}

// s7Session is one connection's S7 state.
type s7Session struct {
	s         *Server
	fields    map[string]string // the connection's
	connected bool              // COTP connection confirmed
	setup     bool              // Setup Communication done
}

// serveS7 runs one ISO-on-TCP connection.
func (s *Server) serveS7(ctx context.Context, c *service.Conn) {
	ss := &s7Session{s: s, fields: c.Fields()}
	segs := segments(c, 1024)
	defer func() {
		c.Close()
		for range segs {
		}
	}()
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return
		case seg, ok := <-segs:
			if !ok {
				return
			}
			buf = append(buf, seg...)
		}
		for {
			payload, rest, need, err := splitTPKT(buf)
			if err != nil {
				ss.record("malformed", event.Info, map[string]string{"data": hexHead(buf), "error": err.Error()})
				return
			}
			if need > 0 {
				break
			}
			buf = rest
			reply, keep := ss.tpdu(payload)
			if reply != nil {
				if _, err := c.Write(reply); err != nil {
					return
				}
			}
			if !keep {
				return
			}
		}
		buf = append([]byte(nil), buf...)
	}
}

func (ss *s7Session) record(op string, sev event.Severity, extra map[string]string) {
	f := event.With(ss.fields, extra)
	f["op"] = op
	ss.s.emit(typeS7, sev, f, "")
}

// tpdu answers one COTP TPDU: the reply (nil for none) and whether the
// connection goes on.
func (ss *s7Session) tpdu(b []byte) ([]byte, bool) {
	p, err := parseCOTP(b)
	if err != nil {
		ss.record("malformed", event.Info, map[string]string{"data": hexHead(b), "error": err.Error()})
		return nil, false
	}
	switch p.typ {
	case cotpCR:
		f := map[string]string{"src_tsap": fmt.Sprintf("%x", p.srcTSAP), "dst_tsap": fmt.Sprintf("%x", p.dstTSAP)}
		// The CPU accepts PG, OP and S7-basic connections to rack 0; a
		// request without TSAPs (or with a calling TSAP no S7 client
		// sends) is dropped.
		if len(p.dstTSAP) != 2 || p.dstTSAP[0] < 1 || p.dstTSAP[0] > 3 || p.dstTSAP[1]>>5 != 0 || len(p.srcTSAP) > 16 {
			f["result"] = "refused"
			ss.record("cotp_connect", event.Info, f)
			return nil, false
		}
		ss.connected = true
		f["result"] = "confirmed"
		ss.record("cotp_connect", event.Info, f)
		return cotpConfirm(p), true
	case cotpDT:
		if !ss.connected {
			ss.record("cotp_data", event.Info, map[string]string{"data": hexHead(p.data), "error": "no connection"})
			return nil, false
		}
		return ss.s7(p.data)
	case cotpDR:
		ss.record("cotp_disconnect", event.Info, nil)
		return nil, false
	}
	ss.record("cotp", event.Info, map[string]string{"tpdu_type": fmt.Sprintf("0x%02x", p.typ), "data": hexHead(b)})
	return nil, false
}

// s7 answers one S7 PDU.
func (ss *s7Session) s7(b []byte) ([]byte, bool) {
	if len(b) < 10 || b[0] != s7ProtocolID {
		// S7comm-plus (0x72) and anything else: the S7-1200 needs a TIA
		// Portal session this honeypot does not speak.
		ss.record("unknown_protocol", event.Info, map[string]string{"data": hexHead(b)})
		return nil, false
	}
	rosctr := b[1]
	ref := binary.BigEndian.Uint16(b[4:6])
	plen, dlen := int(binary.BigEndian.Uint16(b[6:8])), int(binary.BigEndian.Uint16(b[8:10]))
	if 10+plen+dlen > len(b) || plen < 1 {
		ss.record("malformed", event.Info, map[string]string{"data": hexHead(b)})
		return nil, false
	}
	param, data := b[10:10+plen], b[10+plen:10+plen+dlen]
	switch rosctr {
	case rosctrJob:
		return ss.job(ref, param, data), true
	case rosctrUserData:
		return ss.userData(ref, param, data), true
	}
	ss.record("unknown_rosctr", event.Info, map[string]string{"rosctr": strconv.Itoa(int(rosctr)), "data": hexHead(b)})
	return nil, true
}

// ackData builds an Ack_Data PDU.
func ackData(ref uint16, errClass, errCode byte, param, data []byte) []byte {
	h := []byte{s7ProtocolID, rosctrAckData, 0, 0, byte(ref >> 8), byte(ref), 0, 0, 0, 0, errClass, errCode}
	binary.BigEndian.PutUint16(h[6:], uint16(len(param)))
	binary.BigEndian.PutUint16(h[8:], uint16(len(data)))
	return cotpData(append(append(h, param...), data...))
}

// job answers a Job request: Setup Communication is granted; every
// other function is refused as a CPU whose PUT/GET access is off (the
// S7-1200 V4 default) refuses it.
func (ss *s7Session) job(ref uint16, param, data []byte) []byte {
	fn := param[0]
	f := map[string]string{"function": fmt.Sprintf("0x%02x", fn)}
	sev := event.Info
	if j, ok := s7JobNames[fn]; ok {
		f["function_name"] = j.name
		if j.critical {
			sev = event.Critical
		} else if fn != s7FuncSetup {
			sev = event.Warning
		}
	} else {
		sev = event.Warning
	}
	if fn == s7FuncSetup && len(param) >= 8 {
		req := int(binary.BigEndian.Uint16(param[6:8]))
		f["pdu_size"] = strconv.Itoa(req)
		ss.setup = true
		ss.record("job", sev, f)
		resp := []byte{s7FuncSetup, 0x00, 0x00, s7MaxAmQ, 0x00, s7MaxAmQ, 0, 0}
		binary.BigEndian.PutUint16(resp[6:], uint16(min(max(req, 1), s7PDUSize)))
		return ackData(ref, 0, 0, resp, nil)
	}
	if len(param) >= 2 {
		f["items"] = strconv.Itoa(int(param[1]))
	}
	f["data"] = hexHead(append(append([]byte{}, param...), data...))
	f["result"] = "refused: 8104 function not available"
	ss.record("job", sev, f)
	return ackData(ref, 0x81, 0x04, []byte{fn, 0x00}, nil)
}

// Userdata function groups.
const (
	udGroupCPU      = 0x04 // SZL reads
	udGroupSecurity = 0x05 // password
)

// userData answers a Userdata request: SZL reads and the password.
func (ss *s7Session) userData(ref uint16, param, data []byte) []byte {
	if len(param) < 8 || param[0] != 0x00 || param[1] != 0x01 || param[2] != 0x12 {
		ss.record("userdata", event.Info, map[string]string{"data": hexHead(param)})
		return nil
	}
	group, sub, seq := param[5]&0x0f, param[6], param[7]
	f := map[string]string{"group": strconv.Itoa(int(group)), "subfunction": strconv.Itoa(int(sub))}
	switch {
	case group == udGroupCPU && sub == 0x01:
		if len(data) < 8 {
			return userDataReply(ref, group, sub, seq, 0xd401, []byte{0x0a, 0, 0, 0})
		}
		id, index := binary.BigEndian.Uint16(data[4:6]), binary.BigEndian.Uint16(data[6:8])
		f["szl_id"], f["szl_index"] = fmt.Sprintf("0x%04x", id), fmt.Sprintf("0x%04x", index)
		body, ok := ss.s.szl(id, index)
		if !ok {
			f["result"] = "d401 invalid SZL ID"
			ss.record("read_szl", event.Info, f)
			return userDataReply(ref, group, sub, seq, 0xd401, []byte{0x0a, 0, 0, 0})
		}
		ss.record("read_szl", event.Info, f)
		d := []byte{0xff, 0x09, 0, 0}
		binary.BigEndian.PutUint16(d[2:], uint16(len(body)))
		return userDataReply(ref, group, sub, seq, 0, append(d, body...))
	case group == udGroupSecurity && sub == 0x01:
		pw := decodeS7Password(data)
		f[event.FieldPassword] = pw
		f[event.FieldUsername] = ""
		f[event.FieldMethod] = "s7_password"
		f[event.FieldSuccess] = "false"
		ss.s.emit(event.TypeAuth, event.Warning, event.With(ss.fields, f), "")
		return userDataReply(ref, group, sub, seq, 0xd602, []byte{0x0a, 0, 0, 0})
	}
	f["data"] = hexHead(data)
	ss.record("userdata", event.Warning, f)
	return userDataReply(ref, group, sub, seq, 0x8104, []byte{0x0a, 0, 0, 0})
}

// userDataReply is a Userdata response PDU.
func userDataReply(ref uint16, group, sub, seq byte, errCode uint16, data []byte) []byte {
	param := []byte{0x00, 0x01, 0x12, 0x08, 0x12, 0x80 | group, sub, seq, 0x00, 0x00, byte(errCode >> 8), byte(errCode)}
	h := []byte{s7ProtocolID, rosctrUserData, 0, 0, byte(ref >> 8), byte(ref), 0, 0, 0, 0}
	binary.BigEndian.PutUint16(h[6:], uint16(len(param)))
	binary.BigEndian.PutUint16(h[8:], uint16(len(data)))
	return cotpData(append(append(h, param...), data...))
}

// decodeS7Password undoes the S7 password obfuscation (each byte XOR
// 0x55, from the third on also XOR the encoded byte two before), which
// STEP 7 and snap7 send in the 8 bytes after the data header.
func decodeS7Password(data []byte) string {
	if len(data) < 4 {
		return ""
	}
	enc := data[4:min(len(data), 12)]
	pw := make([]byte, len(enc))
	for i, e := range enc {
		pw[i] = e ^ 0x55
		if i >= 2 {
			pw[i] ^= enc[i-2]
		}
	}
	end := len(pw)
	for end > 0 && (pw[end-1] == ' ' || pw[end-1] == 0) {
		end--
	}
	return string(pw[:end])
}
