package conpot

import (
	"bytes"
	"testing"

	"decnet/internal/event"
	"decnet/internal/service"
	"decnet/internal/testutil"
)

// fuzzServers are a PLC of each persona whose events go nowhere.
func fuzzServers(f *testing.F) []*Server {
	var out []*Server
	for _, dev := range []string{DeviceM340, DeviceS71200} {
		s, err := newServer(service.Config{Host: hostFor("plc-fuzz", "127.0.117.99"), Emit: event.EmitterFunc(func(event.Event) {})},
			&Persona{Device: dev, Site: SiteWater})
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// FuzzModbus runs a client's byte stream through the MBAP framing and
// every function of each persona, as a connection does: no panic, every
// answer a well-formed frame within the PDU limit. Seeds: mbpoll,
// pymodbus and nmap traffic (testdata, from TestCaptureSeeds) and nmap's
// "\r\n\r\n" probe.
func FuzzModbus(f *testing.F) {
	f.Add([]byte("\r\n\r\n"))
	f.Add(testutil.Hex("0000 0000 0002 01 11 0000 0000 0005 01 2b 0e 01 00"))
	servers := fuzzServers(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range servers {
			buf := data
			if len(buf) < mbapLen {
				if r := shortFrameReply(buf); len(r) != 9 {
					t.Fatalf("short reply %x", r)
				}
			}
			for {
				fr, rest, need, err := splitFrame(buf)
				if err != nil || need > 0 {
					break
				}
				buf = rest
				resp, out := s.handlePDU(fr.unit, fr.pdu)
				if out.typ == "" {
					t.Fatal("no event type")
				}
				if resp == nil {
					continue
				}
				if len(resp) > maxPDU {
					t.Fatalf("answer of %d bytes to %x", len(resp), fr.pdu)
				}
				reply := mbapReply(fr, resp)
				if back, _, need, err := splitFrame(reply); err != nil || need != 0 || !bytes.Equal(back.pdu, resp) {
					t.Fatalf("answer %x does not frame", reply)
				}
			}
		}
	})
}

// FuzzS7 runs a client's byte stream through TPKT, COTP and S7comm
// (setup, SZL reads, jobs, password) of the S7-1200: no panic, every
// answer a TPKT within the negotiated sizes. Seeds: nmap s7-info's
// requests and snap7-style read and password requests.
func FuzzS7(f *testing.F) {
	for _, seed := range [][]byte{s7ConnectRequest, s7SetupRequest, s7SZL0011, s7SZL001C, s7ReadVar, s7Password("pw")} {
		f.Add(seed)
	}
	f.Add(bytes.Join([][]byte{s7ConnectRequest, s7SetupRequest, s7SZL0011, s7SZL001C, s7ReadVar, s7Password("x")}, nil))
	s := fuzzServers(f)[1]
	f.Fuzz(func(t *testing.T, data []byte) {
		ss := &s7Session{s: s, fields: map[string]string{}, connected: len(data) > 0 && data[0]&1 == 1}
		buf := data
		for {
			payload, rest, need, err := splitTPKT(buf)
			if err != nil || need > 0 {
				return
			}
			buf = rest
			reply, keep := ss.tpdu(payload)
			if reply != nil {
				p, _, need, err := splitTPKT(reply)
				if err != nil || need != 0 || len(p) > 3+s7PDUSize || int(p[0]) != len(p)-1 && p[1] == cotpCC {
					t.Fatalf("answer %x to %x", reply, payload)
				}
			}
			if !keep {
				return
			}
		}
	})
}
